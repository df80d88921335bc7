// Preflight refuses what would fail later: the judge's inputs are read before any weight moves.
// Blue without latency data while the slow bound is derived from it, blue without traffic, a
// source that cannot count slow requests, or a metrics source that does not answer: the cutover
// ends in preflight-failed with nothing moved, instead of green taking its first step and being
// rolled back minutes later.

import { describe, expect, test } from "vitest";
import type { RolloutConfig } from "../../infra/config.js";
import { runCutover, type CutoverRequest } from "../../scripts/core/engine.js";
import type { MetricsSample, MetricsSource } from "../../scripts/core/ports.js";
import { colorMetrics, FakeWorld, splitReply, testRollout } from "../support/fakes.js";

function request(gates: Partial<RolloutConfig["gates"]> = {}, overrides: Partial<RolloutConfig> = {}): CutoverRequest {
  const base = testRollout(overrides);
  return {
    rollout: { ...base, gates: { ...base.gates, mode: "sequential", ...gates } } as RolloutConfig,
    databaseMode: "shared",
    owner: "alice@ops-1 pid 1",
    stack: "prod",
    skipSnapshot: "unit test",
  };
}

/** Blue serves requests, but the load balancer reports no latency for it. */
function noBlueLatency(world: FakeWorld): void {
  world.metrics.respond(() => {
    const reply = splitReply(world.router.current());
    return { ...reply, blue: { ...reply.blue, p95Ms: null, p99Ms: null } };
  });
}

async function refused(world: FakeWorld, req: CutoverRequest) {
  const result = await runCutover(world.deps(), req);
  expect(result.outcome).toBe("preflight-failed");
  expect(world.router.writes).toEqual([]);
  return result;
}

describe("preflight: the judge's inputs", () => {
  test("no latency data for blue while the slow bound is blue's p95: refused before anything moves", async () => {
    const world = new FakeWorld();
    noBlueLatency(world);
    const result = await refused(world, request());
    expect(result.reason).toMatch(
      /metrics: no latency data for blue in the last 10m published .*: the slow-request bound \(blue-p95\) cannot be derived; set rollout\.gates\.slowThreshold to a fixed number of milliseconds/,
    );
  });

  test("the same blue with a fixed slow bound: preflight passes and the cutover runs", async () => {
    const world = new FakeWorld();
    noBlueLatency(world);
    const result = await runCutover(world.deps(), request({ slowThreshold: { ms: 300 } }));
    expect(result.outcome, result.reason ?? "").toBe("succeeded");
    const check = world.eventsOf("preflight-check").find((c) => c.check === "metrics")!;
    expect(check).toMatchObject({ ok: true });
    expect(check.detail).toMatch(/^blue served \d+ request\(s\) in the last 10m published .*; slow means slower than 300 ms$/);
  });

  test("no traffic on blue: refused (nothing could be decided), unless undecided steps promote", async () => {
    const idle = new FakeWorld();
    idle.metrics.respond(() => ({
      blue: colorMetrics({ requests: 0, p95Ms: null, p99Ms: null }),
      green: colorMetrics({ requests: 0, p95Ms: null, p99Ms: null }),
    }));
    const result = await refused(idle, request());
    expect(result.reason).toMatch(/blue served no request in the last 10m published .*every step would end undecided/);

    const promoting = new FakeWorld();
    promoting.metrics.respond(() => ({
      blue: colorMetrics({ requests: 0, p95Ms: null, p99Ms: null }),
      green: colorMetrics({ requests: 0, p95Ms: null, p99Ms: null }),
    }));
    await runCutover(promoting.deps(), request({ onUndecided: "promote" }));
    expect(promoting.eventsOf("preflight-check").find((c) => c.check === "metrics")).toMatchObject({ ok: true });
  });

  test("a source that cannot count slow requests, or does not answer: refused", async () => {
    const world = new FakeWorld();
    const noSlow: MetricsSource = {
      resolutionMs: 0,
      publicationDelayMs: 0,
      async sample(): Promise<MetricsSample> {
        return splitReply(world.router.current());
      },
    };
    const result = await runCutover(world.deps({ metrics: noSlow }), request());
    expect(result.outcome).toBe("preflight-failed");
    expect(result.reason).toMatch(/the metrics source does not count requests slower than 120 ms/);

    const down = new FakeWorld();
    down.metrics.respond(() => new Error("GetMetricData: AccessDenied"));
    const failed = await refused(down, request());
    expect(failed.reason).toMatch(/metrics: error: GetMetricData: AccessDenied/);
  });

  test("nothing judged (no bake, no monitoring) reads nothing extra in preflight", async () => {
    const world = new FakeWorld();
    noBlueLatency(world);
    await runCutover(world.deps(), request({}, { bakeSeconds: 0, monitorSeconds: 0 }));
    expect(world.eventsOf("preflight-check").some((c) => c.check === "metrics")).toBe(false);
  });
});
