// `sync start`'s preflight, one check per function: each adds what it finds wrong (with what to
// change) to the preflight's problems, so every problem is reported together.

import type pg from "pg";
import { UsageError } from "../../core/errors.js";
import {
  hasUsableReplicaIdentity,
  listSubscriptions,
  listTables,
  publicationTables,
  findSlots,
  selectTables,
  type ServerInfo,
  type SlotRow,
  type TableInfo,
} from "./catalog.js";
import { displayName, ident, qualified } from "./sql.js";
import type { PlannedStatement, StartSyncResult } from "./start.js";

/** Preflight failed: every problem, each saying what to change. Exit code 2. */
export class SyncPreflightError extends UsageError {
  override name = "SyncPreflightError";
  constructor(readonly problems: string[]) {
    super(`sync cannot start:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Both servers as read once, and what the checks collect. */
export interface Preflight {
  source: pg.ClientBase;
  target: pg.ClientBase;
  src: ServerInfo;
  tgt: ServerInfo;
  /** The servers in messages: label and endpoint, never the password. */
  srcName: string;
  tgtName: string;
  name: string;
  copyData: boolean;
  /** How the target reaches the source (holds the password: never printed unredacted). */
  conninfo: string;
  problems: string[];
  warnings: string[];
}

const MIN_VERSION = 120000;

function canReplicate(info: ServerInfo): boolean {
  return info.superuser || info.replication || info.rdsReplication;
}

function canSubscribe(info: ServerInfo): boolean {
  return info.superuser || info.rdsSuperuser || (info.versionNum >= 160000 && info.createSubscriptionRole && info.createOnDatabase);
}

function userOfConninfo(conninfo: string): string | undefined {
  return /(?:^|\s)user\s*=\s*'((?:[^'\\]|\\.)*)'/.exec(conninfo)?.[1]?.replace(/\\(.)/g, "$1") ?? /(?:^|\s)user\s*=\s*([^\s']+)/.exec(conninfo)?.[1];
}

/** Versions (too old: stop here), wal_level, and the origin the subscription gets. */
export function checkServers(p: Preflight, asked: "auto" | "none" | "any" | undefined): "none" | "any" {
  for (const [info, label] of [
    [p.src, p.srcName],
    [p.tgt, p.tgtName],
  ] as const) {
    if (info.versionNum < MIN_VERSION) {
      p.problems.push(`${label} runs PostgreSQL ${info.version}; sync needs 12 or later`);
    }
  }
  if (p.problems.length > 0) throw new SyncPreflightError(p.problems);

  if (p.src.walLevel !== "logical") {
    p.problems.push(
      `${p.srcName} has wal_level=${p.src.walLevel}; logical replication needs wal_level=logical. ` +
        `On RDS / Aurora set rds.logical_replication=1 in the DB parameter group and reboot the instance; ` +
        `elsewhere set wal_level = logical in postgresql.conf and restart`,
    );
  }
  const origin: "none" | "any" = asked === "any" ? "any" : asked === "none" || p.tgt.versionNum >= 160000 ? "none" : "any";
  if (asked === "none" && p.tgt.versionNum < 160000) {
    p.problems.push(`origin = none needs PostgreSQL 16+ on ${p.tgtName} (it runs ${p.tgt.version})`);
  }
  return origin;
}

/** Idempotency: the subscription already exists (enabled: nothing to do; disabled: enable it). Null when there is none (or problems already). */
export async function resumeExisting(p: Preflight, dryRun: boolean): Promise<StartSyncResult | null> {
  const targetSubs = await listSubscriptions(p.target, p.tgt.versionNum);
  const existing = targetSubs.find((s) => s.name === p.name);
  if (!existing || p.problems.length > 0) return null;
  const existingResult = async (statements: PlannedStatement[], note: string): Promise<StartSyncResult> => ({
    name: p.name,
    alreadyRunning: true,
    dryRun,
    copyData: p.copyData,
    origin: (existing.origin as "none" | "any" | null) ?? "any",
    tables: (await publicationTables(p.source, p.name)) ?? [],
    statements,
    warnings: p.warnings,
    notes: [note],
  });
  if (existing.enabled) {
    return existingResult([], `subscription ${p.name} already exists on ${p.tgtName} and is enabled: nothing to do (see sync status)`);
  }
  const statements: PlannedStatement[] = [{ on: "target", sql: `ALTER SUBSCRIPTION ${ident(p.name)} ENABLE` }];
  if (!dryRun) await p.target.query(statements[0]!.sql);
  return existingResult(statements, `subscription ${p.name} existed on ${p.tgtName} but was disabled: ${dryRun ? "would enable" : "enabled"} it`);
}

/** The source's tables the patterns select; each must be replicable (a primary key or replica identity). */
export async function checkTables(p: Preflight, patterns: string[] | "all" | undefined): Promise<TableInfo[]> {
  const sourceTables = await listTables(p.source);
  const { selected, unmatched } = selectTables(sourceTables, patterns);
  if (unmatched.length > 0) {
    p.problems.push(
      `no table on ${p.srcName} matches ${unmatched.map((u) => `"${u}"`).join(", ")}; ` +
        `tables there: ${sourceTables.map(displayName).slice(0, 20).join(", ") || "(none)"}${sourceTables.length > 20 ? ", ..." : ""}`,
    );
  }
  if (selected.length === 0 && unmatched.length === 0) {
    p.problems.push(`${p.srcName} has no user tables to replicate`);
  }
  const noIdentity = selected.filter((t) => !hasUsableReplicaIdentity(t));
  if (noIdentity.length > 0) {
    p.problems.push(
      `table${noIdentity.length > 1 ? "s" : ""} ${noIdentity.map(displayName).join(", ")} on ${p.srcName} ` +
        `ha${noIdentity.length > 1 ? "ve" : "s"} no primary key or replica identity, so updates and deletes cannot be replicated: ` +
        `add a primary key, or run ${noIdentity.map((t) => `ALTER TABLE ${qualified(t)} REPLICA IDENTITY FULL;`).join(" ")}`,
    );
  }
  return selected;
}

/** The source's user may stream, publish, own and read the tables; a replication slot is free. Returns our own slot left by an earlier run, if any. */
export async function checkSourcePrivileges(p: Preflight, selected: TableInfo[]): Promise<SlotRow | undefined> {
  const { src, srcName } = p;
  const replUser = userOfConninfo(p.conninfo);
  if (replUser === undefined || replUser === src.user) {
    if (!canReplicate(src)) {
      p.problems.push(
        `user ${src.user} on ${srcName} may not stream replication: ALTER ROLE ${ident(src.user)} REPLICATION ` +
          `(on RDS / Aurora: GRANT rds_replication TO ${ident(src.user)})`,
      );
    }
  } else {
    p.warnings.push(`the target connects to the source as ${replUser}: its REPLICATION privilege was not checked`);
  }
  if (!src.superuser && !src.createOnDatabase) {
    p.problems.push(`user ${src.user} may not create a publication on ${srcName}: GRANT CREATE ON DATABASE ${ident(src.database)} TO ${ident(src.user)}`);
  }
  const notOwned = selected.filter((t) => !t.owned);
  if (!src.superuser && notOwned.length > 0) {
    p.problems.push(
      `a publication FOR TABLE needs ${src.user} to own the tables; on ${srcName} it does not own ${notOwned.map(displayName).join(", ")}: ` +
        `run sync as the tables' owner, or ALTER TABLE ... OWNER TO ${ident(src.user)}`,
    );
  }
  const noSelect = selected.filter((t) => !t.canSelect);
  if (p.copyData && noSelect.length > 0) {
    p.problems.push(
      `the initial copy needs SELECT on ${noSelect.map(displayName).join(", ")} for ${src.user} on ${srcName}: GRANT SELECT ON ... TO ${ident(src.user)}`,
    );
  }
  const freeSlots = src.maxReplicationSlots - src.usedReplicationSlots;
  const ourSlot = (await findSlots(p.source, [p.name]))[0];
  if (freeSlots < 1 && !ourSlot) {
    p.problems.push(
      `${srcName} has no free replication slot (max_replication_slots=${src.maxReplicationSlots}, all used): raise max_replication_slots or drop an unused slot`,
    );
  } else if (p.copyData && freeSlots < 1 + Math.min(src.maxSyncWorkersPerSubscription, selected.length)) {
    p.warnings.push(
      `${srcName} has ${freeSlots} free replication slot(s); the initial copy uses up to ${src.maxSyncWorkersPerSubscription} more at once, so tables may copy one at a time`,
    );
  }
  return ourSlot;
}

