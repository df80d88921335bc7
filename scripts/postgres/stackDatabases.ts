// Blue's and green's database connections from the stack outputs: the one place that turns
// `databaseEndpoints` + `databaseSecretArns` (+ the RDS-managed Secrets Manager secrets) into
// connections. Used by `npm run parity --stack`, `npm run sync --stack`, `npm run status` and the
// paired switch/rollback (scripts/cli/pairedDeps.ts). The raw outputs come from
// scripts/cli/stackOutputs.ts `loadRawOutputs` (--outputs FILE, or `pulumi stack output`).
//
// Only the database fields are validated here (hand-written, no zod): the paired rollback loads
// this module behind its first AWS call, and parity/sync accept an outputs file holding just these.
//
// Secrets: a connection's `url` and `config` carry the password. They are non-enumerable and
// the connection serialises (JSON, util.inspect) to its redacted `display`, so passing one to a
// logger or a report by mistake prints no password. Secret values never appear in an error.
//
// TLS policy (one for every connection built here; it replaces parity's "system CA +
// PGSSLROOTCERT for *.rds.amazonaws.com only" and sync's "verify-full, CA via
// NODE_EXTRA_CA_CERTS"): always `sslmode=verify-full`: TLS with the certificate chain AND the host
// name verified. RDS always offers TLS (and PostgreSQL 15+ on RDS requires it by default), and the
// passwords travel in this connection, so nothing weaker is the default; `sslmode` can still be
// overridden (sync --sslmode). The trust anchors, first that applies:
//   1. PGSSLROOTCERT=FILE (libpq's own variable; e.g. the RDS global-bundle.pem): exactly the
//      certificates in that file, as libpq does. An unreadable file is bad input (exit 2), never
//      a silent fallback to something else.
//   2. NODE_EXTRA_CA_CERTS=FILE: Node's built-in roots plus that file (Node loads it at start-up).
//   3. the system bundle (/etc/ssl/certs/ca-certificates.crt or /etc/pki/tls/certs/ca-bundle.crt),
//      where an operator who ran update-ca-certificates with the RDS CA has it.
//   4. Node's built-in roots (they do not hold the RDS CA: the connection then fails verification
//      with a message pointing here).
// This is sync's policy (verify-full everywhere, since the endpoint is RDS whatever its DNS name)
// with parity's wider CA lookup; it is expressed both in the URL (sslmode / sslrootcert, read by
// node-postgres itself for the sync library) and in the equivalent pg.ClientConfig (parity).

import { readFile } from "node:fs/promises";
import { inspect } from "node:util";
import type pg from "pg";
import { UnreachableError, UsageError } from "../core/errors.js";
import type { ReplicationLogin } from "./sync/replicationRole.js";

import { COLORS, type Color } from "../../infra/vocabulary/colors.js";
import { isSecretArn } from "../../infra/vocabulary/stackOutputs.js";

export type { Color };

export interface StackDatabases {
  endpoints: Record<Color, { host: string; port: number }>;
  secretArns: Record<Color, string>;
  /** The replication role's secret per database (paired stacks since infra/database.ts declares them); absent for older stacks. */
  replicationSecretArns?: Record<Color, string>;
  databaseName?: string;
  /** Where the outputs came from, for messages. */
  source: string;
}

export interface DatabaseConnection {
  color: Color;
  /** postgres://user:***@host:port/db: safe to print. */
  display: string;
  /** How TLS is set up, safe to print: "verify-full, CA: PGSSLROOTCERT /path". */
  tls: string;
  /** postgres://user:password@host:port/db?sslmode=...: for node-postgres and the sync library only. Never print it. */
  readonly url: string;
  /** The same connection as a pg.ClientConfig (password included). Never print it. */
  readonly config: pg.ClientConfig;
  /** This database's replication role (its secret: username, password, host, port, dbname), when the stack declares one. Never print it. */
  readonly replication?: ReplicationLogin;
}

const ENDPOINT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/;
/** The region part of a Secrets Manager ARN (checked by the contract's isSecretArn first). */
const SECRET_ARN_REGION = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/;

/**
 * Validate the database fields of the stack outputs. `purpose` names the command in messages
 * ("parity", "sync", ...). Throws UsageError (exit 2) naming each path and its rule; refuses a
 * shared-database stack, where blue and green are one database and there is nothing to compare or
 * replicate.
 */
