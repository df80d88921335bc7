// End-to-end: the demo's Ctrl-C at many different moments — each start-up stage, each engine
// phase (preflight, writing, baking, monitoring, rolling back), the checks, and in paired mode
// the replication set-up, the write fence, the catch-up behind it and the pause between switches.
//
// Each run is the real command line, spawned as the leader of its own process group, and told
// (test/support/demoInterruptedAt.ts, through demoMain's onPhase seam) to send SIGINT to that
// group as soon as it enters the phase: exactly
// what a terminal's Ctrl-C does (the PostgreSQL servers, which share the group, get it too).
// Asserted: exit code 130, the progress line, nothing of the run left (processes, directories),
// and nothing recreated afterwards. The seconds from the signal to the exit are printed, never
// asserted (2 shared cores).

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRunGone, tempDirsWith } from "./leftovers.js";

const ROOT = join(import.meta.dirname, "..", "..");
let reportsDir: string;
const children: ChildProcess[] = [];
const measured: Array<{ moment: string; seconds: number | null; code: number | null }> = [];

beforeAll(async () => {
  reportsDir = await mkdtemp(join(tmpdir(), "bluegreen-e2e-interrupt-reports-"));
});
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
  await rm(reportsDir, { recursive: true, force: true });
  process.stdout.write(
    `\nCtrl-C → exit, seconds (printed, not asserted):\n${measured.map((m) => `  ${m.moment.padEnd(44)} ${m.seconds === null ? "n/a" : m.seconds.toFixed(2)} s  exit ${m.code}`).join("\n")}\n`,
  );
});

const id = (name: string) => `e2eint${name.replace(/[^a-z0-9]/gi, "")}${process.pid}${Math.random().toString(36).slice(2, 6)}`;

interface Moment {
  name: string;
  phase: string;
  args?: string[];
}

const MOMENTS: Moment[] = [
  { name: "start-up: PostgreSQL starting (initdb)", phase: "startup:postgres" },
  { name: "start-up: schema and seed", phase: "startup:database" },
  { name: "start-up: apps starting", phase: "startup:apps" },
  { name: "start-up: load starting", phase: "startup:load" },
  { name: "engine: preflight (snapshot)", phase: "engine:preflight" },
  { name: "engine: writing step 1", phase: "engine:writing" },
  { name: "engine: baking step 1", phase: "engine:baking" },
  { name: "engine: monitoring at 100%", phase: "engine:monitoring" },
  { name: "fault: engine rolling back", phase: "engine:rolling-back", args: ["--fault", "error-rate=0.5", "--fault-after", "200ms"] },
  { name: "fault: load after the rollback", phase: "after-rollback", args: ["--fault", "error-rate=0.5", "--fault-after", "200ms"] },
  { name: "checks after the cutover", phase: "checks" },
  { name: "paired: initial replication", phase: "startup:replication", args: ["--database", "paired"] },
  { name: "paired: write fence raised", phase: "engine:fencing", args: ["--database", "paired"] },
  { name: "paired: catching up behind the fence", phase: "engine:catching-up", args: ["--database", "paired"] },
  { name: "paired: pause between switches", phase: "paired:pause", args: ["--database", "paired"] },
];

function spawnDemo(runId: string, moment: Moment) {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "test/support/demoInterruptedAt.ts",
      moment.phase,
      "--timings",
      "ci",
      "--reports",
      reportsDir,
      "--run-id",
      runId,
      ...(moment.args ?? []),
    ],
    // detached: its own process group, which it leads, as a shell's foreground job does.
    { cwd: ROOT, env: { ...process.env, NO_COLOR: "1", CI: "true" }, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  children.push(child);
  let text = "";
  let signalledAt: number | null = null;
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    if (signalledAt === null && /SIGINT: stopping the demo/.test(text)) signalledAt = Date.now();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<{ code: number | null; seconds: number | null }>((resolve) =>
    child.on("exit", (code) => resolve({ code, seconds: signalledAt === null ? null : (Date.now() - signalledAt) / 1000 })),
  );
  return { exited, output: () => text };
}

describe("demo interrupted (Ctrl-C to the process group) at different moments", () => {
  for (const moment of MOMENTS) {
    it(`${moment.name}: exits 130, says what it stops, leaves nothing and recreates nothing`, async () => {
      const runId = id(moment.phase);
      const run = spawnDemo(runId, moment);
      const { code, seconds } = await run.exited;
      measured.push({ moment: moment.name, seconds, code });
      expect(code, run.output().slice(-2500)).toBe(130);
      expect(run.output()).toMatch(/stopping: /);
      expect(run.output()).toMatch(/interrupted: everything the demo started was stopped and removed/);
      await expectRunGone(runId);
      // Nothing comes back: no engine write lands in the removed run directory later.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(tempDirsWith(runId), "recreated after the exit").toEqual([]);
    }, 120_000);
  }
});
