// The cutover's migrating phase through the SchemaMigrator port: after preflight and the snapshot,
// before the first weight moves (and before the paired fence); a failing migration ends the run
// in preflight-failed with traffic untouched; resumable and idempotent; a rollback after expand
// leaves the expanded schema and says so. And the contract gate read from the cutover journal.

import { describe, expect, test } from "vitest";
import { runCutover, type CutoverRequest } from "../../scripts/core/engine.js";
import { contractGate } from "../../scripts/core/engine/migrate.js";
import { parseJournal, type Journal } from "../../scripts/core/journal.js";
import type { SchemaMigrationResult, SchemaMigrator, Clock } from "../../scripts/core/ports.js";
import type { RolloutConfig } from "../../infra/config.js";
import { crashingDeps, FakeWorld, testRollout } from "../support/fakes.js";

const OWNER = "alice@ops-1 pid 4242";

/**
 * A database with a migration journal: expand applies what is pending, one migration at a time,
 * each taking virtual time; a migration can be made to fail (it is then not journaled, as a
 * transaction per migration would leave it); the journal survives calls, as the database's does.
 */
class FakeMigrator implements SchemaMigrator {
  readonly journaled: string[] = [];
  calls = 0;
  failAt: string | null = null;
  /** Throw (a database that cannot be reached) instead of answering. */
  unreachable = false;
  constructor(
    private readonly clock: Clock,
    readonly files: string[],
    private readonly perMigrationMs = 2_000,
  ) {}
  async pendingExpand(): Promise<string[]> {
    return this.files.filter((f) => !this.journaled.includes(f));
  }
  async expand(signal?: AbortSignal): Promise<SchemaMigrationResult> {
    this.calls++;
    if (this.unreachable) throw new Error("database database postgres://app:***@db:5432/app: cannot reach the server (ECONNREFUSED)");
    const applied: string[] = [];
    for (const name of await this.pendingExpand()) {
      // Between migrations only: one that started completes (DDL does not pause halfway).
      if (signal?.aborted) return { ok: false, applied, summary: `stopped before expand/${name}: aborted` };
      await this.clock.sleep(this.perMigrationMs);
      if (name === this.failAt) {
        return {
          ok: false,
          applied,
          summary: `expand/${name} failed on database: column "x" does not exist; ${applied.length} applied before it stay applied`,
        };
      }
      this.journaled.push(name);
      applied.push(name);
    }
    return { ok: true, applied, summary: applied.length === 0 ? "nothing to apply" : `applied ${applied.length} expand migrations` };
  }
}

function request(overrides: Partial<RolloutConfig> = {}, extra: Partial<CutoverRequest> = {}): CutoverRequest {
  return {
    rollout: testRollout({ strategy: { type: "canary", steps: [50, 100] }, bakeSeconds: 60, monitorSeconds: 60, ...overrides }),
    databaseMode: "shared",
    owner: OWNER,
    ...extra,
  };
}

/** The order of what happened: snapshot, migration check, weight writes, fence. */
function order(world: FakeWorld): string[] {
  return world.events.flatMap((e) => {
    if (e.type === "snapshot") return ["snapshot"];
    if (e.type === "preflight-check" && e.check === "migrations") return [`migrations ${e.ok ? "ok" : "failed"}`];
    if (e.type === "weights-written") return [`write ${e.weights.blue}/${e.weights.green}`];
    if (e.type === "fence") return [`fence ${e.mode}`];
    return [];
  });
}

