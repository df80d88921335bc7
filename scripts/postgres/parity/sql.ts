// SQL text builders: identifier quoting and the hash expressions both servers evaluate.

import type { ColumnInfo } from "./catalog.js";

/** "name" with embedded quotes doubled: safe for any identifier (spaces, capitals, quotes, unicode). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteTable(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

export type HashMode = "server" | "canonical";

const FIXED_SCALE = /^numeric\(\d+,\d+\)$/;

/**
 * The SQL expressions that stand for one column in a row hash. Collatable values are hashed
 * under COLLATE "C" (bytes, independent of each server's collation library); numeric carries
 * its scale; types whose hash is missing or server-specific (json, enums) go in as text.
 */
export function columnParts(column: ColumnInfo, alias = ""): string[] {
  const ref = `${alias}${quoteIdent(column.name)}`;
  switch (column.typeInfo.hashClass) {
    case "numeric":
      // numeric(p,s) stores every value at scale s: the scale cannot differ, skip its cost.
      return FIXED_SCALE.test(column.type) ? [ref] : [ref, `scale(${ref})`];
    case "text":
      return [`(${ref}::text COLLATE "C")`];
    case "plain": {
      const value = column.typeInfo.collatable ? `(${ref} COLLATE "C")` : ref;
      // The array hash sees elements only: its dimensions and lower bounds go in beside it.
      return column.typeInfo.isArray ? [value, `array_dims(${ref})`] : [value];
    }
  }
}

/**
 * Entries per ROW() in a row hash. PostgreSQL allows 1,664 (a row of 1,600 columns, each numeric
 * with its scale, holds up to 3,200 parts): wider rows are hashed in sub-records of this many,
 * and the sub-records' hashes are hashed together.
 */
export const ROW_CHUNK = 1000;

function hashRow(parts: string[], mode: HashMode): string {
  if (mode === "server") return `hash_record_extended(ROW(${parts.join(", ")}), 0)`;
  // Portable: md5 of the row's text form (unambiguous: NULL is empty, '' is "", values quoted as needed).
  return `('x' || left(md5(ROW(${parts.join(", ")})::text), 16))::bit(64)::int8`;
}

/** 64-bit hash of a list of expressions, as an int8 SQL expression; any number of them. */
export function hashOf(parts: string[], mode: HashMode, chunk = ROW_CHUNK): string {
  if (parts.length === 0) return "0::int8";
  if (parts.length <= chunk) return hashRow(parts, mode);
  const subs: string[] = [];
  for (let i = 0; i < parts.length; i += chunk) subs.push(hashRow(parts.slice(i, i + chunk), mode));
  return hashOf(subs, mode, chunk);
}

/** Hash of the key columns, used to spread rows into segments of equal expected size. */
export function keyHashOf(key: ColumnInfo[], mode: HashMode): string {
  const [only] = key;
  if (mode === "server" && key.length === 1 && only) {
    const info = only.typeInfo;
    const parts = columnParts(only);
    if (info.hashClass === "text") return `hashtextextended(${parts[0]}, 0)`;
    if (info.hashClass === "numeric") return `hash_numeric_extended(${quoteIdent(only.name)}, 0)`;
    if (info.hashFunction && /^[a-z_0-9]+$/.test(info.hashFunction)) return `${info.hashFunction}(${parts[0]}, 0)`;
  }
  // Numeric scale does not matter for which segment a key falls in.
  return hashOf(
    key.map((c) => (c.typeInfo.hashClass === "numeric" ? quoteIdent(c.name) : columnParts(c)[0]!)),
    mode,
  );
}

/**
 * Known values of many types, hashed on both servers: when the results differ (another major
 * version, another platform), server-side hashes cannot be compared and the canonical form is used.
 */
export const HASH_PROBE_SQL = `SELECT hash_record_extended(ROW(
  1::int2, 2::int4, 3::int8, 1.5::numeric, 'abc'::text, ''::text, NULL::text, 'x'::varchar, 'y'::bpchar,
  '\\x00ff'::bytea, true, 1.25::float4, 2.5::float8, '2024-01-02'::date, '12:34:56'::time,
  '2024-01-02 03:04:05'::timestamp, '2024-01-02 03:04:05+00'::timestamptz, '1 day'::interval,
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '{"a": [1, "b"]}'::jsonb, ARRAY[1, 2]::int4[],
  ARRAY['a', 'b']::text[], '10.0.0.1'::inet, '[1,5)'::int4range, '08:00:2b:01:02:03'::macaddr, 'a'::char), 0)::text AS h,
  hashint8extended(42, 0)::text AS i8, hashtextextended('k' COLLATE "C", 0)::text AS t, hash_numeric_extended(1.50, 0)::text AS n,
  uuid_hash_extended('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 0)::text AS u`;
