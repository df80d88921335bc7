// `sync start` / `sync reverse`: preflight, then a publication on the source and a subscription on
// the target. Every check that fails is collected and reported together, each with what to change.

import { UsageError } from "../../core/errors.js";
import type pg from "pg";
import { longTransactions, publicationTables, findSlots, serverInfo, type SlotRow, type TableInfo } from "./catalog.js";
import {
  checkReplicationLoops,
  checkServers,
  checkSourcePrivileges,
  checkTables,
  checkTarget,
  resumeExisting,
  SyncPreflightError,
  type Preflight,
} from "./startChecks.js";
import { redact } from "../../core/redact.js";
import { conninfoFromUrl, describeUrl, mapError, passwordOf, withClient, type Db } from "./connect.js";
import { displayName, ident, literal, qualified, SYNC_NAMES, validateSyncName } from "./sql.js";

/** One SQL statement sync runs or would run, on which server. Connection strings are redacted. */
export interface PlannedStatement {
  on: "source" | "target";
  sql: string;
}

export interface StartSyncOptions {
  /** The publisher (blue for the forward direction). A URL, or an open client (then give connectUrlForTarget). */
  sourceUrl: Db;
  /** The subscriber (green for the forward direction). */
  targetUrl: Db;
  /** Table names or glob patterns (`orders`, `app.*`); default "all" user tables. */
  tables?: string[] | "all";
  /** Publication, subscription and slot name; default `bluegreen_blue_to_green`. */
  name?: string;
  /** Copy existing rows first (CREATE SUBSCRIPTION ... copy_data); default true. */
  copyData?: boolean;
  /**
   * How the TARGET server reaches the SOURCE, when that differs from sourceUrl (another host name
   * inside the VPC, a replication user): a postgres:// URL or a libpq conninfo string.
   */
  connectUrlForTarget?: string;
  /**
   * `none`: only changes made on the source itself are sent (no ping-pong when both directions run;
   * PostgreSQL 16+ on the target). `any`: everything. `auto` (default): none where supported.
   */
  origin?: "auto" | "none" | "any";
  /** Plan and check only: return the statements, change nothing. */
  dryRun?: boolean;
  /** Bound on CREATE SUBSCRIPTION (it waits for open transactions on the source); default 120 s. */
  createTimeoutMs?: number;
  /** Labels for messages, e.g. "blue database"; default "source database" / "target database". */
  sourceLabel?: string;
  targetLabel?: string;
}

export interface StartSyncResult {
  name: string;
  /** The subscription already existed and was enabled: nothing was changed. */
  alreadyRunning: boolean;
  dryRun: boolean;
  copyData: boolean;
  origin: "none" | "any";
  tables: string[];
  statements: PlannedStatement[];
  warnings: string[];
  notes: string[];
}

export { SyncPreflightError } from "./startChecks.js";

function sourceConninfo(options: StartSyncOptions): string {
  if (options.connectUrlForTarget) {
    const value = options.connectUrlForTarget.trim();
    return /^postgres(ql)?:\/\//.test(value) ? conninfoFromUrl(value) : value;
  }
  if (typeof options.sourceUrl !== "string") {
    throw new UsageError("sourceUrl is an open client: give connectUrlForTarget so the target knows how to reach the source");
  }
  return conninfoFromUrl(options.sourceUrl);
}

function withConnectTimeout(conninfo: string): string {
  return /connect_timeout\s*=/.test(conninfo) || /^postgres(ql)?:/.test(conninfo) ? conninfo : `${conninfo} connect_timeout='10'`;
}

function passwordOfConninfo(conninfo: string): string | undefined {
  return /(?:^|\s)password\s*=\s*'((?:[^'\\]|\\.)*)'/.exec(conninfo)?.[1]?.replace(/\\(.)/g, "$1") ?? /(?:^|\s)password\s*=\s*([^\s']+)/.exec(conninfo)?.[1];
}

