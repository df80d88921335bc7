// The cutover engine over in-memory fakes and a virtual clock: every path of a cutover.

import { describe, expect, test, vi } from "vitest";
import { EngineInputError, outcomeExitCode, previewCutover, runCutover, runRollback, type CutoverRequest } from "../../scripts/core/engine.js";
import { outcomeOf, parseJournal } from "../../scripts/core/journal.js";
import { LockHeldError, type Weights } from "../../scripts/core/ports.js";
import type { RolloutConfig } from "../../infra/config.js";
import { EPOCH, FakeWorld, replies, splitReply, testRollout } from "../support/fakes.js";

const OWNER = "alice@ops-1 pid 4242";

function request(overrides: Partial<RolloutConfig> = {}, extra: Partial<CutoverRequest> = {}): CutoverRequest {
  return { rollout: testRollout(overrides), databaseMode: "shared", owner: OWNER, stack: "prod", ...extra };
}

const greenOf = (writes: { weights: Weights }[]) => writes.map((w) => w.weights.green);

/**
 * Before the first window is judged blue is read four times: preflight's check of the judge's
 * inputs (a plain sample and one with the slow bound, over the last published windows), then the
 * bake's history (the same two over the windows before the first write). Scripts that aim at the
 * polls answer these four first.
 */
const HISTORY_READS = [replies.ok(), replies.ok(), replies.ok(), replies.ok()] as const;

type Reading = ReturnType<FakeWorld["eventsOf"]>[number] & { type: "judge-reading" };
const readingsOf = (world: FakeWorld, phase: "baking" | "monitoring", step?: number) =>
  world.eventsOf("judge-reading").filter((r) => r.phase === phase && (step === undefined || r.step === step));

/** A phase judged to the end: windows counted 1, 2, …, every verdict but the last continue/extend, the last promote. */
function expectPromoted(readings: Reading[], required: number): void {
  expect(readings.length).toBeGreaterThanOrEqual(required);
  expect(readings.map((r) => r.verdict.windowsJudged)).toEqual(readings.map((_, i) => i + 1));
  expect(readings.slice(0, -1).every((r) => r.verdict.decision === "continue" || r.verdict.decision === "extend")).toBe(true);
  expect(readings.at(-1)!.verdict.decision).toBe("promote");
  expect(readings.at(-1)!.verdict.windowsNeeded).toBe(required + readings.at(-1)!.verdict.extensionsUsed);
  expect(readings.at(-1)!.verdict.windowsJudged).toBe(readings.at(-1)!.verdict.windowsNeeded);
}

/** Metrics that breach while green has `percent` of the traffic. */
function breachAt(world: FakeWorld, percent: number, reply = replies.errors) {
  world.metrics.respond(() => (world.router.current().green === percent ? reply() : replies.ok()));
}

