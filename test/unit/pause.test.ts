// Steps that pause, on the virtual clock: the cutover stops in "paused" and exits 0 with the lock
// released; promote (cutover --resume) continues with the same judge and the step's evidence
// carried over; a timed pause refuses an early promote unless --now; rollback works from
// "paused"; after a successful cutover, blue scaled down (opt-in) and a rollback scaling it back.

import { describe, expect, test } from "vitest";
import { parseStackConfig, type RolloutConfig } from "../../infra/config.js";
import {
  currentPause,
  EngineInputError,
  outcomeExitCode,
  pausesOf,
  runCutover,
  runRollback,
  runScaleDownBlue,
  type CutoverRequest,
} from "../../scripts/core/engine.js";
import type { JournalEvent } from "../../scripts/core/events.js";
import { parseJournal } from "../../scripts/core/journal.js";
import { canTransition } from "../../scripts/core/phases.js";
import { buildPlan, describePlan } from "../../scripts/core/plan.js";
import { FakeFleet } from "../support/fakeCapacity.js";
import { FakeWorld, replies, testRollout } from "../support/fakes.js";

const ALICE = "alice@ops-1 pid 4242";
const BOB = "bob@ops-2 pid 77";
const HOUR = 3_600_000;

function request(
  steps: RolloutConfig["strategy"] & { type: "canary" },
  extra: Partial<CutoverRequest> = {},
  overrides: Partial<RolloutConfig> = {},
): CutoverRequest {
  return { rollout: testRollout({ strategy: steps, ...overrides }), databaseMode: "shared", owner: ALICE, stack: "prod", ...extra };
}
const promoteAt25 = { type: "canary" as const, steps: [5, { percent: 25, pause: "promote" }, 100] };
const timedAt25 = { type: "canary" as const, steps: [5, { percent: 25, pause: "36h" }, 100] };
const promote = (owner = BOB, extra: Partial<CutoverRequest> = {}, overrides: Partial<RolloutConfig> = {}) =>
  request(promoteAt25, { owner, resume: true, ...extra }, overrides);
/** The rollout policy's defaults, as a stack config without `rollout` gets them. */
const defaultRollout = () =>
  parseStackConfig({
    region: "eu-west-1",
    network: { mode: "create", availabilityZones: ["eu-west-1a", "eu-west-1b"] },
    app: { blue: { amiId: "ami-0abc12345def67890", userData: "x" }, green: { amiId: "ami-0abc12345def67890", userData: "x" } },
    database: { mode: "shared" },
    traffic: { weights: { blue: 100, green: 0 } },
  }).rollout;
const readingsOf = (timeline: JournalEvent[], step: number) =>
  timeline.filter((e): e is Extract<JournalEvent, { type: "judge-reading" }> => e.type === "judge-reading" && e.step === step);

describe("the state machine", () => {
  test("baking → paused → baking; paused → rolling-back and aborted; nothing else", () => {
    expect(canTransition("baking", "paused")).toBe(true);
    expect(canTransition("paused", "baking")).toBe(true);
    expect(canTransition("paused", "rolling-back")).toBe(true);
    expect(canTransition("paused", "aborted")).toBe(true);
    expect(canTransition("paused", "writing")).toBe(false);
    expect(canTransition("paused", "succeeded")).toBe(false);
    expect(canTransition("hooks", "paused")).toBe(false);
  });

  test("the plan carries and prints each pause; the last step never pauses", () => {
    const plan = buildPlan(testRollout({ strategy: { type: "canary", steps: [{ percent: 5, pause: "36h" }, { percent: 25, pause: "promote" }, 100] } }), {
      databaseMode: "shared",
    });
    expect(plan.steps.map((step) => step.pause)).toEqual([{ kind: "timed", ms: 36 * HOUR }, { kind: "promote" }, undefined]);
    const text = describePlan(plan, []).join("\n");
    expect(text).toContain("then PAUSE for 36h, then `npm run promote`: the cutover exits 0");
    expect(text).toContain("then PAUSE until an operator runs `npm run promote`");
    expect(() => buildPlan(testRollout({ strategy: { type: "canary", steps: [{ percent: 5, pause: "soon" }, 100] } }), { databaseMode: "shared" })).toThrow(
      /pause must be "promote" or a duration/,
    );
  });
});

