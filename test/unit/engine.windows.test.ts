// The bake judges the right traffic: over a metrics source that behaves like ALB metrics
// in CloudWatch (one-minute buckets published two minutes after they end, binomial noise, background
// errors on both colors), no window that starts before its step was verified is ever counted, for
// every strategy; nothing is asked for before it is published; a green that
// fails only at 20% is caught at its 25% step even with one poll per step.

import { describe, expect, test } from "vitest";
import type { RolloutConfig } from "../../infra/config.js";
import { runCutover, type CutoverRequest } from "../../scripts/core/engine.js";
import type { EngineEvent } from "../../scripts/core/events.js";
import type { Weights } from "../../scripts/core/ports.js";
import { crashingDeps, FakeWorld, PublishedMetrics, testRollout, type TrafficModel } from "../support/fakes.js";

const OWNER = "alice@ops-1 pid 4242";
function rollout(overrides: Partial<RolloutConfig> = {}): RolloutConfig {
  const base = testRollout(overrides);
  return { ...base, gates: { ...base.gates, ...(overrides.gates ?? {}) } } as RolloutConfig;
}

function request(rolloutConfig: RolloutConfig): CutoverRequest {
  return { rollout: rolloutConfig, databaseMode: "shared", owner: OWNER, stack: "prod", skipSnapshot: "unit test" };
}

/** Both colors fail a background share; `green` adds to green's rate as a function of its weight. */
function model(requestsPerMinute: number, background: number, green: (weights: Weights) => number = () => 0): TrafficModel {
  return {
    requestsPerMinute,
    errorRate: (color, _t, weights) => background + (color === "green" ? green(weights) : 0),
  };
}

function world(trafficModel: TrafficModel, options: { writeLagMs?: number; seed?: number } = {}) {
  // Writes take 7 s to read back, so verified times never fall on a minute boundary.
  const w = new FakeWorld({ writeLagMs: options.writeLagMs ?? 7_000 });
  const metrics = new PublishedMetrics(w.clock, w.router, trafficModel, { seed: options.seed ?? 7 });
  return { w, metrics };
}

/** For each judged window: the time its phase's weights were verified (the last ok verification before the reading). */
function readingsWithVerifiedAt(events: EngineEvent[]) {
  let verifiedAt: number | null = null;
  let phaseStart: number | null = null;
  const out: { window: { start: number; end: number }; verifiedAt: number; phaseStart: number; step: number | null; phase: string }[] = [];
  for (const event of events) {
    if (event.type === "weights-verified" && event.ok) verifiedAt = event.at;
    if (event.type === "phase-changed" && (event.to === "baking" || event.to === "monitoring")) phaseStart = event.at;
    if (event.type === "judge-reading") {
      out.push({ window: event.window, verifiedAt: verifiedAt!, phaseStart: phaseStart!, step: event.step, phase: event.phase });
    }
  }
  return out;
}

const STRATEGIES: Array<{ name: string; overrides: Partial<RolloutConfig> }> = [
  { name: "canary 5 → 25 → 100", overrides: {} },
  { name: "linear 25% every 60 s", overrides: { strategy: { type: "linear", stepPercent: 25, intervalSeconds: 60 } } },
  { name: "canary with bakeSeconds == pollIntervalSeconds", overrides: { bakeSeconds: 60, pollIntervalSeconds: 60, monitorSeconds: 60 } },
  { name: "all-at-once", overrides: { strategy: { type: "all-at-once" } } },
];

