// Rollback repairs a lost write within its deadline: a ModifyListener that AWS accepted but did
// not apply on one of two listeners is written again while the deadline still leaves room, with
// the defaults (60 s deadline, the plan's 60 s verify timeout). And a lock left by a process that
// died on this host is taken over without a second command; a live holder is still refused.

import { describe, expect, test } from "vitest";
import { runCutover, runRollback, type RollbackRequest } from "../../scripts/core/engine.js";
import { verifyWindowMs } from "../../scripts/core/engine/rollback.js";
import { parseJournal } from "../../scripts/core/journal.js";
import { LockHeldError, type Weights } from "../../scripts/core/ports.js";
import { FakeWorld, testRollout } from "../support/fakes.js";

/** The rollback command's default: a 60 s deadline, of which 5 s are kept for recording the outcome. */
const DEADLINE_MS = 60_000;
const WORK_MS = DEADLINE_MS - 5_000;

/** A cutover paused at green 25% (its plan carries the 60 s verify timeout), traffic on both listeners. */
async function pausedAt25(): Promise<FakeWorld> {
  const world = new FakeWorld();
  const result = await runCutover(world.deps(), {
    rollout: testRollout({ strategy: { type: "canary", steps: [5, { percent: 25, pause: "promote" }, 100] } }),
    databaseMode: "shared",
    owner: "alice@ops-1 pid 4242",
    stack: "prod",
    skipSnapshot: "unit test",
  });
  expect(result.outcome).toBe("paused");
  expect(result.plan.verifyTimeoutMs).toBe(60_000);
  return world;
}

/** The second listener accepts the first blue-only write and does not apply it. */
function loseFirstWriteOnSecondListener(world: FakeWorld): void {
  let lost = 0;
  world.router.refuseToConverge = (weights: Weights, route: string) => route === world.router.routes[1] && weights.green === 0 && lost++ === 0;
}

function withDeadline(world: FakeWorld, deadlineAt: number | undefined) {
  const deadline = new AbortController();
  world.clock.at(world.clock.now() + WORK_MS, () => deadline.abort(new Error("the rollback deadline (--deadline 60 s) has passed")));
  const request: RollbackRequest = { owner: "bob@ops-2 pid 7", databaseMode: "shared", reason: "operator" };
  if (deadlineAt !== undefined) request.deadlineAt = deadlineAt;
  return { deps: world.deps({ rollbackDeadline: deadline.signal }), request };
}

describe("verifyWindowMs", () => {
  test("the time left is shared among the writes still allowed, between a few read-backs and the configured timeout", () => {
    const settings = { verifyTimeoutMs: 60_000, verifyIntervalMs: 1_000 };
    expect(verifyWindowMs(settings, undefined, 0, 3)).toBe(60_000);
    expect(verifyWindowMs(settings, 54_000, 0, 3)).toBe(18_000);
    expect(verifyWindowMs(settings, 36_000, 18_000, 2)).toBe(9_000);
    expect(verifyWindowMs(settings, 1_000, 0, 3)).toBe(3_000); // never fewer than three read-backs
    expect(verifyWindowMs({ verifyTimeoutMs: 5_000, verifyIntervalMs: 1_000 }, 600_000, 0, 3)).toBe(5_000);
  });
});

describe("a write AWS accepted but did not apply, on one of two listeners", () => {
  test("with the deadline known: read back, written again, verified within the deadline", async () => {
    const world = await pausedAt25();
    loseFirstWriteOnSecondListener(world);
    const started = world.clock.now();
    const { deps, request } = withDeadline(world, started + WORK_MS);
    const result = await runRollback(deps, request);
    expect(result.outcome, result.journal.rollback?.detail).toBe("rolled-back");
    expect(result.journal.rollback!.attempts).toBe(2);
    expect(result.routes.map((r) => r.weights)).toEqual([
      { blue: 100, green: 0 },
      { blue: 100, green: 0 },
    ]);
    const repairedMs = result.journal.rollback!.verifiedAt! - started;
    expect(repairedMs).toBeLessThan(WORK_MS);
    console.log(
      `lost write on 1 of 2 listeners: repaired and verified ${repairedMs / 1000} s (virtual) after the rollback started; deadline work budget ${WORK_MS / 1000} s`,
    );
  });

  test("without it (the verify timeout as long as the deadline): never rewritten, failed at the deadline", async () => {
    const world = await pausedAt25();
    loseFirstWriteOnSecondListener(world);
    const { deps, request } = withDeadline(world, undefined);
    const result = await runRollback(deps, request);
    expect(result.outcome).toBe("failed-rollback");
    expect(result.journal.rollback!.attempts).toBe(1);
    expect(result.journal.rollback!.detail).toMatch(/NOT verified on blue after 1 write attempt/);
  });
});

describe("a lock whose holder died on this host", () => {
  const dead = { owner: "ana@ops-1 pid 999999", since: 1, operation: "cutover", runId: "run-that-died" };

  test("is taken over by rollback without --force, and the journal says so", async () => {
    const world = await pausedAt25();
    world.lock.holder = { ...dead };
    const result = await runRollback(world.deps(), { owner: "bob@ops-1 pid 7", databaseMode: "shared", holderIsDead: (h) => h.owner === dead.owner });
    expect(result.outcome).toBe("rolled-back");
    expect(result.brokeLock).toBeNull();
    const journal = parseJournal(world.journal.value);
    const takenOver = journal.timeline.find((e) => e.type === "lock" && e.action === "taken-over");
    expect(takenOver).toMatchObject({
      holder: dead,
      detail: "took over the lock of ana@ops-1 pid 999999 (cutover, run run-that-died): that process is no longer running on this host",
    });
    expect(world.lock.holder).toBeNull();
  });

  test("a live holder, or one that cannot be told, is still refused and nothing is written", async () => {
    for (const holderIsDead of [() => false, undefined]) {
      const world = await pausedAt25();
      world.lock.holder = { ...dead };
      const writes = world.router.writes.length;
      const request: RollbackRequest = { owner: "bob@ops-1 pid 7", databaseMode: "shared" };
      if (holderIsDead) request.holderIsDead = holderIsDead;
      await expect(runRollback(world.deps(), request)).rejects.toBeInstanceOf(LockHeldError);
      expect(world.router.writes.length).toBe(writes);
      expect(world.lock.holder).toEqual(dead);
    }
  });
});
