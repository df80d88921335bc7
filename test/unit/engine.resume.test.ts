// Crash and resume at EVERY transition: the engine is killed (every port dies, like kill -9)
// right after the k-th journal save, and before/after the k-th side-effecting port call, for
// every k; then `cutover --resume` runs with fresh deps over the same world (live weights, lock,
// stored journal, fence, replication survive). It must finish without skipping a step or a gate.

import { describe, expect, test } from "vitest";
import { EngineInputError, runCutover, runRollback, type CutoverRequest } from "../../scripts/core/engine.js";
import type { JournalEvent } from "../../scripts/core/events.js";
import { outcomeOf, parseJournal, type Journal } from "../../scripts/core/journal.js";
import { isTerminal } from "../../scripts/core/phases.js";
import { LockHeldError } from "../../scripts/core/ports.js";
import { crashingDeps, FakeWorld, replies, splitReply, testRollout, type CrashPlan } from "../support/fakes.js";

interface Scenario {
  name: string;
  request: CutoverRequest;
  arrange: (world: FakeWorld) => void;
  expected: "succeeded" | "rolled-back";
}

const hooks = [
  { name: "pre", command: "./pre.sh", timeoutSeconds: 30, when: "preflight" as const },
  { name: "smoke", command: "./smoke.sh", timeoutSeconds: 30, when: "after-step" as const },
  { name: "final", command: "./final.sh", timeoutSeconds: 30, when: "post-switch" as const },
];

const scenarios: Scenario[] = [
  {
    name: "canary 5 → 25 → 100 with hooks (success)",
    request: {
      rollout: testRollout({ bakeSeconds: 120, monitorSeconds: 120, hooks }),
      databaseMode: "shared",
      owner: "first pid 1",
    },
    arrange: () => undefined,
    expected: "succeeded",
  },
  {
    name: "canary with a breach at step 2 (automatic rollback)",
    request: { rollout: testRollout({ bakeSeconds: 120, monitorSeconds: 120 }), databaseMode: "shared", owner: "first pid 1" },
    arrange: (world) => world.metrics.respond(() => (world.router.current().green === 25 ? replies.errors() : replies.ok())),
    expected: "rolled-back",
  },
  {
    name: "paired fenced switch (success)",
    request: { rollout: testRollout({ strategy: { type: "all-at-once" }, monitorSeconds: 120, hooks }), databaseMode: "paired", owner: "first pid 1" },
    arrange: () => undefined,
    expected: "succeeded",
  },
  {
    name: "paired switch with a breach while monitoring (fenced rollback)",
    request: { rollout: testRollout({ strategy: { type: "all-at-once" }, monitorSeconds: 180 }), databaseMode: "paired", owner: "first pid 1" },
    arrange: (world) => {
      // Green starts failing two minutes after the flip.
      let flippedAt = Number.POSITIVE_INFINITY;
      world.router.onWrite = (w) => {
        if (w.green === 100) flippedAt = world.clock.now();
      };
      world.metrics.respond(({ window }) => (world.router.current().green === 100 && window.end - flippedAt >= 120_000 ? replies.errors() : replies.ok()));
    },
    expected: "rolled-back",
  },
];

function newWorld(scenario: Scenario): FakeWorld {
  const world = new FakeWorld({ writeLagMs: 1500 });
  scenario.arrange(world);
  return world;
}

function stored(world: FakeWorld): Journal | null {
  return world.journal.stored === null ? null : parseJournal(world.journal.value);
}

/** Compress consecutive repeats: a re-written step counts once. */
function runs<T>(values: T[]): T[] {
  return values.filter((value, i) => i === 0 || JSON.stringify(value) !== JSON.stringify(values[i - 1]));
}

type JudgeReading = Extract<JournalEvent, { type: "judge-reading" }>;

/**
 * Every bake (and the monitoring window) that completed was promoted by the judge after at least
 * its required windows; across crashes and resumes each window was judged once, none skipped.
 */
