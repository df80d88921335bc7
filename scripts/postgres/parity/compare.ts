// One table, both sides: a single scan per side returns count and hash sum per segment
// (segments = rows whose key hash shares its low bits, so they are equal in expected size
// whatever the key's type or gaps); differing segments are split further or, once small,
// their (key, row hash) pairs are fetched and diffed by key; changed rows are fetched whole.

import type pg from "pg";
import type { SnapshotPool } from "./snapshotPool.js";
import type { TablePlan } from "./plan.js";
import type { RowKey, TableResult } from "./types.js";
import { changedRows } from "./changedRows.js";

/** Rows per segment the first pass aims at. */
export const TARGET_SEGMENT_ROWS = 2048;
/** Segments at most this large are fetched as (key, hash) pairs; larger ones are split. */
export const FETCH_MAX_ROWS = 32_768;
/** Rows of (key, hash) pairs fetched by one query per side. Bounds memory. */
export const FETCH_BATCH_ROWS = 65_536;
/** Tables at least this many pages are scanned by several workers in page ranges. */
export const SPLIT_MIN_PAGES = 1024;
const MAX_BITS = 56;
const FIRST_PASS_MAX_BITS = 10;

interface Agg {
  n: number;
  h: bigint;
}

interface Segment {
  bits: number;
  value: bigint;
  blue: number;
  green: number;
}

/** Sizes the algorithm works with; the defaults suit tables of any size. Tests shrink them to reach every path. */
export interface Tuning {
  targetSegmentRows: number;
  fetchMaxRows: number;
  fetchBatchRows: number;
  splitMinPages: number;
}

export const DEFAULT_TUNING: Tuning = {
  targetSegmentRows: TARGET_SEGMENT_ROWS,
  fetchMaxRows: FETCH_MAX_ROWS,
  fetchBatchRows: FETCH_BATCH_ROWS,
  splitMinPages: SPLIT_MIN_PAGES,
};

export interface CompareContext {
  blue: SnapshotPool;
  green: SnapshotPool;
  limit: number;
  tuning: Tuning;
  onRows(rows: number): void;
}

function maskOf(bits: number): string {
  return ((1n << BigInt(bits)) - 1n).toString();
}

/**
 * Bits of the key hash that number the first pass's segments. At most 10 (1,024 segments):
 * more groups make PostgreSQL's hash aggregate measurably slower per row, and a large differing
 * segment costs only one extra pass over its own rows.
 */
export function bitsFor(rows: number, target = TARGET_SEGMENT_ROWS): number {
  if (rows <= target) return 0;
  return Math.min(FIRST_PASS_MAX_BITS, Math.ceil(Math.log2(rows / target)));
}

/**
 * Count and hash sum per segment of the rows matching `where`. The segment and row hash are
 * computed in a subquery behind OFFSET 0, so the planner has no statistics for the segment
 * expression and assumes a few hundred groups. Grouped directly, it takes the key column's
 * statistics and expects one group per row: from about 10M rows it then sorts the whole table
 * on disk (Sort + GroupAggregate, external merge, about 3× the hash pass) instead of a hash
 * aggregate, which holds the at most 1,024 groups of a first pass in memory.
 */
function groupedSql(plan: TablePlan, seg: string, where: string): string {
  return `SELECT s::text AS s, count(*)::int8::text AS n, coalesce(sum(h), 0)::text AS h FROM (SELECT ${seg} AS s, ${plan.rowHash} AS h FROM ${plan.qualified}${where ? ` WHERE ${where}` : ""} OFFSET 0) AS x GROUP BY s`;
}

/** Page ranges a side's first pass is split into (TID range scans, PostgreSQL 14+). */
function chunks(pool: SnapshotPool, plan: TablePlan, pages: number, splitMinPages: number): string[] {
  const n = Math.min(pool.size, Math.floor(pages / Math.max(1, splitMinPages / 2)));
  if (n < 2 || pages < splitMinPages || plan.blue.kind !== "r" || pool.serverVersionNum < 140000) return [""];
  const out: string[] = [];
  const step = Math.ceil(pages / n);
  for (let i = 0; i < n; i++) {
    const from = i * step;
    const lower = i === 0 ? null : `ctid >= '(${from},0)'::tid`;
    const upper = i === n - 1 ? null : `ctid < '(${from + step},0)'::tid`;
    out.push([lower, upper].filter((x) => x !== null).join(" AND "));
  }
  return out;
}

