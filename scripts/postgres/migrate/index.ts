// Programmatic entry to migrations: status, lint, plan and apply (expand or contract), on one
// database (database.mode shared) or on both (paired: same DDL on each, in an order that keeps
// replication applying, replication set refreshed, then schema parity). Used by `npm run migrate`
// and the cutover's migrating phase. See docs/migrations.md.

import { join, resolve } from "node:path";
import pg from "pg";
import { UnreachableError, UsageError } from "../../core/errors.js";
import { redact } from "../../core/redact.js";
import { compareSchemas, type Target } from "../parity/index.js";
import type { SchemaDifference } from "../parity/types.js";
import { loadMigrations, type MigrationFile, type Phase } from "./files.js";
import { readJournal } from "./journal.js";
import { lintMigrations, type LintReport } from "./lint.js";
import { applyOrder, readReplicationState, replicationCatchUp, type Color, type ReplicationState, type ReplicationStatement } from "./replication.js";
import { applyOnDatabase } from "./runner.js";
import { createdBy } from "./rules.js";
import { loadParser, needsNoTransaction, parseStatements } from "./statements.js";

export { lintMigrations, type LintReport, type Finding } from "./lint.js";
export { loadMigrations, readMigrationFile, phaseOfPath, PHASES, type MigrationFile, type Phase } from "./files.js";
export { JOURNAL_SCHEMA } from "./journal.js";
export { RULE_NAMES } from "./rules.js";

export interface MigrateDatabase {
  /** "database" (shared), "blue" or "green". */
  label: "database" | Color;
  /** postgres://user:***@host:port/db: safe to print. */
  display: string;
  /** Connection, password included. Never print it. */
  config: pg.ClientConfig;
}

export type MigrateTargets =
  | { mode: "shared"; database: MigrateDatabase }
  /** `writer`: the color serving writes now (blue before a cutover, green after). */
  | { mode: "paired"; blue: MigrateDatabase; green: MigrateDatabase; writer: Color };

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

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "28P01", "28000", "3D000", "57P03", "08001", "08006"]);

function secretsOf(db: MigrateDatabase): string[] {
  const p = db.config.password;
  return typeof p === "string" && p ? [p] : [];
}

function mapConnectError(db: MigrateDatabase, error: unknown): Error {
  const code = (error as { code?: string }).code;
  const message = redact((error as Error).message ?? String(error), secretsOf(db));
  if (code && UNREACHABLE.has(code)) return new UnreachableError(`${db.label} database ${db.display}: ${message}`);
  return new Error(`${db.label} database ${db.display}: ${message}`);
}

async function withClient<T>(db: MigrateDatabase, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...db.config, application_name: "bluegreen-migrate" });
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw mapConnectError(db, error);
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
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
    const status: DatabaseStatus = { label: db.label, display: db.display, applied: journal, pending: { expand: [], contract: [] }, missingFiles: { expand: [], contract: [] } };
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
}

