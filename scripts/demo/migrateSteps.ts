// The steps both migration scenarios take (the shared database's in migration.ts, the paired
// databases' in migratePaired.ts): write the migrations into the run directory, lint them (and
// show the unsafe one-step version refused), run a cutover with the migrator, settle the fault
// after the first one, and contract once the journal allows it, with a snapshot first.

import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type pg from "pg";
import { connectClient } from "../net/pgConnection.js";
import { runCutover, type CutoverDeps, type CutoverRequest, type CutoverResult } from "../core/engine.js";
import { contractGate } from "../core/engine/migrate.js";
import { parseJournal } from "../core/journal.js";
import type { SchemaMigrationResult, SchemaMigrator, Snapshotter } from "../core/ports.js";
import { redactUrl } from "../core/redact.js";
import { lintMigrations, readMigrationFile, runMigrations, type LintReport, type MigrateReport, type MigrateTargets } from "../postgres/migrate/index.js";
import { PostgresSchemaMigrator } from "../postgres/migrate/schemaMigrator.js";
import type { LoadResult } from "../local/load.js";
import { demoOwner, type ScenarioContext } from "./context.js";
import { rollbackFigures } from "./faults.js";
import type { DemoMigration, DemoRollback } from "./types.js";

/** What green v2 writes into the new column. */
export const V2_NOTE = "booked by v2";

/** Expand: the column v2 writes. Blue v1 never names it, so it keeps working. */
export const NOTE_EXPAND = "SET lock_timeout = '5s';\nALTER TABLE bookings ADD COLUMN IF NOT EXISTS note text;\n";
/** Contract: the column becomes required (v1 cannot insert afterwards: the point of no return). */
export const NOTE_CONTRACT =
  "SET lock_timeout = '5s';\nUPDATE bookings SET note = '(booked before v2)' WHERE note IS NULL;\nALTER TABLE bookings ALTER COLUMN note SET NOT NULL;\n";
/** The tempting one-step version the lint refuses in expand. */
export const NOTE_UNSAFE = "ALTER TABLE bookings ADD COLUMN note text NOT NULL DEFAULT '';\nALTER TABLE bookings ALTER COLUMN note DROP DEFAULT;\n";

/** Migration files by path under the migrations directory (expand/…, contract/…, rejected/expand/…). */
export type MigrationSet = Record<string, string>;

/** The rejected one-step file every scenario shows the lint refusing. */
export const REJECTED_FILE = "rejected/expand/001_bookings_note_required_now.sql";

