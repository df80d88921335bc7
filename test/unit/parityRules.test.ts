// Parity's pure parts behind the equality rules, wide rows, names and privileges: no database.

import { describe, expect, it } from "vitest";
import { classifyType } from "../../scripts/postgres/parity/catalog.js";
import { columnChange, escapeText, firstDifferentByte } from "../../scripts/postgres/parity/changedRows.js";
import { displayName, nameKey } from "../../scripts/postgres/parity/names.js";
import { columnParts, hashOf, mix64, nullMark, RECORD_SEED } from "../../scripts/postgres/parity/sql.js";
import { diffPrivileges } from "../../scripts/postgres/parity/tableAttributesDiff.js";
import type { TypeRow } from "../../scripts/postgres/parity/typeRules.js";

const typeRow = (over: Partial<TypeRow>): TypeRow => ({
  typid: "1",
  name: "int8",
  typtype: "b",
  category: "N",
  collatable: false,
  fn: "hashint8extended",
  elem_name: null,
  elem_typtype: null,
  elem_hashable: null,
  ...over,
});

describe("each type family's rule", () => {
  it("interval and citext go in as text; arrays of them too; other arrays carry their dimensions", () => {
    expect(classifyType(typeRow({ name: "interval", fn: "interval_hash_extended" }))).toMatchObject({ hashClass: "text", rule: "interval-fields" });
    expect(classifyType(typeRow({ name: "citext", fn: "citext_hash_extended", collatable: true }))).toMatchObject({ hashClass: "text", rule: "citext-bytes" });
    const arr = (elem: string) =>
      classifyType(typeRow({ name: `_${elem}`, category: "A", fn: "hash_array_extended", elem_name: elem, elem_typtype: "b", elem_hashable: true }));
    expect(arr("interval")).toMatchObject({ hashClass: "text", rule: "array-shape" });
    expect(arr("citext")).toMatchObject({ hashClass: "text", rule: "array-shape" });
    const ints = arr("int4");
    expect(ints).toMatchObject({ hashClass: "plain", isArray: true, rule: "array-shape" });
    expect(columnParts({ name: "a", num: 1, type: "integer[]", notNull: false, typeInfo: ints })).toEqual(['"a"', 'array_dims("a")']);
  });

  it("float and timestamptz name their rule; plain integers need none", () => {
    expect(classifyType(typeRow({ name: "float8", fn: "hashfloat8extended" })).rule).toBe("float");
    expect(classifyType(typeRow({ name: "timestamptz", fn: "timestamp_hash_extended" })).rule).toBe("timestamptz-instant");
    expect(classifyType(typeRow({})).rule).toBeUndefined();
  });
});

/** Column i's direct term is seeded 2(i + 1); float's hash of 0 is that seed; NULL is the column's mark. */
const zeroToNull = (i: number, mark: (seed: bigint) => bigint) => {
  const seed = BigInt(2 * (i + 1));
  return BigInt.asUintN(64, seed ^ mark(seed));
};

/** Two, three or four of the first `n` columns whose 0 → NULL changes XOR to nothing, or null. */
function cancellingColumns(n: number, mark: (seed: bigint) => bigint): number[] | null {
  // Each change as two 32-bit halves (numbers: fast); an XOR keyed by its top 53 bits, sorted to
  // find equal pairs; a match on the key is checked on all 64 bits.
  const d = Array.from({ length: n }, (_, i) => zeroToNull(i, mark));
  const high = Uint32Array.from(d, (x) => Number(x >> 32n));
  const low = Uint32Array.from(d, (x) => Number(x & 0xffffffffn));
  const xor = (a: number, b: number) => [(high[a]! ^ high[b]!) >>> 0, (low[a]! ^ low[b]!) >>> 0] as const;
  const key = ([h, l]: readonly [number, number]) => h * 2 ** 21 + (l >>> 11);
  const singles = new Map(Array.from({ length: n }, (_, i) => [key([high[i]!, low[i]!]), i]));
  if (singles.size < n) return [-1];
  const keys = new Float64Array((n * (n - 1)) / 2);
  let at = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const x = xor(i, j);
      const k = singles.get(key(x));
      if (k !== undefined && k > j && high[k] === x[0] && low[k] === x[1]) return [i, j, k];
      keys[at++] = key(x);
    }
  }
  keys.sort();
  const repeated = new Set<number>();
  for (let i = 1; i < keys.length; i++) if (keys[i] === keys[i - 1]) repeated.add(keys[i]!);
  const byKey = new Map<number, Array<[number, number]>>();
  for (let i = 0; i < n && repeated.size > 0; i++) {
    for (let j = i + 1; j < n; j++) {
      const x = xor(i, j);
      if (!repeated.has(key(x))) continue;
      for (const [a, b] of byKey.get(key(x)) ?? []) if (xor(a, b)[0] === x[0] && xor(a, b)[1] === x[1]) return [a, b, i, j];
      byKey.set(key(x), [...(byKey.get(key(x)) ?? []), [i, j]]);
    }
  }
  return null;
}