describe("success", () => {
  test("the default fake traffic follows the weights: no split warning", async () => {
    const world = new FakeWorld();
    await runCutover(world.deps(), request());
    // The only warning is the judge's reference, read once from blue before the first write.
    expect(world.eventsOf("warning").map((w) => w.message)).toEqual([
      expect.stringMatching(/^judge reference from .* blue's history: 60 window\(s\) with traffic/),
    ]);
    expect(world.eventsOf("judge-reading").every((r) => r.observedGreenShare !== null)).toBe(true);
    const monitoring = readingsOf(world, "monitoring")[0]!;
    expect(monitoring.counts.blue.requests).toBe(0);
    expect(monitoring.verdict.evidence.errors.comparison).toBe("reference");
  });

  test("canary 5 → 25 → 100: every step written, verified, recorded, baked; monitoring; lock released", async () => {
    const world = new FakeWorld();
    // Every wait goes through the virtual clock: count the real timers the run schedules.
    const realTimers = vi.spyOn(globalThis, "setTimeout");
    const result = await runCutover(world.deps({ tickMs: 1000 }), request()).finally(() => realTimers.mockRestore());

    expect(result.outcome).toBe("succeeded");
    expect(outcomeExitCode(result.outcome)).toBe(0);
    expect(result.reason).toBeNull();
    expect(greenOf(world.router.writes)).toEqual([5, 25, 100]);
    expect(world.router.current()).toEqual({ blue: 0, green: 100 });
    expect(world.recorder.recorded.map((w) => w.green)).toEqual([5, 25, 100]);
    expectPromoted(readingsOf(world, "baking", 0), 5);
    expectPromoted(readingsOf(world, "baking", 1), 5);
    expectPromoted(readingsOf(world, "monitoring"), 5);
    expect(world.eventsOf("decision").filter((d) => d.decision === "proceed" && d.evidence?.decision === "promote")).toHaveLength(3);
    const windows = world.eventsOf("judge-reading").length;
    expect(world.snapshotter.calls).toHaveLength(1);
    expect(world.lock.holder).toBeNull();

    const stored = parseJournal(world.journal.value);
    expect(stored.phase).toBe("succeeded");
    expect(outcomeOf(stored)).toBe("succeeded");
    expect(stored).not.toHaveProperty("outcome");
    expect(stored.snapshot).toMatchObject({ taken: true, id: "snap-1" });
    // 5 min snapshot + one minute per window judged (5 per phase, more where the bake extended), and no real waiting.
    expect(world.clock.now() - stored.createdAt).toBe(5 * 60_000 + windows * 60_000);
    expect(world.clock.slept).toBe(5 * 60_000 + windows * 60_000);
    expect(realTimers).not.toHaveBeenCalled();
    // The live view gets a countdown.
    const ticks = world.eventsOf("tick");
    expect(ticks.length).toBeGreaterThanOrEqual(15 * 60);
    expect(ticks[0]).toMatchObject({ phase: "baking", step: 0, nextPollInMs: 59_000 });
    expect(ticks.every((t) => t.remainingMs >= 0 && t.totalMs >= t.elapsedMs)).toBe(true);
    expect(stored.timeline.some((e) => (e.type as string) === "tick")).toBe(false);
  });

  test("every event is plain JSON", async () => {
    const world = new FakeWorld();
    await runCutover(world.deps({ tickMs: 30_000 }), request());
    for (const event of world.events) expect(JSON.parse(JSON.stringify(event))).toEqual(event);
    expect(world.events[0]!.type).toBe("plan");
    expect(world.events.at(-1)).toMatchObject({ type: "done", outcome: "succeeded" });
  });

  test("linear 30 → 60 → 90 → 100", async () => {
    const world = new FakeWorld();
    const result = await runCutover(world.deps(), request({ strategy: { type: "linear", stepPercent: 30, intervalSeconds: 120 } }));
    expect(result.outcome).toBe("succeeded");
    expect(greenOf(world.router.writes)).toEqual([30, 60, 90, 100]);
    const baking = readingsOf(world, "baking");
    expect([...new Set(baking.map((r) => r.step))]).toEqual([0, 1, 2]);
    for (const step of [0, 1, 2]) expectPromoted(readingsOf(world, "baking", step), 2);
  });

  test("all-at-once: one write, then monitoring", async () => {
    const world = new FakeWorld();
    const result = await runCutover(world.deps(), request({ strategy: { type: "all-at-once" } }));
    expect(result.outcome).toBe("succeeded");
    expect(greenOf(world.router.writes)).toEqual([100]);
    expect(world.eventsOf("judge-reading").every((r) => r.phase === "monitoring")).toBe(true);
    expect(world.eventsOf("judge-reading")).toHaveLength(5);
    expectPromoted(readingsOf(world, "monitoring"), 5);
  });

  test("warm-up: each step's first window starts the warm-up after its weights were verified; nothing before is evidence", async () => {
    const world = new FakeWorld({ resolutionMs: 60_000, writeLagMs: 7_000 });
    const base = testRollout();
    const result = await runCutover(world.deps(), request({ gates: { ...base.gates, warmupSeconds: 120 } }));
    expect(result.outcome).toBe("succeeded");
    const verified = world.eventsOf("weights-verified").filter((v) => v.ok);
    expect(verified.map((v) => v.step)).toEqual([0, 1, 2]);
    for (const [phase, step, verifiedAt] of [
      ["baking", 0, verified[0]!.at],
      ["baking", 1, verified[1]!.at],
      ["monitoring", undefined, verified[2]!.at],
    ] as const) {
      const readings = readingsOf(world, phase, step);
      // The first window starts at the verified time plus 2 minutes, rounded up to the metrics' minute.
      expect(readings[0]!.window.start).toBe(Math.ceil((verifiedAt + 120_000) / 60_000) * 60_000);
      expectPromoted(readings, 5);
    }
    // The polls never asked for a window that starts inside a warm-up.
    const starts = world.eventsOf("judge-reading").map((r) => r.window.start);
    expect(world.metrics.calls.slice(4).map((w) => w.start)).toEqual(starts);
  });

  test("gates poll both colors over the same window, never faster than the metrics resolution", async () => {
    const world = new FakeWorld({ resolutionMs: 60_000 });
    await runCutover(world.deps(), request({ pollIntervalSeconds: 10, bakeSeconds: 120, monitorSeconds: 60 }));
    // Preflight's two reads of the judge's inputs, two reads of blue before the first write (the
    // slow bound), then one sample call per poll (both colors at once), each window = one resolution period.
    const readings = world.eventsOf("judge-reading");
    expect(readings.length).toBeGreaterThanOrEqual(2 + 2 + 1);
    expect(world.metrics.calls).toHaveLength(4 + readings.length);
    expect(world.metrics.calls.slice(4)).toEqual(readings.map((r) => r.window));
    const [bound, withBound] = world.metrics.calls.slice(2);
    expect(withBound).toEqual(bound);
    expect(bound!.end).toBeLessThanOrEqual(world.router.writes[0]!.at);
    expect((bound!.end - bound!.start) % 60_000).toBe(0);
    const polls = world.metrics.calls.slice(4);
    for (const window of polls) expect(window.end - window.start).toBe(60_000);
    for (let i = 1; i < polls.length; i++) {
      expect(polls[i]!.end - polls[i - 1]!.end).toBeGreaterThanOrEqual(60_000);
    }
  });

  test("an observed split far from the weights is not evidence; three such windows in a row fail the step (weights not in effect)", async () => {
    const world = new FakeWorld();
    world.metrics.followWeights = null;
    world.metrics.respond(() => replies.ok()); // a 50/50 split whatever the weights
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toMatch(/^weights not in effect at step 1: 3 windows in a row: green served 50% of 2000 request\(s\)/);
    const warnings = world.eventsOf("warning").filter((w) => w.message.startsWith("observed split"));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]!.message).toMatch(/the weights say 5% .*: the window is not evidence \(1\/3 in a row fail the step\)/);
    expect(world.eventsOf("judge-reading")).toHaveLength(0);
  });

  test("after-step and post-switch hooks run with the step in their environment", async () => {
    const world = new FakeWorld();
    const result = await runCutover(
      world.deps(),
      request(
        {
          hooks: [
            { name: "smoke", command: "./smoke.sh", timeoutSeconds: 30, when: "after-step" },
            { name: "final", command: "./final.sh", timeoutSeconds: 30, when: "post-switch" },
            { name: "pre", command: "./pre.sh", timeoutSeconds: 30, when: "preflight" },
          ],
        },
        { hookEnv: { BASE_URL: "https://example.test" } },
      ),
    );
    expect(result.outcome).toBe("succeeded");
    expect(world.hooks.runs.map((r) => `${r.command}:${r.env.BLUEGREEN_STEP}:${r.env.BLUEGREEN_WEIGHT_GREEN}`)).toEqual([
      "./pre.sh::0",
      "./smoke.sh:1:5",
      "./smoke.sh:2:25",
      "./smoke.sh:3:100",
      "./final.sh::100",
    ]);
    expect(world.hooks.runs.every((r) => r.timeoutMs === 30_000 && r.env.BASE_URL === "https://example.test")).toBe(true);
  });

  test("starting from a partial split skips the steps already reached", async () => {
    const world = new FakeWorld({ initial: { blue: 75, green: 25 } });
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("succeeded");
    expect(greenOf(world.router.writes)).toEqual([100]);
  });

  test("a recorder failure is a warning, not a rollback", async () => {
    const world = new FakeWorld();
    world.recorder.error = new Error("Pulumi.prod.yaml is read-only");
    const result = await runCutover(world.deps(), request({ strategy: { type: "all-at-once" } }));
    expect(result.outcome).toBe("succeeded");
    expect(world.eventsOf("warning").some((w) => w.message.includes("drift"))).toBe(true);
  });

  test("confirm returning false cancels before anything is written", async () => {
    const world = new FakeWorld();
    let seen: string[] = [];
    const result = await runCutover(world.deps(), request({}, { confirm: async (_plan, lines) => ((seen = lines), false) }));
    expect(result.outcome).toBe("cancelled");
    expect(seen.join("\n")).toContain("Rollback path");
    expect(world.router.writes).toHaveLength(0);
    expect(world.journal.saves).toBe(0);
    expect(world.lock.holder).toBeNull();
  });

  test("previewCutover (dry run) builds and describes the plan without a lock or a write", async () => {
    const world = new FakeWorld({ stickinessSeconds: 300 });
    const preview = await previewCutover(world.deps(), request());
    expect(preview.plan.steps).toHaveLength(3);
    expect(preview.lines.join("\n")).toContain("ModifyRule");
    expect(preview.lines.join("\n")).toContain("stickiness");
    expect(world.router.writes).toHaveLength(0);
    expect(world.lock.log).toHaveLength(0);
  });
});

