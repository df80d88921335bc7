// `pause` and `abort` from another terminal, on the virtual clock over the fakes: the running
// cutover reads the request channel once per poll of a bake and obeys only a request addressed to
// its own session (run id and lock); a pause holds the current step until `promote`; an abort
// stops the run without touching traffic and the rollback that follows sends it back to blue.

import { describe, expect, test } from "vitest";
import { currentPause, runCutover, runRollback, type CutoverRequest } from "../../scripts/core/engine.js";
import { parseJournal, type Journal } from "../../scripts/core/journal.js";
import { answerPause, parseOperatorRequest, type OperatorRequest } from "../../scripts/core/operatorRequest.js";
import type { LockHolder } from "../../scripts/core/ports.js";
import { FakeWorld, testRollout } from "../support/fakes.js";

const ALICE = "alice@ops-1 pid 4242";
const BOB = "bob@ops-2 pid 77";
const MINUTE = 60_000;

const request = (extra: Partial<CutoverRequest> = {}): CutoverRequest => ({
  rollout: testRollout(),
  databaseMode: "shared",
  owner: ALICE,
  stack: "prod",
  ...extra,
});

/** Once the running cutover is baking at `step` (0-based), BOB writes a request for its session. */
function requestWhileBaking(world: FakeWorld, kind: OperatorRequest["kind"], step: number, reason: string | null = null): void {
  let sent = false;
  const read = world.requests.read.bind(world.requests);
  world.requests.read = async () => {
    const holder = world.lock.holder;
    const journal = world.journal.value as Journal | null;
    if (!sent && holder && journal?.phase === "baking" && journal.step === step) {
      sent = true;
      await world.requests.write({ kind, runId: journal.runId, holderSince: holder.since, by: BOB, at: world.clock.now(), reason });
    }
    return read();
  };
}

describe("pause", () => {
  test("holds the current step at the next poll; promote continues it to the end", async () => {
    const world = new FakeWorld();
    requestWhileBaking(world, "pause", 1, "smoke tests flaky");
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("paused");
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([5, 25]);
    expect(world.lock.holder).toBeNull();
    expect(world.requests.stored).toBeNull(); // honoured once, then cleared
    const journal = parseJournal(world.journal.value);
    expect(journal).toMatchObject({ phase: "paused", step: 1 });
    expect(currentPause(journal)).toMatchObject({ step: 1, kind: "promote", until: null, requestedBy: `${BOB} (reason: smoke tests flaky)` });
    const decision = world.eventsOf("decision").find((d) => d.decision === "pause")!;
    expect(decision.reason).toContain(`paused at step 2 (blue 75 / green 25) at the request of ${BOB} (reason: smoke tests flaky) until an operator runs`);

    world.clock.advance(30 * MINUTE);
    const promoted = await runCutover(world.deps(), request({ owner: BOB, resume: true }));
    expect(promoted.outcome).toBe("succeeded");
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([5, 25, 100]);
  });

  test("an operator's pause does not use up the step's own planned pause", async () => {
    const world = new FakeWorld();
    requestWhileBaking(world, "pause", 1);
    const planned = request({ rollout: testRollout({ strategy: { type: "canary", steps: [5, { percent: 25, pause: "promote" }, 100] } }) });
    expect((await runCutover(world.deps(), planned)).outcome).toBe("paused");
    // Promoted from the operator's pause: the bake of step 2 goes on, then the planned pause holds.
    const second = await runCutover(world.deps(), { ...planned, owner: BOB, resume: true });
    expect(second.outcome).toBe("paused");
    const pauses = (parseJournal(world.journal.value) as Journal & { pauses: { requestedBy?: string }[] }).pauses;
    expect(pauses.map((p) => p.requestedBy !== undefined)).toEqual([true, false]);
    expect((await runCutover(world.deps(), { ...planned, owner: BOB, resume: true })).outcome).toBe("succeeded");
  });

  test("a request for another session (an earlier lock of the same run, another run) is never obeyed nor removed", async () => {
    const world = new FakeWorld();
    const stale = { kind: "pause", runId: `run-${world.clock.now()}`, holderSince: world.clock.now() - 1, by: BOB, at: 0, reason: null } as const;
    await world.requests.write(stale);
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("succeeded");
    expect(world.requests.reads).toBeGreaterThan(3); // read at every poll
    expect(world.requests.clears).toBe(0);
    expect(JSON.parse(world.requests.stored!)).toEqual(stale);
  });

  test("while monitoring there is no step to hold: declined with a warning, the run succeeds", async () => {
    const world = new FakeWorld();
    let sent = false;
    const read = world.requests.read.bind(world.requests);
    world.requests.read = async () => {
      const journal = world.journal.value as Journal | null;
      if (!sent && journal?.phase === "monitoring" && world.lock.holder) {
        sent = true;
        await world.requests.write({ kind: "pause", runId: journal.runId, holderSince: world.lock.holder.since, by: BOB, at: 0, reason: null });
      }
      return read();
    };
    const result = await runCutover(world.deps(), request());
    expect(sent).toBe(true);
    expect(result.outcome).toBe("succeeded");
    expect(world.eventsOf("warning").map((w) => w.message)).toContainEqual(
      expect.stringMatching(/pause requested by bob.* while monitoring: .*no step to hold/),
    );
  });

  test("a channel that cannot be read never stops a cutover: said once", async () => {
    const world = new FakeWorld();
    world.requests.failWith = new Error("AccessDenied");
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("succeeded");
    expect(world.eventsOf("warning").filter((w) => w.message.includes("could not read operator requests"))).toHaveLength(1);
  });
});

