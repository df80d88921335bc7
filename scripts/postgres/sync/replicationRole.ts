// The replication role: the login a subscription uses to reach its publisher, instead of the
// master user. Each paired database has one (`bluegreen_replication`), its credentials in a
// Secrets Manager secret the Pulumi program declares (infra/database.ts: username, password from a
// RandomPassword, host, port, dbname). So RDS rotating the master secret (every 7 days by default)
// never breaks replication, and the master password is never stored in pg_subscription.
//
//   ensureReplicationRole     on the publisher, as the master user: create or update the role from
//                             the secret: LOGIN, the password, the right to stream (on RDS
//                             `GRANT rds_replication`, elsewhere the REPLICATION attribute), and
//                             SELECT on the user tables (the initial copy reads them as this role).
//   refreshSubscriptionConnection
//                             on the subscriber: ALTER SUBSCRIPTION … CONNECTION with the current
//                             secret, when what the subscription stores differs. Run before every
//                             paired switch and rollback (scripts/postgres/replication.ts), so a
//                             rotated replication secret is picked up before the fence goes up.
//
// The password never travels in clear text in SQL: ALTER/CREATE ROLE receive a SCRAM-SHA-256
// verifier computed here (RFC 5802 / RFC 7677, as PostgreSQL stores it), so statement logs and
// pg_stat_statements hold no password. The subscription's conninfo does hold it (libpq needs it):
// it is passed only to ALTER/CREATE SUBSCRIPTION and printed only redacted.

import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import type pg from "pg";
import { UsageError } from "../../core/errors.js";
import { ident, literal } from "./sql.js";

/** What a replication secret holds (infra/database.ts writes it). */
export interface ReplicationLogin {
  username: string;
  password: string;
  host: string;
  port: number;
  dbname: string;
}

/** PostgreSQL's default iteration count for scram-sha-256 (scram_iterations, PostgreSQL 16). */
const SCRAM_ITERATIONS = 4096;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (pg_authid.rolpassword format):
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, all base64. PostgreSQL applies
 * SASLprep to the password first; for the ASCII passwords the program generates (letters and
 * digits) that is the identity, and other passwords are refused rather than hashed differently.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  if (!/^[\x21-\x7e]+$/.test(password)) throw new UsageError("the replication password must be printable ASCII (the program generates letters and digits)");
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** Quote a value for a libpq conninfo string: single quotes, with \ and ' escaped. */
function conninfoValue(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * The conninfo a subscription stores to reach its publisher as the replication role. sslmode
 * `require` by default: the database server holds no root certificate of ours to verify with
 * (RDS forces TLS: rds.force_ssl=1). Contains the password: never print it unredacted.
 */
export function replicationConninfo(login: ReplicationLogin, sslmode = "require"): string {
  const pairs: Array<[string, string]> = [
    ["host", login.host],
    ["port", String(login.port)],
    ["dbname", login.dbname],
    ["user", login.username],
    ["password", login.password],
    ["sslmode", sslmode],
    ["connect_timeout", "10"],
  ];
  return pairs.map(([key, value]) => `${key}=${conninfoValue(value)}`).join(" ");
}

export interface EnsureRoleResult {
  created: boolean;
  /** How the role may stream: "rds_replication" (RDS / Aurora) or "REPLICATION" (the role attribute). */
  replicationGrant: "rds_replication" | "REPLICATION";
  /** Schemas whose tables the role may read (USAGE + SELECT). */
  schemas: string[];
  /** The statements run, the password verifier redacted. */
  statements: string[];
}

/**
 * Create or update the replication role on the publisher, connected as the master user
 * (`master`). Idempotent: run by every `sync start`/`reverse` and before every paired switch.
 */
export async function ensureReplicationRole(
  master: pg.ClientBase,
  login: ReplicationLogin,
  options: { grantSelect?: boolean } = {},
): Promise<EnsureRoleResult> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(login.username)) throw new UsageError(`replication username "${login.username}" must be a lower-case identifier`);
  const role = ident(login.username);
  const verifier = scramVerifier(login.password);
  const statements: Array<{ sql: string; shown: string }> = [];
  const add = (sql: string, shown = sql) => statements.push({ sql, shown });

  const { rows } = await master.query<{ exists: boolean; rds: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication') AS rds`,
    [login.username],
  );
  const exists = rows[0]?.exists === true;
  const rds = rows[0]?.rds === true;
  const verb = exists ? "ALTER" : "CREATE";
  add(`${verb} ROLE ${role} WITH LOGIN PASSWORD ${literal(verifier)}`, `${verb} ROLE ${role} WITH LOGIN PASSWORD '***'`);
  // RDS refuses the REPLICATION attribute even to its master user; membership in rds_replication
  // is its way (Amazon RDS User Guide, "Performing logical replication for Amazon RDS for PostgreSQL").
  if (rds) add(`GRANT rds_replication TO ${role}`);
  else add(`ALTER ROLE ${role} WITH REPLICATION`);

  // The initial copy reads the tables as this role; the refresh before a switch skips this part.
  const { rows: schemaRows } =
    options.grantSelect === false
      ? { rows: [] }
      : await master.query<{ schema: string }>(
          `SELECT DISTINCT n.nspname AS schema
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY 1`,
        );
  const schemas = schemaRows.map((r) => r.schema);
  for (const schema of schemas) {
    add(`GRANT USAGE ON SCHEMA ${ident(schema)} TO ${role}`);
    add(`GRANT SELECT ON ALL TABLES IN SCHEMA ${ident(schema)} TO ${role}`);
  }

  for (const statement of statements) {
    try {
      await master.query(statement.sql);
    } catch (error) {
      // The message of a failed CREATE/ALTER ROLE never echoes the verifier, but say which statement.
      throw new Error(`${statement.shown}: ${(error as Error).message}`);
    }
  }
  return { created: !exists, replicationGrant: rds ? "rds_replication" : "REPLICATION", schemas, statements: statements.map((s) => s.shown) };
}

