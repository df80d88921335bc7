// `sync start` / `sync reverse`: preflight, then a publication on the source and a subscription on
// the target. Every check that fails is collected and reported together, each with what to change.

import { UsageError } from "../../core/errors.js";
import {
  hasUsableReplicaIdentity,
  listSubscriptions,
  listTables,
  longTransactions,
  publicationTables,
  findSlots,
  selectTables,
  serverInfo,
  type ServerInfo,
} from "./catalog.js";
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

/** Preflight failed: every problem, each saying what to change. Exit code 2. */
export class SyncPreflightError extends UsageError {
  override name = "SyncPreflightError";
  constructor(readonly problems: string[]) {
    super(`sync cannot start:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

const MIN_VERSION = 120000;

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

function userOfConninfo(conninfo: string): string | undefined {
  return /(?:^|\s)user\s*=\s*'((?:[^'\\]|\\.)*)'/.exec(conninfo)?.[1]?.replace(/\\(.)/g, "$1") ?? /(?:^|\s)user\s*=\s*([^\s']+)/.exec(conninfo)?.[1];
}

function passwordOfConninfo(conninfo: string): string | undefined {
  return /(?:^|\s)password\s*=\s*'((?:[^'\\]|\\.)*)'/.exec(conninfo)?.[1]?.replace(/\\(.)/g, "$1") ?? /(?:^|\s)password\s*=\s*([^\s']+)/.exec(conninfo)?.[1];
}

function canReplicate(info: ServerInfo): boolean {
  return info.superuser || info.replication || info.rdsReplication;
}

function canSubscribe(info: ServerInfo): boolean {
  return info.superuser || info.rdsSuperuser || (info.versionNum >= 160000 && info.createSubscriptionRole && info.createOnDatabase);
}

export async function startSync(options: StartSyncOptions): Promise<StartSyncResult> {
  const name = options.name ?? SYNC_NAMES.forward;
  const nameProblem = validateSyncName(name);
  if (nameProblem) throw new UsageError(nameProblem);
  const copyData = options.copyData ?? true;
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
      const problems: string[] = [];
      const warnings: string[] = [];
      const notes: string[] = [];
      const src = await serverInfo(source);
      const tgt = await serverInfo(target);
      const srcName = typeof options.sourceUrl === "string" ? `${sourceLabel} (${describeUrl(options.sourceUrl)})` : sourceLabel;
      const tgtName = typeof options.targetUrl === "string" ? `${targetLabel} (${describeUrl(options.targetUrl)})` : targetLabel;

      for (const [info, label] of [
        [src, srcName],
        [tgt, tgtName],
      ] as const) {
        if (info.versionNum < MIN_VERSION) {
          problems.push(`${label} runs PostgreSQL ${info.version}; sync needs 12 or later`);
        }
      }
      if (problems.length > 0) throw new SyncPreflightError(problems);

      if (src.walLevel !== "logical") {
        problems.push(
          `${srcName} has wal_level=${src.walLevel}; logical replication needs wal_level=logical. ` +
            `On RDS / Aurora set rds.logical_replication=1 in the DB parameter group and reboot the instance; ` +
            `elsewhere set wal_level = logical in postgresql.conf and restart`,
        );
      }

      const origin: "none" | "any" = options.origin === "any" ? "any" : options.origin === "none" || tgt.versionNum >= 160000 ? "none" : "any";
      if (options.origin === "none" && tgt.versionNum < 160000) {
        problems.push(`origin = none needs PostgreSQL 16+ on ${tgtName} (it runs ${tgt.version})`);
      }

      // Existing state: idempotency first.
      const targetSubs = await listSubscriptions(target, tgt.versionNum);
      const existing = targetSubs.find((s) => s.name === name);
      if (existing && problems.length === 0) {
        const existingResult = async (statements: PlannedStatement[], note: string): Promise<StartSyncResult> => ({
          name,
          alreadyRunning: true,
          dryRun: options.dryRun === true,
          copyData,
          origin: (existing.origin as "none" | "any" | null) ?? "any",
          tables: (await publicationTables(source, name)) ?? [],
          statements,
          warnings,
          notes: [note],
        });
        if (existing.enabled) {
          return existingResult([], `subscription ${name} already exists on ${tgtName} and is enabled: nothing to do (see sync status)`);
        }
        const statements: PlannedStatement[] = [{ on: "target", sql: `ALTER SUBSCRIPTION ${ident(name)} ENABLE` }];
        if (!options.dryRun) await target.query(statements[0]!.sql);
        return existingResult(statements, `subscription ${name} existed on ${tgtName} but was disabled: ${options.dryRun ? "would enable" : "enabled"} it`);
      }

      // Tables.
      const sourceTables = await listTables(source);
      const { selected, unmatched } = selectTables(sourceTables, options.tables);
      if (unmatched.length > 0) {
        problems.push(
          `no table on ${srcName} matches ${unmatched.map((p) => `"${p}"`).join(", ")}; ` +
            `tables there: ${sourceTables.map(displayName).slice(0, 20).join(", ") || "(none)"}${sourceTables.length > 20 ? ", ..." : ""}`,
        );
      }
      if (selected.length === 0 && unmatched.length === 0) {
        problems.push(`${srcName} has no user tables to replicate`);
      }
      const noIdentity = selected.filter((t) => !hasUsableReplicaIdentity(t));
      if (noIdentity.length > 0) {
        problems.push(
          `table${noIdentity.length > 1 ? "s" : ""} ${noIdentity.map(displayName).join(", ")} on ${srcName} ` +
            `ha${noIdentity.length > 1 ? "ve" : "s"} no primary key or replica identity, so updates and deletes cannot be replicated: ` +
            `add a primary key, or run ${noIdentity.map((t) => `ALTER TABLE ${qualified(t)} REPLICA IDENTITY FULL;`).join(" ")}`,
        );
      }

      // Privileges on the source.
      const replUser = userOfConninfo(conninfo);
      if (replUser === undefined || replUser === src.user) {
        if (!canReplicate(src)) {
          problems.push(
            `user ${src.user} on ${srcName} may not stream replication: ALTER ROLE ${ident(src.user)} REPLICATION ` +
              `(on RDS / Aurora: GRANT rds_replication TO ${ident(src.user)})`,
          );
        }
      } else {
        warnings.push(`the target connects to the source as ${replUser}: its REPLICATION privilege was not checked`);
      }
      if (!src.superuser && !src.createOnDatabase) {
        problems.push(`user ${src.user} may not create a publication on ${srcName}: GRANT CREATE ON DATABASE ${ident(src.database)} TO ${ident(src.user)}`);
      }
      const notOwned = selected.filter((t) => !t.owned);
      if (!src.superuser && notOwned.length > 0) {
        problems.push(
          `a publication FOR TABLE needs ${src.user} to own the tables; on ${srcName} it does not own ${notOwned.map(displayName).join(", ")}: ` +
            `run sync as the tables' owner, or ALTER TABLE ... OWNER TO ${ident(src.user)}`,
        );
      }
      const noSelect = selected.filter((t) => !t.canSelect);
      if (copyData && noSelect.length > 0) {
        problems.push(
          `the initial copy needs SELECT on ${noSelect.map(displayName).join(", ")} for ${src.user} on ${srcName}: GRANT SELECT ON ... TO ${ident(src.user)}`,
        );
      }
      const freeSlots = src.maxReplicationSlots - src.usedReplicationSlots;
      const ourSlot = (await findSlots(source, [name]))[0];
      if (freeSlots < 1 && !ourSlot) {
        problems.push(
          `${srcName} has no free replication slot (max_replication_slots=${src.maxReplicationSlots}, all used): raise max_replication_slots or drop an unused slot`,
        );
      } else if (copyData && freeSlots < 1 + Math.min(src.maxSyncWorkersPerSubscription, selected.length)) {
        warnings.push(
          `${srcName} has ${freeSlots} free replication slot(s); the initial copy uses up to ${src.maxSyncWorkersPerSubscription} more at once, so tables may copy one at a time`,
        );
      }