export function parseStackDatabases(raw: unknown, source: string, purpose = "this command"): StackDatabases {
  const o = (raw && typeof raw === "object" && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
  const sharedMessage = `${source}: database.mode is shared (blue and green use the same database), so ${purpose} does not apply: it applies to database.mode paired`;
  if (o.databaseMode === "shared") throw new UsageError(sharedMessage);
  const problems: string[] = [];
  if (o !== raw) problems.push("(root): must be a JSON object (the output of `pulumi stack output --json`)");
  const group = (key: string): Record<string, unknown> | null => {
    const value = o[key];
    if (value === undefined) problems.push(`${key}: is missing (expected {"blue": ..., "green": ...}; a paired-database stack exports it)`);
    else if (value === null || typeof value !== "object" || Array.isArray(value)) problems.push(`${key}: must be an object {"blue": ..., "green": ...}`);
    else return value as Record<string, unknown>;
    return null;
  };
  const endpointsRaw = group("databaseEndpoints");
  const arnsRaw = group("databaseSecretArns");
  const endpoints = {} as StackDatabases["endpoints"];
  const secretArns = {} as StackDatabases["secretArns"];
  for (const color of COLORS) {
    if (endpointsRaw) {
      const value = endpointsRaw[color];
      const match = typeof value === "string" ? ENDPOINT.exec(value.trim()) : null;
      const port = match?.[3] === undefined ? 5432 : Number(match[3]);
      if (value === undefined) problems.push(`databaseEndpoints.${color}: is missing (the ${color} database endpoint, host:port)`);
      else if (value === null) problems.push(`databaseEndpoints.${color}: is null: the stack has no ${color} database (is ${color} enabled?)`);
      else if (!match || port < 1 || port > 65535)
        problems.push(`databaseEndpoints.${color}: must be "host:port", e.g. app-${color}.abc123.eu-west-1.rds.amazonaws.com:5432`);
      else endpoints[color] = { host: (match[1] ?? match[2])!, port };
    }
    if (arnsRaw) {
      const value = arnsRaw[color];
      if (value === undefined) problems.push(`databaseSecretArns.${color}: is missing (the ARN of the ${color} database's Secrets Manager secret)`);
      else if (value === null) problems.push(`databaseSecretArns.${color}: is null: the stack has no ${color} database (is ${color} enabled?)`);
      else if (!isSecretArn(value)) problems.push(`databaseSecretArns.${color}: must be a secretsmanager ARN`);
      else secretArns[color] = value;
    }
  }
  // Optional: a stack from before the replication secrets has none (its subscriptions use the master login).
  let replicationSecretArns: Record<Color, string> | undefined;
  const replicationRaw = o.replicationSecretArns;
  if (replicationRaw !== undefined && replicationRaw !== null) {
    if (typeof replicationRaw !== "object" || Array.isArray(replicationRaw))
      problems.push('replicationSecretArns: must be an object {"blue": ..., "green": ...}');
    else {
      const values = replicationRaw as Record<string, unknown>;
      if (values.blue !== null || values.green !== null) {
        const arns = {} as Record<Color, string>;
        for (const color of COLORS) {
          const value = values[color];
          if (!isSecretArn(value)) problems.push(`replicationSecretArns.${color}: must be a secretsmanager ARN (the ${color} database's replication secret)`);
          else arns[color] = value;
        }
        replicationSecretArns = arns;
      }
    }
  }
  const name = o.databaseName;
  if (name !== undefined && (typeof name !== "string" || name === "")) problems.push("databaseName: must be a non-empty string when present");
  if (problems.length > 0) {
    throw new UsageError(
      `stack outputs from ${source} are not what ${purpose} needs:\n${problems
        .slice(0, 8)
        .map((p) => `  ${p}`)
        .join("\n")}`,
    );
  }
  if (endpoints.blue.host === endpoints.green.host && endpoints.blue.port === endpoints.green.port) {
    throw new UsageError(
      `${source}: databaseEndpoints.blue and databaseEndpoints.green are the same server (${endpoints.blue.host}:${endpoints.blue.port}): ` +
        `that is database.mode shared, where ${purpose} does not apply: it applies to database.mode paired (one database per color)`,
    );
  }
  return {
    endpoints,
    secretArns,
    ...(replicationSecretArns ? { replicationSecretArns } : {}),
    ...(typeof name === "string" ? { databaseName: name } : {}),
    source,
  };
}

// ---------------------------------------------------------------------------------------------
// TLS

export interface TlsTrust {
  /** The CA file node-postgres should read (`sslrootcert`), if any. */
  file?: string;
  /** Its contents, for a pg.ClientConfig. */
  ca?: string;
  /** Safe to print. */
  description: string;
}

const SYSTEM_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"];

/** The trust anchors for RDS connections (see the policy at the top of this file). */
export async function rdsTrust(env: NodeJS.ProcessEnv = process.env): Promise<TlsTrust> {
  const explicit = env.PGSSLROOTCERT;
  if (explicit) {
    try {
      return { file: explicit, ca: await readFile(explicit, "utf8"), description: `CA: PGSSLROOTCERT ${explicit}` };
    } catch (error) {
      throw new UsageError(
        `PGSSLROOTCERT ${explicit}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); point it at the RDS CA bundle (global-bundle.pem)`,
      );
    }
  }
  if (env.NODE_EXTRA_CA_CERTS) return { description: `CA: Node's roots + NODE_EXTRA_CA_CERTS ${env.NODE_EXTRA_CA_CERTS}` };
  for (const file of SYSTEM_BUNDLES) {
    try {
      return { file, ca: await readFile(file, "utf8"), description: `CA: system bundle ${file}` };
    } catch {
      // next
    }
  }
  return { description: "CA: Node's built-in roots (no RDS CA: set PGSSLROOTCERT to the RDS global-bundle.pem)" };
}

/** The pg `ssl` option equivalent to `sslmode` (node-postgres semantics) with these anchors. */
export function sslConfig(sslmode: string, trust: TlsTrust): pg.ClientConfig["ssl"] {
  if (sslmode === "disable") return false;
  if (sslmode === "no-verify") return { rejectUnauthorized: false };
  return trust.ca !== undefined ? { rejectUnauthorized: true, ca: trust.ca } : { rejectUnauthorized: true };
}

// ---------------------------------------------------------------------------------------------
// Secrets and connections

export interface ConnectionOptions {
  /** Database name; default: outputs databaseName, else the secret's dbname, else "app" (infra's default). */
  database?: string | undefined;
  /** Default verify-full. */
  sslmode?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Aborts the Secrets Manager reads (status's --deadline). */
  signal?: AbortSignal | undefined;
}

const NOT_FOUND = new Set(["ResourceNotFoundException", "ValidationException", "InvalidParameterException", "InvalidRequestException"]);

type MasterSecret = { username: string; password: string; dbname?: string };

/** A replication secret's fields (infra/database.ts writes them); never quotes the secret in an error. */
function replicationLoginOf(json: Record<string, unknown>, color: Color, arn: string): ReplicationLogin {
  const { username, password, host, port, dbname } = json;
  const portNumber = typeof port === "string" ? Number(port) : port;
  if (
    typeof username !== "string" ||
    username === "" ||
    typeof password !== "string" ||
    password === "" ||
    typeof host !== "string" ||
    host === "" ||
    typeof portNumber !== "number" ||
    !Number.isInteger(portNumber) ||
    typeof dbname !== "string" ||
    dbname === ""
  ) {
    throw new UsageError(`the ${color} database's replication secret ${arn} does not hold username, password, host, port and dbname`);
  }
  return { username, password, host, port: portNumber, dbname };
}

async function readSecrets(
  db: StackDatabases,
  signal?: AbortSignal,
): Promise<{ master: Record<Color, MasterSecret>; replication?: Record<Color, ReplicationLogin> }> {
  // Lazy: the SDK is loaded only on this path.
  const [{ SecretsManagerClient, GetSecretValueCommand }, { clientConfig }] = await Promise.all([
    import("@aws-sdk/client-secrets-manager"),
    import("../net/awsClientSettings.js"),
  ]);
  // The region is the secret's own (from its ARN): right whatever AWS_REGION says. The timeouts
  // throw (net/awsClientSettings.ts): a black-holed endpoint cannot hold the command forever.
  const region = SECRET_ARN_REGION.exec(db.secretArns.blue)?.[1];
  const { requestHandler } = clientConfig(region ?? "");
  const client = new SecretsManagerClient({ ...(region ? { region } : {}), requestHandler });
  try {
    const readJson = async (color: Color, arn: string, what: string): Promise<Record<string, unknown>> => {
      let text: string | undefined;
      try {
        text = (await client.send(new GetSecretValueCommand({ SecretId: arn }), signal ? { abortSignal: signal } : {})).SecretString;
      } catch (error) {
        const name = (error as { name?: string }).name ?? "Error";
        const detail = `${name}: ${(error as Error).message}`;
        if (NOT_FOUND.has(name)) {
          throw new UsageError(`the ${color} database secret ${arn} (${what}.${color} in ${db.source}) cannot be read: ${detail}`);
        }
        throw new UnreachableError(`could not read the ${color} database secret ${arn} from Secrets Manager: ${detail}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text ?? "");
      } catch {
        // Never quote the text: it is the secret.
        throw new UsageError(`the ${color} database secret ${arn} is not JSON {"username", "password"}`);
      }
      return (json && typeof json === "object" ? json : {}) as Record<string, unknown>;
    };
    const read = async (color: Color): Promise<MasterSecret> => {
      const arn = db.secretArns[color];
      const s = await readJson(color, arn, "databaseSecretArns");
      if (typeof s.username !== "string" || s.username === "" || typeof s.password !== "string" || s.password === "") {
        throw new UsageError(`the ${color} database secret ${arn} holds no username/password`);
      }
      return { username: s.username, password: s.password, ...(typeof s.dbname === "string" && s.dbname ? { dbname: s.dbname } : {}) };
    };
    const replicationArns = db.replicationSecretArns;
    const readReplication = async (color: Color) =>
      replicationLoginOf(await readJson(color, replicationArns![color], "replicationSecretArns"), color, replicationArns![color]);
    const [blue, green, replicationBlue, replicationGreen] = await Promise.all([
      read("blue"),
      read("green"),
      replicationArns ? readReplication("blue") : undefined,
      replicationArns ? readReplication("green") : undefined,
    ]);
    return { master: { blue, green }, ...(replicationBlue && replicationGreen ? { replication: { blue: replicationBlue, green: replicationGreen } } : {}) };
  } finally {
    client.destroy();
  }
}

function makeConnection(fields: {
  color: Color;
  display: string;
  tls: string;
  url: string;
  config: pg.ClientConfig;
  replication?: ReplicationLogin | undefined;
}): DatabaseConnection {
  const visible = { color: fields.color, display: fields.display, tls: fields.tls };
  const connection = { ...visible } as DatabaseConnection;
  Object.defineProperties(connection, {
    url: { value: fields.url, enumerable: false },
    config: { value: fields.config, enumerable: false },
    replication: { value: fields.replication, enumerable: false },
    toJSON: { value: () => visible, enumerable: false },
    [inspect.custom]: { value: () => `DatabaseConnection(${fields.color} ${fields.display}, ${fields.tls})`, enumerable: false },
  });
  return connection;
}

/** Read both secrets (one Secrets Manager client) and build both connections. */
export async function databaseConnections(db: StackDatabases, options: ConnectionOptions = {}): Promise<Record<Color, DatabaseConnection>> {
  const sslmode = options.sslmode ?? "verify-full";
  const [{ master: secrets, replication }, trust] = await Promise.all([
    readSecrets(db, options.signal),
    sslmode === "disable" ? Promise.resolve<TlsTrust>({ description: "" }) : rdsTrust(options.env),
  ]);
  const build = (color: Color): DatabaseConnection => {
    const secret = secrets[color];
    const { host, port } = db.endpoints[color];
    const database = options.database ?? db.databaseName ?? secret.dbname ?? "app";
    const url = new URL(`postgres://${host.includes(":") ? `[${host}]` : host}:${port}/`);
    url.username = encodeURIComponent(secret.username);
    url.password = encodeURIComponent(secret.password);
    url.pathname = `/${encodeURIComponent(database)}`;
    url.searchParams.set("sslmode", sslmode);
    if (trust.file && sslmode !== "disable") url.searchParams.set("sslrootcert", trust.file);
    const display = `postgres://${encodeURIComponent(secret.username)}:***@${url.host}/${encodeURIComponent(database)}`;
    return makeConnection({
      color,
      display,
      tls: sslmode === "disable" ? "sslmode=disable (no TLS)" : `sslmode=${sslmode}, ${trust.description}`,
      url: url.toString(),
      config: { host, port, user: secret.username, password: secret.password, database, ssl: sslConfig(sslmode, trust) },
      replication: replication?.[color],
    });
  };
  return { blue: build("blue"), green: build("green") };
}

/** parseStackDatabases + databaseConnections, from what loadRawOutputs returned. */
export async function connectionsFromOutputs(
  outputs: { raw: unknown; source: string },
  options: ConnectionOptions & { purpose?: string } = {},
): Promise<Record<Color, DatabaseConnection>> {
  return databaseConnections(parseStackDatabases(outputs.raw, outputs.source, options.purpose), options);
}
