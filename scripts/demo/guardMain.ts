// The sandbox guard as its own process: what the Lambda behind green's composite alarm is on AWS
// (scripts/aws/guard/), over the local router's control API instead of CloudWatch and ELBv2.
// It shares nothing with the demo's process but the run directory: it reads green's metrics and
// writes the weights through the router's control API (./routerControl.ts, the token in
// router-control.json), and takes the same lock, journal and weight record as the cutover
// (./runDirectory.ts). So a cutover that paused and exited, or crashed, is still guarded.
//
//   node scripts/local/guardMain.ts --run-dir DIR --max-error-rate 0.02 [--stack demo] ...
//
// It keeps watching until stopped (SIGINT/SIGTERM, its stdin closing with --exit-with-stdin: the
// parent died, even by kill -9) or until --lifetime passes. One JSON line per event on stdout:
//   {"event":"ready","pid":N}            watching
//   {"event":"window","window":{...}}    an alarm window as judged (GuardWindow)
//   {"event":"say","text":"..."}         a decision
//   {"event":"engine","value":{...}}     the rollback's engine events (ticks left out)
//   {"event":"acted","outcome":{...}}    a rollback it ran, and how it ended
//   {"event":"stopped","reason":"..."}   its last line
// Bad arguments or an unreadable control file: a message on stderr and exit 2, before watching.

import { Command, InvalidArgumentError } from "commander";
import type { EngineEvent } from "../core/events.js";
import { sandboxGuardDeps } from "../app/wiring/sandbox.js";
import { stopSignal } from "../local/childLifecycle.js";
import { watchWithGuard } from "./guard.js";
import { readRouterControlAccess } from "../local/routerControl.js";

const share = (value: string) => {
  const number = Number(value);
  if (!(Number.isFinite(number) && number > 0 && number < 1)) throw new InvalidArgumentError("a share between 0 and 1, e.g. 0.02");
  return number;
};
const positiveInteger = (value: string) => {
  const number = Number(value);
  if (!(Number.isInteger(number) && number > 0)) throw new InvalidArgumentError("a positive integer");
  return number;
};

const program = new Command()
  .name("sandbox-guard")
  .description(
    "The sandbox's always-on guard: green's 5xx-rate alarm over the local router's metrics → the project's own rollback, only while a rollout is active.",
  )
  .requiredOption("--run-dir <dir>", "the demo's run directory (router-control.json, the lock, the journal, weights.json)")
  .requiredOption("--max-error-rate <share>", "the alarm's threshold: green's 5xx over its requests (rollout.gates.maxErrorRate)", share)
  .option("--stack <name>", "the stack named in the journal", "demo")
  .option("--min-requests <n>", "green requests a window needs before it can breach", positiveInteger, 20)
  .option("--evaluation-periods <n>", "windows in a row in breach before ALARM (app.alarms.evaluationPeriods)", positiveInteger, 2)
  .option("--window-ms <ms>", "one alarm period (the stack's: 60 s; the sandbox: 1 s)", positiveInteger, 1000)
  .option("--lifetime-ms <ms>", "stop watching after this long (bounds a sandbox that was never torn down)", positiveInteger, 10 * 60_000)
  .option("--exit-with-stdin", "stop when stdin closes (the parent is gone)", false)
  .option("--tag <text>", "a label in the command line naming the run this process belongs to (ignored otherwise)");

interface GuardFlags {
  runDir: string;
  maxErrorRate: number;
  stack: string;
  minRequests: number;
  evaluationPeriods: number;
  windowMs: number;
  lifetimeMs: number;
  exitWithStdin: boolean;
}

const emit = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

async function main(): Promise<void> {
  program.parse();
  const flags = program.opts<GuardFlags>();
  let access;
  try {
    access = await readRouterControlAccess(flags.runDir);
  } catch (error) {
    process.stderr.write(`sandbox-guard: ${(error as Error).message}\n`);
    process.exit(2);
  }

  const stop = stopSignal({ exitWithStdin: flags.exitWithStdin });
  const lifetime = setTimeout(() => stop.stop(`lifetime of ${flags.lifetimeMs} ms reached`), flags.lifetimeMs);

  const deps = sandboxGuardDeps(access, flags.runDir);
  const settings = {
    events: (event: EngineEvent) => {
      if (event.type !== "tick") emit({ event: "engine", value: event });
    },
    tickMs: 0,
  };

  emit({ event: "ready", pid: process.pid });
  // Always on: after a rollback (or a decision not to act) it watches on, for the next rollout.
  while (!stop.signal.aborted) {
    let watched;
    try {
      watched = await watchWithGuard({
        deps,
        settings,
        databaseMode: "shared",
        stack: flags.stack,
        maxErrorRate: flags.maxErrorRate,
        minRequests: flags.minRequests,
        evaluationPeriods: flags.evaluationPeriods,
        windowMs: flags.windowMs,
        signal: stop.signal,
        say: (text) => emit({ event: "say", text }),
        onWindow: (window) => emit({ event: "window", window }),
      });
    } catch (error) {
      // The lock or the journal could not be read, or the rollback threw: say so and watch on
      // (the Lambda's answer is EventBridge's retry; here, the next window in breach).
      emit({ event: "say", text: `guard: ${(error as Error).message}; watching on` });
      await deps.clock.sleep(flags.windowMs, stop.signal);
      continue;
    }
    if (watched.outcome) emit({ event: "acted", outcome: watched.outcome });
  }
  clearTimeout(lifetime);
  emit({ event: "stopped", reason: String(stop.signal.reason) });
  process.exit(0);
}

main().catch((error: unknown) => {
  emit({ event: "stopped", reason: `failed: ${error instanceof Error ? error.message : String(error)}` });
  process.stderr.write(`sandbox-guard: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