describe("pause: promote", () => {
  test("the cutover stops after the step's bake, exits 0, releases the lock, and the journal says where", async () => {
    const world = new FakeWorld();
    const result = await runCutover(world.deps(), request(promoteAt25));
    expect(result.outcome).toBe("paused");
    expect(outcomeExitCode(result.outcome)).toBe(0);
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([5, 25]);
    expect(world.router.current()).toEqual({ blue: 75, green: 25 });
    expect(world.lock.holder).toBeNull();
    const journal = parseJournal(world.journal.value);
    expect(journal.phase).toBe("paused");
    expect(journal.step).toBe(1);
    expect(currentPause(journal)).toMatchObject({ step: 1, kind: "promote", until: null, promotedBy: null });
    expect(currentPause(journal)!.evidence).not.toBeNull();
    const decision = world.eventsOf("decision").find((d) => d.decision === "pause")!;
    expect(decision.reason).toContain("paused at step 2 (blue 75 / green 25) until an operator runs `npm run promote`");
    // A new cutover is refused while the rollout is paused.
    await expect(runCutover(world.deps(), request(promoteAt25))).rejects.toThrow(/phase "paused".*cutover --resume.*rollback/);
  });

  test("promote continues with the same judge: the step's evidence is carried over, fresh windows after the pause", async () => {
    const world = new FakeWorld();
    // The stack's default gates: the sequential judge, whose evidence is journaled (journal.judge).
    const judged = { gates: { ...defaultRollout().gates, minHealthyTargets: 2 } };
    await runCutover(world.deps(), request(promoteAt25, {}, judged));
    const paused = parseJournal(world.journal.value) as ReturnType<typeof parseJournal> & { judge?: unknown };
    const before = readingsOf(paused.timeline, 1);
    const pausedAt = world.clock.now();
    world.clock.advance(20 * HOUR); // an operator comes back the next day

    const result = await runCutover(world.deps(), promote(BOB, {}, judged));
    expect(result.outcome).toBe("succeeded");
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([5, 25, 100]);
    const journal = result.journal!;
    const windowsAfter = journal.timeline
      .slice(paused.timeline.length)
      .filter((e): e is Extract<JournalEvent, { type: "judge-reading" }> => e.type === "judge-reading" && e.step === 1);
    expect(windowsAfter.length).toBeGreaterThan(0);
    // Fresh windows: none of them lies in the pause.
    expect(windowsAfter.every((r) => r.window.start >= pausedAt + 20 * HOUR)).toBe(true);
    // Carried over: the judge's count of windows for the step goes on from where it stood.
    expect(before.length).toBeGreaterThan(0);
    expect(paused.judge).toBeTruthy();
    const after = readingsOf(journal.timeline, 1).slice(before.length);
    expect(after[0]!.verdict.windowsJudged).toBe(before.at(-1)!.verdict.windowsJudged + 1);
    expect(pausesOf(journal)).toEqual([expect.objectContaining({ step: 1, promotedBy: BOB, early: false })]);
    const promoted = journal.timeline.find((e) => e.type === "decision" && e.reason.startsWith("promoted by"));
    expect(promoted).toMatchObject({ decision: "proceed" });
    expect((promoted as { reason: string }).reason).toContain("after 20h");
  });

  test("a step that regresses after the pause is rolled back by the same judge", async () => {
    const world = new FakeWorld();
    await runCutover(world.deps(), request(promoteAt25));
    world.metrics.respond(() => replies.errors(0.3));
    const result = await runCutover(world.deps(), promote());
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toMatch(/step 2/);
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
  });

  test("promote refuses to continue into a firing alarm: it rolls back", async () => {
    const world = new FakeWorld();
    await runCutover(world.deps(), request(promoteAt25));
    world.alarms.names = ["prod-green-target-5xx-rate"];
    const result = await runCutover(world.deps(), promote());
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toContain("in ALARM: prod-green-target-5xx-rate");
  });

  test("rollback works from paused, by anyone, without --force (no process holds the lock)", async () => {
    const world = new FakeWorld();
    await runCutover(world.deps(), request(promoteAt25));
    const result = await runRollback(world.deps(), { owner: BOB, databaseMode: "shared", reason: "guard: alarm" });
    expect(result.outcome).toBe("rolled-back");
    expect(result.brokeLock).toBeNull();
    expect(result.journal.failure).toMatchObject({ phase: "paused", step: 1 });
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    await expect(runCutover(world.deps(), promote())).rejects.toBeInstanceOf(EngineInputError);
  });
});

