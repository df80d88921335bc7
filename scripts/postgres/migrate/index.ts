// Programmatic entry to migrations: status, lint, plan and apply (expand or contract), on one
// database (database.mode shared) or on both (paired: same DDL on each, in the order the
// replication observed between them requires; after each file the replication set follows the
// schema, every subscription must catch up and created tables must hold their writer's rows;
// then schema parity). Used by `npm run migrate` and the cutover's migrating phase. See
// docs/migrations.md.

import { join, resolve } from "node:path";
import { UnreachableError, UsageError } from "../../core/errors.js";
import { redact } from "../../core/redact.js";
import { compareSchemas, type Target } from "../parity/index.js";
import type { SchemaDifference } from "../parity/types.js";
import { loadMigrations, type MigrationFile, type Phase } from "./files.js";
import { readJournal } from "./journal.js";
import { lintMigrations, type LintReport } from "./lint.js";
import { edgesOf, replicationCatchUp, sequence, type Color, type ReplicationState, type ReplicationStatement } from "./replication.js";
import { checkCopiedRows, checkEdges, edgeLine, readBoth, runReplicationStatements, type EdgeCheck, type RowCheck } from "./paired.js";
import { applyOnDatabase } from "./runner.js";
import { createdBy } from "./rules.js";
import { liveColumnTypes, typeChangeTargets, type ColumnType } from "./columnTypes.js";
import { loadParser, needsNoTransaction, parseStatements } from "./statements.js";
import { mapConnectError, secretsOf, withClient, type MigrateDatabase, type MigrateTargets, type PairedTargets } from "./database.js";

export { lintMigrations, type LintReport, type Finding, type FileLint } from "./lint.js";
export { loadMigrations, readMigrationFile, phaseOfPath, PHASES, type MigrationFile, type Phase } from "./files.js";
export { JOURNAL_SCHEMA } from "./journal.js";
export { RULE_NAMES } from "./rules.js";
export type { MigrateDatabase, MigrateTargets, PairedTargets } from "./database.js";
export type { EdgeCheck, RowCheck } from "./paired.js";

/** A migration that failed on a database: the ones before it stay applied and journaled. */
export class MigrationFailedError extends Error {
  constructor(
    readonly database: string,
    readonly migration: string,
    message: string,
  ) {
    super(message);
    this.name = "MigrationFailedError";
  }
}

function databases(t: MigrateTargets): MigrateDatabase[] {
  return t.mode === "shared" ? [t.database] : [t.blue, t.green];
}

// ---------------------------------------------------------------------------------------------
// status

export interface DatabaseStatus {
  label: string;
  display: string;
  applied: Record<Phase, Array<{ name: string; runOn: string }>>;
  pending: Record<Phase, string[]>;
  /** Journaled but no longer in the repository. */
  missingFiles: Record<Phase, string[]>;
}

export interface StatusReport {
  kind: "migrate-status";
  dir: string;
  mode: MigrateTargets["mode"];
  databases: DatabaseStatus[];
  /** Paired: both sides have applied the same migrations. */
  inStep: boolean;
}

export async function migrationStatus(targets: MigrateTargets, dir: string): Promise<StatusReport> {
  const files = await loadMigrations(dir);
  const out: DatabaseStatus[] = [];
  for (const db of databases(targets)) {
    const journal = await withClient(db, (c) => readJournal(c));
    const status: DatabaseStatus = {
      label: db.label,
      display: db.display,
      applied: journal,
      pending: { expand: [], contract: [] },
      missingFiles: { expand: [], contract: [] },
    };
    for (const phase of ["expand", "contract"] as const) {
      const done = new Set(journal[phase].map((j) => j.name));
      status.pending[phase] = files[phase].filter((f) => !done.has(f.name)).map((f) => f.name);
      status.missingFiles[phase] = journal[phase].filter((j) => !files[phase].some((f) => f.name === j.name)).map((j) => j.name);
    }
    out.push(status);
  }
  const key = (s: DatabaseStatus) => JSON.stringify([s.applied.expand.map((a) => a.name), s.applied.contract.map((a) => a.name)]);
  return { kind: "migrate-status", dir, mode: targets.mode, databases: out, inStep: out.every((s) => key(s) === key(out[0]!)) };
}