describe("breaches roll back", () => {
  const cases = [
    { at: 5, where: "step 1" },
    { at: 25, where: "step 2" },
    { at: 100, where: "monitoring" },
  ];
  for (const { at, where } of cases) {
    test(`error-rate breach at ${where} → one verified write to blue 100`, async () => {
      const world = new FakeWorld();
      breachAt(world, at);
      const result = await runCutover(world.deps(), request());
      expect(result.outcome).toBe("rolled-back");
      expect(outcomeExitCode(result.outcome)).toBe(1);
      expect(result.reason).toContain(where === "monitoring" ? "during monitoring" : `at ${where}`);
      // One window above the ceiling is not enough; the second in a row fails the step.
      expect(result.reason).toContain("green 5xx 400/2000 (20%) over two windows in a row is above the ceiling 10% (≥ 10 errors)");
      const atBreach = world.eventsOf("judge-reading").filter((r) => r.counts.green.errors > 0);
      expect(atBreach.map((r) => r.verdict.decision)).toEqual(["continue", "fail"]);
      const greens = greenOf(world.router.writes);
      expect(greens.at(-1)).toBe(0);
      expect(greens.filter((g) => g === 0)).toHaveLength(1);
      expect(greens.slice(0, -1)).toEqual([5, 25, 100].filter((g) => g <= at));
      expect(world.router.current()).toEqual({ blue: 100, green: 0 });
      expect(world.recorder.recorded.at(-1)).toEqual({ blue: 100, green: 0 });
      const stored = parseJournal(world.journal.value);
      expect(stored.phase).toBe("rolled-back");
      expect(stored.rollback?.timeToRollbackMs).toBe(0);
      expect(world.lock.holder).toBeNull();
      const kinds = world.events.map((e) => e.type);
      expect(kinds.indexOf("rollback-started")).toBeLessThan(kinds.indexOf("rollback-complete"));
    });
  }

  test("latency breach against blue's concurrent baseline", async () => {
    const world = new FakeWorld();
    // At 25%, 30% of green's requests are slower than the bound (blue's p95 before the cutover), 1% of blue's.
    const slowGreen = () => ({
      blue: { requests: 3000, errors5xx: 0, p95Ms: 100, p99Ms: 200, slow: 30 },
      green: { requests: 1000, errors5xx: 0, p95Ms: 400, p99Ms: 600, slow: 300 },
    });
    world.metrics.respond(({ window }) => (world.router.weightsAt(window.start).green === 25 ? slowGreen() : replies.ok()));
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toMatch(/^regression at step 2: step-2 FAIL /);
    expect(result.reason).toContain("slow green 900/3000 (30%) blue 90/9000 (1%)");
    expect(result.reason).toContain("green's slow share is worse by at least ×1.5");
    // No single window, nor two, fails a step by the test: three windows of strong evidence at least.
    expect(readingsOf(world, "baking", 1).map((r) => r.verdict.decision)).toEqual(["continue", "continue", "fail"]);
    expect(greenOf(world.router.writes)).toEqual([5, 25, 0]);
  });

  test("an unhealthy green target during the bake rolls back", async () => {
    const world = new FakeWorld();
    world.router.onWrite = (w) => {
      if (w.green === 25) world.health.set("green", { unhealthy: 1 });
    };
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toContain("1 unhealthy");
  });

  test("time to rollback is measured from the breach to traffic verified on blue (virtual clock)", async () => {
    const world = new FakeWorld({ writeLagMs: 2500 });
    breachAt(world, 25);
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("rolled-back");
    // Verify reads back every second: 0, 1000, 2000 (still old), 3000 (blue 100).
    expect(result.timeToRollbackMs).toBe(3000);
    const complete = world.eventsOf("rollback-complete")[0]!;
    expect(complete.timeToRollbackMs).toBe(3000);
    const started = world.eventsOf("rollback-started")[0]!;
    expect(complete.at - started.breachObservedAt).toBe(3000);
    expect(parseJournal(world.journal.value).rollback?.timeToRollbackMs).toBe(3000);
  });

  test("stickiness warns that clients may stay on green", async () => {
    const world = new FakeWorld({ stickinessSeconds: 600 });
    breachAt(world, 5);
    await runCutover(world.deps(), request());
    expect(world.eventsOf("warning").some((w) => w.message.includes("stickiness") && w.message.includes("10m"))).toBe(true);
  });
});

