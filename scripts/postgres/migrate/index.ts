// Programmatic entry to migrations: status, lint, plan and apply (expand or contract), on one
// database (database.mode shared) or on both (paired: same DDL on each, in the order the
// replication observed between them requires; after each file the replication set follows the
// schema, every subscription must catch up and created tables must hold their writer's rows;
// then schema parity). Used by `npm run migrate` and the cutover's migrating phase. See
// docs/migrations.md.

import { compareSchemas, type Target } from "../parity/index.js";
import { applyFile } from "./apply.js";
import { loadMigrations, type MigrationFile, type Phase } from "./files.js";
import { readJournal } from "./journal.js";
import { lintMigrations, type LintReport } from "./lint.js";
import { replicationCatchUp, sequence, edgesOf, type Color, type ReplicationState } from "./replication.js";
import { readBoth } from "./paired.js";
import { plural, stepFor, stopped, type MigrateReport, type RunOptions } from "./report.js";
import { createdBy } from "./rules.js";
import { liveColumnTypes, typeChangeTargets, type ColumnType } from "./columnTypes.js";
import { loadParser, parseStatements } from "./statements.js";
import { withClient, type MigrateDatabase, type MigrateTargets, type PairedTargets } from "./database.js";

export { lintMigrations, type LintReport, type Finding, type FileLint } from "./lint.js";
export { loadMigrations, readMigrationFile, phaseOfPath, PHASES, type MigrationFile, type Phase } from "./files.js";
export { JOURNAL_SCHEMA } from "./journal.js";
export { RULE_NAMES } from "./rules.js";
export type { MigrateDatabase, MigrateTargets, PairedTargets } from "./database.js";
export type { EdgeCheck, RowCheck } from "./paired.js";
export { stepLine, type MigrateReport, type PlanStep, type RunOptions } from "./report.js";

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

async function pendingOn(db: MigrateDatabase, files: MigrationFile[], phase: Phase): Promise<Set<string>> {
  const journal = await withClient(db, (c) => readJournal(c));
  const done = new Set(journal[phase].map((j) => j.name));
  return new Set(files.filter((f) => !done.has(f.name)).map((f) => f.name));
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
  const files = (await loadMigrations(options.dir))[options.phase];
  await loadParser();
  const lint = await lintMigrations(files, { squawk: options.squawk !== false, columnTypes: await liveTypes(targets, files) });
  const report = newReport(targets, options, lint);
  if (!report.lint.ok) return stopped(report, `refused: ${plural(report.lint.errors, "lint error")} in ${options.phase} migrations; nothing applied`);
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
  for (const file of todo) {
    if (options.signal?.aborted) {
      return stopped(
        report,
        `stopped before ${options.phase}/${file.name}: ${String(options.signal.reason ?? "aborted")}; ${plural(report.steps.length, "step")} applied (run again to resume)`,
      );
    }
    const broken = await applyFile(targets, file, { order, pending, source }, report, options, log);
    if (broken) return stopped(report, broken);
  }
  return concludeApplied(targets, report, options.phase);
}

/** A run's report before anything is planned or applied. */
function newReport(targets: MigrateTargets, options: RunOptions, lint: LintReport): MigrateReport {
  return {
    kind: "migrate-run",
    phase: options.phase,
    mode: targets.mode,
    dryRun: options.dryRun === true,
    ok: true,
    lint,
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
}

/** Every file applied: paired, blue's and green's schemas must be identical; the summary says what ran. */
async function concludeApplied(targets: MigrateTargets, report: MigrateReport, phase: Phase): Promise<MigrateReport> {
  if (targets.mode === "paired") {
    report.schemaDifferences = await compareSchemas({
      blue: targetOf({ ...targets.blue, label: "blue" }),
      green: targetOf({ ...targets.green, label: "green" }),
    });
    if (report.schemaDifferences.length > 0) {
      return stopped(
        report,
        `applied ${plural(report.steps.length, "step")}, but blue's and green's schemas differ in ${plural(report.schemaDifferences.length, "place")}`,
      );
    }
  }
  const n = new Set(report.steps.map((s) => s.migration)).size;
  const paired =
    targets.mode === "paired"
      ? `; blue's and green's schemas are identical${report.replicationChecks.length > 0 ? "; replication applying" : ""}${report.rowChecks.length > 0 ? `; new tables hold every row (${report.rowChecks.map((r) => `${r.table}: ${r.targetRows}/${r.sourceRows}`).join(", ")})` : ""}`
      : "";
  report.summary =
    n === 0
      ? `nothing to apply: every ${phase} migration is applied${paired}`
      : `applied ${plural(n, `${phase} migration`)} (${plural(report.steps.length, "step")})${paired}`;
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
