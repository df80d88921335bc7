import { describe, expect, test } from "vitest";
import { runCutover, runRollback } from "../../scripts/core/engine.js";
import type { Journal } from "../../scripts/core/journal.js";
import { buildReport } from "../../scripts/core/report.js";
import { FakeWorld, replies, testRollout } from "../support/fakes.js";

describe("buildReport", () => {
  test("a successful canary: steps, readings, decisions, timeline", async () => {
    const world = new FakeWorld();
    world.metrics.script(replies.quiet());
    await runCutover(world.deps(), {
      rollout: testRollout({ hooks: [{ name: "smoke", command: "./smoke.sh", timeoutSeconds: 60, when: "after-step" }] }),
      databaseMode: "shared",
      owner: "o",
      stack: "prod",
    });
    const { json, markdown } = buildReport(world.journal.value as Journal);
    expect(json.outcome).toBe("succeeded");
    expect(json.decision).toContain("Cutover succeeded");
    expect(json.reason).toBeNull();
    expect(json.steps.map((s) => [s.step, s.weights.green, s.reached, s.passes, s.inconclusive])).toEqual([
      [1, 5, true, 5, 1],
      [2, 25, true, 5, 0],
      [3, 100, true, 0, 0],
    ]);
    expect(json.monitoring).toEqual({ polls: 5, passes: 5, inconclusive: 0, metricErrors: 0 });
    expect(json.gateReadings).toHaveLength(16);
    expect(json.gateReadings[0]).toMatchObject({ step: 1, status: "inconclusive", green: { requests: 3 } });
    expect(json.hooks).toHaveLength(3);
    expect(json.snapshot).toMatchObject({ taken: true });
    expect(json.rollback).toBeNull();
    expect(json.durationMs).toBe(21 * 60_000 + 3 * 1000); // + three 1-second hooks
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(markdown).toContain("# Cutover report: ");
    expect(markdown).toContain("| Outcome | succeeded |");
    expect(markdown).toContain("| 1 | 95 / 5 | 5m | yes |");
    expect(markdown).toContain("## Gate readings");
    expect(markdown).toContain("## Timeline");
    expect(markdown).toContain("| Stack | prod |");
  });

  test("a rollback: reason, measured time-to-rollback", async () => {
    const world = new FakeWorld({ writeLagMs: 2000 });
    world.metrics.respond(() => (world.router.current().green === 25 ? replies.errors() : replies.ok()));
    await runCutover(world.deps(), { rollout: testRollout(), databaseMode: "shared", owner: "o" });
    const { json, markdown } = buildReport(world.journal.value as Journal);
    expect(json.outcome).toBe("rolled-back");
    expect(json.reason).toContain("gate failed at step 2");
    expect(json.rollback).toMatchObject({ timeToRollbackMs: 2000, attempts: 1 });
    expect(json.steps.map((s) => s.reached)).toEqual([true, true, false]);
    expect(json.decisions.some((d) => d.decision === "rollback")).toBe(true);
    expect(markdown).toContain("Time to rollback | 2000 ms");
    expect(markdown).toContain("## Rollback");
    expect(markdown).toContain("gate failed at step 2");
  });

  test("a paired switch and its rollback: fence times", async () => {
    const world = new FakeWorld();
    await runCutover(world.deps(), { rollout: testRollout({ strategy: { type: "all-at-once" } }), databaseMode: "paired", owner: "o" });
    await runRollback(world.deps(), { owner: "p", databaseMode: "paired", reason: "manual" });
    const { json, markdown } = buildReport(world.journal.value as Journal);
    expect(json.fence.switchMs).toBe(300);
    expect(json.fence.rollbackMs).toBe(300);
    expect(json.outcome).toBe("rolled-back");
    expect(markdown).toContain("Write fence, switch | 300 ms");
    expect(markdown).toContain("Write fence, rollback | 300 ms");
  });

  test("a preflight refusal", async () => {
    const world = new FakeWorld();
    world.alarms.names = ["prod-5xx"];
    await runCutover(world.deps(), { rollout: testRollout(), databaseMode: "shared", owner: "o" });
    const { json, markdown } = buildReport(world.journal.value as Journal);
    expect(json.outcome).toBe("preflight-failed");
    expect(json.decision).toContain("Refused before moving any traffic");
    expect(json.steps.every((s) => !s.reached)).toBe(true);
    expect(markdown).toContain("prod-5xx");
  });

  test("pipes in reasons cannot break the Markdown tables", async () => {
    const world = new FakeWorld();
    await runCutover(world.deps(), { rollout: testRollout({ strategy: { type: "all-at-once" } }), databaseMode: "shared", owner: "o", skipSnapshot: "x|y" });
    const { markdown } = buildReport(world.journal.value as Journal);
    expect(markdown).toContain("skipped: x\\|y");
  });
});