describe("windows without enough traffic, blue's history, and metric errors", () => {
  test("blue's history is read once, before the first window, over the hour before the first write, without taking a poll's reply", async () => {
    const world = new FakeWorld();
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("succeeded");
    expect(world.metrics.seriesCalls).toHaveLength(1);
    const [call] = world.metrics.seriesCalls;
    const firstWrite = world.router.writes[0]!.at;
    expect(call).toEqual({ span: { start: firstWrite - 60 * 60_000, end: firstWrite }, periodMs: 60_000, options: { slowThresholdMs: 120 } });
    expect(world.metrics.calls.length).toBe(4 + world.eventsOf("judge-reading").length);
  });

  test("a metrics source without history: the judge assumes blue's default movement and says so", async () => {
    const calm = new FakeWorld();
    const none = new FakeWorld();
    none.metrics.history = "none";
    expect(none.metrics.series).toBeUndefined();
    const result = await runCutover(none.deps(), request());
    await runCutover(calm.deps(), request());
    expect(result.outcome).toBe("succeeded");
    expect(none.eventsOf("warning").map((w) => w.message)).toEqual([
      expect.stringMatching(
        /blue's history: 1 window\(s\) with traffic .*\(this metrics source keeps no per-window history: the judge assumes blue moves by σ 0\.3 per window\)$/,
      ),
    ]);
    // The assumed movement is wider than a calm blue's: decisions take at least as many windows.
    expect(none.eventsOf("judge-reading").length).toBeGreaterThanOrEqual(calm.eventsOf("judge-reading").length);
  });

  test("windows with too little green traffic extend the bake, and it promotes once the traffic decides", async () => {
    const world = new FakeWorld({ initial: { blue: 75, green: 25 } });
    // Straight to 100%: five quiet windows first (3 green requests each), then busy ones.
    world.metrics.script(...HISTORY_READS, ...Array.from({ length: 5 }, () => replies.quiet()));
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("succeeded");
    const monitoring = readingsOf(world, "monitoring");
    expect(monitoring.slice(0, 5).map((r) => r.counts.green.requests)).toEqual([3, 3, 3, 3, 3]);
    expectPromoted(monitoring, 5);
    const extensions = world.eventsOf("decision").filter((d) => d.decision === "extend");
    expect(extensions.length).toBeGreaterThan(0);
    expect(extensions).toHaveLength(monitoring.at(-1)!.verdict.extensionsUsed);
    expect(monitoring.at(-1)!.verdict.extensionsUsed).toBeLessThanOrEqual(10);
  });

  test("a step whose traffic never decides fails undecided after its extensions: missing data is never a pass", async () => {
    const world = new FakeWorld();
    world.metrics.respond(({ window }) =>
      world.router.weightsAt(window.start).green === 25 ? replies.quiet() : splitReply(world.router.weightsAt(window.start)),
    );
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toMatch(/^step 2 undecided: step-2 UNDECIDED 15\/15 window\(s\), extension 10\/10: .*not enough traffic to decide/);
    const step2 = readingsOf(world, "baking", 1);
    expect(step2).toHaveLength(15);
    expect(step2.some((r) => r.verdict.decision === "promote")).toBe(false);
    expect(step2.at(-1)!.verdict).toMatchObject({ decision: "undecided", windowsJudged: 15, extensionsUsed: 10 });
    expect(greenOf(world.router.writes)).toEqual([5, 25, 0]);
  });

  test("extensions are per step", async () => {
    const world = new FakeWorld();
    // Quiet windows at the start of both steps: each step extends on its own count.
    let quietAt: Record<number, number> = { 5: 5, 25: 5 };
    world.metrics.respond(({ window }) => {
      const weights = world.router.weightsAt(window.start);
      if ((quietAt[weights.green] ?? 0) > 0 && window.start > EPOCH) {
        quietAt = { ...quietAt, [weights.green]: quietAt[weights.green]! - 1 };
        return replies.quiet();
      }
      return splitReply(weights);
    });
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("succeeded");
    const step1 = readingsOf(world, "baking", 0);
    const step2 = readingsOf(world, "baking", 1);
    expectPromoted(step1, 5);
    expectPromoted(step2, 5);
    expect(step1.at(-1)!.verdict.extensionsUsed).toBeGreaterThan(0);
    expect(step2[0]!.verdict.extensionsUsed).toBe(0);
    expect(step2.at(-1)!.verdict.extensionsUsed).toBeGreaterThan(0);
  });

  test("metric-provider errors fail after maxConsecutiveMetricErrors in a row", async () => {
    const world = new FakeWorld();
    // preflight's two reads, then the history's first read fails three times in a row
    world.metrics.script(replies.ok(), replies.ok(), replies.ok(), replies.error(), replies.error(), replies.error());
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toContain("metrics unavailable 3 time(s) in a row: GetMetricData throttled");
    expect(world.eventsOf("metric-error").map((e) => e.consecutive)).toEqual([1, 2, 3]);
  });

  test("errors that are not in a row do not fail, and a failed read is never a window", async () => {
    const world = new FakeWorld();
    world.metrics.script(...HISTORY_READS, replies.error(), replies.error(), replies.ok(), replies.error(), replies.error(), replies.ok());
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("succeeded");
    expect(
      world
        .eventsOf("metric-error")
        .filter((e) => e.step === 0)
        .map((e) => e.consecutive),
    ).toEqual([1, 2, 1, 2]);
    // A failed read is never a window: the step's windows are only the ones read, each once.
    const step1 = readingsOf(world, "baking", 0);
    expectPromoted(step1, 5);
    const windows = step1.map((r) => r.window.start);
    expect(new Set(windows).size).toBe(windows.length);
    expect(step1.map((r) => r.poll).slice(0, 2)).toEqual([3, 6]);
  });

  test("a health-probe error during a bake counts as a provider error", async () => {
    const world = new FakeWorld();
    world.router.onWrite = (w) => {
      if (w.green === 5) world.health.error = new Error("DescribeTargetHealth throttled");
      if (w.green === 0) world.health.error = null;
    };
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toContain("DescribeTargetHealth throttled");
  });
});

