// Starting the sandbox cutover's own process (./cutoverMain.ts) from the demo and reading what it
// says: the engine's events as they happen, and its result when it ends. The request goes into the
// run directory (mode 0600); blue's database URL goes in the environment, never on the command line.

import { join } from "node:path";
import type { CutoverResult } from "../core/engine.js";
import type { EngineEvent } from "../core/events.js";
import { writeFileAtomic } from "../fs/atomicFile.js";
import type { Color } from "../core/ports.js";
import type { RolloutConfig } from "../../infra/config.js";
import { spawnJsonLines, type JsonLinesChild } from "../local/jsonLinesChild.js";

const here = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const CUTOVER_MAIN = new URL(`./cutoverMain${here}`, import.meta.url);
export const CUTOVER_REQUEST_FILE = "cutover-request.json";

/** What the demo asks of the cutover process: the policy, the run, and each color's app processes (URLs and pids). */
export interface SandboxCutoverRequest {
  rollout: RolloutConfig;
  stack: string;
  runId: string;
  targets: Record<Color, string[]>;
  pids: Record<Color, number[]>;
}

export interface CutoverProcessResult {
  /** The engine's outcome; "error" when the process ended without one (its reason says how). */
  outcome: CutoverResult["outcome"] | "error";
  reason: string | null;
  /** The process's exit code (0 succeeded or paused, 1 rolled back or failed, 130 interrupted). */
  exitCode: number | null;
}

export interface CutoverProcess {
  child: JsonLinesChild;
  /** Resolves once the process has exited: its last result line, or why there was none. */
  result: Promise<CutoverProcessResult>;
}

export async function startCutoverProcess(options: {
  runDir: string;
  request: SandboxCutoverRequest;
  databaseUrl: string;
  tag: string;
  onSpawn?: (pid: number) => void;
  onEngineEvent?: (event: EngineEvent) => void;
}): Promise<CutoverProcess> {
  const requestPath = join(options.runDir, CUTOVER_REQUEST_FILE);
  await writeFileAtomic(requestPath, `${JSON.stringify(options.request, null, 2)}\n`, { mode: 0o600 });
  let last: { outcome: CutoverProcessResult["outcome"]; reason: string | null } | null = null;
  const child = spawnJsonLines(CUTOVER_MAIN, ["--run-dir", options.runDir, "--request", requestPath, "--exit-with-stdin", "--tag", options.tag], {
    env: { DATABASE_URL: options.databaseUrl },
    ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
    onMessage: (message) => {
      if (message.event === "engine" && message.value) options.onEngineEvent?.(message.value as EngineEvent);
      else if (message.event === "result")
        last = { outcome: message.outcome as CutoverProcessResult["outcome"], reason: typeof message.reason === "string" ? message.reason : null };
    },
  });
  const result = child.exit.then(({ code, signal }): CutoverProcessResult => {
    const ended = last as { outcome: CutoverProcessResult["outcome"]; reason: string | null } | null;
    if (ended) return { ...ended, exitCode: code };
    return {
      outcome: "error",
      reason: `the cutover process exited (${signal ?? code}) without a result: ${child.logTail().slice(-5).join(" | ")}`,
      exitCode: code,
    };
  });
  return { child, result };
}
