// Paired runs, the parts that talk to both databases: the replication observed on each side,
// the statements that bring it in line after a migration, then the proof that it still applies
// (every subscription caught up with its publisher, its apply worker running) and that each table
// a migration created holds on the subscriber every row its writer had.

import type pg from "pg";
import { waitForCatchUp, syncStatus } from "../sync/index.js";
import { sideOf, withClient, type Color, type PairedTargets } from "./database.js";
import { describeEdge, readReplicationState, type Edge, type ReplicationState, type ReplicationStatement } from "./replication.js";

export async function readBoth(targets: PairedTargets): Promise<Record<Color, ReplicationState>> {
  const [blue, green] = await Promise.all([withClient(targets.blue, readReplicationState), withClient(targets.green, readReplicationState)]);
  return { blue, green };
}

/** Run the catch-up statements in order, one connection each. */
export async function runReplicationStatements(targets: PairedTargets, statements: ReplicationStatement[], log: (line: string) => void): Promise<void> {
  for (const s of statements) {
    log(`${s.on}: ${s.sql}`);
    await withClient(sideOf(targets, s.on), (c) => c.query(s.sql));
  }
}

/** Open one client on each side for the duration of fn. */
async function withBoth<T>(targets: PairedTargets, publisher: Color, fn: (publisher: pg.Client, subscriber: pg.Client) => Promise<T>): Promise<T> {
  const subscriber: Color = publisher === "blue" ? "green" : "blue";
  return withClient(sideOf(targets, publisher), (p) => withClient(sideOf(targets, subscriber), (s) => fn(p, s)));
}

export interface EdgeCheck {
  subscription: string;
  publisher: Color;
  subscriber: Color;
  ok: boolean;
  detail: string;
}

/**
 * Each enabled subscription between the two sides must apply everything its publisher had
 * committed when asked (bounded by timeoutMs): an apply worker stopped on a column or table it
 * lacks never gets there. A failure names the subscription's problems as `sync status` sees them.
 */
export async function checkEdges(targets: PairedTargets, edges: Edge[], timeoutMs: number): Promise<EdgeCheck[]> {
  const out: EdgeCheck[] = [];
  for (const edge of edges.filter((e) => e.enabled)) {
    const check = await withBoth(targets, edge.publisher, async (p, s) => {
      const wait = await waitForCatchUp({ sourceUrl: p, targetUrl: s, name: edge.subscription, timeoutMs, pollMs: 50 });
      if (wait.caughtUp) return { ok: true, detail: `applied up to ${wait.targetLsn} in ${Math.round(wait.elapsedMs)} ms` };
      const status = await syncStatus({ sourceUrl: p, targetUrl: s, name: edge.subscription }).catch(() => null);
      const errors = status?.errors ? `; ${status.errors.apply} apply error(s) so far` : "";
      return {
        ok: false,
        detail: `${wait.reason ?? "not caught up"}${status && status.problems.length > 0 ? `; ${status.problems.join("; ")}` : ""}${errors}`,
      };
    });
    out.push({ subscription: edge.subscription, publisher: edge.publisher, subscriber: edge.subscriber, ...check });
  }
  return out;
}

export interface RowCheck {
  table: string;
  from: Color;
  to: Color;
  /** Rows on the writer, counted before the subscriber was asked to catch up. */
  sourceRows: number;
  /** Rows on the subscriber once it had applied past that count. */
  targetRows: number;
  ok: boolean;
  detail: string;
}

const countRows = async (c: pg.ClientBase, table: string) => Number((await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)).rows[0]?.n ?? 0);

/**
 * A created table copied from its writer: count its rows there, wait until the subscriber has
 * applied everything committed up to that count (WAL position read after it), count there. The
 * subscriber then holds at least as many rows, unless rows were lost (or deleted meanwhile: a
 * shortfall is measured again, up to `attempts` times, before it counts).
 */
export async function checkCopiedRows(
  targets: PairedTargets,
  copy: NonNullable<ReplicationStatement["copy"]>,
  timeoutMs: number,
  attempts = 3,
): Promise<RowCheck[]> {
  return withBoth(targets, copy.from, async (p, s) => {
    const out: RowCheck[] = [];
    for (const table of copy.tables) {
      let last: RowCheck = { table, from: copy.from, to: copy.to, sourceRows: 0, targetRows: 0, ok: false, detail: "not measured" };
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const sourceRows = await countRows(p, table);
        const wait = await waitForCatchUp({ sourceUrl: p, targetUrl: s, name: copy.subscription, timeoutMs, pollMs: 50 });
        const targetRows = await countRows(s, table);
        const ok = wait.caughtUp && targetRows >= sourceRows;
        last = {
          table,
          from: copy.from,
          to: copy.to,
          sourceRows,
          targetRows,
          ok,
          detail: !wait.caughtUp
            ? `${copy.subscription} did not catch up: ${wait.reason ?? "?"}`
            : `${sourceRows} row(s) on ${copy.from}, ${targetRows} on ${copy.to} after it applied past them${ok ? "" : `: ${sourceRows - targetRows} missing`}`,
        };
        if (ok || !wait.caughtUp) break;
      }
      out.push(last);
    }
    return out;
  });
}

export const edgeLine = (c: EdgeCheck) =>
  `${describeEdge({ subscription: c.subscription, publisher: c.publisher, subscriber: c.subscriber, publications: [], enabled: true })}: ${c.ok ? "applying" : "NOT applying"}: ${c.detail}`;
