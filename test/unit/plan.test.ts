import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { buildPlan, describePlan, formatDuration, PlanError, type Plan } from "../../scripts/core/plan.js";
import { testRollout } from "../support/fakes.js";
import type { RolloutConfig } from "../../infra/config.js";

const greens = (plan: Plan) => plan.steps.map((s) => s.weights.green);

describe("buildPlan", () => {
  test("canary 5 → 25 → 100 with 5-minute bakes and 5-minute monitoring", () => {
    const plan = buildPlan(testRollout(), { databaseMode: "shared" });
    expect(greens(plan)).toEqual([5, 25, 100]);
    expect(plan.steps.map((s) => s.weights.blue)).toEqual([95, 75, 0]);
    expect(plan.steps.map((s) => s.bakeMs)).toEqual([300_000, 300_000, 0]);
    expect(plan.steps.map((s) => s.pollsRequired)).toEqual([5, 5, 0]);
    expect(plan.steps.every((s) => s.kind === "shift")).toBe(true);
    expect(plan.monitorMs).toBe(300_000);
    expect(plan.monitorPollsRequired).toBe(5);
    expect(plan.pollMs).toBe(60_000);
    expect(plan.verifyTimeoutMs).toBe(60_000);
    expect(plan.fenced).toBe(false);
    expect(plan.rollbackWeights).toEqual({ blue: 100, green: 0 });
  });

  test("canary steps may carry their own bake, the final 100% step included", () => {
    const plan = buildPlan(testRollout({ strategy: { type: "canary", steps: [{ percent: 10, bakeSeconds: 120 }, 50, { percent: 100, bakeSeconds: 60 }] } }), {
      databaseMode: "shared",
    });
    expect(greens(plan)).toEqual([10, 50, 100]);
    expect(plan.steps.map((s) => s.bakeMs)).toEqual([120_000, 300_000, 60_000]);
  });

  test("linear: step percentages until 100, each baked for intervalSeconds", () => {
    const plan = buildPlan(testRollout({ strategy: { type: "linear", stepPercent: 30, intervalSeconds: 120 } }), { databaseMode: "shared" });
    expect(greens(plan)).toEqual([30, 60, 90, 100]);
    expect(plan.steps.map((s) => s.bakeMs)).toEqual([120_000, 120_000, 120_000, 0]);
    expect(plan.steps.map((s) => s.pollsRequired)).toEqual([2, 2, 2, 0]);
  });

  test("linear with a step that divides 100 does not repeat 100", () => {
    const plan = buildPlan(testRollout({ strategy: { type: "linear", stepPercent: 25, intervalSeconds: 60 } }), { databaseMode: "shared" });
    expect(greens(plan)).toEqual([25, 50, 75, 100]);
  });

  test("all-at-once: one step to 100, then monitoring", () => {
    const plan = buildPlan(testRollout({ strategy: { type: "all-at-once" } }), { databaseMode: "shared" });
    expect(greens(plan)).toEqual([100]);
    expect(plan.steps[0]!.bakeMs).toBe(0);
    expect(plan.monitorMs).toBe(300_000);
  });

  test("paired: a single fenced switch; canary and linear are refused", () => {
    const plan = buildPlan(testRollout({ strategy: { type: "all-at-once" } }), { databaseMode: "paired" });
    expect(plan.fenced).toBe(true);
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]).toMatchObject({ kind: "fenced-switch", weights: { blue: 0, green: 100 } });
    expect(() => buildPlan(testRollout(), { databaseMode: "paired" })).toThrow(PlanError);
    expect(() => buildPlan(testRollout({ strategy: { type: "linear", stepPercent: 10, intervalSeconds: 60 } }), { databaseMode: "paired" })).toThrow(
      /split brain|two databases/,
    );
  });

  test("polls never faster than the metrics resolution; a bake shorter than a poll is rounded up to one window", () => {
    const plan = buildPlan(testRollout({ pollIntervalSeconds: 10, bakeSeconds: 30, monitorSeconds: 30 }), { databaseMode: "shared", resolutionMs: 60_000 });
    expect(plan.pollMs).toBe(60_000);
    expect(plan.pollRaisedToResolution).toBe(true);
    expect(plan.steps[0]!.bakeMs).toBe(60_000);
    expect(plan.steps[0]!.pollsRequired).toBe(1);
    expect(plan.monitorMs).toBe(60_000);
  });

  test("bakeSeconds 0 and monitorSeconds 0 mean no polls", () => {
    const plan = buildPlan(testRollout({ bakeSeconds: 0, monitorSeconds: 0 }), { databaseMode: "shared" });
    expect(plan.steps.map((s) => s.pollsRequired)).toEqual([0, 0, 0]);
    expect(plan.monitorPollsRequired).toBe(0);
  });

  test("steps already reached are left out; the 100% step is always kept", () => {
    expect(greens(buildPlan(testRollout(), { databaseMode: "shared", startWeights: { blue: 75, green: 25 } }))).toEqual([100]);
    expect(greens(buildPlan(testRollout(), { databaseMode: "shared", startWeights: { blue: 90, green: 10 } }))).toEqual([25, 100]);
    expect(greens(buildPlan(testRollout(), { databaseMode: "shared", startWeights: { blue: 0, green: 100 } }))).toEqual([100]);
    expect(buildPlan(testRollout(), { databaseMode: "shared", startWeights: { blue: 90, green: 10 } }).steps.map((s) => s.index)).toEqual([0, 1]);
  });

  test("invalid start weights are refused", () => {
    expect(() => buildPlan(testRollout(), { databaseMode: "shared", startWeights: { blue: 50, green: 60 } })).toThrow(PlanError);
  });

  const rolloutArb: fc.Arbitrary<RolloutConfig> = fc
    .record({
      strategy: fc.oneof(
        fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 6 }).map((xs) => ({ type: "canary" as const, steps: [...xs.sort((a, b) => a - b), 100] })),
        fc.record({ type: fc.constant("linear" as const), stepPercent: fc.integer({ min: 1, max: 100 }), intervalSeconds: fc.integer({ min: 1, max: 3600 }) }),
        fc.constant({ type: "all-at-once" as const }),
      ),
      bakeSeconds: fc.integer({ min: 0, max: 3600 }),
      pollIntervalSeconds: fc.integer({ min: 1, max: 600 }),
      monitorSeconds: fc.integer({ min: 0, max: 3600 }),
    })
    .map((parts) => testRollout(parts as Partial<RolloutConfig>));

  test("property: weights valid, green strictly increasing, ends at 100; polls respect resolution; bakes are polled", () => {
    fc.assert(
      fc.property(rolloutArb, fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 120_000 }), (rollout, startGreen, resolutionMs) => {
        const plan = buildPlan(rollout, { databaseMode: "shared", startWeights: { blue: 100 - startGreen, green: startGreen }, resolutionMs });
        const g = greens(plan);
        expect(g.at(-1)).toBe(100);
        for (let i = 1; i < g.length; i++) expect(g[i]!).toBeGreaterThan(g[i - 1]!);
        for (const step of plan.steps) {
          expect(step.weights.blue + step.weights.green).toBe(100);
          expect(Number.isInteger(step.weights.green)).toBe(true);
          if (step.weights.green < 100) expect(step.weights.green).toBeGreaterThan(startGreen);
          if (step.bakeMs > 0) {
            expect(step.bakeMs).toBeGreaterThanOrEqual(plan.pollMs);
            expect(step.pollsRequired).toBeGreaterThanOrEqual(1);
            expect(step.pollsRequired * plan.pollMs).toBeGreaterThanOrEqual(step.bakeMs);
          }
        }
        expect(plan.pollMs).toBeGreaterThanOrEqual(resolutionMs);
        expect(plan.pollMs).toBeGreaterThanOrEqual(rollout.pollIntervalSeconds * 1000);
        expect(plan.steps.map((s) => s.index)).toEqual(plan.steps.map((_, i) => i));
        if (rollout.strategy.type === "linear") {
          const expected = Math.ceil(100 / rollout.strategy.stepPercent);
          expect(buildPlan(rollout, { databaseMode: "shared" }).steps).toHaveLength(expected);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("describePlan", () => {
  test("names the steps, bakes, gates, API calls and the rollback path", () => {
    const rollout = testRollout({ hooks: [{ name: "smoke-booking", command: "./smoke.sh", timeoutSeconds: 60, when: "after-step" }] });
    const plan = buildPlan(rollout, { databaseMode: "shared" });
    const text = describePlan(plan, ["ModifyListener arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/x/1/2"], { stickinessSeconds: 3600 }).join("\n");
    expect(text).toContain("canary, shared database, 3 steps");
    expect(text).toContain("1. blue 95 / green 5");
    expect(text).toContain("2. blue 75 / green 25");
    expect(text).toContain("3. blue 0 / green 100");
    expect(text).toContain(
      "bake 5m after 0s of warm-up: 5 window(s) of 1m judged as one body of evidence (a regression fails it sooner; undecided: up to 10 more)",
    );
    expect(text).toContain("Monitoring: 5m at 100% green after 0s of warm-up (5 window(s)), against blue's level");
    expect(text).toContain(
      "rolls back when green's 5xx rate is shown ≥ blue's × 2 (or + 0.5%), or its share of requests slower than blue's p95 before the first shift ≥ blue's × 1.5 (or + 2%)",
    );
    expect(text).toContain("at most 1% chance of rolling back a release as good as blue");
    expect(text).toContain('else up to 10 more window(s), after which ruling out ×5 is enough; else fails ("not enough traffic to decide")');
    expect(text).toContain("green 5xx rate above 10% in two windows in a row (at least 10 errors between them) fails at once");
    expect(text).toContain("3 metric-provider error(s) in a row fail");
    expect(text).toContain("ModifyListener arn:aws:elasticloadbalancing");
    expect(text).toContain("Rollback path");
    expect(text).toContain("smoke-booking");
    expect(text).toContain("snapshot of blue's database");
    expect(text).toContain("stickiness may keep clients on green for up to 1h");
  });

  test("the warm-up before each step's first window: the config's, else 2m shared and 3m paired", () => {
    const defaults = testRollout();
    const unset = { ...defaults, gates: { ...defaults.gates, warmupSeconds: undefined } } as RolloutConfig;
    const shared = describePlan(buildPlan(unset, { databaseMode: "shared" }), []).join("\n");
    expect(shared).toContain("1. blue 95 / green 5: write, read back until equal (≤ 1m)\n     bake 5m after 2m of warm-up: 5 window(s) of 1m");
    expect(shared).toContain("Monitoring: 5m at 100% green after 2m of warm-up (5 window(s))");
    expect(shared).toContain("Judge: windows of 1m from each step's verified weights plus 2m of warm-up on");
    const paired = describePlan(buildPlan({ ...unset, strategy: { type: "all-at-once" } }, { databaseMode: "paired" }), []).join("\n");
    expect(paired).toContain("Monitoring: 5m at 100% green after 3m of warm-up");
    const set = describePlan(buildPlan(testRollout({ gates: { ...defaults.gates, warmupSeconds: 90 } }), { databaseMode: "shared" }), []).join("\n");
    expect(set).toContain("bake 5m after 1m 30s of warm-up");
  });

  test("paired plan describes the fenced switch; a skipped snapshot is visible", () => {
    const plan = buildPlan(testRollout({ strategy: { type: "all-at-once" } }), { databaseMode: "paired" });
    const text = describePlan(plan, [], { snapshotSkipped: "restored from last night" }).join("\n");
    expect(text).toContain("fenced switch");
    expect(text).toContain("fence writes (503)");
    expect(text).toContain("copy sequences");
    expect(text).toContain("SKIPPED at the operator's request: restored from last night");
    expect(text).toContain("parity result no older than 1h");
  });

  test("formatDuration", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(250)).toBe("250ms");
    expect(formatDuration(90_000)).toBe("1m 30s");
    expect(formatDuration(3_600_000)).toBe("1h");
  });
});
