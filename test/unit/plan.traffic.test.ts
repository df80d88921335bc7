// The traffic-aware plan (`cutover --dry-run`): per judged phase the expected time to a decision at
// the last hour's traffic, and a warning when a bake is too short to decide.
import { describe, expect, test } from "vitest";
import type { RolloutConfig } from "../../infra/config.js";
import { buildPlan } from "../../scripts/core/plan.js";
import { describeTimeToDecision, recentTrafficOf } from "../../scripts/core/trafficPlan.js";
import { testRollout } from "../support/fakes.js";

function plan(overrides: Partial<RolloutConfig> = {}) {
  return buildPlan(testRollout(overrides), { databaseMode: "shared", resolutionMs: 60_000 });
}

describe("describeTimeToDecision", () => {
  test("busy traffic: every step and monitoring decide within their bakes, no warning", () => {
    const lines = describeTimeToDecision(plan(), { minutes: 60, requests: 60 * 100_000, errors: 60 * 100_000 * 0.001 });
    expect(lines[0]).toBe("Time to a decision, at the last 1h's traffic (100000 req/min, 5xx 0.1%):");
    expect(lines.filter((l) => l.startsWith("  - "))).toHaveLength(3);
    // Without blue's history the forecast says which movement it assumed.
    expect(lines[1]).toBe("  blue's minute-to-minute movement is unknown here: the forecast assumes σ 0.3 per color (the judge's default without a history)");
    expect(lines[2]).toMatch(/step 1 \(green 5%\): ~5000 green req\/min; an identical release rules out ×5 in \S+/);
    expect(lines.find((l) => l.includes("monitoring (green 100%)"))).toMatch(/~100000 green req\/min; an identical release rules out ×5 in 1m/);
    expect(lines.join("\n")).not.toMatch(/WARNING|will extend/);
  });

  test("quiet traffic: warns that a bake is too short to decide, and what happens then", () => {
    const lines = describeTimeToDecision(plan(), { minutes: 60, requests: 60 * 100, errors: 0 });
    const text = lines.join("\n");
    expect(text).toMatch(/step 1 \(green 5%\): ~5 green req\/min/);
    expect(text).toMatch(
      /WARNING: too short to decide: ruling out ×5 needs .*, more than the bake plus 10 extension\(s\) \(15m\): this step will fail with "not enough traffic to decide"/,
    );
  });

  test("what each step costs in wall time at this traffic, the publication delay included", () => {
    const busy = describeTimeToDecision(plan(), { minutes: 60, requests: 60 * 100_000, errors: 60 * 100_000 * 0.001 }, null, null, 120_000);
    // A 5-minute bake that decides within it: 5 windows of 1 minute, the last one read 2 minutes after it ends.
    expect(busy[3]).toBe("    costs ~7m of wall time: 5 window(s) of 1m, the last read 2m after it ends (up to 5m while the load balancer's nodes publish)");
    const quiet = describeTimeToDecision(plan(), { minutes: 60, requests: 60 * 100, errors: 0 }, null, null, 120_000).join("\n");
    // At 100 req/min the 5% step runs its bake and every extension: 15 windows.
    expect(quiet).toMatch(/step 1 \(green 5%\)[^\n]*\n {4}costs ~17m of wall time: 15 window\(s\) of 1m/);
  });

  test("no traffic, no history", () => {
    expect(describeTimeToDecision(plan(), { minutes: 60, requests: 0, errors: 0 }).join("\n")).toMatch(/WARNING: no requests in that time/);
    expect(describeTimeToDecision(plan(), null, "the metrics source keeps no history")).toEqual([
      "Time to a decision: unknown (the metrics source keeps no history)",
    ]);
  });

  test("recentTrafficOf counts every request and every 5xx, the load balancer's unattributed ones too", () => {
    const traffic = recentTrafficOf({
      window: { start: 0, end: 3_600_000 },
      blue: { requests: 9000, errors5xx: 9, elbErrors: 1, p95Ms: 100, p99Ms: 200 },
      green: { requests: 1000, errors5xx: 2, elbErrors: 3, p95Ms: 100, p99Ms: 200 },
      loadBalancer: { elb5xx: 10 },
    });
    expect(traffic).toEqual({ minutes: 60, requests: 10_000, errors: 9 + 1 + 2 + 3 + 6 });
  });
});

describe("buildPlan windows", () => {
  test("the window is a whole multiple of the metrics resolution", () => {
    const p = buildPlan(testRollout({ pollIntervalSeconds: 90, bakeSeconds: 300 }), { databaseMode: "shared", resolutionMs: 60_000 });
    expect(p.pollMs).toBe(120_000);
    expect(p.steps[0]!.pollsRequired).toBe(3);
  });
});