export interface MigrateReport {
  kind: "migrate-run";
  phase: Phase;
  mode: MigrateTargets["mode"];
  dryRun: boolean;
  ok: boolean;
  lint: LintReport;
  /** Dry run: what would run, in order. Otherwise what ran. */
  steps: PlanStep[];
  /** Paired: the publication/subscription statements (planned: the ones the created tables call for). */
  replication: ReplicationStatement[];
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

/**
 * Lint, then apply (or with dryRun only plan) the pending migrations of one phase. A lint error
 * in expand refuses the whole run before anything is applied. Idempotent: applied migrations are
 * journaled and skipped; after a failure, running again resumes at the failed migration.
 */
export async function runMigrations(targets: MigrateTargets, options: RunOptions): Promise<MigrateReport> {
  const log = options.log ?? (() => undefined);
  const all = await loadMigrations(options.dir);
  const files = all[options.phase];
  await loadParser();
  const report: MigrateReport = {
    kind: "migrate-run", phase: options.phase, mode: targets.mode, dryRun: options.dryRun === true, ok: true,
    lint: await lintMigrations(files, { squawk: options.squawk !== false }),
    steps: [], replication: [], warnings: [], schemaDifferences: null, summary: "",
  };
  if (!report.lint.ok) {
    report.ok = false;
    report.summary = `refused: ${report.lint.errors} lint error${report.lint.errors === 1 ? "" : "s"} in ${options.phase} migrations; nothing applied`;
    return report;
  }
  const folder = join(resolve(options.dir), options.phase);
  const order: MigrateDatabase[] =
    targets.mode === "shared" ? [targets.database] : applyOrder(options.phase, targets.writer).map((c) => (c === "blue" ? targets.blue : targets.green));
  const pending = new Map<string, Set<string>>();
  for (const db of order) pending.set(db.label, await pendingOn(db, files, options.phase));
  const todo = files.filter((f) => order.some((db) => pending.get(db.label)!.has(f.name)));

  if (report.dryRun) {
    // Paired: the replication statements the created tables will call for, from the live
    // publications and subscriptions (read only; unqualified names taken to be in public).
    let state: Record<Color, ReplicationState> | null =
      targets.mode === "paired" ? { blue: await withClient(targets.blue, readReplicationState), green: await withClient(targets.green, readReplicationState) } : null;
    for (const file of todo) {
      for (const db of order) if (pending.get(db.label)!.has(file.name)) report.steps.push(stepFor(db, file));
      const created = parseStatements(file.sql).flatMap(createdBy).map(quotedTable);
      if (state && created.length > 0) {
        const grown = (s: ReplicationState): ReplicationState => ({ ...s, tables: new Set([...s.tables, ...created]) });
        const after = { blue: grown(state.blue), green: grown(state.green) };
        const planned = replicationCatchUp(state, after);
        report.replication.push(...planned.statements.map((r) => ({ ...r, why: `after ${file.name}: ${r.why}` })));
        report.warnings.push(...planned.warnings);
        const added = (s: ReplicationState, side: Color): ReplicationState => {
          const publications = new Map([...s.publications].map(([pub, tables]) => [pub, planned.statements.some((x) => x.on === side && x.sql.includes(`PUBLICATION "${pub}" ADD`)) ? new Set([...tables, ...created]) : tables]));
          return { ...s, publications };
        };
        state = { blue: added(after.blue, "blue"), green: added(after.green, "green") };
      }
    }
    report.summary = todo.length === 0 ? `nothing to apply: every ${options.phase} migration is applied` : `would apply ${todo.length} ${options.phase} migration${todo.length === 1 ? "" : "s"} (${report.steps.length} step${report.steps.length === 1 ? "" : "s"})`;
    return report;
  }

  for (const file of todo) {
    if (options.signal?.aborted) {
      report.ok = false;
      report.summary = `stopped before ${options.phase}/${file.name}: ${String(options.signal.reason ?? "aborted")}; ${report.steps.length} step${report.steps.length === 1 ? "" : "s"} applied (run again to resume)`;
      return report;
    }
    let before: Record<Color, ReplicationState> | null = null;
    if (targets.mode === "paired") {
      before = { blue: await withClient(targets.blue, readReplicationState), green: await withClient(targets.green, readReplicationState) };
    }
    for (const db of order) {
      if (!pending.get(db.label)!.has(file.name)) continue;
      log(`${db.label}: applying ${options.phase}/${file.name}.sql`);
      try {
        const applied = await applyOnDatabase(db.config, { folder, phase: options.phase, only: file.name, log: (l) => log(`${db.label}: ${redact(l, secretsOf(db))}`) });
        if (applied.length > 0) report.steps.push(stepFor(db, file));
      } catch (error) {
        if (error instanceof UsageError) throw error;
        const mapped = mapConnectError(db, error);
        if (mapped instanceof UnreachableError) throw mapped;
        report.ok = false;
        report.failure = { database: db.label, migration: file.name, message: redact((error as Error).message, secretsOf(db)) };
        report.summary = `${options.phase}/${file.name} failed on ${db.label}: ${report.failure.message}; ${report.steps.length} step${report.steps.length === 1 ? "" : "s"} applied before it stay applied (run again to resume)`;
        return report;
      }
    }
    if (targets.mode === "paired" && before) {
      const after = { blue: await withClient(targets.blue, readReplicationState), green: await withClient(targets.green, readReplicationState) };
      const catchUp = replicationCatchUp(before, after);
      report.warnings.push(...catchUp.warnings);
      for (const s of catchUp.statements) {
        log(`${s.on}: ${s.sql}`);
        await withClient(s.on === "blue" ? targets.blue : targets.green, (c) => c.query(s.sql));
        report.replication.push(s);
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
      report.summary = `applied ${report.steps.length} step${report.steps.length === 1 ? "" : "s"}, but blue's and green's schemas differ in ${report.schemaDifferences.length} place${report.schemaDifferences.length === 1 ? "" : "s"}`;
      return report;
    }
  }
  const n = new Set(report.steps.map((s) => s.migration)).size;
  report.summary =
    n === 0
      ? `nothing to apply: every ${options.phase} migration is applied${targets.mode === "paired" ? "; blue's and green's schemas are identical" : ""}`
      : `applied ${n} ${options.phase} migration${n === 1 ? "" : "s"} (${report.steps.length} step${report.steps.length === 1 ? "" : "s"})${targets.mode === "paired" ? "; blue's and green's schemas are identical" : ""}`;
  return report;
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
export async function closeRollbackPath(targets: Extract<MigrateTargets, { mode: "paired" }>): Promise<string[]> {
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
