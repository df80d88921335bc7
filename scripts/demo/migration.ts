// Scenario `--migration`: green's version (v2) writes bookings.note, a column the database does not
// have yet. The migrations live in the run directory: expand adds the column, contract makes it
// required. The demo lints them (and shows the unsafe one-step version refused), then runs the
// production engine with a migrator: its migrating phase applies expand before any weight moves;
// the canary meets the injected fault and rolls back on its own, and blue (v1) keeps serving on
// the expanded schema; then a clean cutover (expand already applied: nothing to do), and contract
// after the gate has read the journal, with a snapshot first. Then the data checks: every
// acknowledged write is in the database, v2's rows carry their note, and NOT NULL holds.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { runCutover, type CutoverRequest, type CutoverResult } from "../core/engine.js";
import { contractGate } from "../core/engine/migrate.js";
import { parseJournal } from "../core/journal.js";
import { lintMigrations, readMigrationFile, runMigrations, type MigrateTargets } from "../postgres/migrate/index.js";
import { PostgresSchemaMigrator } from "../postgres/migrate/schemaMigrator.js";
import { redactUrl } from "../core/redact.js";
import { verifyAcknowledgedWrites } from "../local/load.js";
import { demoOwner, type ScenarioContext } from "./context.js";
import { injectedFailure, rollbackFigures } from "./faults.js";
import { finishDemo, scenarioResult } from "./summary.js";
import type { DemoMigration, DemoResult } from "./types.js";

/** What green v2 writes into the new column. */
export const V2_NOTE = "booked by v2";

const EXPAND = "SET lock_timeout = '5s';\nALTER TABLE bookings ADD COLUMN IF NOT EXISTS note text;\n";
const CONTRACT =
  "SET lock_timeout = '5s';\nUPDATE bookings SET note = '(booked before v2)' WHERE note IS NULL;\nALTER TABLE bookings ALTER COLUMN note SET NOT NULL;\n";
/** The tempting one-step version the lint refuses in expand. */
const UNSAFE = "ALTER TABLE bookings ADD COLUMN note text NOT NULL DEFAULT '';\nALTER TABLE bookings ALTER COLUMN note DROP DEFAULT;\n";

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