describe("verification", () => {
  test("weights that never read back time out and roll back", async () => {
    const world = new FakeWorld();
    world.router.refuseToConverge = (w, route) => w.green === 25 && route.includes("listener-rule");
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toContain("did not read back within 1m");
    expect(result.reason).toContain("blue 95 / green 5"); // the rule still forwards the old split
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    const verify = world.eventsOf("weights-verified").find((v) => !v.ok)!;
    expect(verify.waitedMs).toBe(60_000);
  });

  test("a slow write that reads back within the timeout is fine", async () => {
    const world = new FakeWorld({ writeLagMs: 45_000 });
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("succeeded");
    expect(world.eventsOf("weights-verified").map((v) => v.waitedMs)).toEqual([45_000, 45_000, 45_000]);
  });

  test("a write error rolls back", async () => {
    const world = new FakeWorld();
    world.router.onWrite = (w) => {
      if (w.green === 5) world.router.failWrites = 1;
    };
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toContain("write throttled");
  });

  test("a rollback that cannot verify is reported as failed-rollback after bounded retries", async () => {
    const world = new FakeWorld();
    breachAt(world, 5);
    world.router.refuseToConverge = (w) => w.green === 0;
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("failed-rollback");
    expect(outcomeExitCode(result.outcome)).toBe(1);
    expect(greenOf(world.router.writes)).toEqual([5, 0, 0, 0]);
    const stored = parseJournal(world.journal.value);
    expect(stored.phase).toBe("failed-rollback");
    expect(stored.rollback?.detail).toContain("NOT verified");
    // Retrying with `rollback` once the router behaves again works.
    world.router.refuseToConverge = null;
    const again = await runRollback(world.deps(), { owner: OWNER, databaseMode: "shared", reason: "retry" });
    expect(again.outcome).toBe("rolled-back");
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
  });
});