function assertBakesPolled(journal: Journal): void {
  const plan = journal.plan!;
  const timeline = journal.timeline;
  const ends: { end: number; phase: "baking" | "monitoring"; step: number | null; required: number }[] = [];
  timeline.forEach((e, i) => {
    if (e.type !== "phase-changed") return;
    if (e.from === "baking" && e.to === "hooks") ends.push({ end: i, phase: "baking", step: e.step, required: plan.steps[e.step!]!.pollsRequired });
    if (e.from === "monitoring" && e.to === "succeeded") ends.push({ end: i, phase: "monitoring", step: null, required: plan.monitorPollsRequired });
  });
  for (const { end, phase, step, required } of ends) {
    let start = -1;
    for (let i = end - 1; i >= 0; i--) {
      const e = timeline[i]!;
      if ((e.type === "phase-changed" && e.to === phase) || (e.type === "decision" && e.decision === "resume")) {
        start = i;
        break;
      }
    }
    expect(start, `start of ${phase} ${step}`).toBeGreaterThanOrEqual(0);
    const readings = timeline.slice(0, end).filter((e): e is JudgeReading => e.type === "judge-reading" && e.phase === phase && e.step === step);
    if (required === 0) {
      expect(readings, `${phase} step ${step} has no bake`).toEqual([]);
      continue;
    }
    const last = readings.at(-1)!;
    expect(last.verdict.decision, `${phase} step ${step} promoted`).toBe("promote");
    expect(last.verdict.windowsJudged, `${phase} step ${step} windows judged`).toBeGreaterThanOrEqual(required);
    // The judged windows, read once each (a window read again after a crash is the same window), back to back.
    const starts = [...new Set(readings.map((r) => r.window.start))];
    expect(starts, `${phase} step ${step} windows in order`).toEqual(starts.slice().sort((a, b) => a - b));
    expect(starts.length, `${phase} step ${step} distinct windows`).toBe(last.verdict.windowsJudged);
    const length = last.window.end - last.window.start;
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!, `${phase} step ${step} no window skipped`).toBe(length);
  }
}

function assertFinal(world: FakeWorld, scenario: Scenario, journal: Journal): void {
  expect(journal.phase).toBe(scenario.expected);
  expect(outcomeOf(journal)).toBe(scenario.expected);
  const plan = journal.plan!;
  const verified = journal.timeline.filter((e) => e.type === "weights-verified" && e.ok && e.step !== null).map((e) => (e as { step: number }).step);
  const reached = runs(verified);
  if (scenario.expected === "succeeded") {
    // No step skipped, in order; every bake polled; live traffic on green.
    expect(reached).toEqual(plan.steps.map((s) => s.index));
    expect(world.router.current()).toEqual({ blue: 0, green: 100 });
    // (A leading write of green 0 is the `rollback --force` that cleared a dead run's lock.)
    const greens = runs(world.router.writes.map((w) => w.weights.green));
    expect(greens[0] === 0 ? greens.slice(1) : greens).toEqual(plan.steps.map((s) => s.weights.green));
    // Every step's after-step hooks ran after its bake.
    for (const step of plan.steps) {
      if (plan.hooks.some((h) => h.when === "after-step")) {
        expect(journal.timeline.some((e) => e.type === "hook-result" && e.when === "after-step" && e.step === step.index && e.ok)).toBe(true);
      }
    }
  } else {
    expect(reached).toEqual(reached.slice().sort());
    expect(reached.every((step, i) => step === i)).toBe(true);
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    expect(journal.rollback?.timeToRollbackMs).not.toBeNull();
    expect(journal.failure?.reason).toMatch(/^regression (at step 2|during monitoring): .* over two windows in a row is above the ceiling 10%/);
  }
  assertBakesPolled(journal);
  if (scenario.request.databaseMode === "paired") {
    expect(world.fence.mode).toBe("off");
    expect(journal.fence.onAt).toBeNull();
    if (scenario.expected === "succeeded") expect(world.replication.running["green-to-blue"]).toBe(true);
    // Traffic never reached green without the catch-up and exact parity under the fence.
    const order = journal.timeline.map((e) => (e.type === "phase-changed" ? e.to : "")).filter(Boolean);
    expect(order.indexOf("parity")).toBeLessThan(order.indexOf("writing"));
  }
  expect(world.lock.holder).toBeNull();
}

/** After the crash: what an operator would do next, and the end state it reaches. */
async function recover(world: FakeWorld, scenario: Scenario): Promise<void> {
  const journal = stored(world);
  const resume = { ...scenario.request, resume: true, owner: "second pid 2" };
  if (journal === null) {
    // Died before the first save: nothing moved, nothing to resume.
    expect(world.router.writes).toHaveLength(0);
    await expect(runCutover(world.deps(), resume)).rejects.toThrow(EngineInputError);
    if (world.lock.holder !== null) {
      // Its lock is left behind: a new cutover refuses naming it; `rollback --force` clears it.
      await expect(runCutover(world.deps(), { ...scenario.request, owner: "second pid 2" })).rejects.toThrow(LockHeldError);
      const rollback = await runRollback(world.deps(), { owner: "second pid 2", databaseMode: scenario.request.databaseMode, force: true });
      expect(rollback.outcome).toBe("rolled-back");
    }
    const fresh = await runCutover(world.deps(), { ...scenario.request, owner: "second pid 2", runId: "fresh" });
    expect(fresh.outcome).toBe(scenario.expected);
    assertFinal(world, scenario, stored(world)!);
    return;
  }
  if (isTerminal(journal.phase)) {
    // Died after the final save: the outcome is recorded; resume has nothing to do.
    expect(journal.phase).toBe(scenario.expected);
    await expect(runCutover(world.deps(), resume)).rejects.toThrow(/already ended/);
    if (world.lock.holder !== null) {
      // The dead run's lock is stale (its journal ended): the next operation removes it by itself.
      const rollback = await runRollback(world.deps(), { owner: "third pid 3", databaseMode: scenario.request.databaseMode });
      expect(rollback.outcome).toBe("rolled-back");
      expect(world.lock.holder).toBeNull();
    }
    return;
  }
  const result = await runCutover(world.deps(), resume);
  expect(result.outcome).toBe(scenario.expected);
  const final = stored(world)!;
  expect(final.resumes).toBe(1);
  expect(final.timeline.some((e) => e.type === "lock" && e.action === "taken-over")).toBe(true);
  assertFinal(world, scenario, final);
}

