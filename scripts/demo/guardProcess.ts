// Starting and stopping the sandbox guard's own process (./guardMain.ts) from the demo, and
// reading what it says. Like the apps, it gets a stdin pipe and exits when it closes, so it
// never outlives the demo however the demo dies; the reaper is told its pid as well.

import type { EngineEvent } from "../core/events.js";
import type { GuardOutcome } from "../core/guard.js";
import type { GuardWindow } from "./guard.js";
import { spawnJsonLines } from "../local/jsonLinesChild.js";

const here = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const GUARD_MAIN = new URL(`./guardMain${here}`, import.meta.url);

export interface GuardProcessOptions {
  runDir: string;
  stack: string;
  maxErrorRate: number;
  minRequests: number;
  evaluationPeriods: number;
  windowMs: number;
  lifetimeMs: number;
  tag?: string;
  /** Told the child's pid as soon as it exists (for the reaper). */
  onSpawn?: (pid: number) => void;
  /** Each line the guard says (its decisions). */
  onSay?: (text: string) => void;
  /** Each alarm window as the guard judged it. */
  onWindow?: (window: GuardWindow) => void;
  /** Each engine event of a rollback the guard runs. */
  onEngineEvent?: (event: EngineEvent) => void;
  /** Bound on start-up (until it says "ready"), default 15 s. */
  startTimeoutMs?: number;
}

export interface GuardProcess {
  pid: number;
  /** Resolves with the first rollback the guard ran, or null when it stopped first or `timeoutMs` passed. */
  firstAction(timeoutMs: number): Promise<GuardOutcome | null>;
  exited(): boolean;
  /** stderr lines, the last 50, for diagnostics. */
  logTail(): string[];
  /** SIGTERM, then SIGKILL after 3 s. */
  stop(): Promise<void>;
}

export async function startGuardProcess(options: GuardProcessOptions): Promise<GuardProcess> {
  const args = [
    "--run-dir",
    options.runDir,
    "--stack",
    options.stack,
    "--max-error-rate",
    String(options.maxErrorRate),
    "--min-requests",
    String(options.minRequests),
    "--evaluation-periods",
    String(options.evaluationPeriods),
    "--window-ms",
    String(options.windowMs),
    "--lifetime-ms",
    String(options.lifetimeMs),
    "--exit-with-stdin",
    ...(options.tag ? ["--tag", options.tag] : []),
  ];
  // The first rollback the guard runs, or null once it stopped without one.
  let settleFirst: (outcome: GuardOutcome | null) => void = () => undefined;
  const first = new Promise<GuardOutcome | null>((resolve) => (settleFirst = resolve));
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const child = spawnJsonLines(GUARD_MAIN, args, {
    ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
    onMessage: (message) => {
      const { event } = message;
      if (event === "ready") onReady();
      else if (event === "say" && typeof message.text === "string") options.onSay?.(message.text);
      else if (event === "window" && message.window) options.onWindow?.(message.window as GuardWindow);
      else if (event === "engine" && message.value) options.onEngineEvent?.(message.value as EngineEvent);
      else if (event === "acted" && message.outcome) settleFirst(message.outcome as GuardOutcome);
      else if (event === "stopped") settleFirst(null);
    },
  });
  void child.exit.then(() => settleFirst(null));

  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      child.exit.then(({ code, signal }) => {
        throw new Error(`the guard process exited during start-up (${signal ?? code}): ${child.logTail().slice(-5).join(" | ")}`);
      }),
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`the guard process was not ready within ${startTimeoutMs} ms`)), startTimeoutMs)),
      ),
    ]);
  } catch (error) {
    await child.stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }

  return {
    pid: child.pid,
    firstAction: (timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
      return Promise.race([first, bound]).finally(() => clearTimeout(timer));
    },
    exited: child.exited,
    logTail: child.logTail,
    stop: child.stop,
  };
}
