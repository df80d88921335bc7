// Programmatic entry: runParity() proves green's database holds the same data as blue's,
// or names where it does not. Used by `npm run parity`, the cutover engine's preflight and the demo.

import type pg from "pg";
import { UnreachableError, UsageError } from "../../core/errors.js";
import { readCatalog } from "./catalog.js";
import { compareTable, DEFAULT_TUNING, type Tuning } from "./compare.js";
import { targetFromUrl, type Target } from "./connection.js";
import { matchesPattern, selectTables } from "./glob.js";
import { cannotRead, ParityInterruptedError } from "./errors.js";
import { cancelOnAbort } from "./interrupt.js";
import { compareLargeObjects } from "./largeObjects.js";
import { nameKey } from "./names.js";
import { diffSchemas, planTable, type TablePlan } from "./plan.js";
import { diffSequenceDefinitions } from "./schemaDiff.js";
import { privilegeWarnings } from "./tableAttributesDiff.js";
import { EQUALITY_RULES, type EqualityRuleId } from "./typeRules.js";
import { compareSequences } from "./sequences.js";
import { SnapshotPool } from "./snapshotPool.js";
import { HASH_PROBE_SQL, type HashMode } from "./sql.js";
import type { ParityProgress, ParityReport, SchemaDifference, TableResult } from "./types.js";
import type { Catalog, SequenceInfo } from "./catalog.js";

export type * from "./types.js";
export { redact, redactUrl } from "../../core/redact.js";
export { targetFromConnection, targetFromUrl, type Target } from "./connection.js";
export { formatReport, writeReport, DEFAULT_REPORT_PATH } from "./report.js";
export { CannotCompareError, ParityInterruptedError } from "./errors.js";

export interface ParityOptions {
  /** postgres:// URLs; or give `blue`/`green` targets (e.g. targetFromConnection of scripts/postgres/stackDatabases.ts). */
  blueUrl?: string;
  greenUrl?: string;
  blue?: Target;
  green?: Target;
  /** Globs on schema.table; a pattern without a dot matches the table name in any schema. */
  include?: string[];
  exclude?: string[];
  /** Differing keys listed per table (default 100). */
  limit?: number;
  /** Connections per database (default 2). */
  parallelism?: number;
  /** Privilege differences (roles on both sides) count as differences, not warnings. */
  strictPrivileges?: boolean;
  onProgress?: (progress: ParityProgress) => void;
  /**
   * Internal sizes and switches, for tests: smaller segments reach the split path on small tables;
   * secondsPerRow makes every row's hash sleep on the server, so a run lasts until it is cancelled.
   */
  tuning?: Partial<Tuning> & { forceCanonical?: boolean; secondsPerRow?: number };
  /** Aborting it (Ctrl-C) cancels the run's queries on both servers; the run rejects with ParityInterruptedError. */
  signal?: AbortSignal;
  /** Test hook: awaited once both snapshots are open on every connection, before anything is read. */
  afterSnapshot?: () => Promise<void>;
}

async function resolveTargets(options: ParityOptions): Promise<[Target, Target]> {
  const blue = options.blue ?? (options.blueUrl !== undefined ? await targetFromUrl("blue", options.blueUrl) : undefined);
  const green = options.green ?? (options.greenUrl !== undefined ? await targetFromUrl("green", options.greenUrl) : undefined);
  if (!blue || !green) throw new UsageError("parity needs both databases: blue and green");
  return [blue, green];
}

async function openBoth(blue: Target, green: Target, size: number): Promise<[SnapshotPool, SnapshotPool]> {
  const [b, g] = await Promise.allSettled([SnapshotPool.open(blue, size), SnapshotPool.open(green, size)]);
  if (b.status === "fulfilled" && g.status === "fulfilled") return [b.value, g.value];
  if (b.status === "fulfilled") await b.value.close();
  if (g.status === "fulfilled") await g.value.close();
  throw b.status === "rejected" ? b.reason : (g as PromiseRejectedResult).reason;
}