// ---------------------------------------------------------------------------------------------
// plan and apply

export interface PlanStep {
  database: string;
  migration: string;
  file: string;
  statements: number;
  /** Runs statement by statement without a transaction (CONCURRENTLY and the like). */
  noTransaction: boolean;
  /** Applying it took this long (not in a plan). */
  durationMs?: number;
}

export interface MigrateReport {
  kind: "migrate-run";
  phase: Phase;
  mode: MigrateTargets["mode"];
  dryRun: boolean;
  ok: boolean;
  lint: LintReport;
  /** Paired: the order of the sides, from the replication observed (and the writer where it runs both ways). */
  order: string[];
  /** Paired: how the order was decided. */
  notes: string[];
  /** Dry run: what would run, in order. Otherwise what ran. */
  steps: PlanStep[];
  /** Paired: the publication/subscription statements (planned: the ones the created tables call for). */
  replication: ReplicationStatement[];
  /** Paired, after each migration: every subscription between the sides caught up (apply worker running). */
  replicationChecks: EdgeCheck[];
  /** Paired: tables the migrations created, rows on the writer vs on the subscriber it feeds. */
  rowChecks: RowCheck[];
  warnings: string[];
  /** Paired, after applying: schema differences between blue and green (must be none). */
  schemaDifferences: SchemaDifference[] | null;
  /** Set when a migration failed: what failed, where. */
  failure?: { database: string; migration: string; message: string };
  summary: string;
}

export interface RunOptions {
  dir: string;
  phase: Phase;
  dryRun?: boolean;
  /** Run squawk in the lint (default true). */
  squawk?: boolean;
  log?: (line: string) => void;
  /** Stop between migrations when it aborts (the report then says so and is not ok). */
  signal?: AbortSignal;
  /** Paired: how long each subscription may take to catch up after a migration (default 60 s). */
  catchUpTimeoutMs?: number;
}

async function pendingOn(db: MigrateDatabase, files: MigrationFile[], phase: Phase): Promise<Set<string>> {
  const journal = await withClient(db, (c) => readJournal(c));
  const done = new Set(journal[phase].map((j) => j.name));
  return new Set(files.filter((f) => !done.has(f.name)).map((f) => f.name));
}

