// Helpers for the sandbox's clean-up tests: find processes and directories a demo run left
// behind (by the run id every one of them carries), and check that ports are free again.

import { readdirSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { expect } from "vitest";

/** Processes whose command line contains `marker` (never this process). */
export function processesWith(marker: string): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmdline.includes(marker) && !cmdline.includes("vitest")) found.push({ pid, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Entries of the temporary directory whose name contains `marker`. */
export function tempDirsWith(marker: string): string[] {
  return readdirSync(tmpdir())
    .filter((name) => name.includes(marker))
    .map((name) => join(tmpdir(), name));
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Poll until `check` returns true or the time is up (bounded); returns the last result. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000; i++) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return false;
}

/** Everything of run `runId` gone: processes, directories. */
export async function runIsGone(runId: string, timeoutMs = 10_000): Promise<{ ok: boolean; processes: string[]; dirs: string[] }> {
  const ok = await eventually(() => processesWith(runId).length === 0 && tempDirsWith(runId).length === 0, timeoutMs);
  return { ok, processes: processesWith(runId).map((p) => `${p.pid} ${p.cmdline.slice(0, 160)}`), dirs: tempDirsWith(runId).filter(existsSync) };
}

/** Assert that nothing of run `runId` is left: no process, no directory (waits up to timeoutMs). */
export async function expectRunGone(runId: string, timeoutMs?: number): Promise<void> {
  const gone = await runIsGone(runId, timeoutMs);
  expect(gone.processes, "processes left behind").toEqual([]);
  expect(gone.dirs, "directories left behind").toEqual([]);
}
