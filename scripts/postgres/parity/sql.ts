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

/**
 * The seed of the row hash's record hash. hash_record_extended counts a NULL field as 0 and hands
 * its seed to every field's hash function (and an array's hash to every element's), and some of
 * those return the seed itself for a special value: float4/float8 for 0 and -0, numeric for NaN
 * and ±Infinity. With seed 0 such a value reads like NULL: a domain over float8 holding 0 against
 * NULL, or the float array '{0}' against '{NULL}' hashed the same. Any non-zero seed tells them
 * apart and keeps -0 = 0 (both hash to the seed); an odd one also keeps a sum of such differences
 * (31^k times the seed, the record and array hashes' combining) from wrapping to 0 modulo 2^64.
 */
export const RECORD_SEED = "2685821657736338717"; // 0x2545f4914f6cdd1d

function hashRow(parts: string[], mode: HashMode, seed: string): string {
  if (mode === "server") return `hash_record_extended(ROW(${parts.join(", ")}), ${seed})`;
  // Portable: md5 of the row's text form (unambiguous: NULL is empty, '' is "", values quoted as needed).
  return `('x' || left(md5(ROW(${parts.join(", ")})::text), 16))::bit(64)::int8`;
}

/**
 * 64-bit hash of a list of expressions, as an int8 SQL expression; any number of them. `seed` is
 * the record hash's: 0 where only the spread matters (the key hash), RECORD_SEED for identity.
 */
export function hashOf(parts: string[], mode: HashMode, chunk = ROW_CHUNK, seed = "0"): string {
  if (parts.length === 0) return "0::int8";
  if (parts.length <= chunk) return hashRow(parts, mode, seed);
  const subs: string[] = [];
  for (let i = 0; i < parts.length; i += chunk) subs.push(hashRow(parts.slice(i, i + chunk), mode, seed));
  return hashOf(subs, mode, chunk, seed);
}

/** Hash of the key columns, used to spread rows into segments of equal expected size. */
export function keyHashOf(key: ColumnInfo[], mode: HashMode): string {
  const [only] = key;
  if (mode === "server" && key.length === 1 && only) {
    const [value] = directTerms(only, 0n) ?? [];
    if (value !== undefined) return value;
  }
  // Numeric scale does not matter for which segment a key falls in.
  return hashOf(
    key.map((c) => (c.typeInfo.hashClass === "numeric" ? quoteIdent(c.name) : columnParts(c)[0]!)),
    mode,
  );
}

/**
 * Extended hash functions that take a column of these types (format_type's names) as it is, the
 * same functions hash_record_extended calls for them. Other types (domains, arrays, ranges, bool,
 * date, timestamptz, bytea, extension types) have no function that takes them by name, and go
 * through hash_record_extended (timestamptz's is timestamp's, reachable only through a cast that
 * converts every value through the time zone rules: slower than the record hash).
 */
const DIRECT_HASH: Array<[RegExp, string]> = [
  [/^smallint$/, "hashint2extended"],
  [/^integer$/, "hashint4extended"],
  [/^bigint$/, "hashint8extended"],
  [/^(text|character varying(\(\d+\))?)$/, "hashtextextended"],
  [/^character(\(\d+\))?$/, "hashbpcharextended"],
  [/^uuid$/, "uuid_hash_extended"],
  [/^timestamp(\(\d\))? without time zone$/, "timestamp_hash_extended"],
  [/^real$/, "hashfloat4extended"],
  [/^double precision$/, "hashfloat8extended"],
];

/**
 * The hash terms of one column through its type's own extended hash function, seeded by `seed`
 * (and seed + 1 for numeric's scale); null when the column goes through hash_record_extended.
 * The same parts as columnParts, so the same identity: collatable values under COLLATE "C",
 * numeric with its scale, the text-hashed families as their text.
 */