async function firstPass(pool: SnapshotPool, plan: TablePlan, pages: number, bits: number, ctx: CompareContext, count = true): Promise<Map<bigint, Agg>> {
  const seg = plan.keyHash && bits > 0 ? `(${plan.keyHash} & ${maskOf(bits)})` : "0";
  const result = new Map<bigint, Agg>();
  await Promise.all(
    chunks(pool, plan, pages, ctx.tuning.splitMinPages).map((where) =>
      pool.run(async (client) => {
        const sql =
          seg === "0"
            ? `SELECT 0::text AS s, count(*)::int8::text AS n, coalesce(sum(${plan.rowHash}), 0)::text AS h FROM ${plan.qualified}${where ? ` WHERE ${where}` : ""}`
            : groupedSql(plan, seg, where);
        const res = await client.query<{ s: string; n: string; h: string }>(sql);
        let rows = 0;
        for (const r of res.rows) {
          const s = BigInt(r.s);
          const n = Number(r.n);
          if (n === 0) continue;
          rows += n;
          const prev = result.get(s);
          if (prev) {
            prev.n += n;
            prev.h += BigInt(r.h);
          } else result.set(s, { n, h: BigInt(r.h) });
        }
        if (count) ctx.onRows(rows);
      }),
    ),
  );
  return result;
}

function differing(bits: number, blue: Map<bigint, Agg>, green: Map<bigint, Agg>): Segment[] {
  const out: Segment[] = [];
  for (const [value, b] of blue) {
    const g = green.get(value);
    if (!g || g.n !== b.n || g.h !== b.h) out.push({ bits, value, blue: b.n, green: g?.n ?? 0 });
  }
  for (const [value, g] of green) if (!blue.has(value)) out.push({ bits, value, blue: 0, green: g.n });
  return out;
}

/** WHERE clause selecting the rows of a set of segments; parameters are int8[] arrays of segment values. */
function segmentFilter(plan: TablePlan, segments: Segment[], params: unknown[]): string {
  const byBits = new Map<number, string[]>();
  for (const s of segments) {
    const values = byBits.get(s.bits) ?? [];
    values.push(s.value.toString());
    byBits.set(s.bits, values);
  }
  const conds: string[] = [];
  for (const [bits, values] of byBits) {
    if (bits === 0) return "TRUE";
    params.push(values);
    conds.push(`(${plan.keyHash} & ${maskOf(bits)}) = ANY($${params.length}::int8[])`);
  }
  return conds.join(" OR ");
}

async function split(ctx: CompareContext, plan: TablePlan, segments: Segment[]): Promise<Segment[]> {
  const largest = Math.max(...segments.map((s) => Math.max(s.blue, s.green)));
  const parentBits = segments[0]!.bits;
  const bits = Math.min(MAX_BITS, parentBits + Math.max(1, Math.ceil(Math.log2(largest / ctx.tuning.targetSegmentRows))));
  const params: unknown[] = [];
  const where = segmentFilter(plan, segments, params);
  const seg = `(${plan.keyHash} & ${maskOf(bits)})`;
  const sql = (range: string) => groupedSql(plan, seg, `(${where})${range ? ` AND ${range}` : ""}`);
  const read = async (pool: SnapshotPool, pages: number) => {
    const out = new Map<bigint, Agg>();
    await Promise.all(
      chunks(pool, plan, pages, ctx.tuning.splitMinPages).map(async (range) => {
        const res = await pool.query<{ s: string; n: string; h: string }>(sql(range), params);
        for (const r of res.rows) {
          const key = BigInt(r.s);
          const prev = out.get(key);
          if (prev) {
            prev.n += Number(r.n);
            prev.h += BigInt(r.h);
          } else out.set(key, { n: Number(r.n), h: BigInt(r.h) });
        }
      }),
    );
    return out;
  };
  const [b, g] = await Promise.all([read(ctx.blue, plan.blue.pages), read(ctx.green, plan.green.pages)]);
  return differing(bits, b, g);
}

/**
 * JSON of the key's column texts → row hash and how many rows hold that key. More than one only
 * on a side without the primary key the rows are matched by; such keys are listed as duplicates,
 * never collapsed into one row.
 */
