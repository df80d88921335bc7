// `rollback` is safe and idempotent from every state: nothing ever ran, every point of a
// crashed cutover (shared and paired), a finished one, a failed rollback, a corrupt journal.

import { describe, expect, test } from "vitest";
import { EngineInputError, runCutover, runRollback, type CutoverRequest, type RollbackRequest } from "../../scripts/core/engine.js";
import { parseJournal, type Journal } from "../../scripts/core/journal.js";
import { LockHeldError } from "../../scripts/core/ports.js";
import { crashingDeps, FakeWorld, testRollout } from "../support/fakes.js";

const shared: CutoverRequest = {
  rollout: testRollout({ bakeSeconds: 120, monitorSeconds: 120, hooks: [{ name: "smoke", command: "./smoke.sh", timeoutSeconds: 30, when: "after-step" }] }),
  databaseMode: "shared",
  owner: "alice pid 1",
};
const paired: CutoverRequest = {
  rollout: testRollout({ strategy: { type: "all-at-once" }, monitorSeconds: 120 }),
  databaseMode: "paired",
  owner: "alice pid 1",
};

function rollbackRequest(mode: "shared" | "paired", extra: Partial<RollbackRequest> = {}): RollbackRequest {
  return { owner: "bob pid 2", databaseMode: mode, reason: "bob saw errors", ...extra };
}

function stored(world: FakeWorld): Journal | null {
  return world.journal.stored === null ? null : parseJournal(world.journal.value);
}

function assertOnBlue(world: FakeWorld): void {
  for (const route of world.router.routes) (expect(world.router.current()).toEqual({ blue: 100, green: 0 }), void route);
  expect(world.lock.holder).toBeNull();
  expect(stored(world)!.phase).toBe("rolled-back");
}