/** The target's user may subscribe; it has every selected table with its columns, empty when the rows are copied. */
export async function checkTarget(p: Preflight, selected: TableInfo[]): Promise<void> {
  const { tgt, tgtName } = p;
  if (!canSubscribe(tgt)) {
    p.problems.push(
      `user ${tgt.user} may not create a subscription on ${tgtName}: it needs superuser, rds_superuser on RDS / Aurora, ` +
        `or (PostgreSQL 16+) GRANT pg_create_subscription TO ${ident(tgt.user)} and GRANT CREATE ON DATABASE ${ident(tgt.database)} TO ${ident(tgt.user)}`,
    );
  }
  const targetTables = new Map((await listTables(p.target)).map((t) => [`${t.schema}\u0000${t.name}`, t]));
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
    if (p.copyData) {
      const { rows } = await p.target.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${qualified(table)}) AS any`);
      if (rows[0]?.any) nonEmpty.push(displayName(table));
    }
  }
  if (missing.length > 0) {
    p.problems.push(
      `${tgtName} lacks table${missing.length > 1 ? "s" : ""} ${missing.join(", ")}; logical replication carries no DDL: ` +
        `create the schema there first (e.g. pg_dump --schema-only from the source) or leave them out with --tables`,
    );
  }
  if (missingColumns.length > 0) {
    p.problems.push(`${tgtName} lacks columns the source replicates: ${missingColumns.join("; ")}: add them on the target first`);
  }
  if (nonEmpty.length > 0) {
    p.problems.push(
      `${tgtName} already holds rows in ${nonEmpty.join(", ")}; the initial copy would fail on duplicate keys: ` +
        `TRUNCATE them on the target, or start without the initial copy (--no-copy-data) if they already match the source`,
    );
  }
}

/** Both directions at once: a change must not come back where it started. Returns the statements that set origin = none on our own other direction. */
export async function checkReplicationLoops(p: Preflight, origin: "none" | "any"): Promise<PlannedStatement[]> {
  const { src, srcName, tgtName } = p;
  const sourceSubs = await listSubscriptions(p.source, src.versionNum);
  const loopers = sourceSubs.filter((s) => s.enabled && s.origin !== "none");
  const sameFamily = (n: string) => n.startsWith("bluegreen_");
  const preStatements: PlannedStatement[] = [];
  if (sourceSubs.length > 0 && origin !== "none") {
    p.problems.push(
      `${srcName} itself subscribes (${sourceSubs.map((s) => s.name).join(", ")}); without origin = none ` +
        `(PostgreSQL 16+ on ${tgtName}) writes would be sent back and forth: stop that direction first (sync stop)`,
    );
  } else if (loopers.length > 0) {
    const ours = loopers.filter((s) => sameFamily(s.name));
    const theirs = loopers.filter((s) => !sameFamily(s.name));
    if (theirs.length > 0) {
      p.problems.push(
        `${srcName} subscribes through ${theirs.map((s) => s.name).join(", ")} with origin = any; ` +
          `set origin = none on it (ALTER SUBSCRIPTION ... SET (origin = none)) or stop it before replicating in this direction`,
      );
    }
    for (const sub of ours) {
      if (src.versionNum >= 160000) {
        preStatements.push({ on: "source", sql: `ALTER SUBSCRIPTION ${ident(sub.name)} SET (origin = none)` });
      } else {
        p.problems.push(`${srcName} runs subscription ${sub.name} and PostgreSQL < 16 has no origin = none: stop it first (sync stop)`);
      }
    }
  }
  if (origin === "none" && sourceSubs.some((s) => !sameFamily(s.name))) {
    p.warnings.push(`origin = none: changes ${srcName} receives from its own subscriptions are not forwarded`);
  }
  return preStatements;
}
