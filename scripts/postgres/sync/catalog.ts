// Catalog reads shared by preflight, start, status and stop. Each function runs a few queries on
// one server and returns plain data; none of them writes.

import type pg from "pg";
import { displayName, type TableRef } from "./sql.js";

export interface ServerInfo {
  versionNum: number;
  version: string;
  walLevel: string;
  database: string;
  user: string;
  systemIdentifier: string | null;
  superuser: boolean;
  replication: boolean;
  /** Member of rds_replication (RDS / Aurora), when that role exists. */
  rdsReplication: boolean;
  /** Member of rds_superuser (RDS / Aurora), when that role exists. */
  rdsSuperuser: boolean;
  /** Member of pg_create_subscription (PostgreSQL 16+). */
  createSubscriptionRole: boolean;
  createOnDatabase: boolean;
  maxReplicationSlots: number;
  usedReplicationSlots: number;
  maxWalSenders: number;
  maxSyncWorkersPerSubscription: number;
}

export async function serverInfo(client: pg.ClientBase): Promise<ServerInfo> {
  const { rows } = await client.query<{
    version_num: string;
    version: string;
    wal_level: string;
    database: string;
    user: string;
    superuser: boolean;
    replication: boolean;
    rds_replication: boolean;
    rds_superuser: boolean;
    create_subscription: boolean;
    create_db: boolean;
    max_slots: string;
    used_slots: string;
    max_senders: string;
    max_sync: string;
  }>(`
    SELECT current_setting('server_version_num') AS version_num,
           current_setting('server_version') AS version,
           current_setting('wal_level') AS wal_level,
           current_database() AS database,
           current_user AS "user",
           r.rolsuper AS superuser,
           r.rolreplication AS replication,
           COALESCE((SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = 'rds_replication'), false) AS rds_replication,
           COALESCE((SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = 'rds_superuser'), false) AS rds_superuser,
           COALESCE((SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = 'pg_create_subscription'), false) AS create_subscription,
           has_database_privilege(current_database(), 'CREATE') AS create_db,
           current_setting('max_replication_slots') AS max_slots,
           (SELECT count(*) FROM pg_replication_slots) AS used_slots,
           current_setting('max_wal_senders') AS max_senders,
           current_setting('max_sync_workers_per_subscription') AS max_sync
      FROM pg_roles r WHERE r.rolname = current_user`);
  const row = rows[0];
  if (!row) throw new Error("could not read the current role from pg_roles");
  let systemIdentifier: string | null = null;
  try {
    const sys = await client.query<{ id: string }>("SELECT system_identifier::text AS id FROM pg_control_system()");
    systemIdentifier = sys.rows[0]?.id ?? null;
  } catch {
    // Not granted to this role: same-cluster detection falls back to "different clusters".
  }
  return {
    versionNum: Number(row.version_num),
    version: row.version,
    walLevel: row.wal_level,
    database: row.database,
    user: row.user,
    systemIdentifier,
    superuser: row.superuser,
    replication: row.replication,
    rdsReplication: row.rds_replication,
    rdsSuperuser: row.rds_superuser,
    createSubscriptionRole: row.create_subscription,
    createOnDatabase: row.create_db,
    maxReplicationSlots: Number(row.max_slots),
    usedReplicationSlots: Number(row.used_slots),
    maxWalSenders: Number(row.max_senders),
    maxSyncWorkersPerSubscription: Number(row.max_sync),
  };
}

export interface TableInfo extends TableRef {
  kind: "table" | "partitioned";
  /** d default (primary key), n nothing, f full, i index. */
  replicaIdentity: "d" | "n" | "f" | "i";
  hasPrimaryKey: boolean;
  hasReplicaIdentityIndex: boolean;
  owned: boolean;
  canSelect: boolean;
  /** Replicated (non-generated) columns, in order. */
  columns: string[];
}

/** Every user table (not partitions, not extension members) in the current database. */
export async function listTables(client: pg.ClientBase): Promise<TableInfo[]> {
  const { rows } = await client.query<{
    schema: string;
    name: string;
    relkind: string;
    relreplident: string;
    has_pk: boolean;
    has_ri: boolean;
    owned: boolean;
    can_select: boolean;
    columns: string[] | null;
  }>(`
    SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind, c.relreplident::text AS relreplident,
           EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk,
           EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident) AS has_ri,
           pg_has_role(c.relowner, 'USAGE') AS owned,
           has_table_privilege(c.oid, 'SELECT') AS can_select,
           ARRAY(SELECT a.attname::text FROM pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
                  ORDER BY a.attnum) AS columns
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p')
       AND NOT c.relispartition
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       -- The migration journal (scripts/postgres/migrate/journal.ts) is per database: never replicated.
       AND n.nspname <> 'bluegreen_migrations'
       AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY n.nspname, c.relname`);
  return rows.map((row) => ({
    schema: row.schema,
    name: row.name,
    kind: row.relkind === "p" ? "partitioned" : "table",
    replicaIdentity: row.relreplident as TableInfo["replicaIdentity"],
    hasPrimaryKey: row.has_pk,
    hasReplicaIdentityIndex: row.has_ri,
    owned: row.owned,
    canSelect: row.can_select,
    columns: row.columns ?? [],
  }));
}

