// The sandbox's reaper: `node reaper.js <parent-pid>`, started detached by the demo.
// Reads JSON lines on stdin ({pid, marker} | {postgres: dataDir} | {dir} | {done: true}).
// When stdin closes without "done" (the demo was killed, even by kill -9), it stops every
// tracked process that is still alive (SIGTERM, then SIGKILL), stops tracked PostgreSQL
// servers (SIGQUIT to the postmaster named in postmaster.pid, then SIGKILL) and removes the
// tracked directories. Bounded: it gives up after 30 s of clean-up and never lives beyond 6 h.

import { readFileSync, rmSync, existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

const pids: Array<{ pid: number; marker: string }> = [];
const postgres: string[] = [];
const dirs: string[] = [];
let done = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Only signal a pid whose command line still carries the marker (pids are reused). */
function matches(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
  } catch {
    return alive(pid) && process.platform !== "linux";
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function stopPid(pid: number, first: NodeJS.Signals, marker: string): Promise<void> {
  if (!matches(pid, marker)) return;
  try {
    process.kill(pid, first);
  } catch {
    return;
  }
  for (let i = 0; i < 30 && alive(pid); i++) await sleep(100);
  if (alive(pid) && matches(pid, marker)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
}

function postmasterPid(dataDir: string): number | null {
  for (const candidate of [join(dataDir, "postmaster.pid"), join(dataDir, "data", "postmaster.pid")]) {
    try {
      const pid = Number(readFileSync(candidate, "utf8").split("\n")[0]);
      if (Number.isInteger(pid) && pid > 0) return pid;
    } catch {
      /* not there */
    }
  }
  return null;
}

async function reap(): Promise<void> {
  if (done) process.exit(0);
  // Give the parent's own clean-up a moment if it is still running (it may be exiting normally).
  await sleep(300);
  await Promise.all(pids.map(({ pid, marker }) => stopPid(pid, "SIGTERM", marker)));
  await Promise.all(
    postgres.map(async (dataDir) => {
      const pid = postmasterPid(dataDir);
      // SIGQUIT: immediate shutdown; the data is throwaway.
      if (pid !== null) await stopPid(pid, "SIGQUIT", "postgres");
    }),
  );
  for (const dir of [...postgres, ...dirs]) {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
  process.exit(0);
}

setTimeout(() => process.exit(0), 6 * 3600_000).unref();
createInterface({ input: process.stdin })
  .on("line", (line) => {
    try {
      const message = JSON.parse(line) as { pid?: number; marker?: string; postgres?: string; dir?: string; done?: boolean };
      if (typeof message.pid === "number") pids.push({ pid: message.pid, marker: message.marker ?? "" });
      if (typeof message.postgres === "string") postgres.push(message.postgres);
      if (typeof message.dir === "string") dirs.push(message.dir);
      if (message.done === true) done = true;
    } catch {
      /* ignore malformed lines */
    }
  })
  .on("close", () => {
    setTimeout(() => process.exit(1), 30_000).unref();
    void reap();
  });
