// Messages that say what happens: time to rollback runs from the moment the breach was read (not
// from the end of a window published minutes earlier), a forecast repeated unchanged is not
// printed again, and the report's Steps table in sequential mode shows what the judge did.

import { describe, expect, test } from "vitest";
import type { RolloutConfig } from "../../infra/config.js";
import { runCutover, type CutoverRequest } from "../../scripts/core/engine.js";
import { formatEvent } from "../../scripts/core/events.js";
import { buildReport } from "../../scripts/core/report.js";
import { FakeWorld, PublishedMetrics, testRollout, type TrafficModel } from "../support/fakes.js";

const SPREAD = { nodes: 3, minDelayMs: 60_000, maxDelayMs: 150_000 };

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

function run(model: TrafficModel, overrides: Partial<RolloutConfig> = {}) {
  const w = new FakeWorld({ writeLagMs: 7_000 });
  const metrics = new PublishedMetrics(w.clock, w.router, model, { seed: 3, spread: SPREAD });
  return { w, result: runCutover(w.deps({ metrics }), sequential(overrides)) };
}

describe("time to rollback", () => {
  test("counts from the moment the breach was read, not from the end of its window", async () => {
    const { w, result: pending } = run({
      requestsPerMinute: 20_000,
      errorRate: (color, _t, weights) => (color === "green" && weights.green >= 20 ? 0.05 : 0.001),
    });
    const result = await pending;
    expect(result.outcome).toBe("rolled-back");
    const failing = w.eventsOf("judge-reading").at(-1)!;
    expect(failing.verdict.decision).toBe("fail");
    const started = w.eventsOf("rollback-started")[0]!;
    // Read at failing.at, a publication delay after the window ended.
    expect(started.breachObservedAt).toBe(failing.at);
    expect(failing.at - failing.window.end).toBeGreaterThanOrEqual(120_000);
    // The router reads back after 7 s: that is the time to rollback, not 2+ minutes.
    expect(result.timeToRollbackMs).toBeLessThan(10_000);
    expect(buildReport(result.journal!).markdown).toMatch(/\| Time to rollback \| \d{4} ms \(breach observed → blue verified\) \|/);
  });
});

describe("forecasts", () => {
  test("a forecast is printed when it is new or changed, not repeated after a window that did not decide", async () => {
    const { w, result: pending } = run({ requestsPerMinute: 400, errorRate: () => 0.002 });
    await pending;
    const readings = w.eventsOf("judge-reading");
    expect(readings.length).toBeGreaterThan(2);
    let repeated = 0;
    for (let i = 1; i < readings.length; i++) {
      const [before, now] = [readings[i - 1]!, readings[i]!];
      if (before.phase !== now.phase || before.step !== now.step) continue;
      for (const metric of ["errors", "slow"] as const) {
        const same = before.verdict.evidence[metric].neededGreenRequests === now.verdict.evidence[metric].neededGreenRequests;
        expect(now.forecastChanged![metric]).toBe(!same);
        const printed = new RegExp(`${metric} e=[^;]*\\(~\\d+ more green req\\)`).test(formatEvent(now));
        expect(printed).toBe(!same && now.verdict.evidence[metric].neededGreenRequests !== null);
        if (same && now.verdict.evidence[metric].neededGreenRequests !== null) repeated += 1;
      }
    }
    // Readings without the field (older journals) still print it.
    const old = { ...readings[1]!, forecastChanged: undefined };
    if (old.verdict.evidence.errors.neededGreenRequests !== null) expect(formatEvent(old)).toMatch(/errors e=[^;]*\(~\d+ more green req\)/);
    console.log(`forecasts left unprinted because unchanged: ${repeated} of ${2 * (readings.length - 1)} metric readings`);
  });
});

describe("the report in sequential mode", () => {
  test("the Steps table shows windows judged, the decision, extensions and how much of a window was seen; no Polls / Pass", async () => {
    const { result: pending } = run({ requestsPerMinute: 20_000, errorRate: () => 0.001 });
    const result = await pending;
    expect(result.outcome, result.reason ?? "").toBe("succeeded");
    const { json, markdown } = buildReport(result.journal!);
    const table = markdown.slice(markdown.indexOf("Steps"));
    expect(table).toMatch(
      /\| Step \| Weights \(blue \/ green\) \| Bake \| Reached \| Verified after \| Windows judged \| Decision \| Extensions \| Metric errors \| Least seen of the expected req \|/,
    );
    expect(table).not.toMatch(/\| Polls \| Pass \|/);
    expect(table).toMatch(/\| 1 \| 95 \/ 5 \| 5m \| yes \| \d+ ms \| 5 \| promote \| 0 \| 0 \| (9\d|100)% \|/);
    expect(table).toMatch(/\| monitoring \| 0 \/ 100 \| 5m \| \| \| 5 \| promote \| 0 \| 0 \| (9\d|100)% \|/);
    expect(json.steps[0]!.judged).toMatchObject({ decision: "promote", extensionsUsed: 0 });
    expect(json.steps[0]!.judged!.leastSeen).toBeGreaterThan(0.9);
    expect(json.steps[0]!.judged!.windows).toBeGreaterThan(0);
  });
});
