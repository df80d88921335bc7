// Cancellation: the caller aborts the engine's signal. The engine stops at the next
// safe point, saves the journal in its current (non-terminal) phase, releases the lock, resolves
// "interrupted", writes nothing more and never rolls back because of it; `--resume` then
// continues to success. Virtual clock and event order only.

import { getEventListeners } from "node:events";
import { describe, expect, test } from "vitest";
import { runCutover, runRollback, type CutoverRequest, type EngineDeps } from "../../scripts/core/engine.js";
import type { EngineEvent } from "../../scripts/core/events.js";
import { outcomeOf, parseJournal, type Journal } from "../../scripts/core/journal.js";
import type { RolloutConfig } from "../../infra/config.js";
import { FakeWorld, replies, SIDE_EFFECTS, testRollout } from "../support/fakes.js";

const OWNER = "alice@ops-1 pid 4242";

function request(overrides: Partial<RolloutConfig> = {}, extra: Partial<CutoverRequest> = {}): CutoverRequest {
  return { rollout: testRollout(overrides), databaseMode: "shared", owner: OWNER, stack: "prod", ...extra };
}

/** Of the port calls that change the world (SIDE_EFFECTS), only these may happen after an abort. */
const ALLOWED_AFTER_ABORT = new Set(["journal.save", "lock.release"]);

interface Harness {
  deps: EngineDeps;
  controller: AbortController;
  /** Abort now (once), noting the virtual time. */
  abort: () => void;
  /** Virtual time of the abort (null until it happened). */
  abortedAt: () => number | null;
  /** Every world-changing call that started after the abort, as "port.method". */
  writesAfterAbort: string[];
  /** Events emitted after the abort. */
  eventsAfterAbort: EngineEvent[];
}

/** EngineDeps over the world whose writes are logged against the moment of the abort. */
function harness(world: FakeWorld, overrides: Partial<EngineDeps> = {}, onEvent?: (event: EngineEvent, abort: () => void) => void): Harness {
  const controller = new AbortController();
  let abortedAt: number | null = null;
  const abort = () => {
    if (abortedAt !== null) return;
    abortedAt = world.clock.now();
    controller.abort("operator pressed Ctrl-C");
  };
  const h: Harness = { deps: undefined as unknown as EngineDeps, controller, abort, abortedAt: () => abortedAt, writesAfterAbort: [], eventsAfterAbort: [] };
  const base = world.deps({
    events: (event) => {
      world.events.push(event);
      if (abortedAt !== null) h.eventsAfterAbort.push(event);
      onEvent?.(event, abort);
    },
    ...overrides,
  });
  const wrap = <T extends object>(name: string, port: T): T =>
    new Proxy(port, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== "function") return value;
        const fn = (value as (...args: unknown[]) => unknown).bind(target);
        if (!SIDE_EFFECTS[name]?.includes(String(property))) return fn;
        return (...args: unknown[]) => {
          if (controller.signal.aborted) h.writesAfterAbort.push(`${name}.${String(property)}`);
          return fn(...args);
        };
      },
    });
  const deps = { ...base };
  for (const name of Object.keys(SIDE_EFFECTS) as (keyof EngineDeps)[]) {
    if (deps[name]) (deps as Record<string, unknown>)[name] = wrap(name, deps[name] as object);
  }
  h.deps = deps;
  return h;
}

function stored(world: FakeWorld): Journal {
  return parseJournal(world.journal.value);
}

/** What every interrupted run must show. */
function expectInterrupted(
  world: FakeWorld,
  h: Harness,
  result: { outcome: string; reason: string | null },
  phase: string,
  reason = "operator pressed Ctrl-C",
): Journal {
  expect(result.outcome).toBe("interrupted");
  expect(result.reason).toBe(reason);
  const journal = stored(world);
  expect(journal.phase).toBe(phase);
  expect(outcomeOf(journal)).toBeNull(); // not terminal: `--resume` continues it
  expect(
    h.writesAfterAbort.every((call) => ALLOWED_AFTER_ABORT.has(call)),
    h.writesAfterAbort.join(", "),
  ).toBe(true);
  expect(h.writesAfterAbort).toContain("journal.save");
  expect(h.writesAfterAbort.at(-1)).toBe("lock.release");
  expect(world.lock.holder).toBeNull();
  expect(world.events.some((e) => e.type === "rollback-started")).toBe(false);
  expect(journal.timeline.some((e) => e.type === "rollback-started")).toBe(false);
  // The journal says why it stopped; the last event is the "done" for the interruption.
  expect(journal.timeline.at(-2)).toMatchObject({ type: "decision", decision: "interrupt" });
  expect(journal.timeline.at(-1)).toMatchObject({ type: "done", outcome: "interrupted", reason });
  return journal;
}