async function probeHashMode(blue: SnapshotPool, green: SnapshotPool): Promise<{ mode: HashMode; reason?: string }> {
  const probe = (pool: SnapshotPool) =>
    // Inside a savepoint, in one round trip: a missing function must not abort the snapshot transaction.
    pool.run(async (client) => {
      try {
        const results = (await client.query(`SAVEPOINT parity_probe; ${HASH_PROBE_SQL}; RELEASE SAVEPOINT parity_probe`)) as unknown as pg.QueryResult[];
        return JSON.stringify(results[1]!.rows[0]);
      } catch (error) {
        await client.query("ROLLBACK TO SAVEPOINT parity_probe");
        return `error: ${(error as Error).message}`;
      }
    });
  const [b, g] = await Promise.all([probe(blue), probe(green)]);
  if (b.startsWith("error:") || g.startsWith("error:")) {
    return {
      mode: "canonical",
      reason: `server-side row hashing unavailable (PostgreSQL 14+ needed): ${b.startsWith("error:") ? "blue" : "green"} ${b.startsWith("error:") ? b : g}`,
    };
  }
  if (b !== g) {
    return {
      mode: "canonical",
      reason: `blue (${blue.serverVersion}) and green (${green.serverVersion}) hash known values differently; compared through md5 of a canonical text form`,
    };
  }
  return { mode: "server" };
}

function summarize(report: Omit<ParityReport, "summary">): string {
  const t = report.totals;
  if (report.identical) {
    // Identical: both sides hold the same rows, half of all that were hashed.
    const rows = (t.rowsHashed / 2).toLocaleString("en-US");
    const seq = report.sequences.length > 0 ? `, ${report.sequences.length} sequence${report.sequences.length === 1 ? "" : "s"} ok` : "";
    const lo = report.largeObjects?.blue ? `, ${report.largeObjects.blue} large object${report.largeObjects.blue === 1 ? "" : "s"}` : "";
    const warnings = report.privilegeWarnings?.length ?? 0;
    const warn = warnings > 0 ? ` (${warnings} privilege warning${warnings === 1 ? "" : "s"}: see privilegeWarnings, --strict-privileges counts them)` : "";
    return `identical: ${t.tables} table${t.tables === 1 ? "" : "s"}, ${rows} row${t.rowsHashed === 2 ? "" : "s"} on each side${seq}${lo}${warn}`;
  }
  const parts: string[] = [];
  if (t.tablesDifferent > 0) {
    const kinds = [
      t.missingOnGreen > 0 ? `${t.missingOnGreen} missing on green` : "",
      t.extraOnGreen > 0 ? `${t.extraOnGreen} extra on green` : "",
      t.changed > 0 ? `${t.changed} changed` : "",
      (t.duplicateKeys ?? 0) > 0 ? `${t.duplicateKeys} duplicated key${t.duplicateKeys === 1 ? "" : "s"}` : "",
    ].filter(Boolean);
    parts.push(`${t.tablesDifferent} of ${t.tables} table${t.tables === 1 ? "" : "s"} differ${kinds.length > 0 ? ` (${kinds.join(", ")})` : ""}`);
  }
  if (t.schemaDifferences > 0) parts.push(`${t.schemaDifferences} schema difference${t.schemaDifferences === 1 ? "" : "s"}`);
  if (t.sequencesBehind > 0) parts.push(`${t.sequencesBehind} sequence${t.sequencesBehind === 1 ? "" : "s"} behind`);
  return `different: ${parts.join("; ")}`;
}

/** A server that went away mid-run (shutdown, network): exit 3, like one that never answered. */
function lostConnection(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  if (e.code && ["ECONNRESET", "EPIPE", "ETIMEDOUT", "57P01", "57P02", "57P03", "08006", "08003", "08001"].includes(e.code)) return true;
  return /Connection terminated|connection .*closed|Client has encountered a connection error/i.test(e.message ?? "");
}