describe("pause: a duration", () => {
  test("an early promote is refused with the time it continues, nothing changed; --now continues early", async () => {
    const world = new FakeWorld();
    expect((await runCutover(world.deps(), request(timedAt25))).outcome).toBe("paused");
    const paused = parseJournal(world.journal.value);
    expect(currentPause(paused)).toMatchObject({ kind: "timed", until: world.clock.now() + 36 * HOUR });
    const saves = world.journal.saves;

    world.clock.advance(2 * HOUR);
    const early = await runCutover(world.deps(), request(timedAt25, { owner: BOB, resume: true })).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(EngineInputError);
    expect((early as Error).message).toContain("lasts until");
    expect((early as Error).message).toContain("34h from now");
    expect(world.journal.saves).toBe(saves);
    expect(world.lock.holder).toBeNull();

    const result = await runCutover(world.deps(), request(timedAt25, { owner: BOB, resume: true, pauseNow: true }));
    expect(result.outcome).toBe("succeeded");
    expect(pausesOf(result.journal!)[0]).toMatchObject({ early: true, promotedBy: BOB });
  });

  test("once the time is up, promote continues without --now", async () => {
    const world = new FakeWorld();
    await runCutover(world.deps(), request(timedAt25));
    world.clock.advance(36 * HOUR);
    const result = await runCutover(world.deps(), request(timedAt25, { owner: BOB, resume: true }));
    expect(result.outcome).toBe("succeeded");
    expect(pausesOf(result.journal!)[0]).toMatchObject({ early: false });
  });

  test("two pausing steps pause twice, each once", async () => {
    const world = new FakeWorld();
    const steps = { type: "canary" as const, steps: [{ percent: 5, pause: "promote" }, { percent: 25, pause: "1h" }, 100] };
    expect((await runCutover(world.deps(), request(steps))).outcome).toBe("paused");
    expect((await runCutover(world.deps(), request(steps, { resume: true }))).outcome).toBe("paused");
    world.clock.advance(HOUR);
    const result = await runCutover(world.deps(), request(steps, { resume: true }));
    expect(result.outcome).toBe("succeeded");
    expect(pausesOf(result.journal!).map((p) => p.step)).toEqual([0, 1]);
  });
});

describe("blue scaled down after the switch (opt-in), and back for a rollback", () => {
  const withCapacity = { capacity: { mode: "check" as const, headroom: 0, scaleTimeoutSeconds: 600, scaleDownBlue: true }, blueKeepSeconds: 7200 };

  test("not before blueKeepSeconds (unless early); then to the group's minimum; a rollback scales it back first", async () => {
    const world = new FakeWorld();
    const fleet = new FakeFleet(world.clock, { blue: { desired: 4, min: 1 }, green: { desired: 4, min: 1 } });
    const deps = world.deps({ health: fleet, capacity: fleet });
    expect((await runCutover(deps, request({ type: "canary", steps: [5, 25, 100] }, {}, withCapacity))).outcome).toBe("succeeded");

    await expect(runScaleDownBlue(deps, { owner: ALICE })).rejects.toThrow(/blue keeps its capacity until .* \(rollout.blueKeepSeconds, 2h from now\)/);
    expect(fleet.setDesiredCalls).toHaveLength(0);
    world.clock.advance(2 * HOUR);
    const scaled = await runScaleDownBlue(deps, { owner: ALICE });
    expect(scaled).toMatchObject({ from: 4, to: 1 });
    expect(fleet.desired("blue")).toBe(1);
    expect(world.lock.holder).toBeNull();
    await expect(runScaleDownBlue(deps, { owner: ALICE })).rejects.toThrow(/already scaled down/);

    const rollback = await runRollback(deps, { owner: BOB, databaseMode: "shared", reason: "late regression" });
    expect(rollback.outcome).toBe("rolled-back");
    expect(fleet.desired("blue")).toBe(4);
    const scaleBack = rollback.journal.timeline.find((e) => e.type === "decision" && e.decision === "scale" && e.reason.includes("before the flip"))!;
    const flip = rollback.journal.timeline.filter((e) => e.type === "weights-written").at(-1)!;
    expect(flip.at - scaleBack.at).toBeGreaterThanOrEqual(fleet.launchMs + fleet.healthCheckMs);
    expect((await fleet.health("blue")).healthy).toBe(4);
  });

  test("refused when the plan did not opt in", async () => {
    const world = new FakeWorld();
    const fleet = new FakeFleet(world.clock, { blue: { desired: 4, min: 1 }, green: { desired: 4 } });
    const deps = world.deps({ health: fleet, capacity: fleet });
    await runCutover(
      deps,
      request({ type: "canary", steps: [5, 25, 100] }, {}, { ...withCapacity, capacity: { ...withCapacity.capacity, scaleDownBlue: false } }),
    );
    world.clock.advance(3 * HOUR);
    await expect(runScaleDownBlue(deps, { owner: ALICE })).rejects.toThrow(/scaleDownBlue is not true/);
  });
});
