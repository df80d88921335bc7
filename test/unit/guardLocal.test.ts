// The sandbox guard over the router's metrics, on the virtual clock: green's 5xx-rate alarm
// (evaluationPeriods windows in a row) rolls a paused rollout back with the project's rollback;
// low traffic and clean windows never breach; a finished rollout is not touched.

import { describe, expect, test } from "vitest";
import { runCutover, type EngineDeps } from "../../scripts/core/engine.js";
import { parseJournal } from "../../scripts/core/journal.js";
import { breaches, watchWithGuard } from "../../scripts/demo/guard.js";
import { FakeWorld, replies, testRollout } from "../support/fakes.js";

const steps = { type: "canary" as const, steps: [5, { percent: 25, pause: "promote" }, 100] };
const options = (deps: EngineDeps, signal?: AbortSignal) => ({
  deps,
  databaseMode: "shared" as const,
  stack: "demo",
  maxErrorRate: 0.01,
  minRequests: 50,
  evaluationPeriods: 3,
  windowMs: 2000,
  ...(signal ? { signal } : {}),
});

describe("the alarm rule", () => {
  test("green's 5xx (its own and the router's 502s) over requests above the threshold, with enough requests", () => {
    const rule = { maxErrorRate: 0.01, minRequests: 50 };
    expect(breaches({ requests: 1000, errors5xx: 11 }, rule)).toBe(true);
    expect(breaches({ requests: 1000, errors5xx: 10 }, rule)).toBe(false);
    expect(breaches({ requests: 1000, errors5xx: 5, elbErrors: 6 }, rule)).toBe(true);
    expect(breaches({ requests: 49, errors5xx: 49 }, rule)).toBe(false); // too little traffic: not breaching
    expect(breaches({ requests: 0, errors5xx: 0 }, rule)).toBe(false);
  });
});

describe("watchWithGuard", () => {
  test("a paused rollout, then a fault on green: rolled back after evaluationPeriods breaching windows, journaled as the guard's", async () => {
    const world = new FakeWorld();
    expect((await runCutover(world.deps(), { rollout: testRollout({ strategy: steps }), databaseMode: "shared", owner: "alice", stack: "demo" })).outcome).toBe(
      "paused",
    );
    const faultAt = world.clock.now() + 10_000;
    world.metrics.respond(({ window }) => (window.start >= faultAt ? replies.errors(0.2) : replies.ok()));
    const lines: string[] = [];
    const result = await watchWithGuard({ ...options(world.deps()), say: (line) => lines.push(line) });
    expect(result.outcome).toMatchObject({ acted: true, outcome: "rolled-back" });
    // Three windows in a row after the fault, no earlier.
    const breaching = result.windows.filter((w) => w.breaching);
    expect(breaching).toHaveLength(3);
    expect(breaching.every((w) => w.start >= faultAt)).toBe(true);
    expect(result.windows.filter((w) => !w.breaching).every((w) => w.start < faultAt)).toBe(true);
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    const journal = parseJournal(world.journal.value);
    expect(journal.phase).toBe("rolled-back");
    expect(journal.owner).toMatch(/^guard \(sandbox guard pid \d+\)$/);
    expect(journal.failure).toMatchObject({ phase: "paused", step: 1 });
    expect(journal.failure!.reason).toContain("guard: sandbox-green-target-5xx-rate in ALARM");
    expect(lines.at(-1)).toMatch(/^guard: rolled back \(rolled-back\)/);
  });

  test("a finished rollout is not touched: the guard says so and keeps watching until stopped", async () => {
    const world = new FakeWorld();
    expect((await runCutover(world.deps(), { rollout: testRollout(), databaseMode: "shared", owner: "alice", stack: "demo" })).outcome).toBe("succeeded");
    world.metrics.respond(() => replies.errors(0.5));
    const controller = new AbortController();
    const lines: string[] = [];
    const stopAfter = world.clock.now() + 20_000;
    const deps = world.deps();
    const clock = {
      now: () => world.clock.now(),
      sleep: async (ms: number) => {
        await world.clock.sleep(ms);
        if (world.clock.now() >= stopAfter) controller.abort();
      },
    };
    const result = await watchWithGuard({ ...options({ ...deps, clock }, controller.signal), say: (line) => lines.push(line) });
    expect(result.outcome).toBeNull();
    expect(lines.some((line) => /did nothing: run .* already ended \(succeeded\)/.test(line))).toBe(true);
    expect(world.router.current()).toEqual({ blue: 0, green: 100 });
  });
});
