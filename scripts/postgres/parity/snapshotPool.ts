// A bounded set of connections to one database that all read the same snapshot: the first
// opens a REPEATABLE READ READ ONLY transaction and exports its snapshot, the others import
// it. Work is queued and handed to the next free connection. Parity never writes. Each
// connection is set up in one round trip (its settings, the transaction and the snapshot sent as
// one multi-statement query), and the pool can cancel the queries it has running (Ctrl-C).

import type pg from "pg";
import { redact } from "../../core/redact.js";
import { connect, type Target } from "./connection.js";

/** A query refused because the pool was stopped (Ctrl-C): the run ends as interrupted. */
export class QueriesCancelledError extends Error {
  override name = "QueriesCancelledError";
}

/**
 * Session settings that make every text rendering identical on both servers, and what is read
 * independent of the role's and the database's defaults: an empty search_path (every name
 * schema-qualified, as pg_dump reads: format_type, regclass text and casts never depend on an
 * ALTER DATABASE … SET search_path), and row_security off (a table whose policies would hide rows
 * from this role is an error naming it, never a smaller answer).
 */
export const SESSION_SETUP = [
  "SELECT pg_catalog.set_config('search_path', '', false)",
  "SET row_security = off",
  "SET client_encoding = 'UTF8'",
  "SET standard_conforming_strings = on",
  "SET lc_monetary = 'C'",
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  "SET extra_float_digits = 3",
  "SET bytea_output = 'hex'",
  // Our own workers are the bounded parallelism (--parallel); no extra server-side workers.
  "SET max_parallel_workers_per_gather = 0",
  "SET lock_timeout = '10s'",
  "SET statement_timeout = 0",
  // A client that vanished (killed, its network gone) ends its query within seconds instead of
  // leaving a full scan running (PostgreSQL 14+; older servers skip the setting).
  "SELECT pg_catalog.set_config('client_connection_check_interval', '2s', false) WHERE pg_catalog.current_setting('server_version_num')::int >= 140000",
].join("; ");

const BEGIN_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/** The results of a multi-statement query, one per statement (pg returns a single result for one statement). */
function resultsOf(result: pg.QueryResult | pg.QueryResult[]): pg.QueryResult[] {
  return Array.isArray(result) ? result : [result];
}

/** Bounds of the cancellation loop: tries, and the pause between them. */
const CANCEL_ROUNDS = 40;
const CANCEL_PAUSE_MS = 50;

export class SnapshotPool {
  private readonly idle: pg.Client[] = [];
  private readonly waiting: Array<(client: pg.Client) => void> = [];
  /** Connections with a query of ours in flight (handed out by run()). */
  private readonly busy = new Set<pg.Client>();
  private closed = false;
  private stopped = false;

  private constructor(
    readonly target: Target,
    private readonly clients: pg.Client[],
    readonly snapshotId: string,
    readonly serverVersionNum: number,
    readonly serverVersion: string,
  ) {
    this.idle.push(...clients);
  }

  get size(): number {
    return this.clients.length;
  }

  static async open(target: Target, size: number): Promise<SnapshotPool> {
    const settled = await Promise.allSettled(Array.from({ length: Math.max(1, size) }, () => connect(target)));
    const clients = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failure) {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      throw failure.reason;
    }
    try {
      const [first, ...rest] = clients as [pg.Client, ...pg.Client[]];
      const opened = resultsOf(
        await first.query(
          `${BEGIN_SNAPSHOT}; ${SESSION_SETUP}; SELECT pg_export_snapshot() AS snap, current_setting('server_version_num') AS num, current_setting('server_version') AS ver`,
        ),
      );
      const row = opened[opened.length - 1]!.rows[0] as { snap: string; num: string; ver: string };
      // The transaction first (in one multi-statement query, a statement before BEGIN would already
      // have started it), and the snapshot imported before any query. The snapshot id is generated
      // by the server, but quote it anyway.
      const importSnapshot = `${BEGIN_SNAPSHOT}; SET TRANSACTION SNAPSHOT '${row.snap.replace(/'/g, "''")}'; ${SESSION_SETUP}`;
      await Promise.all(rest.map((client) => client.query(importSnapshot)));
      return new SnapshotPool(target, clients, row.snap, Number(row.num), row.ver);
    } catch (error) {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      const secrets = typeof target.config.password === "string" ? [target.config.password] : [];
      throw new Error(`${target.side} database: could not open a snapshot: ${redact((error as Error).message, secrets)}`);
    }
  }

  /** Run fn on the next free connection; connections stay inside the shared snapshot. */
  async run<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error("parity: the connection pool is closed");
    const client = this.idle.pop() ?? (await new Promise<pg.Client>((resolve) => this.waiting.push(resolve)));
    try {
      // Checked once a connection is ours: work queued before a cancellation never starts after it.
      if (this.stopped) throw new QueriesCancelledError(`${this.target.side}: parity was interrupted`);
      this.busy.add(client);
      return await fn(client);
    } finally {
      this.busy.delete(client);
      const next = this.waiting.shift();
      if (next) next(client);
      else this.idle.push(client);
    }
  }

  /**
   * Stop: no new query starts, and every query of ours still running on the server is cancelled
   * with pg_cancel_backend from a short-lived connection of its own. A query sent but not yet
   * started there is caught on a later round; the rounds end once no query of ours is in flight
   * (bounded: CANCEL_ROUNDS × CANCEL_PAUSE_MS). Returns how many queries were cancelled.
   */
  async cancelRunning(): Promise<number> {
    this.stopped = true;
    if (this.busy.size === 0) return 0;
    const pids = (): number[] => [...this.busy].map((c) => (c as pg.Client & { processID: number | null }).processID ?? 0).filter((pid) => pid > 0);
    const canceller = await connect(this.target, "bluegreen-parity-cancel");
    const cancelled = new Set<number>();
    try {
      for (let round = 0; round < CANCEL_ROUNDS && this.busy.size > 0; round++) {
        const res = await canceller.query<{ pid: number }>(
          // CASE: only a backend running a query is signalled (an idle one would drop the cancel).
          "SELECT pid FROM pg_catalog.pg_stat_activity WHERE pid = ANY($1::int[]) AND CASE WHEN state = 'active' THEN pg_catalog.pg_cancel_backend(pid) ELSE false END",
          [pids()],
        );
        for (const r of res.rows) cancelled.add(r.pid);
        await new Promise((resolve) => setTimeout(resolve, CANCEL_PAUSE_MS));
      }
    } finally {
      await canceller.end().catch(() => undefined);
    }
    return cancelled.size;
  }

  query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.run((client) => client.query<R>(sql, params));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.clients.map(async (client) => {
        await client.query("ROLLBACK").catch(() => undefined);
        await client.end().catch(() => undefined);
      }),
    );
  }
}
