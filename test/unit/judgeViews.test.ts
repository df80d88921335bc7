// The judge's evidence where operators read it: the plain lines, the live view, the report.
import { describe, expect, test } from "vitest";
import { renderLive } from "../../scripts/cli/liveView.js";
import { NO_PALETTE } from "../../scripts/cli/plainPrinter.js";
import { runCutover } from "../../scripts/core/engine.js";
import { formatEvent, type EngineEvent } from "../../scripts/core/events.js";
import { parseJournal } from "../../scripts/core/journal.js";
import { buildReport } from "../../scripts/core/report.js";
import type { RolloutConfig } from "../../infra/config.js";
import { FakeWorld, PublishedMetrics, testRollout } from "../support/fakes.js";

/** The test rollout: the statistical judge is the only one. */
function sequential(): RolloutConfig {
  return testRollout();
}

async function run(greenErrorRate: number) {
  const world = new FakeWorld({ writeLagMs: 3_000 });
  const metrics = new PublishedMetrics(world.clock, world.router, {
    requestsPerMinute: 60_000,
    errorRate: (color) => (color === "green" ? greenErrorRate : 0.001),
  });
  const result = await runCutover(world.deps({ metrics }), {
    rollout: sequential(),
    databaseMode: "shared",
    owner: "alice",
    stack: "prod",
    skipSnapshot: "test",
  });
  return { world, result };
}

describe("the judge's evidence for operators", () => {
  test("plain lines: each judge reading names the decision, the counts, the statistic against its boundary", async () => {
    const { world } = await run(0.001);
    const reading = world.eventsOf("judge-reading")[0]!;
    expect(formatEvent(reading)).toMatch(
      /baking poll 1: CONTINUE \(1\/5 windows\) green \d+ req 5xx [\d.]+% \| blue \d+ req 5xx [\d.]+%; errors e=[\d.]+\/600\.0 \w+/,
    );
    const proceed = world.eventsOf("decision").find((d) => d.decision === "proceed" && d.evidence)!;
    expect(formatEvent(proceed)).toMatch(/decision: proceed — step-1 PROMOTE/);
  });

  test("live view: the judge's table per metric, green against blue, statistic / boundary, what is ruled out", async () => {
    const { world } = await run(0.001);
    const reading = world.eventsOf("judge-reading").at(-1)! as Extract<EngineEvent, { type: "judge-reading" }>;
    const text = renderLive(
      {
        operation: "cutover",
        steps: [],
        step: null,
        phase: "monitoring",
        weights: null,
        verdict: null,
        verdictAt: null,
        judge: reading,
        poll: null,
        tick: null,
        status: null,
        started: null,
      },
      NO_PALETTE,
      reading.at + 2000,
    );
    expect(text).toMatch(/judge PROMOTE · 5\/5 windows · 2s ago · observed green share 100\.0%/);
    expect(text).toMatch(/5xx +\d+\/\d+ [\d.]+% +ref \d+\/\d+ [\d.]+% +[\d.e+]+ \/ 1200\.0 +ruled-out/);
    expect(text).toMatch(/slow +\d+\/\d+/);
  });

  test("report: one row per phase and metric with counts, statistic, boundary; a rollback names the regression", async () => {
    const good = await run(0.001);
    const report = buildReport(parseJournal(good.world.journal.value));
    expect(report.json.judge.map((j) => `${j.phase}:${j.step}:${j.decision}`)).toEqual(["baking:1:promote", "baking:2:promote", "monitoring:null:promote"]);
    expect(report.markdown).toContain("## Judge (sequential): evidence per step");
    expect(report.markdown).toMatch(/\| 1 \| promote \| 5\/5 \| 5xx \| \d+\/\d+ \| \d+\/\d+ \| [\d.]+ \/ 600\.0 \| ruled-out/);

    const bad = await run(0.05);
    expect(bad.result.outcome).toBe("rolled-back");
    const failed = buildReport(parseJournal(bad.world.journal.value));
    const last = failed.json.judge.at(-1)!;
    expect(last.decision).toBe("fail");
    const errors = last.metrics.find((m) => m.metric === "errors")!;
    expect(errors.status).toBe("regression");
    expect(errors.statistic).toBeGreaterThanOrEqual(errors.boundary);
    expect(failed.markdown).toMatch(/- step 1: .*5xx/);
  });
});