describe("windows that belong to the step", () => {
  test.each(STRATEGIES)(
    "$name: no window from before its step, nothing read before it was published, every baked step judged at its weight",
    async ({ overrides }) => {
      const { w, metrics } = world(model(60_000, 0.001));
      const result = await runCutover(w.deps({ metrics }), request(rollout(overrides)));
      expect(result.outcome, result.reason ?? "").toBe("succeeded");

      const readings = readingsWithVerifiedAt(w.events);
      expect(readings.length).toBeGreaterThan(0);
      for (const reading of readings) {
        expect(reading.window.start).toBeGreaterThanOrEqual(reading.verifiedAt);
        expect(reading.window.start).toBeGreaterThanOrEqual(reading.phaseStart);
        expect(reading.window.start % 60_000).toBe(0);
        expect(reading.window.end - reading.window.start).toBe(result.plan.pollMs);
      }
      // CloudWatch is never asked for a minute it has not published completely, nor for blue's
      // history (read once, over the hour before the first write).
      expect(metrics.earlyCalls()).toEqual([]);
      expect(metrics.seriesCalls).toHaveLength(1);
      expect(metrics.seriesCalls[0]!.span.end).toBeLessThanOrEqual(w.router.writes[0]!.at);
      // Every step with a bake has at least one judged window at its own weight, and so does monitoring.
      for (const step of result.plan.steps.filter((s) => s.bakeMs > 0)) {
        expect(readings.some((r) => r.phase === "baking" && r.step === step.index)).toBe(true);
      }
      expect(readings.some((r) => r.phase === "monitoring")).toBe(result.plan.monitorMs > 0);
      // Each window is judged once per phase.
      const keys = readings.map((r) => `${r.phase}:${r.step}:${r.window.start}`);
      expect(new Set(keys).size).toBe(keys.length);
    },
  );

  test("one poll per step, green failing only from 20%: the 25% step rolls back, green never reaches 100%", async () => {
    const { w, metrics } = world(model(4_000, 0, (weights) => (weights.green >= 20 ? 0.05 : 0)));
    const result = await runCutover(w.deps({ metrics }), request(rollout({ bakeSeconds: 60, pollIntervalSeconds: 60, monitorSeconds: 60 })));
    expect(result.outcome).toBe("rolled-back");
    expect(result.journal!.failure!.step).toBe(1);
    expect(w.router.writes.map((write) => write.weights.green)).toEqual([5, 25, 0]);
    expect(w.router.current()).toEqual({ blue: 100, green: 0 });
  });
});