export async function startSync(options: StartSyncOptions): Promise<StartSyncResult> {
  const name = options.name ?? SYNC_NAMES.forward;
  const nameProblem = validateSyncName(name);
  if (nameProblem) throw new UsageError(nameProblem);
  const sourceLabel = options.sourceLabel ?? "source database";
  const targetLabel = options.targetLabel ?? "target database";
  const conninfo = withConnectTimeout(sourceConninfo(options));
  const secrets = [
    typeof options.sourceUrl === "string" ? passwordOf(options.sourceUrl) : undefined,
    typeof options.targetUrl === "string" ? passwordOf(options.targetUrl) : undefined,
    passwordOfConninfo(conninfo),
    options.connectUrlForTarget ? passwordOf(options.connectUrlForTarget) : undefined,
  ];
  const scrub = (text: string) => redact(text, secrets);

  return withClient(options.sourceUrl, sourceLabel, (source) =>
    withClient(options.targetUrl, targetLabel, async (target) => {
      const preflight: Preflight = {
        source,
        target,
        src: await serverInfo(source),
        tgt: await serverInfo(target),
        srcName: typeof options.sourceUrl === "string" ? `${sourceLabel} (${describeUrl(options.sourceUrl)})` : sourceLabel,
        tgtName: typeof options.targetUrl === "string" ? `${targetLabel} (${describeUrl(options.targetUrl)})` : targetLabel,
        name,
        copyData: options.copyData ?? true,
        conninfo,
        problems: [],
        warnings: [],
      };
      const origin = checkServers(preflight, options.origin);
      const resumed = await resumeExisting(preflight, options.dryRun === true);
      if (resumed) return resumed;
      const selected = await checkTables(preflight, options.tables);
      const ourSlot = await checkSourcePrivileges(preflight, selected);
      await checkTarget(preflight, selected);
      const preStatements = await checkReplicationLoops(preflight, origin);
      if (preflight.problems.length > 0) throw new SyncPreflightError(preflight.problems.map(scrub));

      const longTx = await longTransactions(source, 30);
      if (longTx.length > 0) {
        preflight.warnings.push(`open transactions on ${preflight.srcName} delay the slot's creation until they end: ${longTx.join(", ")}`);
      }
      const plan = await planStart(preflight, { selected, preStatements, ourSlot, origin, scrub });
      const result: StartSyncResult = {
        name,
        alreadyRunning: false,
        dryRun: options.dryRun === true,
        copyData: preflight.copyData,
        origin,
        tables: selected.map(displayName),
        statements: plan.statements,
        warnings: preflight.warnings,
        notes: plan.notes,
      };
      if (options.dryRun) return result;
      await executeStart(preflight, plan, { timeoutMs: options.createTimeoutMs ?? 120_000, longTx, secrets, scrub });
      return result;
    }),
  );
}

/** The statements a start runs, in order, and how to write the CREATE SUBSCRIPTION with a connection string. */
interface StartPlan {
  statements: PlannedStatement[];
  notes: string[];
  createSql: (connection: string) => string;
  createdPublication: boolean;
}

async function planStart(
  preflight: Preflight,
  found: { selected: TableInfo[]; preStatements: PlannedStatement[]; ourSlot: SlotRow | undefined; origin: "none" | "any"; scrub: (text: string) => string },
): Promise<StartPlan> {
  const { source, src, tgt, srcName, tgtName, name, copyData, conninfo } = preflight;
  const { selected, ourSlot } = found;
  const notes: string[] = [];
  const statements: PlannedStatement[] = [...found.preStatements];
  const tableList = selected.map(qualified).join(", ");
  const hasPartitioned = selected.some((t) => t.kind === "partitioned");
  const pubOptions = hasPartitioned && src.versionNum >= 130000 ? " WITH (publish_via_partition_root = true)" : "";
  const currentPub = await publicationTables(source, name);
  let createdPublication = false;
  if (currentPub === undefined) {
    statements.push({ on: "source", sql: `CREATE PUBLICATION ${ident(name)} FOR TABLE ${tableList}${pubOptions}` });
    createdPublication = true;
  } else {
    const wanted = selected.map(displayName).sort().join(",");
    if ([...currentPub].sort().join(",") !== wanted) {
      statements.push({ on: "source", sql: `ALTER PUBLICATION ${ident(name)} SET TABLE ${tableList}` });
      notes.push(`publication ${name} existed with other tables: its table list is replaced`);
    } else {
      notes.push(`publication ${name} already exists with these tables: reused`);
    }
  }
  if (ourSlot) {
    if (ourSlot.active) {
      throw new SyncPreflightError([
        `slot ${name} on ${srcName} is in use by another subscriber (pid ${ourSlot.activePid}) while ${tgtName} has no subscription ${name}: ` +
          `stop that subscriber, or choose another --name`,
      ]);
    }
    statements.push({ on: "source", sql: `SELECT pg_drop_replication_slot(${literal(name)})` });
    notes.push(`an inactive slot ${name} left by an earlier run was found on the source and is dropped (it only held WAL)`);
  }
  // CREATE SUBSCRIPTION cannot create its slot on the very server it runs on (it would wait on itself).
  const sameCluster = src.systemIdentifier !== null && src.systemIdentifier === tgt.systemIdentifier;
  if (sameCluster) {
    statements.push({ on: "source", sql: `SELECT pg_create_logical_replication_slot(${literal(name)}, 'pgoutput')` });
    notes.push("source and target are databases of one server: the slot is created separately");
  }
  const withOptions = [
    `copy_data = ${copyData}`,
    `slot_name = ${literal(name)}`,
    `create_slot = ${!sameCluster}`,
    ...(tgt.versionNum >= 160000 ? [`origin = ${found.origin}`] : []),
  ];
  const createSql = (connection: string) =>
    `CREATE SUBSCRIPTION ${ident(name)} CONNECTION ${literal(connection)} PUBLICATION ${ident(name)} WITH (${withOptions.join(", ")})`;
  statements.push({ on: "target", sql: found.scrub(createSql(conninfo)) });
  return { statements, notes, createSql, createdPublication };
}