type Pairs = Map<string, { h: string; n: number }>;

async function fetchPairs(ctx: CompareContext, pool: SnapshotPool, plan: TablePlan, pages: number, segments: Segment[]): Promise<Pairs> {
  const key = plan.key!;
  const params: unknown[] = [];
  const where = segmentFilter(plan, segments, params);
  const out: Pairs = new Map();
  await Promise.all(
    chunks(pool, plan, pages, ctx.tuning.splitMinPages).map(async (range) => {
      const sql = `SELECT ${key.map((k, i) => `${k.quoted}::text AS k${i}`).join(", ")}, (${plan.rowHash})::text AS h FROM ${plan.qualified} WHERE (${where})${range ? ` AND ${range}` : ""}`;
      const res = await pool.run((client: pg.Client) => client.query({ text: sql, values: params, rowMode: "array" }));
      for (const row of res.rows as Array<Array<string>>) {
        const id = JSON.stringify(row.slice(0, key.length));
        const prev = out.get(id);
        if (prev) prev.n++;
        else out.set(id, { h: row[key.length]!, n: 1 });
      }
    }),
  );
  return out;
}

function toKey(plan: TablePlan, values: string[]): RowKey {
  const out: RowKey = {};
  plan.key!.forEach((k, i) => (out[k.info.name] = values[i]!));
  return out;
}