for (const scenario of scenarios) {
  describe(`crash and resume: ${scenario.name}`, () => {
    // A clean run gives the number of saves and side effects to crash at.
    const baseline = (() => {
      const world = newWorld(scenario);
      const harness = crashingDeps(world, {});
      return { world, harness, promise: runCutover(harness.deps, scenario.request) };
    })();

    test("clean run", async () => {
      const result = await baseline.promise;
      expect(result.outcome).toBe(scenario.expected);
      assertFinal(baseline.world, scenario, stored(baseline.world)!);
      expect(baseline.harness.saves()).toBeGreaterThan(10);
    });

    test("crash right after every journal save, then resume", async () => {
      await baseline.promise;
      const total = baseline.harness.saves();
      const resumedFrom = new Set<string>();
      for (let k = 1; k <= total; k++) {
        const world = newWorld(scenario);
        const crash: CrashPlan = { afterSave: k };
        const harness = crashingDeps(world, crash);
        await runCutover(harness.deps, scenario.request).catch(() => undefined);
        expect(harness.crashed(), `crash after save ${k}`).toBe(true);
        expect(world.journal.saves).toBe(k);
        resumedFrom.add(stored(world)!.phase);
        await recover(world, scenario);
      }
      // Every phase the run passes through was a crash point.
      const phases = new Set(baseline.world.journal.history.map((text) => (JSON.parse(text) as Journal).phase));
      expect([...resumedFrom].sort()).toEqual([...phases].sort());
      const expected = ["idle", "preflight", "writing", "verifying", "recording", "baking", "hooks", scenario.expected];
      if (scenario.expected === "succeeded") expected.push("post-switch", "monitoring");
      else expected.push("rolling-back");
      if (scenario.request.databaseMode === "paired") expected.push("fencing", "catching-up", "parity", "sequences", "reverse-replication", "unfencing");
      for (const phase of expected) expect(resumedFrom.has(phase), phase).toBe(true);
    });

    test("crash before and after every side-effecting call, then resume", async () => {
      await baseline.promise;
      const total = baseline.harness.sideEffects();
      for (let k = 1; k <= total; k++) {
        for (const when of ["before", "after"] as const) {
          const world = newWorld(scenario);
          const harness = crashingDeps(world, { atCall: { k, when } });
          await runCutover(harness.deps, scenario.request).catch(() => undefined);
          expect(harness.crashed(), `crash ${when} call ${k}`).toBe(true);
          await recover(world, scenario);
        }
      }
    });
  });
}