export type RefreshResult = "absent" | "unchanged" | "updated";

/**
 * Point subscription `name` on the subscriber (`target`, the master user) at `conninfo`. Leaves it
 * alone when it already stores exactly that: ALTER SUBSCRIPTION … CONNECTION restarts the apply
 * worker, which the switch should not pay for nothing. Where the stored conninfo cannot be read
 * (pg_subscription.subconninfo is not readable by every role), it is always set.
 */
export async function refreshSubscriptionConnection(target: pg.ClientBase, name: string, conninfo: string): Promise<RefreshResult> {
  const { rows } = await target.query<{ exists: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_subscription WHERE subname = $1 AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())) AS exists`,
    [name],
  );
  if (rows[0]?.exists !== true) return "absent";
  let stored: string | null = null;
  try {
    const { rows: info } = await target.query<{ subconninfo: string }>(
      `SELECT subconninfo FROM pg_subscription WHERE subname = $1 AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [name],
    );
    stored = info[0]?.subconninfo ?? null;
  } catch (error) {
    if ((error as { code?: string }).code !== "42501") throw error;
  }
  if (stored === conninfo) return "unchanged";
  await target.query(`ALTER SUBSCRIPTION ${ident(name)} CONNECTION ${literal(conninfo)}`);
  return "updated";
}

/**
 * After a connection change, wait (bounded) until the subscription's apply worker runs again: the
 * launcher restarts a worker that failed at most every wal_retrieve_retry_interval (5 s by
 * default). True when it runs; false when it did not come up in time (the caller's status says so).
 */
export async function waitForApplyWorker(target: pg.ClientBase, name: string, timeoutMs = 15_000, pollMs = 100): Promise<boolean> {
  const attempts = Math.max(1, Math.ceil(timeoutMs / pollMs));
  for (let attempt = 0; attempt < attempts; attempt++) {
    const { rows } = await target.query<{ running: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM pg_stat_subscription WHERE subname = $1 AND relid IS NULL AND pid IS NOT NULL) AS running",
      [name],
    );
    if (rows[0]?.running === true) return true;
    await new Promise((done) => setTimeout(done, pollMs));
  }
  return false;
}
