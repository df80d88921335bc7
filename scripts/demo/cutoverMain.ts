// A sandbox cutover as its own process: the production engine (core runCutover) over the local
// router's control API (weights and metrics, ./routerControl.ts), the apps' /health, the run
// directory's lock, journal and weight record (./runDirectory.ts), and an export of blue's
// database as the snapshot. The `--pause` demo runs its cutover this way, so "the cutover pauses
// and exits" is a process that really ends while the guard (./guardMain.ts) keeps watching.
//
//   node scripts/local/cutoverMain.ts --run-dir DIR --request FILE     (DATABASE_URL: blue's database)
//
// The request (JSON, written by the demo, mode 0600): the rollout policy, the stack name, the run
// id, each color's app URLs (its targets) and pids (an exited one is a firing alarm, as in the
// in-process sandbox). One JSON line per engine event on stdout ({"event":"engine","value":...}),
// then {"event":"result",...}. SIGINT/SIGTERM, or stdin closing (--exit-with-stdin), interrupt
// the run at its next safe point, as Ctrl-C does `npm run cutover`.
//
// Exit: 0 succeeded or paused; 1 rolled back, failed or refused; 2 bad input; 130 interrupted.

import { userInfo, hostname } from "node:os";
import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { runCutover, type CutoverResult } from "../core/engine.js";
import type { EngineEvent } from "../core/events.js";
import { sandboxCutoverDeps } from "../app/wiring/sandbox.js";
import { readRouterControlAccess } from "../local/routerControl.js";
import { stopSignal } from "../local/childLifecycle.js";
import type { SandboxCutoverRequest } from "./cutoverProcess.js";

const emit = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
const fail = (message: string): never => {
  process.stderr.write(`sandbox-cutover: ${message}\n`);
  process.exit(2);
};

async function readRequest(path: string): Promise<SandboxCutoverRequest> {
  const request = JSON.parse(await readFile(path, "utf8")) as Partial<SandboxCutoverRequest>;
  const urls = (value: unknown) =>
    Array.isArray(value) && value.length > 0 && value.every((url) => typeof url === "string" && /^http:\/\/127\.0\.0\.1:\d+$/.test(url));
  const pids = (value: unknown) => Array.isArray(value) && value.every((pid) => Number.isInteger(pid) && pid > 0);
  if (!request.rollout || typeof request.stack !== "string" || typeof request.runId !== "string")
    throw new Error(`${path}: rollout, stack and runId are required`);
  if (!request.targets || !urls(request.targets.blue) || !urls(request.targets.green))
    throw new Error(`${path}: targets must list each color's app URLs on 127.0.0.1`);
  if (!request.pids || !pids(request.pids.blue) || !pids(request.pids.green)) throw new Error(`${path}: pids must list each color's app processes`);
  return request as SandboxCutoverRequest;
}

async function main(): Promise<void> {
  const program = new Command()
    .name("sandbox-cutover")
    .description("The sandbox's cutover as its own process: the production engine over the local router's control API and the run directory.")
    .requiredOption("--run-dir <dir>", "the demo's run directory (router-control.json, the lock, the journal, weights.json)")
    .requiredOption("--request <file>", "the cutover request (JSON: rollout, stack, runId, targets, pids)")
    .option("--exit-with-stdin", "interrupt the run when stdin closes (the parent is gone)", false)
    .option("--tag <text>", "a label in the command line naming the run this process belongs to (ignored otherwise)");
  program.parse();
  const flags = program.opts<{ runDir: string; request: string; exitWithStdin: boolean }>();
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) fail("DATABASE_URL (blue's database, for the snapshot) is not set");
  const [access, request] = await Promise.all([readRouterControlAccess(flags.runDir), readRequest(flags.request)]).catch((error: unknown) =>
    fail((error as Error).message),
  );

  const stop = stopSignal({ exitWithStdin: flags.exitWithStdin });

  const deps = sandboxCutoverDeps(access, flags.runDir, request, databaseUrl!);
  const events = (event: EngineEvent) => {
    if (event.type !== "tick") emit({ event: "engine", value: event });
  };
  const owner = `${userInfo().username}@${hostname()} pid ${process.pid} (demo cutover)`;
  const result: CutoverResult = await runCutover(
    deps,
    { rollout: request.rollout, databaseMode: "shared", owner, stack: request.stack, runId: request.runId, signal: stop.signal },
    { events, tickMs: 0 },
  );
  emit({
    event: "result",
    outcome: result.outcome,
    reason: result.reason,
    runId: result.runId,
    pollMs: result.plan.pollMs,
    timeToRollbackMs: result.timeToRollbackMs,
  });
  process.exit(result.outcome === "succeeded" || result.outcome === "paused" ? 0 : result.outcome === "interrupted" ? 130 : 1);
}

main().catch((error: unknown) => {
  emit({ event: "result", outcome: "error", reason: error instanceof Error ? error.message : String(error) });
  process.stderr.write(`sandbox-cutover: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