/** Write the set into the run directory; returns the migrations directory. */
export async function writeMigrationSet(runDir: string, set: MigrationSet): Promise<string> {
  const dir = join(runDir, "migrations");
  for (const [path, text] of Object.entries(set)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

export interface DemoLint {
  /** The one-step version, linted as expand: refused. */
  unsafe: LintReport;
  /** The expand/contract files of the set: accepted. */
  lint: LintReport;
}

/** Lint: the one-step version breaks blue; the expand/contract files do not. */
export async function lintDemoMigrations(ctx: ScenarioContext, dir: string, set: MigrationSet): Promise<DemoLint> {
  ctx.phase("migration:lint");
  const unsafe = await lintMigrations([await readMigrationFile(join(dir, REJECTED_FILE), "expand")]);
  for (const f of unsafe.files[0]!.findings.filter((x) => x.level === "error"))
    ctx.say(`lint (expand) refuses the one-step migration: ${f.rule} at line ${f.line}: ${f.message}; recipe: ${f.recipe ?? ""}`);
  const paths = Object.keys(set).filter((path) => !path.startsWith("rejected/"));
  const files = await Promise.all(paths.map((path) => readMigrationFile(join(dir, path), path.startsWith("contract/") ? "contract" : "expand")));
  const lint = await lintMigrations(files);
  ctx.say(
    `lint: ${lint.ok ? "SAFE" : "UNSAFE"}, ${lint.errors} error(s), ${lint.warnings} warning(s) in ${paths.join(", ")} (squawk ${lint.squawk.available ? (lint.squawk.version ?? "") : "not available"})`,
  );
  return { unsafe, lint };
}

export const refusedRules = (unsafe: LintReport): string[] => unsafe.files[0]!.findings.filter((f) => f.level === "error").map((f) => f.rule);

/**
 * The engine's ports with a migrator over `targets`: the cutover's migrating phase applies expand.
 * `afterExpand` runs once expand has applied something, before the engine goes on (its checks then
 * see the expanded schema under the load, before anything is fenced or shifted).
 */
export function withMigrator(
  ctx: ScenarioContext,
  dir: string,
  targets: MigrateTargets,
  afterExpand?: (result: SchemaMigrationResult) => Promise<void>,
): CutoverDeps {
  const migrator = new PostgresSchemaMigrator({ dir, targets: async () => targets, log: (line) => ctx.say(`migrate: ${line}`) });
  if (!afterExpand) return { ...ctx.deps, migrator };
  const observed: SchemaMigrator = {
    pendingExpand: () => migrator.pendingExpand(),
    expand: async (signal) => {
      const result = await migrator.expand(signal);
      if (result.ok && result.applied.length > 0) await afterExpand(result);
      return result;
    },
  };
  return { ...ctx.deps, migrator: observed };
}

export const sharedTargets = (url: string): MigrateTargets => ({
  mode: "shared",
  database: { label: "database", display: redactUrl(url), config: { connectionString: url } },
});

/** The paired targets with `writer` serving writes (named: the replication observed must agree with it). */
export const pairedTargets = (blueUrl: string, greenUrl: string, writer: "blue" | "green", writerFrom: "flag" | "default"): MigrateTargets => ({
  mode: "paired",
  writer,
  writerFrom,
  blue: { label: "blue", display: redactUrl(blueUrl), config: { connectionString: blueUrl } },
  green: { label: "green", display: redactUrl(greenUrl), config: { connectionString: greenUrl } },
});

/** One cutover through the production engine, numbered in the run id. */
export function demoCutover(ctx: ScenarioContext, deps: CutoverDeps, index: number): Promise<CutoverResult> {
  const request: CutoverRequest = { rollout: ctx.policy.rollout, databaseMode: ctx.database, owner: demoOwner(), stack: "demo" };
  return ctx.engine.run((signal) => runCutover(deps, { ...request, runId: `${ctx.runId}-${index}`, signal }, ctx.settings));
}

/** After the first cutover: the injector done, green healthy again for the next one. */
export async function settleFault(ctx: ScenarioContext): Promise<void> {
  await ctx.injector?.settled();
  const green = ctx.sandbox.apps!.green;
  if (green.faultOnset() !== null) await green.clearFault();
}

/** The first cutover's rollback, measured up to the second cutover (its requests to green are not "after the rollback"). */
export function firstRollback(
  ctx: ScenarioContext,
  first: CutoverResult,
  firstEvents: number,
  loadResult: LoadResult,
  secondStarted: number,
): DemoRollback | null {
  if (first.outcome !== "rolled-back") return null;
  const untilSecond = { ...loadResult, timeline: loadResult.timeline.filter((entry) => entry.sentAt < secondStarted) };
  return rollbackFigures(ctx.events.slice(0, firstEvents), untilSecond, ctx.sandbox.apps!.green.faultOnset(), first.timeToRollbackMs, first.reason);
}

export interface ContractStep {
  contract: DemoMigration["contract"];
  report: MigrateReport | null;
}

/**
 * Contract, once the journal shows green at 100% (the demo's contractAfterSeconds: 0), after a
 * snapshot of the writer's database (contract closes the rollback path).
 */
export async function contractAfterGate(ctx: ScenarioContext, targets: MigrateTargets, dir: string, snapshotter: Snapshotter): Promise<ContractStep> {
  ctx.phase("migration:contract");
  const journal = await ctx.deps.journal.load();
  const gate = contractGate(journal === null ? null : parseJournal(journal), Date.now(), 0);
  if (!gate.allowed) {
    ctx.say(`contract refused: ${gate.reason}`);
    return { contract: { ran: false, ok: false, summary: `refused: ${gate.reason}`, snapshotId: null }, report: null };
  }
  ctx.say(`contract: ${gate.reason}; this closes the rollback path (blue v1 cannot insert without a note afterwards): snapshot first`);
  const snapshot = await snapshotter.snapshot(`bluegreen-${ctx.runId}-contract`, ctx.policy.rollout.snapshot.timeoutSeconds * 1000, ctx.signal);
  const report = await runMigrations(targets, { dir, phase: "contract", log: (line) => ctx.say(`migrate: ${line}`) });
  ctx.say(`contract: ${report.summary}`);
  return { contract: { ran: true, ok: report.ok, summary: report.summary, snapshotId: snapshot.id }, report };
}

export async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = await connectClient({ connectionString: url }, { applicationName: "bluegreen-demo" });
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function columnExists(url: string, table: string, column: string): Promise<boolean> {
  const rows = await query<{ n: string }>(url, "SELECT count(*)::text AS n FROM information_schema.columns WHERE table_name = $1 AND column_name = $2", [
    table,
    column,
  ]);
  return rows[0]?.n === "1";
}

export interface NoteFigures {
  v2Bookings: number;
  v2BookingsWithNote: number;
  nullNotes: number;
  noteRequired: boolean;
}

/** v2's bookings and their note, NULL notes, and whether the column is NOT NULL (after contract). */
export async function noteFigures(url: string): Promise<NoteFigures> {
  const row = (
    await query<{ v2: string; v2_noted: string; nulls: string; not_null: boolean }>(
      url,
      `SELECT count(*) FILTER (WHERE app_version = 'v2')::text AS v2, count(*) FILTER (WHERE app_version = 'v2' AND note = $1)::text AS v2_noted,
              count(*) FILTER (WHERE note IS NULL)::text AS nulls,
              (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'bookings'::regclass AND attname = 'note') AS not_null FROM bookings`,
      [V2_NOTE],
    )
  )[0]!;
  return { v2Bookings: Number(row.v2), v2BookingsWithNote: Number(row.v2_noted), nullNotes: Number(row.nulls), noteRequired: row.not_null };
}

/** Every v2 booking carries its note, none is NULL, and the column is required. */
export const notesAsExpected = (n: NoteFigures): boolean => n.v2Bookings > 0 && n.v2BookingsWithNote === n.v2Bookings && n.nullNotes === 0 && n.noteRequired;
