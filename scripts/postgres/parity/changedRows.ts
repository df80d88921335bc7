// Changed rows, fetched whole by key on both sides to name the changed columns and show both
// values. A query's target list holds at most 1,664 entries, and each column costs two (its text
// and its hash): the columns are fetched in batches, so tables of any width PostgreSQL allows work.

import type pg from "pg";
import type { ColumnPlan, TablePlan } from "./plan.js";
import type { SnapshotPool } from "./snapshotPool.js";
import type { ChangedRow, ColumnChange, RowKey } from "./types.js";

/** Characters of each value shown in the report. */
export const VALUE_CHARS = 200;
/** Columns per fetch: key columns + 2 entries per column stay well under 1,664. */
export const COLUMN_BATCH = 500;

interface SideRow {
  text: Array<string | null>;
  hash: string[];
}

async function fetchBatch(pool: SnapshotPool, plan: TablePlan, keys: string[][], columns: ColumnPlan[]): Promise<Map<string, SideRow>> {
  const key = plan.key!;
  const params = key.map((_, i) => keys.map((k) => k[i]!));
  const sql = `SELECT ${key.map((k, i) => `t.${k.quoted}::text AS k${i}`).join(", ")}, ${columns
    .map((c) => `left(t.${c.quoted}::text, ${VALUE_CHARS + 1})`)
    .join(", ")}, ${columns.map((c) => `(${c.hash})::text`).join(", ")}
FROM ${plan.qualified} t JOIN (SELECT ${key.map((k, i) => `u.c${i}::${k.info.type} AS c${i}`).join(", ")}
  FROM unnest(${key.map((_, i) => `$${i + 1}::text[]`).join(", ")}) AS u(${key.map((_, i) => `c${i}`).join(", ")})) v
  ON ${key.map((k, i) => `t.${k.quoted} = v.c${i}`).join(" AND ")}`;
  const res = await pool.run((client: pg.Client) => client.query({ text: sql, values: params, rowMode: "array" }));
  const out = new Map<string, SideRow>();
  const nk = key.length;
  const nc = columns.length;
  for (const row of res.rows as Array<Array<string | null>>) {
    out.set(JSON.stringify(row.slice(0, nk)), { text: row.slice(nk, nk + nc), hash: row.slice(nk + nc, nk + 2 * nc) as string[] });
  }
  return out;
}

/** Whole rows (text, per-column hashes) for a list of keys, the columns fetched in batches. */
async function fetchRows(pool: SnapshotPool, plan: TablePlan, keys: string[][]): Promise<Map<string, SideRow>> {
  const out = new Map<string, SideRow>();
  for (let i = 0; i < plan.columns.length || i === 0; i += COLUMN_BATCH) {
    const batch = await fetchBatch(pool, plan, keys, plan.columns.slice(i, i + COLUMN_BATCH));
    for (const [k, row] of batch) {
      const prev = out.get(k);
      if (prev) {
        prev.text.push(...row.text);
        prev.hash.push(...row.hash);
      } else out.set(k, row);
    }
  }
  return out;
}

function cut(value: string | null): string | null {
  if (value === null || value.length <= VALUE_CHARS) return value;
  return `${value.slice(0, VALUE_CHARS)}…`;
}

/** Format characters (zero-width space, joiners, BOM), controls, and spaces other than U+0020. */
const UNSEEN = /[\p{Cf}\p{Cc}\p{Z}]/gu;

/** What a reader sees: canonical composition, unseen characters dropped, other spaces as one. */
function seen(text: string): string {
  return text.normalize("NFC").replace(UNSEEN, (ch) => (/\p{Z}/u.test(ch) ? " " : ""));
}

/** Non-ASCII and non-printable characters as \u escapes: every difference becomes visible. */
export function escapeText(text: string): string {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x20 && cp < 0x7f && ch !== "\\") out += ch;
    else if (ch === "\\") out += "\\\\";
    else out += cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, "0")}`;
  }
  return out;
}

/** Offset of the first differing byte of the two strings' UTF-8 forms, or null when equal. */
export function firstDifferentByte(a: string, b: string): number | null {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return i;
  return x.length === y.length ? null : n;
}

/** Both values of a changed column, with their escaped forms when they would print the same. */
export function columnChange(column: string, blue: string | null, green: string | null): ColumnChange {
  const change: ColumnChange = { column, blue: cut(blue), green: cut(green) };
  if (blue === null || green === null) return change;
  if (blue === green || seen(blue) === seen(green)) {
    change.invisible = {
      firstDifferentByte: firstDifferentByte(blue.slice(0, VALUE_CHARS), green.slice(0, VALUE_CHARS)),
      blueEscaped: escapeText(blue.slice(0, VALUE_CHARS)),
      greenEscaped: escapeText(green.slice(0, VALUE_CHARS)),
    };
  }
  return change;
}

/** The changed rows of a table, named by key, each with its changed columns. */
export async function changedRows(
  blue: SnapshotPool,
  green: SnapshotPool,
  plan: TablePlan,
  keys: string[][],
  toKey: (values: string[]) => RowKey,
): Promise<ChangedRow[]> {
  if (keys.length === 0) return [];
  const [b, g] = await Promise.all([fetchRows(blue, plan, keys), fetchRows(green, plan, keys)]);
  return keys.map((k): ChangedRow => {
    const id = JSON.stringify(k);
    const br = b.get(id);
    const gr = g.get(id);
    const columns = plan.columns.flatMap((c, i) =>
      br && gr && br.hash[i] !== gr.hash[i] ? [columnChange(c.info.name, br.text[i] ?? null, gr.text[i] ?? null)] : [],
    );
    return { key: toKey(k), columns };
  });
}
