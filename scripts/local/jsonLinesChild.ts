// A sandbox process of ours that reports on stdout in JSON lines (the guard, the cutover): spawned
// in its own process group with a stdin pipe it exits on (so it never outlives the demo, however
// the demo dies), each stdout line handed over parsed, the last stderr lines kept for messages.

import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { nodeArgsFor, stopChild } from "./processes.js";

export interface JsonLinesChild {
  pid: number;
  /** Resolves when the process has exited. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited(): boolean;
  /** Send a signal (SIGINT: stop at the next safe point). */
  kill(signal: NodeJS.Signals): void;
  /** stderr lines (and stdout lines that are not JSON), the last 50. */
  logTail(): string[];
  /** SIGTERM, then SIGKILL after 3 s. */
  stop(): Promise<void>;
}

export interface JsonLinesOptions {
  /** Told the pid as soon as it exists (for the reaper). */
  onSpawn?: (pid: number) => void;
  /** Each JSON line on stdout. */
  onMessage: (message: Record<string, unknown>) => void;
  /** Extra environment (the child's NODE_OPTIONS is cleared). */
  env?: Record<string, string>;
}

export function spawnJsonLines(module: URL, args: readonly string[], options: JsonLinesOptions): JsonLinesChild {
  const child = spawn(process.execPath, [...nodeArgsFor(module), ...args], {
    // Its own process group: Ctrl-C reaches the demo, which stops its children in order.
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "", ...options.env },
  });
  if (child.pid === undefined) throw new Error(`could not start ${module.pathname}`);
  options.onSpawn?.(child.pid);
  child.stdin!.on("error", () => undefined);
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > 50) tail.shift();
  };
  createInterface({ input: child.stderr! }).on("line", keep);
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return keep(line);
    }
    if (message !== null && typeof message === "object") options.onMessage(message as Record<string, unknown>);
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return {
    pid: child.pid,
    exit,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    logTail: () => [...tail],
    stop: () => stopChild(child),
  };
}
