// ShellHookRunner with the engine's AbortSignal: real `sh -c` hooks that would run for 30 s,
// aborted once they have started (seen by the pid file each one writes first, never by timing).
// The hook's whole process group must be gone when run() resolves, and the result must say
// "interrupted", not a failed gate. Nothing asserts on elapsed real time; every loop is bounded
// and every process group left over by a failing test is killed in afterEach.

import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { getEventListeners } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCutover } from "../../scripts/core/engine.js";
import { ShellHookRunner } from "../../scripts/hooks/shellHookRunner.js";
import { groupAlive } from "../support/processGroups.js";
import { FakeWorld, testRollout } from "../support/fakes.js";

let dir = "";
const groups = new Set<number>();

/**
 * The group is gone: polled (at most 2 s), because a process that closed its pipes on exit may
 * not have reached the zombie state the instant run() resolves. A hook left running (the bug
 * this guards against) sleeps for 30 s, far past the bound.
 */
async function gone(pgid: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (!(await groupAlive(pgid))) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

/** The pid the hook wrote on starting (its shell: the process group's leader), polled, bounded. */
async function started(name = "started"): Promise<number> {
  for (let i = 0; i < 1000; i++) {
    const text = await readFile(join(dir, name), "utf8").catch(() => "");
    if (text.endsWith("\n")) {
      const pid = Number(text.trim());
      groups.add(pid);
      return pid;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the hook never started");
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "bluegreen-hooks-"));
});

afterEach(async () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // gone, as it should be
    }
  }
  groups.clear();
  await rm(dir, { recursive: true, force: true });
});

describe("ShellHookRunner and the abort signal", () => {
  it("a hook aborted after it started: its process group is gone and the result is interrupted, not failed", async () => {
    const runner = new ShellHookRunner(dir);
    const controller = new AbortController();
    const running = runner.run("echo $$ > started; echo 'booking one appointment'; sleep 30", 60_000, {}, controller.signal);
    const pgid = await started();
    expect(await groupAlive(pgid)).toBe(true); // the sleep is running
    controller.abort(new Error("operator pressed Ctrl-C"));
    const result = await running;
    expect(await gone(pgid)).toBe(true);
    expect(result).toMatchObject({ exitCode: null, timedOut: false, interrupted: true });
    expect(result.outputTail).toContain("booking one appointment");
    expect(result.outputTail).toContain("(stopped: the run was interrupted)");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("a hook that ignores SIGTERM gets SIGKILL after the grace: gone, interrupted", async () => {
    const runner = new ShellHookRunner(dir, { killGraceMs: 200 });
    const controller = new AbortController();
    // `trap '' TERM` is inherited by the sleep: only SIGKILL stops the group.
    const running = runner.run("trap '' TERM; echo $$ > started; sleep 30", 60_000, {}, controller.signal);
    const pgid = await started();
    controller.abort();
    const result = await running;
    expect(await gone(pgid)).toBe(true);
    expect(result).toMatchObject({ exitCode: null, timedOut: false, interrupted: true });
  });

  it("a signal already aborted: the hook is not started", async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await new ShellHookRunner(dir).run("echo $$ > started; sleep 30", 60_000, {}, controller.signal);
    expect(result).toMatchObject({ exitCode: null, timedOut: false, interrupted: true, durationMs: 0 });
    await expect(stat(join(dir, "started"))).rejects.toThrow(/ENOENT/);
  });

  it("without an abort: the exit code is the verdict, a timeout is a failure, never 'interrupted'", async () => {
    const runner = new ShellHookRunner(dir, { killGraceMs: 200 });
    const controller = new AbortController();
    const passed = await runner.run("echo ok", 60_000, {}, controller.signal);
    expect(passed).toMatchObject({ exitCode: 0, timedOut: false });
    expect(passed.interrupted).toBeUndefined();
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    expect(await runner.run("exit 3", 60_000, {})).toMatchObject({ exitCode: 3, timedOut: false });
    const slow = runner.run("echo $$ > started; sleep 30", 300, {}, controller.signal);
    const pgid = await started();
    const timedOut = await slow;
    expect(timedOut).toMatchObject({ exitCode: null, timedOut: true });
    expect(timedOut.interrupted).toBeUndefined();
    expect(await gone(pgid)).toBe(true);
  });
});

describe("a cutover interrupted while its hook hangs", () => {
  it("the engine's signal stops the real hook: outcome interrupted, no rollback, the hook's processes gone", async () => {
    const world = new FakeWorld();
    const controller = new AbortController();
    const hooks = new ShellHookRunner(dir);
    const result = runCutover(world.deps({ hooks }), {
      rollout: testRollout({ hooks: [{ name: "smoke", command: "echo $$ > started; sleep 30", when: "after-step", timeoutSeconds: 600 }] }),
      databaseMode: "shared",
      owner: "alice@ops-1 pid 4242",
      stack: "prod",
      signal: controller.signal,
    });
    const pgid = await started();
    controller.abort("operator pressed Ctrl-C");
    const outcome = await result;
    expect(await gone(pgid)).toBe(true);
    expect(outcome.outcome).toBe("interrupted");
    expect(outcome.reason).toMatch(/^operator pressed Ctrl-C \(hook smoke \(after-step\) stopped after \d+ ms\)$/);
    expect(world.eventsOf("hook-result")).toEqual([]);
    expect(world.events.some((e) => e.type === "rollback-started")).toBe(false);
    expect(world.lock.holder).toBeNull();
  });
});
