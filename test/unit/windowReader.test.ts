// Windows are judged when their data are complete: ALB metrics published by three load-balancer
// nodes, each 60–150 s after the minute, are re-read until the window holds the traffic that flows
// (or stops growing), an empty window is never judged while traffic flows, and every reading says
// how much of its window was seen.

import { describe, expect, test } from "vitest";
import type { RolloutConfig } from "../../infra/config.js";
import { runCutover, type CutoverRequest } from "../../scripts/core/engine.js";
import { formatEvent } from "../../scripts/core/events.js";
import {
  isComplete,
  MAX_EXTRA_MS,
  noteTraffic,
  readWindowWhenComplete,
  recentTrafficPerMinute,
  REREAD_MS,
  TRAFFIC_FRESH_MS,
} from "../../scripts/core/windowReader.js";
import type { MetricsSample, MetricsSource, MetricsWindow, SampleOptions } from "../../scripts/core/ports.js";
import { FakeClock, FakeWorld, PublishedMetrics, testRollout, type TrafficModel } from "../support/fakes.js";

const SPREAD = { nodes: 3, minDelayMs: 60_000, maxDelayMs: 150_000 };
const traffic: TrafficModel = { requestsPerMinute: 2_000, errorRate: () => 0.002 };

function sequential(overrides: Partial<RolloutConfig> = {}): CutoverRequest {
  const base = testRollout(overrides);
  return {
    rollout: { ...base, gates: { ...base.gates, mode: "sequential" } } as RolloutConfig,
    databaseMode: "shared",
    owner: "alice@ops-1 pid 1",
    stack: "prod",
    skipSnapshot: "unit test",
  };
}

describe("isComplete", () => {
  test("reached the expected traffic, or stopped growing with requests in it", () => {
    expect(isComplete([1300], 2000)).toBe(false);
    expect(isComplete([1990], 2000)).toBe(true);
    expect(isComplete([1300, 1300], null)).toBe(true); // traffic fell: not waited for
    expect(isComplete([1300], null)).toBe(false);
    expect(isComplete([0, 0], 2000)).toBe(false); // traffic flows: empty is not complete
    expect(isComplete([0, 0], null)).toBe(false);
    expect(isComplete([0, 0], 0)).toBe(true); // no traffic at all
  });

  test("the expected traffic comes from a recent complete window only (not across a pause)", () => {
    const record: { trafficPerMinute?: number | null; trafficMeasuredAt?: number | null } = {};
    const complete = { reads: 2, requests: 4000, expectedRequests: null, seenShare: null, complete: true, waitedMs: 30_000 };
    noteTraffic(record, { ...complete, complete: false }, { start: 0, end: 120_000 });
    expect(recentTrafficPerMinute(record, 120_000)).toBeNull();
    noteTraffic(record, complete, { start: 0, end: 120_000 });
    expect(recentTrafficPerMinute(record, 180_000)).toBe(2000);
    expect(recentTrafficPerMinute(record, 120_000 + TRAFFIC_FRESH_MS + 1)).toBeNull();
  });

  test("a window that never fills is judged at the bound with what was seen; an empty one is refused", async () => {
    const clock = new FakeClock();
    let reads = 0;
    const partial = await readWindowWhenComplete({
      read: async () => (reads += 1) * 100,
      requestsOf: (n) => n,
      expected: 2000,
      publicationDelayMs: 120_000,
      sleep: (ms) => clock.sleep(ms),
      now: () => clock.now(),
      describe: "w",
    });
    expect(partial.completeness).toMatchObject({ complete: false, reads: 1 + MAX_EXTRA_MS / REREAD_MS, expectedRequests: 2000 });
    expect(partial.completeness.waitedMs).toBeLessThanOrEqual(MAX_EXTRA_MS);
    await expect(
      readWindowWhenComplete({
        read: async () => 0,
        requestsOf: (n) => n,
        expected: 2000,
        publicationDelayMs: 120_000,
        sleep: (ms) => clock.sleep(ms),
        now: () => clock.now(),
        describe: "window w",
      }),
    ).rejects.toThrow(/no request published for window w after 7 read\(s\) over 180 s while ~2000 request\(s\) per window flow/);
  });
});