interface RunSettings {
  include: string[];
  exclude: string[];
  limit: number;
  parallel: number;
}

function settingsOf(options: ParityOptions): RunSettings {
  const settings = { include: options.include ?? [], exclude: options.exclude ?? [], limit: options.limit ?? 100, parallel: options.parallelism ?? 2 };
  const { limit, parallel } = settings;
  if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`limit must be a whole number ≥ 0, got ${limit}`);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new UsageError(`parallelism must be a whole number from 1 to 64, got ${parallel}`);
  return settings;
}

/**
 * Compare both databases. When `options.signal` aborts, the queries running on both servers are
 * cancelled and the run rejects with ParityInterruptedError (no verdict).
 */
export async function runParity(options: ParityOptions): Promise<ParityReport> {
  const started = new Date();
  const settings = settingsOf(options);
  const progress: ParityProgress = { phase: "connect", tablesDone: 0, tablesTotal: 0, rowsHashed: 0 };
  const emit = () => options.onProgress?.({ ...progress });
  emit();
  if (options.signal?.aborted) throw new ParityInterruptedError({ blue: 0, green: 0 });

  const [blueTarget, greenTarget] = await resolveTargets(options);
  const [blue, green] = await openBoth(blueTarget, greenTarget, settings.parallel);
  const interruption = cancelOnAbort(options.signal, { blue, green });
  try {
    await options.afterSnapshot?.();
    const base = await compareOpened({ blue, green, blueTarget, greenTarget, settings, options, progress, emit, started });
    const interrupted = await interruption.settle();
    if (interrupted) throw interrupted;
    progress.phase = "done";
    emit();
    return { ...base, summary: summarize(base) };
  } catch (error) {
    const interrupted = await interruption.settle();
    if (interrupted) throw interrupted;
    throw lostConnection(error) ? new UnreachableError(`lost the connection to a database during the run: ${(error as Error).message}`) : error;
  } finally {
    interruption.dispose();
    await Promise.all([blue.close(), green.close()]);
  }
}

interface OpenedRun {
  blue: SnapshotPool;
  green: SnapshotPool;
  blueTarget: Target;
  greenTarget: Target;
  settings: RunSettings;
  options: ParityOptions;
  progress: ParityProgress;
  emit: () => void;
  started: Date;
}