export async function runMigrationScenario(ctx: ScenarioContext): Promise<DemoResult> {
  const { sandbox, say, policy, runId } = ctx;
  if (ctx.database !== "shared") throw new RangeError("the migration scenario runs on the shared database (--database shared)");
  const load = sandbox.load!;
  const green = sandbox.apps!.green;
  const url = sandbox.blueUrl;
  const dir = join(sandbox.runDir, "migrations");
  await mkdir(join(dir, "expand"), { recursive: true });
  await mkdir(join(dir, "contract"), { recursive: true });
  await mkdir(join(dir, "rejected", "expand"), { recursive: true });
  await writeFile(join(dir, "expand", "001_bookings_note.sql"), EXPAND);
  await writeFile(join(dir, "contract", "001_bookings_note_required.sql"), CONTRACT);
  await writeFile(join(dir, "rejected", "expand", "001_bookings_note_required_now.sql"), UNSAFE);

  // 1. Lint: the one-step version breaks blue; the expand/contract pair does not.
  ctx.phase("migration:lint");
  const unsafe = await lintMigrations([await readMigrationFile(join(dir, "rejected", "expand", "001_bookings_note_required_now.sql"), "expand")]);
  for (const f of unsafe.files[0]!.findings.filter((x) => x.level === "error"))
    say(`lint (expand) refuses the one-step migration: ${f.rule} at line ${f.line}: ${f.message}; recipe: ${f.recipe ?? ""}`);
  const files = [
    await readMigrationFile(join(dir, "expand", "001_bookings_note.sql"), "expand"),
    await readMigrationFile(join(dir, "contract", "001_bookings_note_required.sql"), "contract"),
  ];
  const lint = await lintMigrations(files);
  say(
    `lint: ${lint.ok ? "SAFE" : "UNSAFE"}, ${lint.errors} error(s), ${lint.warnings} warning(s) in expand/001_bookings_note.sql and contract/001_bookings_note_required.sql (squawk ${lint.squawk.available ? (lint.squawk.version ?? "") : "not available"})`,
  );

  const targets: MigrateTargets = { mode: "shared", database: { label: "database", display: redactUrl(url), config: { connectionString: url } } };
  const migrator = new PostgresSchemaMigrator({ dir, targets: async () => targets, log: (line) => say(`migrate: ${line}`) });
  const deps = { ...ctx.deps, migrator };
  const request: CutoverRequest = { rollout: policy.rollout, databaseMode: "shared", owner: demoOwner(), stack: "demo" };
  const started = Date.now();

  // 2. Cutover with the fault: expand, then the canary meets the fault and rolls back.
  ctx.phase("migration:cutover-with-fault");
  const first: CutoverResult = await ctx.engine.run((signal) => runCutover(deps, { ...request, runId: `${runId}-1`, signal }, ctx.settings));
  await ctx.injector?.settled();
  if (green.faultOnset() !== null) await green.clearFault();
  const columnAfterRollback =
    (await query<{ n: string }>(url, "SELECT count(*)::text AS n FROM information_schema.columns WHERE table_name = 'bookings' AND column_name = 'note'"))[0]
      ?.n === "1";
  say(`after the rollback: bookings.note ${columnAfterRollback ? "is still there" : "is GONE"}; blue v1 serves on the expanded schema`);
  await sandbox.sleep(1500);

  // 3. The clean cutover: expand is already applied.
  ctx.phase("migration:cutover");
  const secondStarted = Date.now();
  const firstEvents = ctx.events.length;
  const second: CutoverResult = await ctx.engine.run((signal) => runCutover(deps, { ...request, runId: `${runId}-2`, signal }, ctx.settings));

  // 4. Contract, once the journal shows green at 100% (the demo's contractAfterSeconds: 0).
  ctx.phase("migration:contract");
  const journal = await ctx.deps.journal.load();
  const gate = contractGate(journal === null ? null : parseJournal(journal), Date.now(), 0);
  let contract: DemoMigration["contract"] = { ran: false, ok: false, summary: `refused: ${gate.reason}`, snapshotId: null };
  if (gate.allowed) {
    say(`contract: ${gate.reason}; this closes the rollback path (blue v1 cannot insert without a note afterwards): snapshot first`);
    const snapshot = await ctx.deps.snapshotter.snapshot(`bluegreen-${runId}-contract`, policy.rollout.snapshot.timeoutSeconds * 1000, ctx.signal);
    const report = await runMigrations(targets, { dir, phase: "contract", log: (line) => say(`migrate: ${line}`) });
    contract = { ran: true, ok: report.ok, summary: report.summary, snapshotId: snapshot.id };
    say(`contract: ${report.summary}`);
  } else {
    say(`contract refused: ${gate.reason}`);
  }
  await sandbox.sleep(1000);
  const ended = Date.now();

  // 5. Checks.
  ctx.phase("checks");
  const loadResult = await load.stop();
  const checksStarted = Date.now();
  const dataCheck = { ...(await sandbox.step(verifyAcknowledgedWrites(url, loadResult.acknowledged))), database: "shared" };
  const notes = (
    await query<{ v2: string; v2_noted: string; nulls: string; not_null: boolean }>(
      url,
      `SELECT count(*) FILTER (WHERE app_version = 'v2')::text AS v2, count(*) FILTER (WHERE app_version = 'v2' AND note = '${V2_NOTE}')::text AS v2_noted,
            count(*) FILTER (WHERE note IS NULL)::text AS nulls,
            (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'bookings'::regclass AND attname = 'note') AS not_null FROM bookings`,
    )
  )[0]!;
  const injected = loadResult.failures.filter((failure) => injectedFailure(failure, ctx.fault, green)).length;
  const unexpectedFailures = loadResult.failures.length - injected;
  // The first cutover's rollback, measured up to the second cutover (its requests to green are not "after the rollback").
  const untilSecond = { ...loadResult, timeline: loadResult.timeline.filter((entry) => entry.sentAt < secondStarted) };
  const rollback =
    first.outcome === "rolled-back"
      ? rollbackFigures(ctx.events.slice(0, firstEvents), untilSecond, green.faultOnset(), first.timeToRollbackMs, first.reason)
      : null;
  const migration: DemoMigration = {
    expandApplied: first.journal?.migration?.applied ?? [],
    firstCutover: first.outcome,
    columnKeptAfterRollback: columnAfterRollback,
    secondCutover: second.outcome,
    contract,
    v2Bookings: Number(notes.v2),
    v2BookingsWithNote: Number(notes.v2_noted),
    nullNotes: Number(notes.nulls),
    noteRequired: notes.not_null,
    lintRefused: unsafe.files[0]!.findings.filter((f) => f.level === "error").map((f) => f.rule),
    lintOk: lint.ok,
  };
  const dataOk = dataCheck.missing.length === 0 && dataCheck.mismatched.length === 0;
  const asExpected =
    dataOk &&
    unexpectedFailures === 0 &&
    lint.ok &&
    !unsafe.ok &&
    first.outcome === "rolled-back" &&
    columnAfterRollback &&
    second.outcome === "succeeded" &&
    contract.ok &&
    migration.v2Bookings > 0 &&
    migration.v2BookingsWithNote === migration.v2Bookings &&
    migration.nullNotes === 0 &&
    migration.noteRequired;

  const demo = await scenarioResult(ctx, loadResult, {
    database: "shared",
    outcome: second.outcome,
    asExpected,
    reason: `cutover 1 ${first.outcome}${first.reason ? ` (${first.reason})` : ""}; cutover 2 ${second.outcome}; contract ${contract.ok ? "applied" : contract.summary}`,
    cutoverMs: ended - started,
    pollMs: second.plan.pollMs,
    unexpectedFailures,
    injectedFailures: injected,
    dataCheck,
    rollback,
    fault: ctx.fault,
    paired: null,
    migration,
  });
  await finishDemo(ctx, demo, second.journal, checksStarted);
  say(
    `migration: expand ${migration.expandApplied.join(", ") || "(none)"} before the first weight; cutover 1 ${migration.firstCutover} (bookings.note kept), cutover 2 ${migration.secondCutover}, ` +
      `contract ${contract.ok ? "applied" : "NOT applied"}${contract.snapshotId ? ` after snapshot ${contract.snapshotId}` : ""}; v2 bookings ${migration.v2Bookings} (${migration.v2BookingsWithNote} with their note), NULL notes ${migration.nullNotes}, note NOT NULL: ${migration.noteRequired}`,
  );
  return demo;
}