describe("hooks", () => {
  const smoke = { name: "smoke", command: "./smoke.sh", timeoutSeconds: 60, when: "after-step" as const };

  test("a failing after-step hook rolls back", async () => {
    const world = new FakeWorld();
    let runs = 0;
    world.hooks.on("./smoke.sh", () => ({ exitCode: ++runs === 2 ? 3 : 0, timedOut: false, durationMs: 500, outputTail: "" }));
    const result = await runCutover(world.deps(), request({ hooks: [smoke] }));
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toBe("hook smoke (after-step) exited with code 3");
    expect(greenOf(world.router.writes)).toEqual([5, 25, 0]);
  });

  test("a hook timeout rolls back", async () => {
    const world = new FakeWorld();
    world.hooks.timeout("./smoke.sh");
    const result = await runCutover(world.deps(), request({ hooks: [smoke] }));
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toBe("hook smoke (after-step) timed out after 60s");
    expect(world.eventsOf("hook-result")[0]).toMatchObject({ ok: false, result: { timedOut: true, durationMs: 60_000 } });
  });

  test("a hook runner that throws rolls back", async () => {
    const world = new FakeWorld();
    world.hooks.on("./smoke.sh", () => {
      throw new Error("spawn ENOENT");
    });
    const result = await runCutover(world.deps(), request({ hooks: [smoke] }));
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toContain("could not run: spawn ENOENT");
  });

  test("a failing post-switch hook rolls back from 100%", async () => {
    const world = new FakeWorld();
    world.hooks.fail("./final.sh", 1);
    const result = await runCutover(world.deps(), request({ hooks: [{ ...smoke, name: "final", command: "./final.sh", when: "post-switch" }] }));
    expect(result.outcome).toBe("rolled-back");
    expect(greenOf(world.router.writes)).toEqual([5, 25, 100, 0]);
  });

  test("a failing preflight hook refuses before anything moves", async () => {
    const world = new FakeWorld();
    world.hooks.fail("./pre.sh", 2);
    const result = await runCutover(world.deps(), request({ hooks: [{ ...smoke, name: "pre", command: "./pre.sh", when: "preflight" }] }));
    expect(result.outcome).toBe("preflight-failed");
    expect(world.router.writes).toHaveLength(0);
    expect(world.snapshotter.calls).toHaveLength(0);
  });
});

