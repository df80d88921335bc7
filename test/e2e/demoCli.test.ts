// End-to-end: the real `demo` command line, spawned — exit codes, and clean-up when the run
// fails, is interrupted (Ctrl-C) or is killed outright (kill -9: the reaper cleans up).

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRunGone, runIsGone } from "./leftovers.js";

const ROOT = join(import.meta.dirname, "..", "..");
let reportsDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  reportsDir = await mkdtemp(join(tmpdir(), "bluegreen-e2e-cli-reports-"));
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await rm(reportsDir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor: (pattern: RegExp, timeoutMs: number) => Promise<void>;
}

/** The demo command line (scripts/demo.ts), or the same with a failure the harness injects (test/support/demoWithFaultPlan.ts). */
function demo(args: string[], faultPlan?: "mid-cutover"): Run {
  const entry = faultPlan ? ["test/support/demoWithFaultPlan.ts", faultPlan] : ["scripts/demo.ts"];
  const child = spawn(process.execPath, ["--import", "tsx", ...entry, "--reports", reportsDir, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let text = "";
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => text,
    exited,
    waitFor: async (pattern, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`did not see ${pattern} within ${timeoutMs} ms:\n${text.slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

const id = (name: string) => `e2ecli${name}${process.pid}${Math.random().toString(36).slice(2, 7)}`;

describe("demo command line", () => {
  it("--help names the options and the exit codes", async () => {
    const run = demo(["--help"]);
    const { code } = await run.exited;
    expect(code).toBe(0);
    expect(run.output()).toMatch(/--fault <name=value>/);
    expect(run.output()).toMatch(/--database <mode>/);
    expect(run.output()).toMatch(/Exit codes/);
  }, 30_000);

  it("refuses a bad fault with exit code 2 and starts nothing", async () => {
    const runId = id("bad");
    const run = demo(["--fault", "explode=1", "--run-id", runId]);
    const { code } = await run.exited;
    expect(code).toBe(2);
    expect(run.output()).toMatch(/error: .*--fault "explode" is unknown/);
    expect((await runIsGone(runId, 1000)).ok).toBe(true);
  }, 30_000);

  it("prints a flag error once, with the --help hint", async () => {
    const run = demo(["--rate", "7"]);
    const { code } = await run.exited;
    expect(code).toBe(2);
    expect(run.output().match(/error: /g) ?? [], run.output()).toHaveLength(1);
    expect(run.output()).toMatch(/--rate must be an integer between 50 and 5000.*\(see --help\)/);
    const unknown = demo(["--no-such-flag"]);
    expect((await unknown.exited).code).toBe(2);
    expect(unknown.output().match(/error: /g) ?? [], unknown.output()).toHaveLength(1);
    expect(unknown.output()).toMatch(/unknown option '--no-such-flag' \(see --help\)/);
  }, 30_000);

  it("refuses a relative fault without a background error rate, and a reports path that is a file, before starting anything", async () => {
    const relativeId = id("rel");
    const relative = demo(["--fault", "error-rate=10x", "--run-id", relativeId]);
    expect((await relative.exited).code).toBe(2);
    expect(relative.output()).toMatch(/relative to the background error rate: add --background-error-rate/);
    expect((await runIsGone(relativeId, 1000)).ok).toBe(true);

    const reportsId = id("rep");
    const reports = spawn(process.execPath, ["--import", "tsx", "scripts/demo.ts", "--reports", join(ROOT, "package.json"), "--run-id", reportsId], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    reports.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => reports.on("exit", resolve));
    expect(code, text).toBe(2);
    expect(text).toMatch(/--reports .*package\.json is not a directory/);
    expect(text).not.toMatch(/PostgreSQL/);
    expect((await runIsGone(reportsId, 1000)).ok).toBe(true);
  }, 30_000);

  it("exits 1 and leaves nothing behind after a failure mid-run", async () => {
    const runId = id("fail");
    const run = demo(["--timings", "ci", "--run-id", runId], "mid-cutover");
    const { code } = await run.exited;
    expect(code, run.output().slice(-1500)).toBe(1);
    expect(run.output()).toMatch(/forced failure mid-cutover/);
    await expectRunGone(runId);
  }, 90_000);

  it("stops everything on Ctrl-C (SIGINT) and exits 130", async () => {
    const runId = id("int");
    const run = demo(["--timings", "ci", "--run-id", runId]);
    await run.waitFor(/baking poll 1/, 60_000);
    run.child.kill("SIGINT");
    const { code } = await run.exited;
    expect(code, run.output().slice(-1500)).toBe(130);
    await expectRunGone(runId);
  }, 90_000);

  it("leaves nothing behind when killed with SIGKILL mid-run (the apps exit, the reaper stops PostgreSQL)", async () => {
    const runId = id("kill");
    const run = demo(["--timings", "ci", "--run-id", runId]);
    await run.waitFor(/baking poll 1/, 60_000);
    run.child.kill("SIGKILL");
    await run.exited;
    await expectRunGone(runId, 15_000);
  }, 90_000);

  it("--pause: Ctrl-C while the cutover's own process bakes stops it, the guard's process and everything else, exit 130", async () => {
    const runId = id("pint");
    const run = demo(["--pause", "--timings", "ci", "--run-id", runId]);
    await run.waitFor(/the cutover runs in its own process \(pid \d+\)/, 60_000);
    await run.waitFor(/baking poll 1/, 60_000);
    run.child.kill("SIGINT");
    const { code } = await run.exited;
    expect(code, run.output().slice(-1500)).toBe(130);
    await expectRunGone(runId); // no process tagged with the run (apps, guard, cutover), no directory
  }, 90_000);

  it("--pause: killed with SIGKILL while its children run, they exit on their own (their stdin closes) and the reaper removes the rest", async () => {
    const runId = id("pkill");
    const run = demo(["--pause", "--timings", "ci", "--run-id", runId]);
    await run.waitFor(/baking poll 1/, 60_000);
    run.child.kill("SIGKILL");
    await run.exited;
    await expectRunGone(runId, 15_000);
  }, 90_000);
});
