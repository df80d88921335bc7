// Starting and stopping the sandbox guard's own process (./guardMain.ts) from the demo, and
// reading what it says. Like the apps, it gets a stdin pipe and exits when it closes, so it
// never outlives the demo however the demo dies; the reaper is told its pid as well.

import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { EngineEvent } from "../core/events.js";
import type { GuardOutcome } from "../core/guard.js";
import { nodeArgsFor, stopChild } from "./processes.js";

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
  /** Each line the guard says (windows, decisions). */
  onSay?: (text: string) => void;
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
    ...nodeArgsFor(GUARD_MAIN),
    "--run-dir", options.runDir,
    "--stack", options.stack,
    "--max-error-rate", String(options.maxErrorRate),
    "--min-requests", String(options.minRequests),
    "--evaluation-periods", String(options.evaluationPeriods),
    "--window-ms", String(options.windowMs),
    "--lifetime-ms", String(options.lifetimeMs),
    "--exit-with-stdin",
    ...(options.tag ? ["--tag", options.tag] : []),
  ];
  const child = spawn(process.execPath, args, {
    // Its own process group: Ctrl-C reaches the demo, which stops the guard in order.
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  child.stdin!.on("error", () => undefined);

  const tail: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => {
    tail.push(line);
    if (tail.length > 50) tail.shift();
  });
  const actions: GuardOutcome[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };
  let stoppedReason: string | null = null;
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let message: { event?: string; text?: string; value?: EngineEvent; outcome?: GuardOutcome; reason?: string };
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        tail.push(line);
        return;
      }
      if (message.event === "ready") resolve();
      else if (message.event === "say" && message.text) options.onSay?.(message.text);
      else if (message.event === "engine" && message.value) options.onEngineEvent?.(message.value);
      else if (message.event === "acted" && message.outcome) {
        actions.push(message.outcome);
        wake();
      } else if (message.event === "stopped") {
        stoppedReason = message.reason ?? "stopped";
        wake();
      }
    });
    child.once("exit", (code, signal) => {
      stoppedReason ??= `exited (${signal ?? code})`;
      wake();
      reject(new Error(`the guard process exited during start-up (${signal ?? code}): ${tail.slice(-5).join(" | ")}`));
    });
    child.once("error", reject);
  });

  const stop = () => stopChild(child);

  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the guard process was not ready within ${startTimeoutMs} ms`)), startTimeoutMs))),
    ]);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }

  return {
    pid: child.pid!,
    firstAction: (timeoutMs) =>
      new Promise<GuardOutcome | null>((resolve) => {
        const check = () => {
          if (actions.length > 0 || stoppedReason !== null) finish(actions[0] ?? null);
        };
        const finish = (value: GuardOutcome | null) => {
          clearTimeout(bound);
          waiters.delete(check);
          resolve(value);
        };
        const bound = setTimeout(() => finish(null), timeoutMs);
        waiters.add(check);
        check();
      }),
    exited: () => child.exitCode !== null || child.signalCode !== null,
    logTail: () => [...tail],
    stop,
  };
}
