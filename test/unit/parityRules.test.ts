// Parity's pure parts behind the equality rules, wide rows, names and privileges: no database.

import { describe, expect, it } from "vitest";
import { classifyType } from "../../scripts/postgres/parity/catalog.js";
import { columnChange, escapeText, firstDifferentByte } from "../../scripts/postgres/parity/changedRows.js";
import { displayName, nameKey } from "../../scripts/postgres/parity/names.js";
import { columnParts, hashOf } from "../../scripts/postgres/parity/sql.js";
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
