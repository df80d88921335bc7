// What "equal" means for each family of types, and how a column of that family enters the row
// hash. The principle: two values are the same when the application reads back the same thing,
// not when the type's hash operator class says so. Where the two differ (interval's '1 mon' =
// '30 days', arrays without their shape, citext's case folding) the value is hashed through a
// form that keeps its identity. docs/parity.md holds the table of rules; the report names the
// rules that applied to the columns it compared.

import type { TypeInfo } from "./catalog.js";

/** One row of the catalog's type query (catalog.ts TYPES_SQL). */
export interface TypeRow {
  typid: string;
  name: string;
  typtype: string;
  category: string;
  collatable: boolean;
  fn: string | null;
  elem_name: string | null;
  elem_typtype: string | null;
  elem_hashable: boolean | null;
  /** Range/multirange element type (through a domain), for ranges and for arrays of ranges. */
  range_sub?: string | null;
  elem_range_sub?: string | null;
}

export type EqualityRuleId =
  | "numeric-scale"
  | "float"
  | "interval-fields"
  | "array-shape"
  | "citext-bytes"
  | "collation-bytes"
  | "jsonb-normalised"
  | "json-text"
  | "timestamptz-instant"
  | "as-text";

/** The rules as the report prints them; docs/parity.md explains each with examples. */
export const EQUALITY_RULES: Record<EqualityRuleId, string> = {
  "numeric-scale": "numeric: value and scale (1.0 ≠ 1.00); numeric(p,s) by value",
  float: "float4/float8: the type's equality (-0 = 0, NaN = NaN)",
  "interval-fields": "interval: by (months, days, microseconds) ('1 mon' ≠ '30 days', '1 day' ≠ '24 hours')",
  "array-shape": "arrays: elements in order plus dimensions and lower bounds ('{{1,2},{3,4}}' ≠ '{1,2,3,4}', '[0:1]={a,b}' ≠ '{a,b}')",
  "citext-bytes": "citext: byte for byte, case counts ('A' ≠ 'a'), unlike citext's own =",
  "collation-bytes": "text under a nondeterministic collation: byte for byte ('Abc' ≠ 'abc'), unlike the collation's =",
  "jsonb-normalised": "jsonb: the normalised value (key order and whitespace do not count; a number's scale does)",
  "json-text": "json: the exact text",
  "timestamptz-instant": "timestamptz: the same instant, whatever the offset it was written with",
  "as-text": "enums by label; composite, reg* and types without a hash function by their text form",
};

const OID_ALIASES = new Set([
  "oid",
  "regclass",
  "regproc",
  "regprocedure",
  "regoper",
  "regoperator",
  "regtype",
  "regconfig",
  "regdictionary",
  "regnamespace",
  "regrole",
  "regcollation",
]);

/** Element types whose hash is coarser than their identity: arrays of them are hashed as text. */
const COARSE_ELEMENTS = new Set(["numeric", "interval", "citext", "json", "jsonb"]);

export function classifyType(row: TypeRow): TypeInfo {
  const base = { typid: Number(row.typid), collatable: row.collatable };
  const text = (rule: EqualityRuleId = "as-text"): TypeInfo => ({ ...base, hashClass: "text", collatable: false, hashFunction: "hashtextextended", rule });
  if (row.name === "jsonb") return text("jsonb-normalised");
  if (row.name === "json") return text("json-text");
  // interval's hash (and =) folds 1 month into 30 days and 1 day into 24 hours; its text under
  // IntervalStyle=postgres prints months, days and time separately: the stored triple.
  if (row.name === "interval") return text("interval-fields");
  // citext's hash folds case; its text does not.
  if (row.name === "citext") return text("citext-bytes");
  if (row.typtype === "e" || row.typtype === "c" || OID_ALIASES.has(row.name)) return text();
  if (row.category === "A") {
    // The text of an array carries its shape ("[0:1]={a,b}", nested braces).
    if (
      row.elem_typtype === "e" ||
      row.elem_typtype === "c" ||
      (row.elem_name !== null && COARSE_ELEMENTS.has(row.elem_name)) ||
      row.elem_range_sub === "numeric" ||
      !row.elem_hashable ||
      (row.elem_name !== null && OID_ALIASES.has(row.elem_name))
    ) {
      return text("array-shape");
    }
    return { ...base, hashClass: "plain", hashFunction: "hash_array_extended", isArray: true, rule: "array-shape" };
  }
  if (row.name === "numeric") return { ...base, hashClass: "numeric", hashFunction: "hash_numeric_extended", rule: "numeric-scale" };
  // numrange/nummultirange (and ranges over numeric domains): the range hash drops the bounds' scale; their text keeps it.
  if ((row.typtype === "r" || row.typtype === "m") && row.range_sub === "numeric") return text("numeric-scale");
  if (row.typtype === "r" || row.typtype === "m") return { ...base, hashClass: "plain", hashFunction: row.fn };
  const rule: EqualityRuleId | undefined =
    row.name === "float4" || row.name === "float8" ? "float" : row.name === "timestamptz" ? "timestamptz-instant" : undefined;
  if (row.fn !== null) return { ...base, hashClass: "plain", hashFunction: row.fn, ...(rule ? { rule } : {}) };
  return text();
}
