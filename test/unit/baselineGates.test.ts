import { describe, expect, test } from "vitest";
import { evaluateGates, summarizeVerdict } from "../../bench/baseline/gates.js";
import { metricsReply } from "../support/fakes.js";

// The retired per-window gates, kept as a comparator of the judge's bench.
const gates = { maxErrorRate: 0.01, errorRateFactor: 2, errorRateMargin: 0.005, maxP95Ms: 800, p95Factor: 1.5, minRequests: 100 };
const healthy = { blue: { healthy: 2, unhealthy: 0, total: 2 }, green: { healthy: 2, unhealthy: 0, total: 2 } };

describe("evaluateGates", () => {
  test("pass when every check passes", () => {
    const verdict = evaluateGates(gates, { metrics: metricsReply(), health: healthy });
    expect(verdict.status).toBe("pass");
    expect(verdict.reasons).toEqual([]);
    expect(verdict.readings.green).toMatchObject({ requests: 1000, errorRate: 0, p95Ms: 120, unhealthy: 0 });
    expect(verdict.observedGreenShare).toBe(0.5);
  });

  test("green error rate above the absolute threshold fails", () => {
    const verdict = evaluateGates(gates, { metrics: metricsReply({ green: { errors5xx: 20 }, blue: { errors5xx: 20 } }) });
    expect(verdict.status).toBe("fail");
    expect(verdict.checks.find((c) => c.name === "green-error-rate")!.status).toBe("fail");
    expect(verdict.reasons.join()).toContain("green 5xx rate 2%");
  });

  test("green error rate within the absolute threshold but above blue × factor + margin fails", () => {
    // green 0.9% ≤ 1%, but blue is 0.1%: limit 0.1% × 2 + 0.5% = 0.7%
    const verdict = evaluateGates(gates, { metrics: metricsReply({ green: { errors5xx: 9 }, blue: { errors5xx: 1 } }) });
    expect(verdict.status).toBe("fail");
    expect(verdict.checks.find((c) => c.name === "green-error-rate")!.status).toBe("pass");
    const relative = verdict.checks.find((c) => c.name === "green-error-rate-vs-blue")!;
    expect(relative.status).toBe("fail");
    expect(relative.limit).toBeCloseTo(0.007);
  });

  test("a blue with errors of its own raises the relative limit (concurrent baseline)", () => {
    const verdict = evaluateGates(gates, { metrics: metricsReply({ green: { errors5xx: 9 }, blue: { errors5xx: 8 } }) });
    expect(verdict.status).toBe("pass");
  });

  test("blue with no requests: absolute error check only", () => {
    const verdict = evaluateGates(gates, { metrics: metricsReply({ blue: { requests: 0, errors5xx: 0, p95Ms: null, p99Ms: null }, green: { errors5xx: 9 } }) });
    expect(verdict.status).toBe("pass");
    expect(verdict.checks.find((c) => c.name === "green-error-rate-vs-blue")!.status).toBe("skipped");
    expect(verdict.checks.find((c) => c.name === "green-p95-vs-blue")!.status).toBe("skipped");
  });

  test("green p95 above the absolute threshold fails", () => {
    const verdict = evaluateGates(gates, { metrics: metricsReply({ green: { p95Ms: 900 }, blue: { p95Ms: 850 } }) });
    expect(verdict.status).toBe("fail");
    expect(verdict.checks.find((c) => c.name === "green-p95")!.status).toBe("fail");
    expect(verdict.checks.find((c) => c.name === "green-p95-vs-blue")!.status).toBe("pass");
  });

  test("green p95 under the threshold but above blue × factor fails", () => {
    const verdict = evaluateGates(gates, { metrics: metricsReply({ green: { p95Ms: 400 }, blue: { p95Ms: 200 } }) });
    expect(verdict.status).toBe("fail");
    expect(verdict.reasons.join()).toContain("vs blue 200 ms × 1.5 = 300 ms");
  });

  test("blue without latency data: absolute p95 check only", () => {
    const verdict = evaluateGates(gates, { metrics: metricsReply({ green: { p95Ms: 400 }, blue: { p95Ms: null } }) });
    expect(verdict.status).toBe("pass");
  });

  test("any unhealthy green target fails, whatever the traffic", () => {
    const verdict = evaluateGates(gates, {
      metrics: metricsReply({ green: { requests: 2 } }),
      health: { ...healthy, green: { healthy: 1, unhealthy: 1, total: 2 } },
    });
    expect(verdict.status).toBe("fail");
    expect(verdict.reasons.join()).toContain("1 unhealthy");
  });

  test("too few green requests is inconclusive, never a pass, even with perfect numbers", () => {
    const verdict = evaluateGates(gates, { metrics: metricsReply({ green: { requests: 99 } }), health: healthy });
    expect(verdict.status).toBe("inconclusive");
    expect(verdict.reasons.join()).toContain("fewer than 100");
  });

  test("zero green requests is inconclusive", () => {
    const verdict = evaluateGates(gates, { metrics: metricsReply({ green: { requests: 0, p95Ms: null, p99Ms: null } }) });
    expect(verdict.status).toBe("inconclusive");
    expect(verdict.readings.green.errorRate).toBeNull();
  });

  test("enough requests but no latency data is inconclusive", () => {
    const verdict = evaluateGates(gates, { metrics: metricsReply({ green: { p95Ms: null } }) });
    expect(verdict.status).toBe("inconclusive");
  });

  test("fail wins over inconclusive", () => {
    const verdict = evaluateGates(gates, { metrics: metricsReply({ green: { errors5xx: 500, p95Ms: null } }) });
    expect(verdict.status).toBe("fail");
  });

  test("the verdict is plain JSON and summarizes in one line", () => {
    const verdict = evaluateGates(gates, { metrics: metricsReply({ green: { errors5xx: 50 } }), health: healthy });
    expect(JSON.parse(JSON.stringify(verdict))).toEqual(verdict);
    expect(summarizeVerdict(verdict)).toMatch(/^FAIL green\[1000 req, 5xx 5%/);
  });
});