describe("preflight refuses before any weight moves", () => {
  const cases: { name: string; arrange: (world: FakeWorld) => void; expected: string }[] = [
    { name: "green has an unhealthy target", arrange: (w) => w.health.set("green", { unhealthy: 1, total: 3 }), expected: "green-health" },
    { name: "green has too few healthy targets", arrange: (w) => w.health.set("green", { healthy: 1, total: 1 }), expected: "needs ≥ 2 healthy" },
    { name: "blue is unhealthy", arrange: (w) => w.health.set("blue", { healthy: 0, unhealthy: 2 }), expected: "blue-health" },
    { name: "an alarm is firing", arrange: (w) => (w.alarms.names = ["prod-green-5xx"]), expected: "in ALARM: prod-green-5xx" },
    {
      name: "the alarm source is unreachable",
      arrange: (w) => (w.alarms.error = new Error("DescribeAlarms denied")),
      expected: "alarms: error: DescribeAlarms denied",
    },
    {
      name: "the snapshot fails",
      arrange: (w) => (w.snapshotter.error = new Error("InvalidDBInstanceState")),
      expected: "snapshot of blue's database failed: InvalidDBInstanceState",
    },
    { name: "the snapshot times out", arrange: (w) => (w.snapshotter.durationMs = 2 * 3600_000), expected: "snapshot not available after" },
    { name: "the routes disagree", arrange: (w) => w.router.set({ blue: 90, green: 10 }, w.router.routes[1]), expected: "routes disagree" },
  ];
  for (const { name, arrange, expected } of cases) {
    test(name, async () => {
      const world = new FakeWorld();
      arrange(world);
      const result = await runCutover(world.deps(), request());
      expect(result.outcome).toBe("preflight-failed");
      expect(outcomeExitCode(result.outcome)).toBe(1);
      expect(result.reason).toContain(expected);
      expect(world.router.writes).toHaveLength(0);
      expect(world.recorder.recorded).toHaveLength(0);
      expect(parseJournal(world.journal.value).phase).toBe("preflight-failed");
      expect(world.lock.holder).toBeNull();
    });
  }

  test("all failing checks are reported together; the slow snapshot is not attempted", async () => {
    const world = new FakeWorld();
    world.health.set("green", { unhealthy: 1 });
    world.alarms.names = ["a"];
    const result = await runCutover(world.deps(), request());
    expect(result.reason).toContain("green-health");
    expect(result.reason).toContain("alarms");
    expect(world.snapshotter.calls).toHaveLength(0);
  });

  test("an explicitly skipped snapshot is recorded in the journal", async () => {
    const world = new FakeWorld();
    const result = await runCutover(world.deps(), request({ strategy: { type: "all-at-once" } }, { skipSnapshot: "nightly snapshot at 03:00 suffices" }));
    expect(result.outcome).toBe("succeeded");
    expect(world.snapshotter.calls).toHaveLength(0);
    expect(parseJournal(world.journal.value).snapshot).toEqual({ taken: false, reason: "nightly snapshot at 03:00 suffices" });
    expect(world.eventsOf("warning").some((w) => w.message.includes("no snapshot"))).toBe(true);
  });

  test("a journal written before outcome and snapshot.skipped were dropped still parses, without them", async () => {
    const world = new FakeWorld();
    await runCutover(world.deps(), request({ strategy: { type: "all-at-once" } }, { skipSnapshot: "test" }));
    const old = JSON.parse(JSON.stringify(world.journal.value)) as Record<string, any>;
    old.outcome = "succeeded";
    old.snapshot = { taken: false, skipped: true, reason: "test" };
    const parsed = parseJournal(JSON.stringify(old));
    expect(parsed).not.toHaveProperty("outcome");
    expect(parsed.snapshot).toEqual({ taken: false, reason: "test" });
    expect(outcomeOf(parsed)).toBe("succeeded");
    expect(outcomeOf({ phase: "baking" })).toBeNull();
  });

  test("snapshot disabled in config is recorded as skipped", async () => {
    const world = new FakeWorld();
    await runCutover(world.deps(), request({ strategy: { type: "all-at-once" }, snapshot: { enabled: false, timeoutSeconds: 600 } }));
    expect(parseJournal(world.journal.value).snapshot).toMatchObject({ taken: false, reason: expect.stringContaining("disabled") });
  });
});