      // Privileges and schema on the target.
      if (!canSubscribe(tgt)) {
        problems.push(
          `user ${tgt.user} may not create a subscription on ${tgtName}: it needs superuser, rds_superuser on RDS / Aurora, ` +
            `or (PostgreSQL 16+) GRANT pg_create_subscription TO ${ident(tgt.user)} and GRANT CREATE ON DATABASE ${ident(tgt.database)} TO ${ident(tgt.user)}`,
        );
      }
      const targetTables = new Map((await listTables(target)).map((t) => [`${t.schema}\u0000${t.name}`, t]));
      const missing: string[] = [];
      const missingColumns: string[] = [];
      const nonEmpty: string[] = [];
      for (const table of selected) {
        const there = targetTables.get(`${table.schema}\u0000${table.name}`);
        if (!there) {
          missing.push(displayName(table));
          continue;
        }
        const lacking = table.columns.filter((c) => !there.columns.includes(c));
        if (lacking.length > 0) missingColumns.push(`${displayName(table)} (${lacking.join(", ")})`);
        if (copyData) {
          const { rows } = await target.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${qualified(table)}) AS any`);
          if (rows[0]?.any) nonEmpty.push(displayName(table));
        }
      }
      if (missing.length > 0) {
        problems.push(
          `${tgtName} lacks table${missing.length > 1 ? "s" : ""} ${missing.join(", ")}; logical replication carries no DDL: ` +
            `create the schema there first (e.g. pg_dump --schema-only from the source) or leave them out with --tables`,
        );
      }
      if (missingColumns.length > 0) {
        problems.push(`${tgtName} lacks columns the source replicates: ${missingColumns.join("; ")}: add them on the target first`);
      }
      if (nonEmpty.length > 0) {
        problems.push(
          `${tgtName} already holds rows in ${nonEmpty.join(", ")}; the initial copy would fail on duplicate keys: ` +
            `TRUNCATE them on the target, or start without the initial copy (--no-copy-data) if they already match the source`,
        );
      }

      // Both directions at once: a change must not come back where it started.
      const sourceSubs = await listSubscriptions(source, src.versionNum);
      const loopers = sourceSubs.filter((s) => s.enabled && s.origin !== "none");
      const sameFamily = (n: string) => n.startsWith("bluegreen_");
      const preStatements: PlannedStatement[] = [];
      if (sourceSubs.length > 0 && origin !== "none") {
        problems.push(
          `${srcName} itself subscribes (${sourceSubs.map((s) => s.name).join(", ")}); without origin = none ` +
            `(PostgreSQL 16+ on ${tgtName}) writes would be sent back and forth: stop that direction first (sync stop)`,
        );
      } else if (loopers.length > 0) {
        const ours = loopers.filter((s) => sameFamily(s.name));
        const theirs = loopers.filter((s) => !sameFamily(s.name));
        if (theirs.length > 0) {
          problems.push(
            `${srcName} subscribes through ${theirs.map((s) => s.name).join(", ")} with origin = any; ` +
              `set origin = none on it (ALTER SUBSCRIPTION ... SET (origin = none)) or stop it before replicating in this direction`,
          );
        }
        for (const sub of ours) {
          if (src.versionNum >= 160000) {
            preStatements.push({ on: "source", sql: `ALTER SUBSCRIPTION ${ident(sub.name)} SET (origin = none)` });
          } else {
            problems.push(`${srcName} runs subscription ${sub.name} and PostgreSQL < 16 has no origin = none: stop it first (sync stop)`);
          }
        }
      }
      if (origin === "none" && sourceSubs.some((s) => !sameFamily(s.name))) {
        warnings.push(`origin = none: changes ${srcName} receives from its own subscriptions are not forwarded`);
      }

      if (problems.length > 0) throw new SyncPreflightError(problems.map(scrub));

      const longTx = await longTransactions(source, 30);
      if (longTx.length > 0) {
        warnings.push(`open transactions on ${srcName} delay the slot's creation until they end: ${longTx.join(", ")}`);
      }