/** True when updates and deletes of this table can be replicated. */
export function hasUsableReplicaIdentity(table: TableInfo): boolean {
  switch (table.replicaIdentity) {
    case "f":
      return true;
    case "i":
      return table.hasReplicaIdentityIndex;
    case "d":
      return table.hasPrimaryKey;
    default:
      return false;
  }
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

/**
 * Resolve operator table patterns (`orders`, `app.orders`, `app.*`, `*_log`) against the tables
 * present. An unqualified pattern matches in any schema. Returns the matches and the patterns
 * that matched nothing.
 */
export function selectTables<T extends TableRef>(tables: T[], patterns: string[] | "all" | undefined): { selected: T[]; unmatched: string[] } {
  if (patterns === undefined || patterns === "all") return { selected: [...tables], unmatched: [] };
  const selected = new Set<T>();
  const unmatched: string[] = [];
  for (const raw of patterns) {
    const pattern = raw.trim();
    if (!pattern) continue;
    const dot = pattern.indexOf(".");
    const schemaRe = dot >= 0 ? globToRegExp(pattern.slice(0, dot)) : undefined;
    const nameRe = globToRegExp(dot >= 0 ? pattern.slice(dot + 1) : pattern);
    const hits = tables.filter((t) => (schemaRe ? schemaRe.test(t.schema) : true) && nameRe.test(t.name));
    if (hits.length === 0) unmatched.push(pattern);
    for (const hit of hits) selected.add(hit);
  }
  return { selected: tables.filter((t) => selected.has(t)), unmatched };
}

export interface SubscriptionRow {
  oid: number;
  name: string;
  enabled: boolean;
  slotName: string | null;
  publications: string[];
  origin: string | null;
}

/** Subscriptions in the current database (never reads subconninfo: it holds a password). */
export async function listSubscriptions(client: pg.ClientBase, versionNum: number): Promise<SubscriptionRow[]> {
  const origin = versionNum >= 160000 ? "s.suborigin" : "NULL::text";
  const { rows } = await client.query<{
    oid: number;
    name: string;
    enabled: boolean;
    slot: string | null;
    publications: string[];
    origin: string | null;
  }>(`
    SELECT s.oid::int AS oid, s.subname AS name, s.subenabled AS enabled, s.subslotname AS slot,
           s.subpublications::text[] AS publications, ${origin} AS origin
      FROM pg_subscription s
     WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     ORDER BY s.subname`);
  return rows.map((row) => ({
    oid: row.oid,
    name: row.name,
    enabled: row.enabled,
    slotName: row.slot,
    publications: row.publications,
    origin: row.origin,
  }));
}

export interface SlotRow {
  name: string;
  database: string | null;
  active: boolean;
  activePid: number | null;
  walStatus: string | null;
  safeWalSizeBytes: number | null;
  confirmedFlushLsn: string | null;
  /** WAL held back by the slot: current LSN minus restart_lsn. */
  retainedBytes: number | null;
  /** Not yet confirmed by the subscriber: current LSN minus confirmed_flush_lsn. */
  lagBytes: number | null;
}

/** Replication slots whose name is `name` or that are tablesync slots of subscription oid `subOid`. */
export async function findSlots(client: pg.ClientBase, names: string[], subOid?: number): Promise<SlotRow[]> {
  const { rows } = await client.query<{
    name: string;
    database: string | null;
    active: boolean;
    active_pid: number | null;
    wal_status: string | null;
    safe_wal_size: string | null;
    confirmed_flush_lsn: string | null;
    retained: string | null;
    lag: string | null;
  }>(
    `SELECT slot_name::text AS name, database::text AS database, active, active_pid, wal_status,
            safe_wal_size::text AS safe_wal_size, confirmed_flush_lsn::text AS confirmed_flush_lsn,
            pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text AS retained,
            pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text AS lag
       FROM pg_replication_slots
      WHERE slot_name = ANY($1::text[]) OR ($2::text IS NOT NULL AND slot_name::text LIKE $2::text)
      ORDER BY slot_name`,
    [names, subOid === undefined ? null : `pg\\_${subOid}\\_sync\\_%`],
  );
  return rows.map((row) => ({
    name: row.name,
    database: row.database,
    active: row.active,
    activePid: row.active_pid,
    walStatus: row.wal_status,
    safeWalSizeBytes: row.safe_wal_size === null ? null : Number(row.safe_wal_size),
    confirmedFlushLsn: row.confirmed_flush_lsn,
    retainedBytes: row.retained === null ? null : Math.max(0, Number(row.retained)),
    lagBytes: row.lag === null ? null : Math.max(0, Number(row.lag)),
  }));
}

/** Tables in a publication, or undefined when the publication does not exist. */
export async function publicationTables(client: pg.ClientBase, name: string): Promise<string[] | undefined> {
  const exists = await client.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [name]);
  if (exists.rowCount === 0) return undefined;
  const { rows } = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_publication_rel pr
       JOIN pg_publication p ON p.oid = pr.prpubid
       JOIN pg_class c ON c.oid = pr.prrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE p.pubname = $1
      ORDER BY 1, 2`,
    [name],
  );
  return rows.map((row) => displayName(row));
}

/** Sessions on the source whose open transaction would make slot creation wait. */
export async function longTransactions(client: pg.ClientBase, olderThanSeconds: number): Promise<string[]> {
  const { rows } = await client.query<{ pid: number; age: string; state: string | null }>(
    `SELECT pid, extract(epoch FROM now() - xact_start)::int::text AS age, state
       FROM pg_stat_activity
      WHERE xact_start < now() - make_interval(secs => $1) AND pid <> pg_backend_pid()
        AND (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL)
      ORDER BY xact_start`,
    [olderThanSeconds],
  );
  return rows.map((row) => `pid ${row.pid} (${row.state ?? "unknown"}, open ${row.age} s)`);
}