/** Compare numbers as numbers, everything else as strings: a stable, readable order for keys. */
export function compareKeyText(a: string[], b: string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? "";
    const y = b[i] ?? "";
    if (x === y) continue;
    if (/^-?\d+$/.test(x) && /^-?\d+$/.test(y)) return BigInt(x) < BigInt(y) ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function emptyResult(plan: TablePlan, blueRows: number, greenRows: number): TableResult {
  return {
    table: plan.name,
    schema: plan.blue.schema,
    name: plan.blue.name,
    status: "identical",
    key: plan.key ? plan.key.map((k) => k.info.name) : null,
    noPrimaryKey: plan.key === null,
    comparedColumns: plan.columns.map((c) => c.info.name),
    blueRows,
    greenRows,
    missingOnGreen: { count: 0, keys: [] },
    extraOnGreen: { count: 0, keys: [] },
    changed: { count: 0, rows: [] },
    truncated: false,
    notes: [...plan.notes],
    ...(plan.blue.kind === "m" ? { relationKind: "materialized view" as const } : {}),
    ...(plan.rules.length > 0 ? { equalityRules: plan.rules } : {}),
  };
}

type Dupes = { blue: Array<{ key: string[]; rows: number }>; green: Array<{ key: string[]; rows: number }> };

/** Listings: up to the limit over all kinds, in key order. Returns the changed keys to fetch. */
function listFound(
  plan: TablePlan,
  limit: number,
  result: TableResult,
  found: { missing: string[][]; extra: string[][]; changed: string[][]; dupes: Dupes },
): string[][] {
  let room = limit;
  const take = (keys: string[][]) => {
    const sorted = keys.sort(compareKeyText).slice(0, Math.max(0, room));
    room -= sorted.length;
    return sorted;
  };
  const changedKeys = take(found.changed);
  result.missingOnGreen.keys = take(found.missing).map((k) => toKey(plan, k));
  result.extraOnGreen.keys = take(found.extra).map((k) => toKey(plan, k));
  const { dupes } = found;
  if (dupes.blue.length + dupes.green.length > 0) {
    const list = (d: Array<{ key: string[]; rows: number }>) => {
      const keys = take(d.sort((x, y) => compareKeyText(x.key, y.key)).map((x) => x.key));
      const rows = new Map(d.map((x) => [JSON.stringify(x.key), x.rows]));
      return { count: d.length, keys: keys.map((k) => ({ key: toKey(plan, k), rows: rows.get(JSON.stringify(k)) ?? 0 })) };
    };
    result.duplicateKeys = { blue: list(dupes.blue), green: list(dupes.green) };
  }
  const total = result.missingOnGreen.count + result.extraOnGreen.count + result.changed.count + dupes.blue.length + dupes.green.length;
  if (total > limit) result.truncated = true;
  return changedKeys;
}

/**
 * One table: first a count and hash sum over the whole table per side (the bare scan's cost: no
 * grouping), which ends the work when they agree, as they do in the common case. Only when they
 * differ are the rows grouped into segments by key hash and the differing segments narrowed down.
 */
export async function compareTable(ctx: CompareContext, plan: TablePlan): Promise<TableResult> {
  const estimate = Math.max(plan.blue.estimatedRows, plan.green.estimatedRows);
  const bits = plan.keyHash ? bitsFor(estimate, ctx.tuning.targetSegmentRows) : 0;
  let [blue, green] = await Promise.all([firstPass(ctx.blue, plan, plan.blue.pages, 0, ctx), firstPass(ctx.green, plan, plan.green.pages, 0, ctx)]);
  const count = (m: Map<bigint, Agg>) => [...m.values()].reduce((acc, a) => acc + a.n, 0);
  const [blueRows, greenRows] = [count(blue), count(green)];
  if (bits > 0 && differing(0, blue, green).length > 0) {
    [blue, green] = await Promise.all([
      firstPass(ctx.blue, plan, plan.blue.pages, bits, ctx, false),
      firstPass(ctx.green, plan, plan.green.pages, bits, ctx, false),
    ]);
  }
  const result = emptyResult(plan, blueRows, greenRows);
  let pending = differing(bits, blue, green);
  if (pending.length === 0) return result;
  result.status = "different";
  if (!plan.key) return result;

  const missing: string[][] = [];
  const extra: string[][] = [];
  const changed: string[][] = [];
  const dupes: Dupes = { blue: [], green: [] };
  const found = () => result.missingOnGreen.count + result.extraOnGreen.count + result.changed.count + dupes.blue.length + dupes.green.length;

  while (pending.length > 0) {
    if (found() >= ctx.limit) {
      result.truncated = true;
      break;
    }
    // A segment at the deepest level is fetched whatever its size (it cannot be split further).
    const isBig = (s: Segment) => Math.max(s.blue, s.green) > ctx.tuning.fetchMaxRows && s.bits < MAX_BITS;
    const small = pending.filter((s) => !isBig(s));
    const big = pending.filter(isBig);
    pending = [];
    // Big segments: one more grouped pass over just their rows, per bit level.
    const levels = new Map<number, Segment[]>();
    for (const s of big) levels.set(s.bits, [...(levels.get(s.bits) ?? []), s]);
    for (const group of levels.values()) pending.push(...(await split(ctx, plan, group)));
    // Small segments: (key, hash) pairs in batches of bounded size.
    let batch: Segment[] = [];
    let batchRows = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const [b, g] = await Promise.all([fetchPairs(ctx, ctx.blue, plan, plan.blue.pages, batch), fetchPairs(ctx, ctx.green, plan, plan.green.pages, batch)]);
      for (const [side, pairs] of [
        ["blue", b],
        ["green", g],
      ] as const) {
        for (const [k, p] of pairs) if (p.n > 1) dupes[side].push({ key: JSON.parse(k) as string[], rows: p.n });
      }
      for (const [k, gp] of g) {
        const bp = b.get(k);
        if (bp === undefined) {
          result.extraOnGreen.count++;
          extra.push(JSON.parse(k) as string[]);
        } else {
          // A duplicated key is listed as such; which of its rows "changed" is not defined.
          if (bp.h !== gp.h && bp.n === 1 && gp.n === 1) {
            result.changed.count++;
            changed.push(JSON.parse(k) as string[]);
          }
          b.delete(k);
        }
      }
      for (const k of b.keys()) {
        result.missingOnGreen.count++;
        missing.push(JSON.parse(k) as string[]);
      }
      batch = [];
      batchRows = 0;
    };
    for (const s of small) {
      if (found() >= ctx.limit) {
        result.truncated = true;
        break;
      }
      batch.push(s);
      batchRows += Math.max(s.blue, s.green);
      if (batchRows >= ctx.tuning.fetchBatchRows) await flush();
    }
    if (!result.truncated) await flush();
    else batch = [];
    if (result.truncated) break;
  }

  const changedKeys = listFound(plan, ctx.limit, result, { missing, extra, changed, dupes });
  result.changed.rows = await changedRows(ctx.blue, ctx.green, plan, changedKeys, (k) => toKey(plan, k));
  return result;
}