      // The plan.
      const statements: PlannedStatement[] = [...preStatements];
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
        ...(tgt.versionNum >= 160000 ? [`origin = ${origin}`] : []),
      ];
      const createSql = (connection: string) =>
        `CREATE SUBSCRIPTION ${ident(name)} CONNECTION ${literal(connection)} PUBLICATION ${ident(name)} WITH (${withOptions.join(", ")})`;
      statements.push({ on: "target", sql: scrub(createSql(conninfo)) });

      const result: StartSyncResult = {
        name,
        alreadyRunning: false,
        dryRun: options.dryRun === true,
        copyData,
        origin,
        tables: selected.map(displayName),
        statements,
        warnings,
        notes,
      };
      if (options.dryRun) return result;

      // Execute. Source first (publication, slot housekeeping), then the subscription.
      for (const statement of statements.filter((s) => s.on === "source")) {
        await source.query(statement.sql);
      }
      const timeoutMs = options.createTimeoutMs ?? 120_000;
      try {
        await target.query(`SET statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
        await target.query(createSql(conninfo));
      } catch (error) {
        const code = (error as { code?: string }).code;
        // Clean up so a failed start leaves no slot holding WAL and no half-made publication.
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
        const hint =
          code === "57014"
            ? `CREATE SUBSCRIPTION did not finish within ${Math.round(timeoutMs / 1000)} s; it waits for open transactions on the source to end${longTx.length ? ` (${longTx.join(", ")})` : ""}`
            : /could not connect|connection to server/i.test(String((error as Error).message))
              ? `the target server could not reach the source with the subscription's connection string: give the address the target can use (--source-url-for-target)`
              : "";
        const mapped = mapError(error, `${tgtName}: CREATE SUBSCRIPTION`, secrets);
        const message = [scrub(mapped.message), hint, cleanup.length ? `(${cleanup.join("; ")})` : ""].filter(Boolean).join("; ");
        if (hint.startsWith("the target server could not reach")) throw new UsageError(message);
        mapped.message = message;
        throw mapped;
      } finally {
        await target.query("RESET statement_timeout").catch(() => undefined);
      }
      return result;
    }),
  );
}

/**
 * The reverse direction (green → blue) for a lossless rollback: the same machinery with
 * copy_data = false (the target already holds the data) and its own name, so both directions
 * coexist; origin = none keeps a write from being sent back where it came from.
 */
export async function reverseSync(options: Omit<StartSyncOptions, "copyData"> & { copyData?: boolean }): Promise<StartSyncResult> {
  return startSync({ ...options, name: options.name ?? SYNC_NAMES.reverse, copyData: options.copyData ?? false });
}