describe("abort", () => {
  test("stops the run at the next poll without touching traffic; the rollback then sends it back to blue", async () => {
    const world = new FakeWorld();
    requestWhileBaking(world, "abort", 1, "customer complaints");
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("aborted");
    expect(result.reason).toBe(`aborted by ${BOB} (reason: customer complaints)`);
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([5, 25]);
    expect(world.lock.holder).toBeNull();
    // The journal is left in its last saved phase for the rollback, which owns traffic now.
    expect(parseJournal(world.journal.value)).toMatchObject({ phase: "baking", step: 1 });
    const rollback = await runRollback(world.deps(), { owner: BOB, databaseMode: "shared", reason: "customer complaints", force: "except-rollback" });
    expect(rollback.outcome).toBe("rolled-back");
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
  });
});

describe("what `pause` answers (pure)", () => {
  const journal = (phase: Journal["phase"], step: number | null = 1) => ({ runId: "r1", phase, step, plan: {} }) as unknown as Journal;
  const cutover: LockHolder = { owner: ALICE, since: 5, operation: "cutover", runId: "r1" };

  test.each([
    ["baking", cutover, "request"],
    ["writing", cutover, "request"],
    ["monitoring", cutover, "refused"],
    ["paused", null, "already-paused"],
    ["baking", null, "refused"],
    ["baking", { ...cutover, runId: "other" }, "refused"],
    ["rolling-back", { ...cutover, operation: "rollback" }, "refused"],
    ["succeeded", null, "refused"],
  ] as const)("phase %s, holder %j → %s", (phase, holder, kind) => {
    expect(answerPause(journal(phase), holder).kind).toBe(kind);
  });

  test("no journal: nothing to pause", () => {
    expect(answerPause(null, null)).toEqual({ kind: "refused", reason: "no cutover is running on this stack: nothing to pause" });
  });

  test("a damaged or foreign record is not a request", () => {
    expect(parseOperatorRequest({ kind: "pause", runId: "r", holderSince: 1, by: "x", at: 2, reason: null })).not.toBeNull();
    for (const bad of [
      null,
      "pause",
      { kind: "stop", runId: "r", holderSince: 1, by: "x", at: 2, reason: null },
      { kind: "pause", runId: "", holderSince: 1, by: "x", at: 2, reason: null },
      { kind: "abort", runId: "r", by: "x", at: 2, reason: null },
    ])
      expect(parseOperatorRequest(bad)).toBeNull();
  });
});
