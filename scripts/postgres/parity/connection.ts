// Where blue and green are and how to reach them: explicit URLs here; connections from the stack
// outputs (endpoints + Secrets Manager) come from scripts/postgres/stackDatabases.ts and are turned
// into targets with targetFromConnection. Passwords never leave pg's ClientConfig.

import pg from "pg";
import { UnreachableError, UsageError } from "../../core/errors.js";
import { rdsTrust, sslConfig, type DatabaseConnection } from "../stackDatabases.js";
import { connectClient, isUnreachable } from "../../net/pgConnection.js";
import { redact, redactUrl } from "../../core/redact.js";

export type Side = "blue" | "green";

export interface Target {
  side: Side;
  /** Safe to print: postgres://user:***@host:port/db */
  display: string;
  config: pg.ClientConfig;
}

const RDS_HOST = /\.rds\.amazonaws\.com(\.cn)?$/i;

/** Parse `--blue`/`--green`; bad URLs are bad input (exit 2). */
export async function targetFromUrl(side: Side, url: string): Promise<Target> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--${side}: not a valid URL (expected postgres://user:password@host:port/database): ${redactUrl(url)}`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new UsageError(`--${side}: expected a postgres:// or postgresql:// URL, got ${parsed.protocol}// in ${redactUrl(url)}`);
  }
  if (parsed.hostname === "") throw new UsageError(`--${side}: the URL names no host: ${redactUrl(url)}`);
  if (parsed.port !== "" && !/^\d+$/.test(parsed.port)) throw new UsageError(`--${side}: bad port in ${redactUrl(url)}`);
  const config: pg.ClientConfig = { connectionString: url };
  const sslmode = parsed.searchParams.get("sslmode");
  if (sslmode === null && RDS_HOST.test(parsed.hostname)) {
    // RDS: the project's one TLS policy (verify-full; CA from PGSSLROOTCERT, NODE_EXTRA_CA_CERTS or
    // the system bundle), as for connections built from the stack outputs.
    config.ssl = sslConfig("verify-full", await rdsTrust());
  }
  return { side, display: redactUrl(url), config };
}

/** A target from a stack-output connection (scripts/postgres/stackDatabases.ts). */
export function targetFromConnection(connection: DatabaseConnection): Target {
  return { side: connection.color, display: connection.display, config: connection.config };
}

/** Open one connection; failures to reach or log in become UnreachableError (exit 3) with a redacted message. */
export async function connect(target: Target, applicationName = "bluegreen-parity"): Promise<pg.Client> {
  try {
    return await connectClient(target.config, { applicationName, connectTimeoutMs: 15_000 });
  } catch (error) {
    const err = error as { code?: string; message?: string };
    const secrets = typeof target.config.password === "string" ? [target.config.password] : [];
    const detail = redact(err.message ?? String(error), secrets);
    let why = detail;
    if (err.code === "28P01") why = `authentication failed (${detail})`;
    else if (err.code === "28000") why = `not allowed to connect (${detail})`;
    else if (err.code === "3D000") why = `database does not exist (${detail})`;
    else if (err.code && isUnreachable(error)) why = `cannot reach the server (${err.code})`;
    throw new UnreachableError(`${target.side} database ${target.display}: ${why}`);
  }
}