describe("rollback from every state", () => {
  test("nothing ever ran: one write, one read-back, a new journal", async () => {
    const world = new FakeWorld();
    const result = await runRollback(world.deps(), rollbackRequest("shared"));
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toBe("bob saw errors");
    expect(world.router.writes.map((w) => w.weights)).toEqual([{ blue: 100, green: 0 }]);
    expect(result.timeToRollbackMs).toBe(0);
    const journal = stored(world)!;
    expect(journal.operation).toBe("rollback");
    expect(journal.plan).toBeNull();
    expect(journal.phase).toBe("rolled-back");
    expect(result.routes).toHaveLength(2);
    expect(world.lock.holder).toBeNull();
  });

  test("idempotent: a second and third rollback do the same thing again", async () => {
    const world = new FakeWorld({ initial: { blue: 40, green: 60 } });
    for (let i = 0; i < 3; i++) {
      const result = await runRollback(world.deps(), rollbackRequest("shared"));
      expect(result.outcome).toBe("rolled-back");
      assertOnBlue(world);
    }
    expect(world.router.writes).toHaveLength(3);
  });

  test("measures its own wall time and time-to-rollback on the injected clock", async () => {
    const world = new FakeWorld({ writeLagMs: 1200, initial: { blue: 75, green: 25 } });
    const result = await runRollback(world.deps(), rollbackRequest("shared"));
    expect(result.timeToRollbackMs).toBe(2000);
    expect(result.wallMs).toBe(2000);
  });

  test("warns when stickiness may keep clients on green", async () => {
    const world = new FakeWorld({ stickinessSeconds: 86400 });
    const result = await runRollback(world.deps(), rollbackRequest("shared"));
    expect(result.stickinessSeconds).toBe(86400);
    expect(world.eventsOf("warning").some((w) => w.message.includes("1 day") || w.message.includes("24h"))).toBe(true);
  });

  for (const [name, request] of [
    ["shared canary", shared],
    ["paired switch", paired],
  ] as const) {
    test(`${name}: crashed after every journal save, \`rollback --force\` sends traffic to blue, then again without force`, async () => {
      const baseline = new FakeWorld();
      const harness0 = crashingDeps(baseline, {});
      await runCutover(harness0.deps, request);
      const total = harness0.saves();
      const phases = new Set<string>();
      for (let k = 1; k <= total; k++) {
        const world = new FakeWorld({ writeLagMs: 700 });
        const harness = crashingDeps(world, { afterSave: k });
        await runCutover(harness.deps, request).catch(() => undefined);
        const before = stored(world)!;
        phases.add(before.phase);
        const greenServed = world.router.current().green > 0;

        // The dead run's lock: a plain rollback refuses naming it unless the run had finished.
        if (world.lock.holder !== null && !["succeeded", "rolled-back", "preflight-failed"].includes(before.phase)) {
          await expect(runRollback(world.deps(), rollbackRequest(request.databaseMode))).rejects.toThrow(LockHeldError);
        }
        const result = await runRollback(world.deps(), rollbackRequest(request.databaseMode, { force: true }));
        expect(result.outcome, `after save ${k} (${before.phase})`).toBe("rolled-back");
        assertOnBlue(world);
        const after = stored(world)!;
        expect(after.runId).toBe(before.runId); // appended to the cutover's journal
        expect(after.timeline.length).toBeGreaterThan(before.timeline.length);
        expect(after.failure?.reason).toBe("bob saw errors");
        if (request.databaseMode === "paired") {
          expect(world.fence.mode).toBe("off");
          if (greenServed) expect(world.replication.calls).toContain("catch-up green-to-blue");
        }
        // Idempotent: again, without force (the lock is free now).
        const again = await runRollback(world.deps(), rollbackRequest(request.databaseMode));
        expect(again.outcome).toBe("rolled-back");
        assertOnBlue(world);
        // And the run cannot be resumed any more.
        await expect(runCutover(world.deps(), { ...request, resume: true })).rejects.toThrow(EngineInputError);
      }
      expect(phases.size).toBeGreaterThanOrEqual(request.databaseMode === "paired" ? 14 : 10);
    });
  }

  test("a crash in the middle of a rollback: running it again finishes it", async () => {
    const world = new FakeWorld({ initial: { blue: 75, green: 25 }, writeLagMs: 3000 });
    const harness = crashingDeps(world, { atCall: { k: 3, when: "after" } }); // acquire, save(rolling-back), write
    await runRollback(harness.deps, rollbackRequest("shared")).catch(() => undefined);
    expect(stored(world)!.phase).toBe("rolling-back");
    const result = await runRollback(world.deps(), rollbackRequest("shared", { force: true }));
    expect(result.outcome).toBe("rolled-back");
    assertOnBlue(world);
    expect(stored(world)!.timeline.some((e) => e.type === "decision" && e.reason.includes("continuing the interrupted rollback"))).toBe(true);
  });

  test("`cutover --resume` of a crashed automatic rollback finishes the rollback", async () => {
    const world = new FakeWorld();
    world.metrics.respond(() => ({
      blue: { requests: 1000, errors5xx: 0, p95Ms: 100, p99Ms: 100 },
      green: { requests: 1000, errors5xx: 500, p95Ms: 100, p99Ms: 100 },
    }));
    const probe = new FakeWorld();
    probe.metrics.responder = world.metrics.responder;
    await runCutover(probe.deps(), shared);
    const index = probe.journal.history.findIndex((t) => (JSON.parse(t) as Journal).phase === "rolling-back");
    const harness = crashingDeps(world, { afterSave: index + 1 });
    await runCutover(harness.deps, shared).catch(() => undefined);
    expect(stored(world)!.phase).toBe("rolling-back");
    const result = await runCutover(world.deps(), { ...shared, resume: true, owner: "second" });
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toMatch(/^regression at step 1: .*green 5xx 1000\/2000 \(50%\) over two windows in a row is above the ceiling 10%/);
    assertOnBlue(world);
  });

  test("after a failed rollback, rollback retries", async () => {
    const world = new FakeWorld({ initial: { blue: 0, green: 100 } });
    world.router.failWrites = 3;
    const failed = await runRollback(world.deps(), rollbackRequest("shared"));
    expect(failed.outcome).toBe("failed-rollback");
    expect(stored(world)!.phase).toBe("failed-rollback");
    const retried = await runRollback(world.deps(), rollbackRequest("shared"));
    expect(retried.outcome).toBe("rolled-back");
    assertOnBlue(world);
  });

  test("a corrupt journal does not stop a rollback: traffic goes back and a new journal says why", async () => {
    const world = new FakeWorld({ initial: { blue: 50, green: 50 } });
    world.journal.setRaw('{"format":"bluegreen-cutover-journal","version":1,');
    const result = await runRollback(world.deps(), rollbackRequest("shared"));
    expect(result.outcome).toBe("rolled-back");
    assertOnBlue(world);
    expect(world.eventsOf("warning")[0]!.message).toContain("journal is corrupt");
  });

  test("a journal from a newer version: rollback still works", async () => {
    const world = new FakeWorld({ initial: { blue: 50, green: 50 } });
    world.journal.setRaw(JSON.stringify({ format: "bluegreen-cutover-journal", version: 2 }));
    const result = await runRollback(world.deps(), rollbackRequest("shared"));
    expect(result.outcome).toBe("rolled-back");
    expect(world.eventsOf("warning")[0]!.message).toContain("version");
  });
});

describe("rollback and the lock", () => {
  test("refuses while a cutover holds the lock, naming the holder", async () => {
    const world = new FakeWorld();
    world.lock.holder = { owner: "alice@ops-1 pid 4242", since: world.clock.now(), operation: "cutover", runId: "r1" };
    const error = await runRollback(world.deps(), rollbackRequest("shared")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as Error).message).toContain("alice@ops-1 pid 4242");
    expect(world.router.writes).toHaveLength(0);
  });

  test("--force breaks the lock and records whose it was", async () => {
    const world = new FakeWorld({ initial: { blue: 75, green: 25 } });
    world.lock.holder = { owner: "alice@ops-1 pid 4242", since: world.clock.now(), operation: "cutover", runId: "r1" };
    const result = await runRollback(world.deps(), rollbackRequest("shared", { force: true }));
    expect(result.outcome).toBe("rolled-back");
    expect(result.brokeLock?.owner).toBe("alice@ops-1 pid 4242");
    const broken = stored(world)!.timeline.find((e) => e.type === "lock" && e.action === "broken");
    expect(broken).toMatchObject({ holder: { owner: "alice@ops-1 pid 4242" } });
    expect(world.lock.holder).toBeNull();
  });
});