/** Source first (publication, slot housekeeping), then the subscription; a failed CREATE SUBSCRIPTION leaves no slot and no new publication behind. */
async function executeStart(
  preflight: Preflight,
  plan: StartPlan,
  settings: { timeoutMs: number; longTx: string[]; secrets: Array<string | undefined>; scrub: (text: string) => string },
): Promise<void> {
  const { source, target, tgtName, name, conninfo } = preflight;
  for (const statement of plan.statements.filter((s) => s.on === "source")) {
    await source.query(statement.sql);
  }
  const { timeoutMs, longTx } = settings;
  try {
    await target.query(`SET statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
    await target.query(plan.createSql(conninfo));
  } catch (error) {
    const code = (error as { code?: string }).code;
    const cleanup = await cleanUpFailedStart(source, name, plan.createdPublication);
    const hint =
      code === "57014"
        ? `CREATE SUBSCRIPTION did not finish within ${Math.round(timeoutMs / 1000)} s; it waits for open transactions on the source to end${longTx.length ? ` (${longTx.join(", ")})` : ""}`
        : /could not connect|connection to server/i.test(String((error as Error).message))
          ? `the target server could not reach the source with the subscription's connection string: give the address the target can use (--source-url-for-target)`
          : "";
    const mapped = mapError(error, `${tgtName}: CREATE SUBSCRIPTION`, settings.secrets);
    const message = [settings.scrub(mapped.message), hint, cleanup.length ? `(${cleanup.join("; ")})` : ""].filter(Boolean).join("; ");
    if (hint.startsWith("the target server could not reach")) throw new UsageError(message);
    mapped.message = message;
    throw mapped;
  } finally {
    await target.query("RESET statement_timeout").catch(() => undefined);
  }
}

/** Clean up so a failed start leaves no slot holding WAL and no half-made publication; what was done, in words. */
async function cleanUpFailedStart(source: pg.ClientBase, name: string, createdPublication: boolean): Promise<string[]> {
  const cleanup: string[] = [];
  try {
    const leftover = await findSlots(source, [name]);
    for (const slot of leftover.filter((s) => !s.active)) {
      await source.query("SELECT pg_drop_replication_slot($1)", [slot.name]);
      cleanup.push(`dropped slot ${slot.name}`);
    }
    if (createdPublication) {
      await source.query(`DROP PUBLICATION IF EXISTS ${ident(name)}`);
      cleanup.push(`dropped publication ${name}`);
    }
  } catch {
    cleanup.push("cleanup on the source failed: run sync stop");
  }
  return cleanup;
}

/**
 * The reverse direction (green → blue) for a lossless rollback: the same machinery with
 * copy_data = false (the target already holds the data) and its own name, so both directions
 * coexist; origin = none keeps a write from being sent back where it came from.
 */
export async function reverseSync(options: Omit<StartSyncOptions, "copyData"> & { copyData?: boolean }): Promise<StartSyncResult> {
  return startSync({ ...options, name: options.name ?? SYNC_NAMES.reverse, copyData: options.copyData ?? false });
}