async function resumeToSuccess(
  world: FakeWorld,
  extra: Partial<CutoverRequest> = {},
  overrides: Partial<RolloutConfig> = {},
  mode: "shared" | "paired" = "shared",
) {
  const result = await runCutover(world.deps(), { ...request(overrides, extra), databaseMode: mode, resume: true });
  expect(result.outcome).toBe("succeeded");
  expect(world.router.current()).toEqual({ blue: 0, green: 100 });
  expect(stored(world).resumes).toBe(1);
  return result;
}

describe("abort", () => {
  test("during preflight: stops between checks, journal in preflight, nothing written; resume succeeds", async () => {
    const world = new FakeWorld();
    const h = harness(world, {}, (event, abort) => {
      if (event.type === "preflight-check" && event.check === "green-health") abort();
    });
    const result = await runCutover(h.deps, request({}, { signal: h.controller.signal }));
    expectInterrupted(world, h, result, "preflight");
    // The remaining checks did not run, and the abort did not fail preflight.
    const checks = world.eventsOf("preflight-check").map((c) => c.check);
    expect(checks.at(-1)).toBe("green-health");
    expect(checks).not.toContain("alarms");
    expect(checks).not.toContain("snapshot");
    expect(world.snapshotter.calls).toHaveLength(0);
    expect(world.router.writes).toHaveLength(0);

    await resumeToSuccess(world);
    expect(world.snapshotter.calls).toHaveLength(1);
  });

  test("during the snapshot wait: wakes at once, the snapshot is not recorded, resume takes it and succeeds", async () => {
    const world = new FakeWorld();
    const h = harness(world);
    world.clock.at(world.clock.now() + 2 * 60_000, h.abort); // the fake snapshot takes 5 minutes
    const result = await runCutover(h.deps, request({}, { signal: h.controller.signal }));
    const journal = expectInterrupted(world, h, result, "preflight");
    expect(world.clock.now()).toBe(h.abortedAt()); // no virtual time passed after the abort
    expect(journal.snapshot).toBeNull();
    expect(world.eventsOf("snapshot")).toEqual([]); // abandoned, not failed
    expect(world.eventsOf("preflight-check").some((c) => !c.ok)).toBe(false);
    expect(world.router.writes).toHaveLength(0);

    await resumeToSuccess(world);
    expect(world.snapshotter.calls).toHaveLength(2);
  });

  test("mid-bake (with live-view ticks): wakes within the tick, the bake goes on from its next window with the judge's evidence, then succeeds", async () => {
    const world = new FakeWorld();
    const h = harness(world, { tickMs: 1000 }, (event, abort) => {
      // 2.5 polls into step 2's bake.
      if (event.type === "judge-reading" && event.step === 1 && event.poll === 2) world.clock.at(world.clock.now() + 30_500, abort);
    });
    const result = await runCutover(h.deps, request({}, { signal: h.controller.signal }));
    const journal = expectInterrupted(world, h, result, "baking");
    expect(journal.step).toBe(1);
    expect(world.clock.now()).toBe(h.abortedAt());
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([5, 25]);
    expect(world.recorder.recorded.map((w) => w.green)).toEqual([5, 25]);
    expect(h.eventsAfterAbort.filter((e) => e.type === "judge-reading" || e.type === "tick")).toEqual([]);
    expect(journal.judge?.windowsJudged).toBe(2);

    world.events.length = 0;
    await resumeToSuccess(world);
    expect(world.eventsOf("decision")[0]).toMatchObject({
      decision: "resume",
      reason: expect.stringContaining("going on with the bake from its next window, with the judge's evidence so far (2 window(s))"),
    });
    const step2 = world.eventsOf("judge-reading").filter((r) => r.step === 1);
    expect(step2[0]!.verdict.windowsJudged).toBe(3);
    expect(step2.at(-1)!.verdict.decision).toBe("promote");
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([5, 25, 100]);
  });

  test("during verify: the write completes, verifying stops; journal in verifying; resume writes again and succeeds", async () => {
    const world = new FakeWorld({ writeLagMs: 30_000 });
    const h = harness(world, {}, (event, abort) => {
      if (event.type === "weights-written" && event.step === 1) world.clock.at(world.clock.now() + 5_000, abort);
    });
    const result = await runCutover(h.deps, request({}, { signal: h.controller.signal }));
    const journal = expectInterrupted(world, h, result, "verifying");
    expect(journal.step).toBe(1);
    expect(world.clock.now()).toBe(h.abortedAt());
    // The write was sent before the abort and is in the journal as written-not-verified.
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([5, 25]);
    expect(world.eventsOf("weights-verified").filter((v) => v.step === 1)).toEqual([]);
    expect(world.recorder.recorded.map((w) => w.green)).toEqual([5]);

    world.events.length = 0;
    await resumeToSuccess(world);
    expect(world.eventsOf("weights-written")[0]).toMatchObject({ step: 1, attempt: 2 });
  });

  test("during the paired fence (catch-up): the fence stays up and is journaled; no rollback; resume finishes the switch", async () => {
    const world = new FakeWorld({ databaseMode: "paired" });
    world.replication.catchUpMs["blue-to-green"] = 20_000;
    const h = harness(world, {}, (event, abort) => {
      if (event.type === "fence" && event.mode === "writes") world.clock.at(world.clock.now() + 5_000, abort);
    });
    const paired = { ...request({ strategy: { type: "all-at-once" } }, { signal: h.controller.signal }), databaseMode: "paired" as const };
    const result = await runCutover(h.deps, paired);
    const journal = expectInterrupted(world, h, result, "catching-up");
    expect(world.clock.now()).toBe(h.abortedAt());
    expect(world.fence.mode).toBe("writes"); // the caller's policy decides; the journal knows it is up
    expect(journal.fence.onAt).not.toBeNull();
    expect(world.replication.calls.filter((c) => !c.startsWith("status"))).toEqual(["catch-up blue-to-green"]);
    expect(world.eventsOf("replication").filter((e) => !e.ok)).toEqual([]); // an abandoned wait is not a failed catch-up
    expect(world.router.writes).toHaveLength(0);

    world.events.length = 0;
    await resumeToSuccess(world, {}, { strategy: { type: "all-at-once" } }, "paired");
    expect(world.fence.mode).toBe("off");
    expect(stored(world).fence.periods.map((p) => p.purpose)).toEqual(["switch"]);
  });

  test("during an after-step hook: the hook is stopped (interrupted, not a failed gate), the next one does not start; resume reruns the hooks", async () => {
    const world = new FakeWorld();
    const rollout = {
      hooks: [
        { name: "smoke", command: "smoke", when: "after-step", timeoutSeconds: 60 },
        { name: "load", command: "load", when: "after-step", timeoutSeconds: 60 },
      ],
    } as unknown as Partial<RolloutConfig>;
    const h = harness(world);
    // The hook would take 40 s; the operator aborts 12 s (virtual) after it started.
    world.hooks.on(
      "smoke",
      () => (world.clock.at(world.clock.now() + 12_000, h.abort), { exitCode: 0, timedOut: false, durationMs: 40_000, outputTail: "ok" }),
    );
    const result = await runCutover(h.deps, request(rollout, { signal: h.controller.signal }));
    expectInterrupted(world, h, result, "hooks", "operator pressed Ctrl-C (hook smoke (after-step) stopped after 12000 ms)");
    expect(world.hooks.runs.map((r) => r.command)).toEqual(["smoke"]);
    // No verdict on the release: no hook result, no breach, no rollback (checked above).
    expect(world.eventsOf("hook-result")).toEqual([]);
    expect(world.events.some((e) => e.type === "decision" && e.decision === "rollback")).toBe(false);

    world.hooks.on("smoke", { exitCode: 0, timedOut: false, durationMs: 1000, outputTail: "ok" });
    await resumeToSuccess(world, {}, rollout);
  });

  test("during a preflight hook: stopped and interrupted in preflight, not a failed preflight check; resume reruns it", async () => {
    const world = new FakeWorld();
    const rollout = { hooks: [{ name: "pre", command: "pre", when: "preflight", timeoutSeconds: 60 }] } as unknown as Partial<RolloutConfig>;
    const h = harness(world);
    world.hooks.on("pre", () => (world.clock.at(world.clock.now() + 5_000, h.abort), { exitCode: 0, timedOut: false, durationMs: 30_000, outputTail: "ok" }));
    const result = await runCutover(h.deps, request(rollout, { signal: h.controller.signal }));
    expectInterrupted(world, h, result, "preflight", "operator pressed Ctrl-C (hook pre (preflight) stopped after 5000 ms)");
    expect(world.eventsOf("preflight-check").some((c) => c.check === "hook:pre")).toBe(false);
    expect(world.eventsOf("hook-result")).toEqual([]);
    expect(world.snapshotter.calls).toHaveLength(0);

    world.hooks.on("pre", { exitCode: 0, timedOut: false, durationMs: 1000, outputTail: "ok" });
    await resumeToSuccess(world, {}, rollout);
    expect(world.hooks.runs.map((r) => r.command)).toEqual(["pre", "pre"]);
  });

  test("aborted before the run starts (e.g. at the confirmation prompt): no journal, lock given back, nothing moved", async () => {
    const world = new FakeWorld();
    const h = harness(world);
    const result = await runCutover(h.deps, request({}, { signal: h.controller.signal, confirm: async () => (h.abort(), true) }));
    expect(result.outcome).toBe("interrupted");
    expect(result.journal).toBeNull();
    expect(world.journal.stored).toBeNull();
    expect(h.writesAfterAbort).toEqual(["lock.release"]);
    expect(world.lock.holder).toBeNull();
    // A new cutover starts normally afterwards.
    expect((await runCutover(world.deps(), request())).outcome).toBe("succeeded");
  });

  test("a breach seen after the abort does not start a rollback either: the caller decides", async () => {
    const world = new FakeWorld();
    const h = harness(world);
    // Green's windows are above the 5xx ceiling (calls 1-2 are preflight's, 3-4 read blue before the first write); the
    // read in flight when the abort comes is the second such window: a breach.
    world.metrics.respond(({ call }) => {
      if (call === 6) h.abort();
      return call >= 5 ? replies.errors() : replies.ok();
    });
    const result = await runCutover(h.deps, request({}, { signal: h.controller.signal }));
    expectInterrupted(world, h, result, "baking");
    expect(world.eventsOf("judge-reading").map((r) => r.verdict.decision)).toEqual(["continue", "fail"]);
    expect(world.eventsOf("rollback-started")).toEqual([]);
    expect(world.router.current()).toEqual({ blue: 95, green: 5 });
  });

  test("rollback: an abort mid-verify stops it in rolling-back (resolves interrupted); `rollback` again completes it", async () => {
    const world = new FakeWorld({ initial: { blue: 75, green: 25 }, writeLagMs: 10_000 });
    const h = harness(world, {}, (event, abort) => {
      if (event.type === "weights-written") world.clock.at(world.clock.now() + 2_000, abort);
    });
    const first = await runRollback(h.deps, { owner: OWNER, databaseMode: "shared", signal: h.controller.signal });
    expect(first.outcome).toBe("interrupted");
    expect(stored(world).phase).toBe("rolling-back");
    expect(world.lock.holder).toBeNull();
    expect(h.writesAfterAbort.every((call) => ALLOWED_AFTER_ABORT.has(call))).toBe(true);
    expect(stored(world).timeline.at(-1)).toMatchObject({ type: "done", outcome: "interrupted" });

    const second = await runRollback(world.deps(), { owner: OWNER, databaseMode: "shared" });
    expect(second.outcome).toBe("rolled-back");
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
  });

  test("a long read-back with both the caller's signal and the deadline leaves no listener behind on either", async () => {
    const world = new FakeWorld({ initial: { blue: 75, green: 25 }, writeLagMs: 40_000 });
    const caller = new AbortController();
    const deadline = new AbortController();
    const result = await runRollback(world.deps({ rollbackDeadline: deadline.signal }), {
      owner: OWNER,
      databaseMode: "shared",
      signal: caller.signal,
      verifyIntervalMs: 1000,
    });
    expect(result.outcome).toBe("rolled-back");
    expect(world.eventsOf("weights-verified").at(-1)).toMatchObject({ ok: true, waitedMs: 40_000 }); // forty 1-second pauses
    expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
    expect(getEventListeners(deadline.signal, "abort")).toHaveLength(0);
  });
});