describe("float 0 against NULL: no structured collision", () => {
  it("the record hash is seeded odd and non-zero: a float 0 (which hashes to the seed) is not a NULL (which counts 0)", () => {
    expect(BigInt(RECORD_SEED) % 2n).toBe(1n);
    expect(hashOf(['"a"'], "server", 1000, RECORD_SEED)).toBe(`hash_record_extended(ROW("a"), ${RECORD_SEED})`);
  });

  it("NULL marks are mixed, so no four of 1,600 float columns flipped from 0 to NULL cancel in the XOR; a linear mark did", () => {
    const mixed = (seed: bigint) => BigInt.asUintN(64, BigInt(nullMark(seed).slice(1, -7)));
    expect(mixed(2n)).toBe(mix64(2n));
    expect(cancellingColumns(1600, mixed)).toBeNull();
    const linear = (seed: bigint) => BigInt.asUintN(64, seed * 0x9e3779b97f4a7c15n);
    expect(cancellingColumns(1600, linear)).toHaveLength(4);
  });
});

describe("rows wider than one ROW()", () => {
  it("hashes more than 1,000 parts as sub-records, each within PostgreSQL's 1,664-entry limit", () => {
    const parts = Array.from({ length: 2500 }, (_, i) => `"c${i}"`);
    const sql = hashOf(parts, "server");
    const rows = [...sql.matchAll(/ROW\(([^()]*)\)/g)].map((m) => m[1]!.split(", ").length);
    expect(rows).toEqual([1000, 1000, 500]);
    expect(sql.startsWith("hash_record_extended(ROW(hash_record_extended(ROW(")).toBe(true);
    expect(hashOf(parts.slice(0, 1000), "server")).toBe(`hash_record_extended(ROW(${parts.slice(0, 1000).join(", ")}), 0)`);
    expect(hashOf(parts, "canonical").match(/md5\(ROW\(/g)).toHaveLength(4);
  });
});

describe("names keyed by (schema, name)", () => {
  it('a."b.c" and "a.b".c get different keys and read differently', () => {
    expect(nameKey("a", "b.c")).not.toBe(nameKey("a.b", "c"));
    expect(displayName("a", "b.c")).toBe('a."b.c"');
    expect(displayName("a.b", "c")).toBe('"a.b".c');
    expect(displayName("Odd Schema", 'Weird "Table" ñ')).toBe('Odd Schema.Weird "Table" ñ');
  });
});

describe("differences a reader cannot see", () => {
  it("first differing byte of the UTF-8 text and escaped forms, only when the values print the same", () => {
    expect(firstDifferentByte("café", "cafe\u0301")).toBe(3);
    expect(firstDifferentByte("ab", "ab")).toBeNull();
    expect(firstDifferentByte("ab", "abc")).toBe(2);
    expect(escapeText("a\u200bb\\ \u{1f600}")).toBe("a\\u200bb\\\\ \\u{1f600}");
    expect(columnChange("v", "ab", "a\u200bb").invisible).toEqual({ firstDifferentByte: 1, blueEscaped: "ab", greenEscaped: "a\\u200bb" });
    expect(columnChange("v", "a b", "a\u00a0b").invisible?.firstDifferentByte).toBe(1);
    expect(columnChange("v", "abc", "abd").invisible).toBeUndefined();
    expect(columnChange("v", null, "").invisible).toBeUndefined();
  });
});

describe("privileges", () => {
  it("compares only roles both sides have, one warning per role naming what each side has alone", () => {
    const both = (r: string) => r !== "only_blue";
    const d = diffPrivileges(
      "public.t",
      "table",
      ["app SELECT", "app INSERT", "only_blue SELECT", "PUBLIC SELECT"],
      ["app SELECT", "app UPDATE WITH GRANT OPTION", "PUBLIC SELECT"],
      both,
    );
    expect(d).toEqual([
      {
        kind: "privileges",
        object: "public.t",
        role: "app",
        blue: "INSERT, SELECT",
        green: "SELECT, UPDATE WITH GRANT OPTION",
        message: "table public.t: role app has INSERT on blue only; UPDATE WITH GRANT OPTION on green only",
      },
    ]);
    expect(diffPrivileges("public.t", "table", ["app SELECT"], ["app SELECT"], both)).toEqual([]);
  });
});