/** Everything after both snapshots are open: schemas, tables, large objects, sequences. */
async function compareOpened(run: OpenedRun): Promise<Omit<ParityReport, "summary">> {
  const { blue, green, settings, options, progress, emit } = run;
  const { include, exclude, limit, parallel } = settings;
  progress.phase = "schema";
  emit();
  const [blueCat, greenCat, probed] = await Promise.all([readCatalog(blue), readCatalog(green), probeHashMode(blue, green)]);
  const hash: { mode: HashMode; reason?: string } = options.tuning?.forceCanonical
    ? { mode: "canonical", reason: "canonical form forced by the caller" }
    : probed;
  const { inScope, patternScope } = tableScope(blueCat, greenCat, include, exclude);
  const databaseWide = include.length === 0;
  const schemaDifferences = diffSchemas(blueCat, greenCat, (k) => inScope.has(k), patternScope, databaseWide);
  const sequenceInScope = (s: SequenceInfo) => (s.ownedBy ? inScope.has(nameKey(s.ownedBy.schema, s.ownedBy.table)) : patternScope(s.fullName));
  const privileges = privilegeWarnings(blueCat, greenCat, [...inScope], (k) => sequenceInScope(blueCat.sequences.get(k)!));
  if (options.strictPrivileges) schemaDifferences.push(...privileges);
  // A materialized view never refreshed on a side cannot be read there (reported as a schema difference).
  const readable = (k: string) => blueCat.tables.get(k)!.populated && greenCat.tables.get(k)!.populated;
  const plans = [...inScope]
    .filter((k) => blueCat.tables.has(k) && greenCat.tables.has(k) && readable(k))
    .map((k) => slowedForTests(planTable(blueCat.tables.get(k)!, greenCat.tables.get(k)!, hash.mode), options.tuning?.secondsPerRow))
    .sort((a, b) => Math.max(b.blue.pages, b.green.pages) - Math.max(a.blue.pages, a.green.pages));

  progress.phase = "hash";
  progress.tablesTotal = plans.length;
  emit();
  const tables = await compareTables(run, plans);
  const largeObjects = databaseWide ? await compareLargeObjects(blue, green) : null;
  if (largeObjects) schemaDifferences.push(...largeObjects.differences);

  progress.phase = "sequences";
  emit();
  const seq = await compareSequences(blueCat, greenCat, green, sequenceInScope);
  schemaDifferences.push(...seq.schema, ...diffSequenceDefinitions(blueCat, greenCat, sequenceInScope));

  const finished = new Date();
  const totals = totalsOf(tables, schemaDifferences.length, seq.results.filter((s) => s.status === "behind").length);
  return {
    kind: "parity",
    version: 1,
    identical: totals.tablesDifferent === 0 && totals.schemaDifferences === 0 && totals.sequencesBehind === 0,
    startedAt: run.started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - run.started.getTime(),
    blue: { target: run.blueTarget.display, serverVersion: blue.serverVersion },
    green: { target: run.greenTarget.display, serverVersion: green.serverVersion },
    hashMode: hash.mode,
    ...(hash.reason ? { hashModeReason: hash.reason } : {}),
    options: { include, exclude, limit, parallel, ...(options.strictPrivileges ? { strictPrivileges: true } : {}) },
    schemaDifferences,
    privilegeWarnings: options.strictPrivileges ? [] : privileges,
    largeObjects: largeObjectsSummary(largeObjects),
    equalityRules: rulesApplied(tables),
    tables,
    sequences: seq.results,
    totals,
  };
}

/** Every planned table, both sides, at once (the pools bound the parallelism); sorted by name. */
async function compareTables(run: OpenedRun, plans: TablePlan[]): Promise<TableResult[]> {
  const { progress, emit } = run;
  const ctx = {
    blue: run.blue,
    green: run.green,
    limit: run.settings.limit,
    tuning: { ...DEFAULT_TUNING, ...run.options.tuning },
    onRows: (rows: number) => {
      progress.rowsHashed += rows;
      emit();
    },
  };
  const tables: TableResult[] = await Promise.all(
    plans.map(async (plan) => {
      const result = await compareTable(ctx, plan).catch((error: unknown) => {
        throw cannotRead(`table ${plan.name}`, error);
      });
      progress.tablesDone++;
      progress.table = plan.name;
      emit();
      return result;
    }),
  );
  return tables.sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
}

/** Test seam: every row's hash waits `seconds` on the server (pg_sleep), so a scan outlasts a Ctrl-C. */
function slowedForTests(plan: TablePlan, seconds: number | undefined): TablePlan {
  if (seconds === undefined) return plan;
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 10) throw new UsageError(`secondsPerRow must be from 0 to 10, got ${seconds}`);
  return { ...plan, rowHash: `(${plan.rowHash} + length(pg_catalog.pg_sleep(${seconds})::text))` };
}

function largeObjectsSummary(lo: { blue: number; green: number } | null): NonNullable<ParityReport["largeObjects"]> {
  if (lo) return { blue: lo.blue, green: lo.green, compared: true };
  return {
    blue: 0,
    green: 0,
    compared: false,
    note: "not compared: --include narrows the run to tables (large objects and extensions belong to the whole database)",
  };
}

function totalsOf(tables: TableResult[], schemaDifferences: number, sequencesBehind: number): ParityReport["totals"] {
  const sum = (f: (t: TableResult) => number) => tables.reduce((acc, t) => acc + f(t), 0);
  const tablesDifferent = tables.filter((t) => t.status === "different").length;
  return {
    tables: tables.length,
    tablesIdentical: tables.length - tablesDifferent,
    tablesDifferent,
    rowsHashed: sum((t) => t.blueRows + t.greenRows),
    missingOnGreen: sum((t) => t.missingOnGreen.count),
    extraOnGreen: sum((t) => t.extraOnGreen.count),
    changed: sum((t) => t.changed.count),
    duplicateKeys: sum((t) => (t.duplicateKeys ? t.duplicateKeys.blue.count + t.duplicateKeys.green.count : 0)),
    schemaDifferences,
    sequencesBehind,
  };
}