describe("the migrating phase", () => {
  test("expand runs after the snapshot and before the first weight moves; the journal records it", async () => {
    const world = new FakeWorld();
    const migrator = new FakeMigrator(world.clock, ["001_add_note", "002_invoices"]);
    const result = await runCutover(world.deps({ migrator }), request());
    expect(result.outcome).toBe("succeeded");
    expect(order(world)).toEqual(["snapshot", "migrations ok", "write 50/50", "write 0/100"]);
    const stored = parseJournal(world.journal.value);
    expect(stored.migration).toMatchObject({ ok: true, applied: ["001_add_note", "002_invoices"] });
    const phases = stored.timeline.flatMap((e) => (e.type === "phase-changed" ? [e.to] : []));
    expect(phases.slice(0, 3)).toEqual(["preflight", "migrating", "writing"]);
  });

  test("paired: expand before the write fence goes up", async () => {
    const world = new FakeWorld();
    const migrator = new FakeMigrator(world.clock, ["001_add_note"]);
    const result = await runCutover(world.deps({ migrator }), {
      rollout: testRollout({ strategy: { type: "all-at-once" } }),
      databaseMode: "paired",
      owner: OWNER,
    });
    expect(result.outcome).toBe("succeeded");
    expect(order(world).slice(0, 4)).toEqual(["snapshot", "migrations ok", "fence writes", "write 0/100"]);
  });

  test("a failing migration stops the cutover with traffic untouched: preflight-failed, nothing written", async () => {
    const world = new FakeWorld();
    const migrator = new FakeMigrator(world.clock, ["001_ok", "002_bad", "003_never"]);
    migrator.failAt = "002_bad";
    const result = await runCutover(world.deps({ migrator }), request());
    expect(result.outcome).toBe("preflight-failed");
    expect(result.reason).toMatch(/^migration failed: expand\/002_bad failed/);
    expect(result.reason).toMatch(/applied and kept: 001_ok/);
    expect(world.router.writes).toEqual([]);
    expect(migrator.journaled).toEqual(["001_ok"]);
    expect(parseJournal(world.journal.value).failure).toMatchObject({ phase: "migrating" });
  });

  test("a database that cannot be reached is a refusal too, never a rollback", async () => {
    const world = new FakeWorld();
    const migrator = new FakeMigrator(world.clock, ["001_ok"]);
    migrator.unreachable = true;
    const result = await runCutover(world.deps({ migrator }), request());
    expect(result.outcome).toBe("preflight-failed");
    expect(result.reason).toMatch(/ECONNREFUSED/);
    expect(world.eventsOf("rollback-started")).toEqual([]);
    expect(world.router.writes).toEqual([]);
  });

  test("a crash inside the migrating phase resumes there; applied migrations are not applied twice", async () => {
    const world = new FakeWorld();
    const migrator = new FakeMigrator(world.clock, ["001", "002", "003"]);
    // Die right after the journal save that enters "migrating", as if killed while migrating.
    const first = new FakeMigrator(world.clock, []);
    let k = 0;
    for (;;) {
      k++;
      const probe = new FakeWorld();
      const harness = crashingDeps(probe, { afterSave: k }, { migrator: first });
      await runCutover(harness.deps, request()).catch(() => undefined);
      if (parseJournal(probe.journal.value).phase === "migrating") break;
      if (k > 50) throw new Error("never reached the migrating phase");
    }
    const harness = crashingDeps(world, { afterSave: k }, { migrator });
    await runCutover(harness.deps, request()).catch(() => undefined);
    expect(parseJournal(world.journal.value).phase).toBe("migrating");
    // The process died mid-phase after applying one migration (the database journal has it).
    migrator.journaled.push("001");
    const result = await runCutover(world.deps({ migrator }), { ...request(), resume: true, owner: "second pid 2" });
    expect(result.outcome).toBe("succeeded");
    expect(migrator.journaled).toEqual(["001", "002", "003"]);
    expect(parseJournal(world.journal.value).migration!.applied).toEqual(["002", "003"]);
  });

  test("an abort during the phase stops between migrations: interrupted, journal in migrating, resume finishes", async () => {
    const world = new FakeWorld();
    const migrator = new FakeMigrator(world.clock, ["001", "002", "003"], 10_000);
    const controller = new AbortController();
    // Abort while 002 runs: it completes, 003 is not started.
    world.events.length = 0;
    const started = world.clock.now();
    world.clock.at(started + 5 * 60_000 + 15_000, () => controller.abort("Ctrl-C"));
    const first = await runCutover(world.deps({ migrator }), { ...request(), signal: controller.signal });
    expect(first.outcome).toBe("interrupted");
    expect(parseJournal(world.journal.value).phase).toBe("migrating");
    expect(migrator.journaled).toEqual(["001", "002"]);
    expect(world.router.writes).toEqual([]);
    const resumed = await runCutover(world.deps({ migrator }), { ...request(), resume: true, owner: "second pid 2" });
    expect(resumed.outcome).toBe("succeeded");
    expect(migrator.journaled).toEqual(["001", "002", "003"]);
  });

  test("a rollback after expand leaves the expanded schema and says so", async () => {
    const world = new FakeWorld();
    world.metrics.respond(() => ({
      blue: { requests: 1000, errors5xx: 0, p95Ms: 100, p99Ms: 100 },
      green: { requests: 1000, errors5xx: 500, p95Ms: 100, p99Ms: 100 },
    }));
    const migrator = new FakeMigrator(world.clock, ["001_add_note"]);
    const result = await runCutover(world.deps({ migrator }), request());
    expect(result.outcome).toBe("rolled-back");
    const warnings = world.eventsOf("warning").map((w) => w.message);
    expect(warnings.find((w) => w.includes("expand migrations"))).toMatch(/stay in place \(001_add_note\): blue runs on the expanded schema/);
    expect(migrator.journaled).toEqual(["001_add_note"]);
  });

  test("without a migrator there is no migrating phase", async () => {
    const world = new FakeWorld();
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("succeeded");
    const phases = parseJournal(world.journal.value).timeline.flatMap((e) => (e.type === "phase-changed" ? [e.to] : []));
    expect(phases).not.toContain("migrating");
  });
});