describe("resume semantics", () => {
  test("a crash mid-bake goes on from the next window with the judge's evidence; the minutes the process was dead are read from the source", async () => {
    const scenario = scenarios[0]!;
    const world = newWorld(scenario);
    const request: CutoverRequest = { ...scenario.request, rollout: testRollout({ bakeSeconds: 300, monitorSeconds: 60 }) };
    // Find the save that holds step 1's third judged window.
    const probe = newWorld(scenario);
    await runCutover(probe.deps(), request);
    const index = probe.journal.history.findIndex((text) => {
      const j = JSON.parse(text) as Journal;
      return j.phase === "baking" && j.step === 0 && j.judge?.windowsJudged === 3;
    });
    expect(index).toBeGreaterThan(0);
    const harness = crashingDeps(world, { afterSave: index + 1 });
    await runCutover(harness.deps, request).catch(() => undefined);
    expect(stored(world)!.judge?.windowsJudged).toBe(3);
    const before = stored(world)!.timeline.filter((e): e is JudgeReading => e.type === "judge-reading" && e.step === 0);
    world.clock.advance(17 * 60_000); // the operator notices later
    const calls = world.metrics.calls.length;
    const result = await runCutover(world.deps(), { ...request, resume: true, owner: "second" });
    expect(result.outcome).toBe("succeeded");
    const final = stored(world)!;
    const resumeAt = final.timeline.findIndex((e) => e.type === "decision" && e.decision === "resume");
    expect((final.timeline[resumeAt] as { reason: string }).reason).toContain(
      "going on with the bake from its next window, with the judge's evidence so far (3 window(s))",
    );
    const after = final.timeline.slice(resumeAt).filter((e): e is JudgeReading => e.type === "judge-reading" && e.step === 0);
    // The fourth window is the one after the third, though it ended while the process was dead.
    expect(after[0]!.verdict.windowsJudged).toBe(4);
    expect(after[0]!.window.start).toBe(before.at(-1)!.window.end);
    expect(after.at(-1)!.verdict.decision).toBe("promote");
    // Only the windows not yet judged are read again: blue's history is not read twice.
    const judgedAfter = final.timeline.slice(resumeAt).filter((e) => e.type === "judge-reading").length;
    expect(world.metrics.calls.length - calls).toBe(judgedAfter);
  });

  test("extensions already used survive a crash (a crash never buys more chances)", async () => {
    const scenario = scenarios[0]!;
    const world = newWorld(scenario);
    // Step 1 never gets enough green traffic to decide: 3 green requests a window.
    world.metrics.respond(({ window }) =>
      world.router.weightsAt(window.start).green === 5 ? replies.quiet() : splitReply(world.router.weightsAt(window.start)),
    );
    // Crash right after the save that recorded the third extension.
    const dying = world.deps({
      journal: {
        load: () => world.journal.load(),
        save: async (j) => {
          await world.journal.save(j);
          if ((j as Journal).bake?.extensionsUsed === 3) throw new Error("kill -9");
        },
      },
    });
    await runCutover(dying, scenario.request).catch(() => undefined);
    expect(stored(world)!.bake?.extensionsUsed).toBe(3);
    // When the journal cannot be written the engine rolls traffic back (best effort), so the
    // journal's "baking at 5%" no longer matches live traffic: resume refuses rather than bake the wrong split.
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    await expect(runCutover(world.deps(), { ...scenario.request, resume: true, owner: "second" })).rejects.toThrow(
      /live weights .* are not blue 95 \/ green 5/,
    );
    world.router.set({ blue: 95, green: 5 }); // as after a real kill -9: no best-effort rollback happened
    const result = await runCutover(world.deps(), { ...scenario.request, resume: true, owner: "second" });
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toMatch(/^step 1 undecided: step-1 UNDECIDED 12\/12 window\(s\), extension 10\/10: /);
    // Only the seven extensions left were taken after the resume, not ten more.
    const final = stored(world)!;
    const resumeAt = final.timeline.findIndex((e) => e.type === "decision" && e.decision === "resume");
    const after = final.timeline.slice(resumeAt).filter((e): e is JudgeReading => e.type === "judge-reading" && e.step === 0);
    expect(after.map((r) => r.verdict.extensionsUsed)).toEqual([4, 5, 6, 7, 8, 9, 10, 10]);
  });

  test("resume follows the plan recorded in the journal, not a changed config", async () => {
    const scenario = scenarios[0]!;
    const world = newWorld(scenario);
    const harness = crashingDeps(world, { afterSave: 12 });
    await runCutover(harness.deps, scenario.request).catch(() => undefined);
    const result = await runCutover(world.deps(), {
      ...scenario.request,
      rollout: testRollout({ strategy: { type: "all-at-once" } }),
      resume: true,
      owner: "second",
    });
    expect(result.outcome).toBe("succeeded");
    expect(runs(world.router.writes.map((w) => w.weights.green))).toEqual([5, 25, 100]);
  });

  test("a crash right after the write, in verifying, writes the weights again and verifies them", async () => {
    const scenario = scenarios[0]!;
    const world = newWorld(scenario);
    const probe = newWorld(scenario);
    await runCutover(probe.deps(), scenario.request);
    const index = probe.journal.history.findIndex((text) => (JSON.parse(text) as Journal).phase === "verifying");
    const harness = crashingDeps(world, { afterSave: index + 1 });
    await runCutover(harness.deps, scenario.request).catch(() => undefined);
    expect(stored(world)!.phase).toBe("verifying");
    const writes = world.router.writes.length;
    const result = await runCutover(world.deps(), { ...scenario.request, resume: true, owner: "second" });
    expect(result.outcome).toBe("succeeded");
    expect(world.router.writes[writes]!.weights).toEqual({ blue: 95, green: 5 });
  });

  test("resume refuses when another live operation holds the lock", async () => {
    const scenario = scenarios[0]!;
    const world = newWorld(scenario);
    const harness = crashingDeps(world, { afterSave: 12 });
    await runCutover(harness.deps, scenario.request).catch(() => undefined);
    world.lock.holder = { owner: "carol pid 9", since: 0, operation: "rollback", runId: "carol-run" };
    await expect(runCutover(world.deps(), { ...scenario.request, resume: true, owner: "second" })).rejects.toThrow(/carol pid 9/);
  });
});