describe("a cutover over ALB metrics published in parts by three nodes", () => {
  test("every judged window is complete; the first read at end + 120 s saw only part of it", async () => {
    const w = new FakeWorld({ writeLagMs: 7_000 });
    const metrics = new PublishedMetrics(w.clock, w.router, traffic, { seed: 5, spread: SPREAD });
    const firstReads = new Map<number, number>();
    const source: MetricsSource = {
      resolutionMs: metrics.resolutionMs,
      publicationDelayMs: metrics.publicationDelayMs,
      async sample(window: MetricsWindow, options?: SampleOptions): Promise<MetricsSample> {
        const sample = await metrics.sample(window, options);
        if (window.end - window.start === 60_000 && !firstReads.has(window.start)) firstReads.set(window.start, sample.blue.requests + sample.green.requests);
        return sample;
      },
    };
    const result = await runCutover(w.deps({ metrics: source }), sequential());
    expect(result.outcome, result.reason ?? "").toBe("succeeded");
    const readings = w.eventsOf("judge-reading");
    expect(readings.length).toBeGreaterThan(5);
    const firstShare: number[] = [];
    const finalShare: number[] = [];
    for (const reading of readings) {
      const c = reading.completeness!;
      const total = reading.counts.blue.requests + reading.counts.green.requests;
      expect(total).toBeGreaterThan(0);
      expect(c.complete).toBe(true);
      // Complete means all three nodes were in when it was last read.
      expect(total).toBe(c.requests);
      const everything = await fullyPublished(metrics, reading.window, w.clock);
      expect(total).toBe(everything);
      firstShare.push(firstReads.get(reading.window.start)! / everything);
      finalShare.push(total / everything);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `spread publication (3 nodes, 60–150 s): first read at end+120 s saw ${(mean(firstShare) * 100).toFixed(0)}% on average (min ${(Math.min(...firstShare) * 100).toFixed(0)}%), ` +
        `judged windows ${(mean(finalShare) * 100).toFixed(0)}% after ${mean(readings.map((r) => r.completeness!.reads)).toFixed(2)} reads on average`,
    );
    expect(Math.min(...firstShare)).toBeLessThan(1);
    expect(finalShare.every((share) => share === 1)).toBe(true);
    // The reading's line says how much of its window was seen.
    expect(formatEvent(readings.at(-1)!)).toMatch(/; window saw 100% of ~\d+ expected req \(\d reads?(, \+\d+ s)?\)$/);
  });

  test("a window with nothing published while traffic flows is never judged: it counts as missing data", async () => {
    const w = new FakeWorld({ writeLagMs: 7_000 });
    const metrics = new PublishedMetrics(w.clock, w.router, traffic, { seed: 5, spread: SPREAD });
    let silenced: number | null = null;
    const source: MetricsSource = {
      resolutionMs: 60_000,
      publicationDelayMs: metrics.publicationDelayMs,
      async sample(window, options) {
        const sample = await metrics.sample(window, options);
        // The second judged window of the first step never arrives (a node outage at CloudWatch).
        if (w.eventsOf("judge-reading").length === 1 && silenced === null && window.end - window.start === 60_000) silenced = window.start;
        if (window.start === silenced)
          return {
            blue: { ...sample.blue, requests: 0, errors5xx: 0, elbErrors: 0, slow: 0 },
            green: { ...sample.green, requests: 0, errors5xx: 0, elbErrors: 0, slow: 0 },
            loadBalancer: { elb5xx: 0 },
          };
        return sample;
      },
    };
    const result = await runCutover(w.deps({ metrics: source }), sequential());
    expect(result.outcome, result.reason ?? "").toBe("rolled-back");
    expect(result.reason).toMatch(
      /metrics unavailable 3 time\(s\) in a row: no request published for \[.*\) after 7 read\(s\) over 180 s while ~\d+ request\(s\) per window flow/,
    );
    expect(w.eventsOf("judge-reading").every((r) => r.counts.blue.requests + r.counts.green.requests > 0)).toBe(true);
  });
});

/** The window's requests once every node has published (asked at a time after all of them). */
async function fullyPublished(metrics: PublishedMetrics, window: MetricsWindow, clock: FakeClock): Promise<number> {
  const saved = clock.t;
  clock.t = window.end + 10 * 60_000;
  const sample = await metrics.sample(window);
  metrics.calls.pop();
  clock.t = saved;
  return sample.blue.requests + sample.green.requests;
}
