// The previous judge, frozen: bench/judge.ts runs it beside the current one on the same traffic.
// Not used by the product; do not change it (the comparison is only meaningful against the original).
//
// Gate evaluation over one window for both colors. Pure: the engine samples, this decides.
// Missing data is never a pass: too few green requests (or no latency data) is inconclusive.

type Color = "blue" | "green";
interface ColorMetrics {
  requests: number;
  errors5xx: number;
  p95Ms: number | null;
  p99Ms: number | null;
}
interface TargetHealth {
  healthy: number;
  unhealthy: number;
  total?: number;
}
interface GateConfig {
  maxErrorRate: number;
  errorRateFactor: number;
  errorRateMargin: number;
  maxP95Ms: number;
  p95Factor: number;
  minRequests: number;
}

import type { ColorReading, GateCheck, GateStatus, GateVerdict } from "../../scripts/core/gateReading.js";

export type { ColorReading, GateCheck, GateStatus, GateVerdict };

export interface GateInput {
  metrics: Record<Color, ColorMetrics>;
  health?: Partial<Record<Color, TargetHealth>>;
}

function reading(metrics: ColorMetrics, health: TargetHealth | undefined): ColorReading {
  return {
    requests: metrics.requests,
    errors5xx: metrics.errors5xx,
    errorRate: metrics.requests > 0 ? metrics.errors5xx / metrics.requests : null,
    p95Ms: metrics.p95Ms,
    p99Ms: metrics.p99Ms,
    healthy: health ? health.healthy : null,
    unhealthy: health ? health.unhealthy : null,
  };
}

const pct = (x: number) => `${Number((x * 100).toFixed(3))}%`;
const ms = (x: number) => `${Number(x.toFixed(1))} ms`;

/** The keys of rollout.gates the per-window thresholds read (the `thresholds` mode of the judge, and the alarms). */
export type ThresholdGates = Pick<GateConfig, "maxErrorRate" | "errorRateFactor" | "errorRateMargin" | "maxP95Ms" | "p95Factor" | "minRequests">;

/** Evaluate the gates over one window. Fail wins over inconclusive; inconclusive is never a pass. */
export function evaluateGates(gates: ThresholdGates, input: GateInput): GateVerdict {
  const blue = reading(input.metrics.blue, input.health?.blue);
  const green = reading(input.metrics.green, input.health?.green);
  const checks: GateCheck[] = [];
  const total = blue.requests + green.requests;

  // Health: conclusive regardless of request volume.
  if (green.unhealthy !== null) {
    checks.push({
      name: "green-unhealthy",
      status: green.unhealthy === 0 ? "pass" : "fail",
      value: green.unhealthy,
      limit: 0,
      detail: `green has ${green.unhealthy} unhealthy target(s)`,
    });
  }

  const enough = green.requests >= gates.minRequests;
  checks.push({
    name: "green-min-requests",
    status: enough ? "pass" : "inconclusive",
    value: green.requests,
    limit: gates.minRequests,
    detail: enough
      ? `green served ${green.requests} request(s)`
      : `green served ${green.requests} request(s) in the window, fewer than ${gates.minRequests}: inconclusive`,
  });

  if (enough) {
    const rate = green.errorRate ?? 0;
    checks.push({
      name: "green-error-rate",
      status: rate <= gates.maxErrorRate ? "pass" : "fail",
      value: rate,
      limit: gates.maxErrorRate,
      detail: `green 5xx rate ${pct(rate)} (limit ${pct(gates.maxErrorRate)})`,
    });
    if (blue.errorRate !== null) {
      const limit = blue.errorRate * gates.errorRateFactor + gates.errorRateMargin;
      checks.push({
        name: "green-error-rate-vs-blue",
        status: rate <= limit ? "pass" : "fail",
        value: rate,
        limit,
        detail: `green 5xx rate ${pct(rate)} vs blue ${pct(blue.errorRate)} × ${gates.errorRateFactor} + ${pct(gates.errorRateMargin)} = ${pct(limit)}`,
      });
    } else {
      checks.push({
        name: "green-error-rate-vs-blue",
        status: "skipped",
        value: rate,
        limit: null,
        detail: "blue served no requests in the window: absolute error-rate check only",
      });
    }

    if (green.p95Ms === null) {
      checks.push({
        name: "green-p95",
        status: "inconclusive",
        value: null,
        limit: gates.maxP95Ms,
        detail: "green has no latency data in the window: inconclusive",
      });
    } else {
      checks.push({
        name: "green-p95",
        status: green.p95Ms <= gates.maxP95Ms ? "pass" : "fail",
        value: green.p95Ms,
        limit: gates.maxP95Ms,
        detail: `green p95 ${ms(green.p95Ms)} (limit ${ms(gates.maxP95Ms)})`,
      });
      if (blue.p95Ms !== null) {
        const limit = blue.p95Ms * gates.p95Factor;
        checks.push({
          name: "green-p95-vs-blue",
          status: green.p95Ms <= limit ? "pass" : "fail",
          value: green.p95Ms,
          limit,
          detail: `green p95 ${ms(green.p95Ms)} vs blue ${ms(blue.p95Ms)} × ${gates.p95Factor} = ${ms(limit)}`,
        });
      } else {
        checks.push({
          name: "green-p95-vs-blue",
          status: "skipped",
          value: green.p95Ms,
          limit: null,
          detail: "blue has no latency data in the window: absolute p95 check only",
        });
      }
    }
  }

  const failed = checks.filter((check) => check.status === "fail");
  const inconclusive = checks.filter((check) => check.status === "inconclusive");
  const status: GateStatus = failed.length > 0 ? "fail" : inconclusive.length > 0 ? "inconclusive" : "pass";
  const reasons = (status === "fail" ? failed : status === "inconclusive" ? inconclusive : []).map((check) => check.detail);
  return {
    status,
    readings: { blue, green },
    observedGreenShare: total > 0 ? green.requests / total : null,
    checks,
    reasons,
  };
}

/** One line for logs and the plain-lines view. */
export function summarizeVerdict(verdict: GateVerdict): string {
  const color = (c: ColorReading) =>
    `${c.requests} req, 5xx ${c.errorRate === null ? "n/a" : pct(c.errorRate)}, p95 ${c.p95Ms === null ? "n/a" : ms(c.p95Ms)}` +
    (c.unhealthy !== null ? `, unhealthy ${c.unhealthy}` : "");
  const head = `${verdict.status.toUpperCase()} green[${color(verdict.readings.green)}] blue[${color(verdict.readings.blue)}]`;
  return verdict.reasons.length > 0 ? `${head}: ${verdict.reasons.join("; ")}` : head;
}
