// The demo's fault figures count polls in the engine's event order, and say how many whole windows
// the judge's rules need at the traffic the fault met (the e2e tests bound detection by it).
import { describe, expect, it } from "vitest";
import type { EngineEvent } from "../../scripts/core/events.js";
import { rollbackFigures } from "../../scripts/demo/faults.js";
import type { LoadResult } from "../../scripts/local/load.js";

const ONSET = 10_500;
const counts = (requests: number, errors: number) => ({ requests, errors, slow: 0, p95Ms: null, p99Ms: null });

function reading(start: number, green: [number, number], decision: "continue" | "fail"): EngineEvent {
  return {
    type: "judge-reading",
    at: start + 1500,
    runId: "r",
    step: 1,
    phase: "baking",
    poll: start / 1000,
    window: { start, end: start + 1000 },
    counts: { blue: counts(300, 0), green: counts(...green) },
    attributedElbErrors: 0,
    observedGreenShare: 0.25,
    verdict: { decision },
  } as unknown as EngineEvent;
}

function figures(green: [number, number]) {
  const plan = { type: "plan", at: 0, runId: "r", operation: "cutover", plan: { gates: { errorRateCeiling: 0.1, ceilingMinErrors: 10 } }, lines: [] };
  const events = [
    plan as unknown as EngineEvent,
    reading(10_000, green, "continue"), // straddles the onset
    reading(11_000, green, "continue"),
    reading(12_000, green, "continue"),
    reading(13_000, green, "fail"),
    { type: "rollback-started", at: 14_600, runId: "r", breachObservedAt: 14_500 } as unknown as EngineEvent,
  ];
  const load = { timeline: [] } as unknown as LoadResult;
  return rollbackFigures(events, load, ONSET, null, "regression");
}

describe("demo fault figures", () => {
  it("counts the polls that saw the fault and those wholly after its onset", () => {
    const f = figures([75, 15]);
    expect(f.pollsSeeingFault).toBe(4);
    expect(f.pollsWhollyAfterOnset).toBe(3);
    expect(f.firstFailingPoll).toBe(4);
  });

  it("two windows when green's 5xx in the first two whole windows can breach the ceiling", () => {
    expect(figures([75, 15]).pollsTheRulesNeed).toBe(2);
  });

  it("three (the e-value's minimum) when a busy machine sent green too few requests for the ceiling", () => {
    // 16 requests, 4 errors a window: 25% is above the ceiling, but 8 errors in two windows are fewer than 10
    expect(figures([16, 4]).pollsTheRulesNeed).toBe(3);
    // enough errors, but one window below the ceiling's rate
    expect(figures([200, 15]).pollsTheRulesNeed).toBe(3);
  });
});