describe("contract gate (migrate contract)", () => {
  const HOUR = 3_600_000;
  async function succeeded(): Promise<{ journal: Journal; at: number }> {
    const world = new FakeWorld();
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("succeeded");
    return { journal: parseJournal(world.journal.value), at: world.clock.now() };
  }

  test("allowed once a cutover succeeded at green 100% and rollout.contractAfterSeconds passed", async () => {
    const { journal, at } = await succeeded();
    expect(contractGate(journal, at + HOUR, HOUR)).toMatchObject({ allowed: true });
    const early = contractGate(journal, at + HOUR - 60_000, HOUR);
    expect(early.allowed).toBe(false);
    expect(early.reason).toMatch(/contractAfterSeconds asks for 3600 s \(60 s to go\)/);
  });

  test("refused without a journal, after a rollback, or while a run is unfinished", async () => {
    expect(contractGate(null, 0, 0).allowed).toBe(false);
    const world = new FakeWorld();
    world.metrics.respond(() => ({
      blue: { requests: 1000, errors5xx: 0, p95Ms: 100, p99Ms: 100 },
      green: { requests: 1000, errors5xx: 500, p95Ms: 100, p99Ms: 100 },
    }));
    await runCutover(world.deps(), request());
    const rolledBack = contractGate(parseJournal(world.journal.value), world.clock.now() + 10 * HOUR, HOUR);
    expect(rolledBack).toMatchObject({ allowed: false });
    expect(rolledBack.reason).toMatch(/"rolled-back", not a succeeded cutover/);
    const { journal } = await succeeded();
    expect(contractGate({ ...journal, phase: "baking" }, Date.now(), 0).allowed).toBe(false);
  });

  test("refused when the plan did not end at green 100%", async () => {
    const { journal, at } = await succeeded();
    const last = journal.plan!.steps.at(-1)!;
    const partial: Journal = {
      ...journal,
      plan: { ...journal.plan!, steps: [...journal.plan!.steps.slice(0, -1), { ...last, weights: { blue: 50, green: 50 } }] },
    };
    expect(contractGate(partial, at + 10 * HOUR, HOUR)).toMatchObject({ allowed: false, reason: expect.stringMatching(/green 50%, not 100%/) });
  });
});
