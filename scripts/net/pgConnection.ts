// The one way this project opens a node-postgres connection: a client with a bounded connect, an
// application name, no crash on a dropped socket, and (optionally) abandoned at once when a signal
// aborts. Which failures mean "the database cannot be reached or will not let us in" (exit 3) is
// declared here once; parity, sync and migrate word their messages themselves. It lives among the
// shared helpers so both adapter families that talk to PostgreSQL (scripts/postgres and the
// sandbox's scripts/local) open their connections here without importing one another.

import pg from "pg";
import { UnreachableError } from "../core/errors.js";
import { raceAbort } from "../core/abort.js";

/**
 * Error codes that mean the database is unreachable or refuses us: the socket's (refused, no such
 * host, timed out, reset…) and PostgreSQL's (invalid password, no pg_hba entry or role, too many
 * connections, starting up or shutting down, the connection could not be made or failed).
 */
export const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNRESET",
  "EPIPE",
  "28P01",
  "28000",
  "53300",
  "57P03",
  "57P01",
  "08001",
  "08006",
]);

/** True for an error code that means the database cannot be reached or will not let us in. */
export function isUnreachableCode(code: string | undefined): boolean {
  return code !== undefined && UNREACHABLE_CODES.has(code);
}

/**
 * True when `error` says the database cannot be reached or will not let us in: by its code, or by
 * pg's connect-timeout and termination messages (which carry no code; a statement or lock timeout
 * of a query matches them too, so judge a query's own errors by isUnreachableCode).
 */
export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  if (isUnreachableCode(code)) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /timeout|terminated unexpectedly|Connection terminated/i.test(message);
}

/** Default bound on establishing a connection. */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface ConnectOptions {
  /** Shown in pg_stat_activity: which tool holds the connection. */
  applicationName: string;
  /** Milliseconds to wait for the connection; default CONNECT_TIMEOUT_MS (a config's own connectionTimeoutMillis wins). */
  connectTimeoutMs?: number;
  /**
   * Abandons the connection when it aborts (a command's deadline, Ctrl-C): the socket is closed at
   * once, whether the connect or a later query is waiting. The connect then rejects with
   * `abandoned(signal)`; keep watching the queries with `closeOnAbort`.
   */
  signal?: AbortSignal;
  /** The error a connect given up at its signal rejects with. */
  abandoned?: (signal: AbortSignal) => Error;
}

/** Close `client`'s socket as soon as `signal` aborts; returns the listener's remover. */
export function closeOnAbort(client: pg.Client, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => undefined;
  const close = () => {
    // The socket itself: end() alone sends Terminate and waits for the server to close its side,
    // which a server that never answered the start-up never does (pg has no abort of its own).
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    client.end().catch(() => undefined);
  };
  if (signal.aborted) close();
  else signal.addEventListener("abort", close, { once: true });
  return () => signal.removeEventListener("abort", close);
}

/**
 * A connected client for `config`. A failed connect ends the client and rethrows pg's own error
 * (the caller words it, with isUnreachable); a signal that aborts rejects with `abandoned`.
 */
export async function connectClient(config: pg.ClientConfig, options: ConnectOptions): Promise<pg.Client> {
  const client = new pg.Client({
    connectionTimeoutMillis: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    ...config,
    application_name: options.applicationName,
  });
  // A connection dropped after connect (server gone) must not crash the process; queries reject instead.
  client.on("error", () => undefined);
  const abandoned = options.abandoned ?? ((signal: AbortSignal) => new UnreachableError(`connection abandoned (${String(signal.reason ?? "aborted")})`));
  if (options.signal?.aborted) throw abandoned(options.signal);
  const stopWatching = closeOnAbort(client, options.signal);
  try {
    await raceAbort(client.connect(), options.signal, abandoned);
  } catch (error) {
    await client.end().catch(() => undefined);
    if (options.signal?.aborted) throw abandoned(options.signal);
    throw error;
  } finally {
    stopWatching();
  }
  return client;
}