/** Tables selected by --include/--exclude (keys: nameKey), and the glob test for other objects. */
function tableScope(blueCat: Catalog, greenCat: Catalog, include: string[], exclude: string[]) {
  const display = new Map<string, string>();
  for (const cat of [blueCat, greenCat]) for (const [k, t] of cat.tables) display.set(k, t.fullName);
  const selection = selectTables(new Set(display.values()), include, exclude);
  // A pattern naming only an enum, a domain, a type, a view, a function or a sequence is not a typo.
  const objectNames = [blueCat, greenCat].flatMap((c) => [
    ...[...c.sequences.values()].map((s) => s.fullName),
    ...(c.objects
      ? [c.objects.enums, c.objects.views, c.objects.functions, c.objects.domains, c.objects.composites].flatMap((m) =>
          [...(m?.values() ?? [])].map((o) => o.object.replace(/\(.*$/, "")),
        )
      : []),
  ]);
  selection.unmatched = selection.unmatched.filter((p) => !objectNames.some((n) => matchesPattern(n, p)));
  if (selection.unmatched.length > 0) {
    throw new UsageError(`no table matches ${selection.unmatched.map((p) => `"${p}"`).join(", ")} on blue or green (patterns are globs on schema.table)`);
  }
  const selected = new Set(selection.selected);
  const inScope = new Set([...display].filter(([, name]) => selected.has(name)).map(([k]) => k));
  const patternScope = (name: string) =>
    (include.length === 0 || include.some((p) => matchesPattern(name, p))) && !exclude.some((p) => matchesPattern(name, p));
  return { inScope, patternScope };
}

/** Each equality rule that applied, with its text and the tables it applied in. */
function rulesApplied(tables: TableResult[]): NonNullable<ParityReport["equalityRules"]> {
  const byRule = new Map<string, string[]>();
  for (const t of tables) for (const r of t.equalityRules ?? []) byRule.set(r.rule, [...(byRule.get(r.rule) ?? []), t.table]);
  return [...byRule]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([rule, names]) => ({ rule, text: EQUALITY_RULES[rule as EqualityRuleId] ?? rule, tables: names }));
}

/**
 * The schema half of parity only (no rows hashed): every schema difference between the two
 * databases, read in one snapshot each. Used after migrations to prove both sides have the same
 * schema before traffic moves.
 */
export async function compareSchemas(options: Pick<ParityOptions, "blue" | "green" | "blueUrl" | "greenUrl">): Promise<SchemaDifference[]> {
  const [blueTarget, greenTarget] = await resolveTargets(options);
  const [blue, green] = await openBoth(blueTarget, greenTarget, 1);
  try {
    const [b, g] = await Promise.all([readCatalog(blue), readCatalog(green)]);
    const all = () => true;
    const diffs = diffSchemas(b, g, all, all);
    for (const [key, s] of b.sequences)
      if (!g.sequences.has(key)) diffs.push({ kind: "sequence-only-on-blue", object: s.fullName, message: `sequence ${s.fullName} exists on blue only` });
    for (const [key, s] of g.sequences)
      if (!b.sequences.has(key)) diffs.push({ kind: "sequence-only-on-green", object: s.fullName, message: `sequence ${s.fullName} exists on green only` });
    diffs.push(...diffSequenceDefinitions(b, g, all));
    return diffs;
  } catch (error) {
    throw lostConnection(error) ? new UnreachableError(`lost the connection to a database while reading schemas: ${(error as Error).message}`) : error;
  } finally {
    await Promise.all([blue.close(), green.close()]);
  }
}