function directTerms(column: ColumnInfo, seed: bigint, alias = ""): string[] | null {
  const ref = `${alias}${quoteIdent(column.name)}`;
  const info = column.typeInfo;
  const call = (fn: string, value: string, k = 0n) => `${fn}(${value}, ${seed + k})`;
  if (info.hashClass === "text") return [call("hashtextextended", columnParts(column, alias)[0]!)];
  if (info.hashClass === "numeric") {
    const value = call("hash_numeric_extended", ref);
    // numeric's hash gives NaN, Infinity and -Infinity the same value, and scale() none: the scale
    // term tells them apart (computed only for them, behind coalesce).
    const special = `CASE WHEN ${ref} = 'NaN' THEN -1 WHEN ${ref} > 0 THEN -2 WHEN ${ref} < 0 THEN -3 END`;
    return FIXED_SCALE.test(column.type) ? [value] : [value, call("hashint4extended", `coalesce(scale(${ref}), ${special})`, 1n)];
  }
  if (info.isArray) return null;
  const fn = DIRECT_HASH.find(([type]) => type.test(column.type))?.[1];
  if (fn === undefined) return null;
  return [call(fn, info.collatable ? `(${ref} COLLATE "C")` : ref)];
}

const MASK_64 = (1n << 64n) - 1n;

/** SplitMix64's finaliser: a bijection on 64 bits whose outputs look independent of their inputs. */
export function mix64(n: bigint): bigint {
  let z = (n + 0x9e3779b97f4a7c15n) & MASK_64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
  return z ^ (z >> 31n);
}

/**
 * The constant standing for NULL in term `n`, as an int8 literal. Float's hash of 0 is the term's
 * seed, so a column going from 0 to NULL changes the row's XOR by seed ^ mark: with the mark a
 * mixed function of the seed, those changes behave as independent random values, and no few
 * columns flipped together cancel out. (A linear mark, n times a constant, let four of 1,600
 * float columns flipped from 0 to NULL at once leave the XOR unchanged.)
 */
export function nullMark(n: bigint): string {
  return `'${BigInt.asIntN(64, mix64(n))}'::int8`;
}

/** XOR of the terms as a balanced tree: depth log2(n), so 1,600 columns stay within the parser's stack. */
function xorAll(terms: string[]): string {
  if (terms.length === 1) return terms[0]!;
  const half = Math.ceil(terms.length / 2);
  return `(${xorAll(terms.slice(0, half))} # ${xorAll(terms.slice(half))})`;
}

/**
 * 64-bit hash of a row, as an int8 SQL expression. Server mode: the columns whose type has a hash
 * function that takes them by name are hashed by it directly, each seeded by its position (so
 * swapped values differ) with a NULL of its own, and XORed with hash_record_extended of the other
 * columns. Cheaper per row than building a ROW of every column and hashing it again field by
 * field; the identity is the same, because the per-type functions are the ones the record hash
 * calls, and it tells more apart: the record hash counts a NULL as 0, which is also its hash of a
 * float's 0 and of numeric's NaN. Canonical mode: hashOf every part. `alias` prefixes the column
 * names (one column's hash, on the table aliased as t, names a changed column).
 */
export function rowHashOf(columns: ColumnInfo[], mode: HashMode, alias = ""): string {
  if (mode !== "server")
    return hashOf(
      columns.flatMap((c) => columnParts(c, alias)),
      mode,
    );
  const terms: string[] = [];
  const rest: string[] = [];
  columns.forEach((column, i) => {
    const seed = BigInt(2 * (i + 1));
    const direct = directTerms(column, seed, alias);
    if (direct === null) rest.push(...columnParts(column, alias));
    else direct.forEach((term, k) => terms.push(`coalesce(${term}, ${nullMark(seed + BigInt(k))})`));
  });
  if (rest.length > 0) terms.push(hashOf(rest, mode, ROW_CHUNK, RECORD_SEED));
  return terms.length === 0 ? "0::int8" : xorAll(terms);
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
  uuid_hash_extended('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 0)::text AS u,
  ARRAY[hashint2extended(1::int2, 3), hashint4extended(2, 5), hashint8extended(3, 7), hashtextextended('abc' COLLATE "C", 9),
    hashbpcharextended('y'::bpchar, 11), uuid_hash_extended('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 13),
    timestamp_hash_extended('2024-01-02 03:04:05'::timestamp, 15), hashfloat4extended(1.25, 17), hashfloat8extended(2.5, 19),
    hash_numeric_extended(1.50, 21)]::text AS seeded,
  hash_record_extended(ROW(ARRAY[0, NULL, 2.5]::float8[], 0::float4, 'NaN'::numeric), ${RECORD_SEED})::text AS record_seeded`;