function stepFor(db: MigrateDatabase, file: MigrationFile): PlanStep {
  const statements = parseStatements(file.sql);
  return { database: db.label, migration: file.name, file: file.path, statements: statements.length, noTransaction: needsNoTransaction(statements) };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** One line per applied file: where, what, how long, in a transaction or not. */
export function stepLine(step: PlanStep, phase: Phase): string {
  const how = step.noTransaction ? "without a transaction (statement by statement: CONCURRENTLY and the like)" : "in one transaction";
  return `${step.database.padEnd(8)} ${phase}/${step.migration}  ${step.durationMs ?? 0} ms  ${plural(step.statements, "statement")}, ${how}`;
}

/**
 * Lint, then apply (or with dryRun only plan) the pending migrations of one phase. A lint error
 * refuses the whole run before anything is applied. Idempotent: applied migrations are
 * journaled and skipped; after a failure, running again resumes at the failed migration. Paired:
 * the order follows the replication observed; after each migration the replication set follows
 * the schema, every subscription must catch up and created tables must hold the writer's rows.
 */
export async function runMigrations(targets: MigrateTargets, options: RunOptions): Promise<MigrateReport> {
  const log = options.log ?? (() => undefined);
  const all = await loadMigrations(options.dir);
  const files = all[options.phase];
  await loadParser();
  const report: MigrateReport = {
    kind: "migrate-run",
    phase: options.phase,
    mode: targets.mode,
    dryRun: options.dryRun === true,
    ok: true,
    lint: await lintMigrations(files, { squawk: options.squawk !== false, columnTypes: await liveTypes(targets, files) }),
    order: [],
    notes: [],
    steps: [],
    replication: [],
    replicationChecks: [],
    rowChecks: [],
    warnings: [],
    schemaDifferences: null,
    summary: "",
  };
  if (!report.lint.ok) {
    report.ok = false;
    report.summary = `refused: ${plural(report.lint.errors, "lint error")} in ${options.phase} migrations; nothing applied`;
    return report;
  }
  const sides = await sidesInOrder(targets, options.phase, files, report);
  if (!sides) return report;
  const { order, state, source } = sides;
  report.order = order.map((db) => db.label);
  const pending = new Map<string, Set<string>>();
  for (const db of order) pending.set(db.label, await pendingOn(db, files, options.phase));
  const todo = files.filter((f) => order.some((db) => pending.get(db.label)!.has(f.name)));

  if (report.dryRun) {
    planOnly(report, todo, order, pending, state, source);
    report.summary =
      todo.length === 0
        ? `nothing to apply: every ${options.phase} migration is applied`
        : `would apply ${plural(todo.length, `${options.phase} migration`)} (${plural(report.steps.length, "step")})`;
    return report;
  }

  const folder = join(resolve(options.dir), options.phase);
  for (const file of todo) {
    if (options.signal?.aborted) {
      report.ok = false;
      report.summary = `stopped before ${options.phase}/${file.name}: ${String(options.signal.reason ?? "aborted")}; ${plural(report.steps.length, "step")} applied (run again to resume)`;
      return report;
    }
    const before = targets.mode === "paired" ? await readBoth(targets) : null;
    for (const [index, db] of order.entries()) {
      if (!pending.get(db.label)!.has(file.name)) continue;
      if (index > 0 && targets.mode === "paired" && before) {
        const behind = await drainBefore(targets, before, order[0]!.label as Color, db.label as Color, options, log);
        if (behind) {
          report.ok = false;
          report.summary = `${options.phase}/${file.name} applied on ${order[0]!.label} only: ${behind}; run again once it applies`;
          return report;
        }
      }
      const started = performance.now();
      try {
        const applied = await applyOnDatabase(db.config, {
          folder,
          phase: options.phase,
          only: file.name,
          log: (l) => log(`${db.label}: ${redact(l, secretsOf(db))}`),
        });
        if (applied.length > 0) {
          const step = { ...stepFor(db, file), durationMs: Math.round(performance.now() - started) };
          report.steps.push(step);
          log(stepLine(step, options.phase));
        }
      } catch (error) {
        if (error instanceof UsageError) throw error;
        const mapped = mapConnectError(db, error);
        if (mapped instanceof UnreachableError) throw mapped;
        report.ok = false;
        report.failure = { database: db.label, migration: file.name, message: redact((error as Error).message, secretsOf(db)) };
        report.summary = `${options.phase}/${file.name} failed on ${db.label}: ${report.failure.message}; ${plural(report.steps.length, "step")} applied before it stay applied (run again to resume)`;
        return report;
      }
    }
    if (targets.mode === "paired" && before) {
      const broken = await followReplication(targets, before, source, report, options, log);
      if (broken) {
        report.ok = false;
        report.summary = `${options.phase}/${file.name} applied on both sides, but ${broken}; nothing after it was applied`;
        return report;
      }
    }
  }

  if (targets.mode === "paired") {
    report.schemaDifferences = await compareSchemas({
      blue: targetOf({ ...targets.blue, label: "blue" }),
      green: targetOf({ ...targets.green, label: "green" }),
    });
    if (report.schemaDifferences.length > 0) {
      report.ok = false;
      report.summary = `applied ${plural(report.steps.length, "step")}, but blue's and green's schemas differ in ${plural(report.schemaDifferences.length, "place")}`;
      return report;
    }
  }
  const n = new Set(report.steps.map((s) => s.migration)).size;
  const paired =
    targets.mode === "paired"
      ? `; blue's and green's schemas are identical${report.replicationChecks.length > 0 ? "; replication applying" : ""}${report.rowChecks.length > 0 ? `; new tables hold every row (${report.rowChecks.map((r) => `${r.table}: ${r.targetRows}/${r.sourceRows}`).join(", ")})` : ""}`
      : "";
  report.summary =
    n === 0
      ? `nothing to apply: every ${options.phase} migration is applied${paired}`
      : `applied ${plural(n, `${options.phase} migration`)} (${plural(report.steps.length, "step")})${paired}`;
  return report;
}

/**
 * The databases in the order to apply, from the replication observed (paired), or null when the
 * run is refused (the report then says why).
 */
async function sidesInOrder(
  targets: MigrateTargets,
  phase: Phase,
  files: MigrationFile[],
  report: MigrateReport,
): Promise<{ order: MigrateDatabase[]; state: Record<Color, ReplicationState> | null; source: Color | null } | null> {
  if (targets.mode === "shared") return { order: [targets.database], state: null, source: null };
  const state = await readBoth(targets);
  const decided = sequence(phase, edgesOf(state), targets.writer, targets.writerFrom ?? "flag");
  if (decided.note) report.notes.push(decided.note);
  if (decided.contested && files.some((f) => parsedOrEmpty(f).some((s) => createdBy(s).length > 0))) {
    report.ok = false;
    report.summary = `refused: ${decided.contested}; nothing applied`;
    return null;
  }
  return { order: decided.order.map((c) => (c === "blue" ? targets.blue : targets.green)), state, source: decided.source };
}

const parsedOrEmpty = (f: MigrationFile) => {
  try {
    return parseStatements(f.sql);
  } catch {
    return [];
  }
};

/** The current types of the columns the files change the type of (to prove widenings), read on the writer. */
async function liveTypes(targets: MigrateTargets, files: MigrationFile[]): Promise<Map<string, ColumnType>> {
  const changed = files.flatMap((f) => typeChangeTargets(parsedOrEmpty(f)));
  if (changed.length === 0) return new Map();
  const db = targets.mode === "shared" ? targets.database : targets.writer === "blue" ? targets.blue : targets.green;
  return withClient(db, (c) => liveColumnTypes(c, changed));
}

/** Dry run: the steps, and (paired) the replication statements the created tables call for. */
function planOnly(
  report: MigrateReport,
  todo: MigrationFile[],
  order: MigrateDatabase[],
  pending: Map<string, Set<string>>,
  initial: Record<Color, ReplicationState> | null,
  source: Color | null,
): void {
  let state = initial;
  for (const file of todo) {
    for (const db of order) if (pending.get(db.label)!.has(file.name)) report.steps.push(stepFor(db, file));
    const created = parseStatements(file.sql).flatMap(createdBy).map(quotedTable);
    if (!state || created.length === 0) continue;
    const grown = (s: ReplicationState): ReplicationState => ({ ...s, tables: new Set([...s.tables, ...created]) });
    const after = { blue: grown(state.blue), green: grown(state.green) };
    const planned = replicationCatchUp(state, after, source);
    report.replication.push(...planned.statements.map((r) => ({ ...r, why: `after ${file.name}: ${r.why}` })));
    report.warnings.push(...planned.warnings);
    const added = (s: ReplicationState, side: Color): ReplicationState => {
      const publications = new Map(
        [...s.publications].map(([pub, tables]) => [
          pub,
          planned.statements.some((x) => x.on === side && x.sql.includes(`PUBLICATION "${pub}" ADD`)) ? new Set([...tables, ...created]) : tables,
        ]),
      );
      return { ...s, publications };
    };
    state = { blue: added(after.blue, "blue"), green: added(after.green, "green") };
  }
}

/**
 * Between the two sides: the changes the first side published before its DDL must be applied on
 * the second before the second changes its schema (contract: rows still carrying a dropped column
 * cannot apply once the subscriber has dropped it too). Returns what is behind, or null.
 */
async function drainBefore(
  targets: PairedTargets,
  state: Record<Color, ReplicationState>,
  first: Color,
  second: Color,
  options: RunOptions,
  log: (line: string) => void,
): Promise<string | null> {
  const feeding = edgesOf(state).filter((e) => e.enabled && e.publisher === first && e.subscriber === second);
  if (feeding.length === 0) return null;
  const checks = await checkEdges(targets, feeding, options.catchUpTimeoutMs ?? 60_000);
  for (const c of checks) log(`before ${second}: ${edgeLine(c)}`);
  const failed = checks.filter((c) => !c.ok);
  return failed.length > 0 ? `${second} did not apply ${first}'s earlier changes: ${failed.map(edgeLine).join("; ")}` : null;
}

/**
 * After one migration on both sides: bring the replication set in line, then prove every
 * subscription between them applies and every created table holds its writer's rows. Returns
 * what is broken, or null.
 */
async function followReplication(
  targets: PairedTargets,
  before: Record<Color, ReplicationState>,
  source: Color | null,
  report: MigrateReport,
  options: RunOptions,
  log: (line: string) => void,
): Promise<string | null> {
  const timeoutMs = options.catchUpTimeoutMs ?? 60_000;
  const after = await readBoth(targets);
  const catchUp = replicationCatchUp(before, after, source);
  report.warnings.push(...catchUp.warnings);
  await runReplicationStatements(targets, catchUp.statements, log);
  report.replication.push(...catchUp.statements);
  const checks = await checkEdges(targets, edgesOf(after), timeoutMs);
  for (const c of checks) log(edgeLine(c));
  report.replicationChecks.push(...checks);
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) return `replication stopped applying: ${failed.map(edgeLine).join("; ")}`;
  for (const s of catchUp.statements) {
    if (!s.copy) continue;
    const rows = await checkCopiedRows(targets, s.copy, timeoutMs);
    for (const r of rows) log(`${r.to}: ${r.table}: ${r.detail}`);
    report.rowChecks.push(...rows);
    const short = rows.filter((r) => !r.ok);
    if (short.length > 0) return `created tables miss rows on ${short[0]!.to}: ${short.map((r) => `${r.table}: ${r.detail}`).join("; ")}`;
  }
  return null;
}