describe("the observed split and the load balancer's own errors", () => {
  test("weights that read back but are not in effect fail the step after three inconsistent windows", async () => {
    const w = new FakeWorld({ writeLagMs: 7_000 });
    // The traffic ignores the weights: green never gets a request.
    const metrics = new PublishedMetrics(w.clock, { weightsAt: () => ({ blue: 100, green: 0 }) }, model(60_000, 0.001));
    const result = await runCutover(w.deps({ metrics }), request(rollout()));
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toMatch(/^weights not in effect at step 1: 3 windows in a row: green served 0% of \d+ request\(s\)/);
    expect(w.eventsOf("judge-reading")).toHaveLength(0);
  });

  test("load-balancer 5xx that start with green's traffic count against green; a steady background of them does not", async () => {
    const unattributed = (w: FakeWorld, rate: (green: number) => number): TrafficModel => ({
      ...model(60_000, 0.001),
      unattributedElbRate: (t) => rate(w.router.weightsAt(t).green),
    });
    const bad = new FakeWorld({ writeLagMs: 7_000 });
    const badMetrics = new PublishedMetrics(
      bad.clock,
      bad.router,
      unattributed(bad, (green) => (green > 0 ? 0.01 : 0)),
    );
    const failed = await runCutover(bad.deps({ metrics: badMetrics }), request(rollout()));
    expect(failed.outcome).toBe("rolled-back");
    expect(failed.reason).toMatch(/^regression at step 1/);
    expect(bad.eventsOf("judge-reading").some((r) => r.attributedElbErrors > 0)).toBe(true);

    const steady = new FakeWorld({ writeLagMs: 7_000 });
    const steadyMetrics = new PublishedMetrics(
      steady.clock,
      steady.router,
      unattributed(steady, () => 0.002),
    );
    const passed = await runCutover(steady.deps({ metrics: steadyMetrics }), request(rollout()));
    expect(passed.outcome, passed.reason ?? "").toBe("succeeded");
  });

  test("every decision carries the judge's evidence: counts, statistic, boundary", async () => {
    const { w, metrics } = world(model(60_000, 0.001));
    const result = await runCutover(w.deps({ metrics }), request(rollout()));
    expect(result.outcome).toBe("succeeded");
    const proceeds = w.eventsOf("decision").filter((d) => d.decision === "proceed" && (d.phase === "baking" || d.phase === "monitoring"));
    expect(proceeds).toHaveLength(3);
    for (const decision of proceeds) {
      expect(decision.evidence).toBeDefined();
      const errors = decision.evidence!.evidence.errors;
      expect(errors.greenRequests).toBeGreaterThan(0);
      expect(errors.boundary).toBeGreaterThan(1);
      expect(decision.reason.length).toBeGreaterThan(20);
    }
    // The slow bound was read once, before the first weight moved, from blue's p95.
    expect(result.journal!.evidence!.slowThresholdMs).toBe(120);
  });

  test("a metrics error asks for the same window again; the window still counts once", async () => {
    const { w, metrics } = world(model(60_000, 0.001));
    let calls = 0;
    const flaky = {
      resolutionMs: metrics.resolutionMs,
      publicationDelayMs: metrics.publicationDelayMs,
      sample: (...args: Parameters<PublishedMetrics["sample"]>) => {
        calls += 1;
        if (calls === 4) return Promise.reject(new Error("GetMetricData: Rate exceeded"));
        return metrics.sample(...args);
      },
    };
    const result = await runCutover(w.deps({ metrics: flaky }), request(rollout()));
    expect(result.outcome).toBe("succeeded");
    expect(w.eventsOf("metric-error")).toHaveLength(1);
    const starts = w.eventsOf("judge-reading").map((r) => `${r.phase}:${r.step}:${r.window.start}`);
    expect(new Set(starts).size).toBe(starts.length);
  });

  test("a crash mid-bake: the resumed bake goes on from the next window with the evidence carried over", async () => {
    // A dry run finds the journal save that follows step 1's second judged window (everything is deterministic).
    const dry = world(model(60_000, 0.001));
    let saveAfterSecond = 0;
    await runCutover(
      dry.w.deps({
        metrics: dry.metrics,
        events: (event) => {
          dry.w.events.push(event);
          if (event.type === "judge-reading" && event.step === 0 && event.verdict.windowsJudged === 2) saveAfterSecond = dry.w.journal.saves + 1;
        },
      }),
      request(rollout()),
    );
    expect(saveAfterSecond).toBeGreaterThan(0);

    const { w, metrics } = world(model(60_000, 0.001));
    const harness = crashingDeps(w, { afterSave: saveAfterSecond }, { metrics });
    await expect(runCutover(harness.deps, request(rollout()))).rejects.toThrow(/simulated crash/);
    expect(harness.crashed()).toBe(true);
    expect(w.journal.value.phase).toBe("baking");
    expect(w.journal.value.judge.windowsJudged).toBe(2);
    const judgedBefore = w
      .eventsOf("judge-reading")
      .filter((r) => r.step === 0)
      .map((r) => r.window.start);
    expect(judgedBefore).toHaveLength(2);

    const result = await runCutover(w.deps({ metrics }), { ...request(rollout()), resume: true });
    expect(result.outcome, result.reason ?? "").toBe("succeeded");
    const step1 = w.eventsOf("judge-reading").filter((r) => r.step === 0);
    // Windows judged before the crash are not judged again; the count goes on from 2.
    const starts = step1.map((r) => r.window.start);
    expect(new Set(starts).size).toBe(starts.length);
    expect(step1[2]!.window.start).toBe(judgedBefore[1]! + result.plan.pollMs);
    expect(step1[2]!.verdict.windowsJudged).toBe(3);
  });
});