describe("lock", () => {
  test("a second cutover refuses and names the holder", async () => {
    const world = new FakeWorld();
    world.lock.holder = { owner: "bob@ops-2 pid 77", since: world.clock.now() - 60_000, operation: "cutover", runId: "other" };
    const error = await runCutover(world.deps(), request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as LockHeldError).holder.owner).toBe("bob@ops-2 pid 77");
    expect((error as Error).message).toContain("bob@ops-2 pid 77");
    expect(world.router.writes).toHaveLength(0);
    expect(world.lock.holder?.owner).toBe("bob@ops-2 pid 77");
  });

  test("two concurrent cutovers: exactly one runs", async () => {
    const world = new FakeWorld();
    const results = await Promise.allSettled([
      runCutover(world.deps(), request({ strategy: { type: "all-at-once" } }, { owner: "a" })),
      runCutover(world.deps(), request({ strategy: { type: "all-at-once" } }, { owner: "b", runId: "second" })),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(LockHeldError);
  });

  test("rollback --force during a running cutover: the cutover notices, stops, and touches nothing more", async () => {
    const world = new FakeWorld();
    let rollback: Promise<unknown> | null = null;
    let at25 = 0;
    world.metrics.respond(() => {
      // At the second window read at 25%.
      if (world.router.current().green === 25 && ++at25 === 2 && rollback === null)
        rollback = runRollback(world.deps(), { owner: "bob", databaseMode: "shared", force: true, reason: "bob saw errors" });
      return replies.ok();
    });
    const result = await runCutover(world.deps(), request());
    await rollback;
    expect(result.outcome).toBe("aborted");
    expect(greenOf(world.router.writes)).toEqual([5, 25, 0]);
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    const stored = parseJournal(world.journal.value);
    expect(stored.phase).toBe("rolled-back");
    expect(stored.timeline.some((e) => e.type === "lock" && e.action === "broken")).toBe(true);
    expect(world.lock.holder).toBeNull();
  });

  test("a forced rollback racing a step write is not overridden", async () => {
    const world = new FakeWorld();
    world.router.onWrite = (w) => {
      if (w.green === 25) world.lock.holder = { owner: "bob", since: world.clock.now(), operation: "rollback", runId: "bob-run" };
    };
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("aborted");
    expect(greenOf(world.router.writes)).toEqual([5, 25, 0]);
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    expect(world.lock.holder?.owner).toBe("bob");
  });

  test("a lock left behind by a run that already finished is removed", async () => {
    const world = new FakeWorld();
    await runCutover(world.deps(), request({ strategy: { type: "all-at-once" } }, { runId: "first" }));
    world.lock.holder = { owner: "dead pid 1", since: 0, operation: "cutover", runId: "first" }; // died before releasing
    world.router.set({ blue: 100, green: 0 });
    world.clock.advance(15 * 60_000); // blue serves again long enough for the judge's reference
    const result = await runCutover(world.deps(), request({ strategy: { type: "all-at-once" } }, { runId: "second" }));
    expect(result.outcome).toBe("succeeded");
    expect(world.eventsOf("lock").some((e) => e.action === "taken-over")).toBe(true);
  });
});

describe("journal store failures", () => {
  test("cutover: the journal cannot be saved mid-run → best-effort rollback, then the store's error", async () => {
    const world = new FakeWorld();
    let saves = 0;
    const journal = {
      load: () => world.journal.load(),
      save: async (j: unknown) => {
        if (++saves > 15) throw new Error("SSM PutParameter: ThrottlingException");
        await world.journal.save(j);
      },
    };
    await expect(runCutover(world.deps({ journal }), request())).rejects.toThrow(/ThrottlingException/);
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    expect(world.eventsOf("rollback-complete")[0]).toMatchObject({ ok: true });
    expect(world.lock.holder).toBeNull();
  });

  test("rollback: traffic goes back to blue even when the journal cannot be saved", async () => {
    const world = new FakeWorld({ initial: { blue: 0, green: 100 } });
    const journal = { load: () => world.journal.load(), save: async () => Promise.reject(new Error("disk full")) };
    const result = await runRollback(world.deps({ journal }), { owner: "bob", databaseMode: "shared" });
    expect(result.outcome).toBe("rolled-back");
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    expect(world.eventsOf("warning").some((w) => w.message.includes("disk full"))).toBe(true);
  });
});

describe("journal states the CLI must refuse", () => {
  test("a new cutover refuses while an unfinished run exists", async () => {
    const world = new FakeWorld();
    const first = await runCutover(world.deps(), request({}, { runId: "r1" }));
    expect(first.outcome).toBe("succeeded");
    const stored = world.journal.value;
    stored.phase = "baking";
    stored.step = 0;
    stored.bake = { passes: 1, polls: 1, extensionsUsed: 0, consecutiveMetricErrors: 0, startedAt: 0 };
    world.journal.setRaw(JSON.stringify(stored));
    await expect(runCutover(world.deps(), request())).rejects.toThrow(EngineInputError);
    await expect(runCutover(world.deps(), request())).rejects.toThrow(/--resume/);
    expect(world.lock.holder).toBeNull();
  });

  test("--resume with no journal, or a finished one, is refused", async () => {
    const world = new FakeWorld();
    await expect(runCutover(world.deps(), request({}, { resume: true }))).rejects.toThrow(/no cutover journal to resume/);
    await runCutover(world.deps(), request({ strategy: { type: "all-at-once" } }));
    await expect(runCutover(world.deps(), request({}, { resume: true }))).rejects.toThrow(/already ended \(succeeded\)/);
  });

  test("a corrupt journal is a clear error for cutover", async () => {
    const world = new FakeWorld();
    world.journal.setRaw(JSON.stringify({ format: "bluegreen-cutover-journal", version: 1, runId: "x", phase: "dancing" }));
    await expect(runCutover(world.deps(), request({}, { resume: true }))).rejects.toThrow(/journal is corrupt: operation/);
    expect(world.router.writes).toHaveLength(0);
  });

  test("paired mode without the paired ports is refused", async () => {
    const world = new FakeWorld();
    const deps = world.deps();
    delete deps.fence;
    await expect(runCutover(deps, request({ strategy: { type: "all-at-once" } }, { databaseMode: "paired" }))).rejects.toThrow(/needs the fence port/);
  });
});
