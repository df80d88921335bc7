import { describe, expect, test } from "vitest";
import { runCutover, runRollback } from "../../scripts/core/engine.js";
import type { Journal } from "../../scripts/core/journal.js";
import { buildReport } from "../../scripts/core/report.js";
import { FakeWorld, replies, testRollout } from "../support/fakes.js";

describe("buildReport", () => {
  test("a successful canary: steps, readings, decisions, timeline", async () => {
    const world = new FakeWorld();
    // Preflight's two reads and blue's two before the first write, then a first window at 5% with 3 green requests.
    world.metrics.script(replies.ok(), replies.ok(), replies.ok(), replies.ok(), replies.quiet());
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
    expect(json.steps.map((s) => [s.step, s.weights.green, s.reached, s.metricErrors])).toEqual([
      [1, 5, true, 0],
      [2, 25, true, 0],
      [3, 100, true, 0],
    ]);
    expect(json.monitoring).toMatchObject({ metricErrors: 0 });
    // The judge's last verdict per judged phase: every one promoted after its windows (and extensions).
    expect(json.judge.map((j) => [j.step, j.phase, j.decision])).toEqual([
      [1, "baking", "promote"],
      [2, "baking", "promote"],
      [null, "monitoring", "promote"],
    ]);
    for (const j of json.judge) expect(j.windowsJudged).toBe(5 + j.extensionsUsed);
    expect(json.judge[0]!.metrics.map((m) => [m.metric, m.comparison, m.status])).toEqual([
      ["errors", "concurrent", "ruled-out-minimal"],
      ["slow", "concurrent", "ruled-out-minimal"],
    ]);
    expect(json.judge[2]!.metrics.every((m) => m.comparison === "reference")).toBe(true);
    const windows = json.judge.reduce((sum, j) => sum + j.windowsJudged, 0);
    expect(json.timeline.find((e) => e.type === "judge-reading")!.text).toContain("baking poll 1: CONTINUE (1/5 windows) green 3 req");
    expect(json.hooks).toHaveLength(3);
    expect(json.snapshot).toMatchObject({ taken: true });
    expect(json.rollback).toBeNull();
    expect(json.durationMs).toBe(5 * 60_000 + windows * 60_000 + 3 * 1000); // snapshot, one minute a window, three 1-second hooks
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(markdown).toContain("# Cutover report: ");
    expect(markdown).toContain("| Outcome | succeeded |");
    expect(markdown).toContain("| 1 | 95 / 5 | 5m | yes |");
    expect(markdown).toMatch(/## Judge.*\n/);
    expect(markdown).toMatch(/\| 1 \| promote \| \d+\/\d+ \| 5xx \| 0\/\d+ \|/);
    expect(markdown).toContain("## Timeline");
    expect(markdown).toContain("| Stack | prod |");
  });

  test("a rollback: reason, measured time-to-rollback", async () => {
    const world = new FakeWorld({ writeLagMs: 2000 });
    world.metrics.respond(() => (world.router.current().green === 25 ? replies.errors() : replies.ok()));
    await runCutover(world.deps(), { rollout: testRollout(), databaseMode: "shared", owner: "o" });
    const { json, markdown } = buildReport(world.journal.value as Journal);
    expect(json.outcome).toBe("rolled-back");
    expect(json.reason).toMatch(/^regression at step 2: .*green 5xx 400\/2000 \(20%\) over two windows in a row is above the ceiling 10%/);
    expect(json.rollback).toMatchObject({ timeToRollbackMs: 2000, attempts: 1 });
    expect(json.steps.map((s) => s.reached)).toEqual([true, true, false]);
    expect(json.decisions.some((d) => d.decision === "rollback")).toBe(true);
    expect(markdown).toContain("Time to rollback | 2000 ms");
    expect(markdown).toContain("## Rollback");
    expect(markdown).toContain("regression at step 2: step-2 FAIL");
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
