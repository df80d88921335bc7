// Connections for `npm run sync`: open a node-postgres client for a URL with errors mapped to
// the CLI's exit codes, describe an endpoint without its password, redact secrets from any text,
// and turn an operator's URL into the libpq conninfo a subscription stores.

import pg from "pg";
import { UnreachableError, UsageError } from "../../core/errors.js";
import { raceAbort } from "../../core/abort.js";
import { closeOnAbort, connectClient, isUnreachable } from "../../net/pgConnection.js";
import { redact } from "../../core/redact.js";

/** A database given either as a URL (opened and closed per call) or as an open client (reused, never closed). */
export type Db = string | pg.ClientBase;

/** Which side a connection is for; used only in messages. */
export type Side = "source" | "target";

/** `user@host:port/db`, never the password. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : "";
    const db = parsed.pathname.replace(/^\//, "");
    return `${user}${parsed.hostname}${parsed.port ? `:${parsed.port}` : ""}/${decodeURIComponent(db) || "postgres"}`;
  } catch {
    return "(unparsable URL)";
  }
}

/** The password in a URL, decoded, or undefined. */
export function passwordOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.password ? decodeURIComponent(parsed.password) : undefined;
  } catch {
    return undefined;
  }
}

function validateUrl(url: string, label: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${label}: not a valid URL; expected postgres://user:password@host:port/database`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new UsageError(`${label}: URL scheme must be postgres:// or postgresql://, got ${parsed.protocol}//`);
  }
}

/** An error from PostgreSQL or the socket, rethrown with a clear message, the right class, and no password. */
export function mapError(error: unknown, label: string, secrets: Array<string | undefined>): Error {
  const code = (error as { code?: string } | null)?.code;
  const raw = error instanceof Error ? error.message : String(error);
  const message = redact(raw || code || "connection failed", secrets);
  if (error instanceof UsageError || error instanceof UnreachableError) {
    return error;
  }
  if (isUnreachable(error)) {
    return new UnreachableError(`${label}: ${message}`);
  }
  if (code === "3D000") {
    return new UsageError(`${label}: ${message}; check the database name in the URL`);
  }
  const wrapped = new Error(`${label}: ${message}`);
  (wrapped as { code?: string }).code = code;
  return wrapped;
}

export interface OpenOptions {
  /** Milliseconds to wait for a connection; default 10 s. */
  connectTimeoutMs?: number;
  /** Label used in messages, e.g. "blue database". */
  label?: string;
  /**
   * Abandons the connection when it aborts (a command's deadline, Ctrl-C): the socket is closed
   * at once, whether the connect or a query is still waiting, and the call rejects.
   */
  signal?: AbortSignal;
}

/** A connect or query given up at its signal (pg leaves a connect pending forever once its socket is destroyed before the server answered: raceAbort ends the wait). */
function abandoned(label: string, signal: AbortSignal): UnreachableError {
  return new UnreachableError(`${label}: abandoned (${String(signal.reason ?? "aborted")})`);
}

/** Open a client for a URL. Unreachable or refused (wrong password) → UnreachableError; a malformed URL → UsageError. */
export async function openClient(url: string, options: OpenOptions = {}): Promise<pg.Client> {
  const label = options.label ?? `database ${describeUrl(url)}`;
  validateUrl(url, label);
  try {
    return await connectClient(
      { connectionString: url },
      {
        applicationName: "bluegreen-sync",
        connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
        ...(options.signal ? { signal: options.signal } : {}),
        abandoned: (signal) => abandoned(label, signal),
      },
    );
  } catch (error) {
    if (error instanceof UnreachableError && options.signal?.aborted) throw error;
    throw mapError(error, `${label} (${describeUrl(url)})`, [passwordOf(url)]);
  }
}

/** Run fn with a client for db: a URL is opened and closed around it, an open client is used as is. */
export async function withClient<T>(db: Db, label: string, fn: (client: pg.ClientBase) => Promise<T>, signal?: AbortSignal): Promise<T> {
  if (typeof db !== "string") return fn(db);
  const client = await openClient(db, { label, ...(signal ? { signal } : {}) });
  const stopWatching = closeOnAbort(client, signal);
  try {
    return await raceAbort(fn(client), signal, (aborted) => abandoned(label, aborted));
  } catch (error) {
    if (signal?.aborted) throw abandoned(label, signal);
    throw mapError(error, label, [passwordOf(db)]);
  } finally {
    stopWatching();
    await client.end().catch(() => undefined);
  }
}

/** Quote a value for a libpq conninfo string: single quotes, with \ and ' escaped. */
function conninfoValue(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * The libpq conninfo a subscription on the target stores to reach the source, built from the
 * operator's URL: host, port, dbname, user, password and sslmode (verify-* becomes require,
 * because the database server has no root certificate of ours to verify with). Contains the
 * password: pass it only to CREATE SUBSCRIPTION and print only through redact().
 */
export function conninfoFromUrl(url: string): string {
  validateUrl(url, "subscription connection URL");
  const parsed = new URL(url);
  const pairs: Array<[string, string]> = [];
  pairs.push(["host", decodeURIComponent(parsed.hostname.replace(/^\[|\]$/g, ""))]);
  pairs.push(["port", parsed.port || "5432"]);
  pairs.push(["dbname", decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "postgres"]);
  if (parsed.username) pairs.push(["user", decodeURIComponent(parsed.username)]);
  if (parsed.password) pairs.push(["password", decodeURIComponent(parsed.password)]);
  const sslmode = parsed.searchParams.get("sslmode");
  if (sslmode) pairs.push(["sslmode", sslmode.startsWith("verify") || sslmode === "no-verify" ? "require" : sslmode]);
  return pairs.map(([key, value]) => `${key}=${conninfoValue(value)}`).join(" ");
}
