// One migration file applied on each side that has not applied it, in order. Paired: before the
// second side changes its schema it must have applied what the first published before its DDL;
// after both, the replication set follows the schema, every subscription must catch up and
// created tables must hold their writer's rows.

import { join, resolve } from "node:path";
import { UnreachableError, UsageError } from "../../core/errors.js";
import { redact } from "../../core/redact.js";
import { mapConnectError, secretsOf, type MigrateDatabase, type MigrateTargets, type PairedTargets } from "./database.js";
import type { MigrationFile } from "./files.js";
import { checkCopiedRows, checkEdges, edgeLine, readBoth, runReplicationStatements } from "./paired.js";
import { edgesOf, replicationCatchUp, type Color, type ReplicationState } from "./replication.js";
import { plural, stepFor, stepLine, type MigrateReport, type RunOptions } from "./report.js";
import { applyOnDatabase } from "./runner.js";

/** The sides in the order to apply, which of them still lack each file, and the replication's source (paired). */
export interface ApplyOrder {
  order: MigrateDatabase[];
  pending: Map<string, Set<string>>;
  source: Color | null;
}

/** Applies `file` on each side in order (the steps go into the report); returns why the run stops here, or null. */
export async function applyFile(
  targets: MigrateTargets,
  file: MigrationFile,
  sides: ApplyOrder,
  report: MigrateReport,
  options: RunOptions,
  log: (line: string) => void,
): Promise<string | null> {
  const { order, pending } = sides;
  const before = targets.mode === "paired" ? await readBoth(targets) : null;
  for (const [index, db] of order.entries()) {
    if (!pending.get(db.label)!.has(file.name)) continue;
    if (index > 0 && targets.mode === "paired" && before) {
      const behind = await drainBefore(targets, before, order[0]!.label as Color, db.label as Color, options, log);
      if (behind) return `${options.phase}/${file.name} applied on ${order[0]!.label} only: ${behind}; run again once it applies`;
    }
    const failed = await applyOn(db, file, report, options, log);
    if (failed) return failed;
  }
  if (targets.mode === "paired" && before) {
    const broken = await followReplication(targets, before, sides.source, report, options, log);
    if (broken) return `${options.phase}/${file.name} applied on both sides, but ${broken}; nothing after it was applied`;
  }
  return null;
}

/**
 * `file` on one database, journaled (a step in the report when it ran). A database that cannot be
 * reached throws (exit 3); a migration that fails is the report's failure, and why the run stops.
 */
async function applyOn(
  db: MigrateDatabase,
  file: MigrationFile,
  report: MigrateReport,
  options: RunOptions,
  log: (line: string) => void,
): Promise<string | null> {
  const started = performance.now();
  try {
    const applied = await applyOnDatabase(db.config, {
      folder: join(resolve(options.dir), options.phase),
      phase: options.phase,
      only: file.name,
      log: (l) => log(`${db.label}: ${redact(l, secretsOf(db))}`),
    });
    if (applied.length > 0) {
      const step = { ...stepFor(db, file), durationMs: Math.round(performance.now() - started) };
      report.steps.push(step);
      log(stepLine(step, options.phase));
    }
    return null;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const mapped = mapConnectError(db, error);
    if (mapped instanceof UnreachableError) throw mapped;
    report.failure = { database: db.label, migration: file.name, message: redact((error as Error).message, secretsOf(db)) };
    return `${options.phase}/${file.name} failed on ${db.label}: ${report.failure.message}; ${plural(report.steps.length, "step")} applied before it stay applied (run again to resume)`;
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