/** "s.t" or "t" (taken to be in public) as the quoted form the replication state uses. */
function quotedTable(name: string): string {
  const [schema, table] = name.includes(".") ? [name.slice(0, name.indexOf(".")), name.slice(name.indexOf(".") + 1)] : ["public", name];
  const q = (x: string) => `"${x.replace(/"/g, '""')}"`;
  return `${q(schema)}.${q(table)}`;
}

/** The same connection as a parity Target. */
function targetOf(db: MigrateDatabase & { label: Color }): Target {
  return { side: db.label, display: db.display, config: db.config };
}

/**
 * Paired contract: stop the replication that keeps the other color's database up to date for a
 * rollback (writer green: green → blue), so the contracted schema can never be fed back to a blue
 * that expects the old one. Returns what was done, one line each.
 */
export async function closeRollbackPath(targets: PairedTargets): Promise<string[]> {
  const { stopSync, SYNC_NAMES } = await import("../sync/index.js");
  const source = targets.writer === "green" ? targets.green : targets.blue;
  const target = targets.writer === "green" ? targets.blue : targets.green;
  const name = targets.writer === "green" ? SYNC_NAMES.reverse : SYNC_NAMES.forward;
  return withClient(source, (s) =>
    withClient(target, async (t) => {
      const result = await stopSync({ sourceUrl: s, targetUrl: t, name, sourceLabel: `${source.label} database`, targetLabel: `${target.label} database` });
      return [`replication ${name} (${source.label} → ${target.label}) stopped: the rollback path to ${target.label} is closed`, ...result.messages];
    }),
  );
}
