// A migration run's report (what was planned or applied, in order, and how it ended), its
// options, and one line per applied file.

import type { SchemaDifference } from "../parity/types.js";
import type { MigrateDatabase, MigrateTargets } from "./database.js";
import type { MigrationFile, Phase } from "./files.js";
import type { LintReport } from "./lint.js";
import type { EdgeCheck, RowCheck } from "./paired.js";
import type { ReplicationStatement } from "./replication.js";
import { needsNoTransaction, parseStatements } from "./statements.js";

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

/** A report that ends here, not ok, and why. */
export function stopped(report: MigrateReport, summary: string): MigrateReport {
  report.ok = false;
  report.summary = summary;
  return report;
}

export function stepFor(db: MigrateDatabase, file: MigrationFile): PlanStep {
  const statements = parseStatements(file.sql);
  return { database: db.label, migration: file.name, file: file.path, statements: statements.length, noTransaction: needsNoTransaction(statements) };
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** One line per applied file: where, what, how long, in a transaction or not. */
export function stepLine(step: PlanStep, phase: Phase): string {
  const how = step.noTransaction ? "without a transaction (statement by statement: CONCURRENTLY and the like)" : "in one transaction";
  return `${step.database.padEnd(8)} ${phase}/${step.migration}  ${step.durationMs ?? 0} ms  ${plural(step.statements, "statement")}, ${how}`;
}
