// Schema diff between the two catalogs, and the per-table plan the comparison runs: which
// columns line up, which key identifies rows, and the SQL hash expressions.

import type { Catalog, ColumnInfo, TableInfo } from "./catalog.js";
import { diffColumnDetails, diffConstraints, diffObjects, diffPopulated } from "./schemaDiff.js";
import { diffTableAttributes } from "./tableAttributesDiff.js";
import type { EqualityRuleId } from "./typeRules.js";
import { keyHashOf, quoteIdent, quoteTable, rowHashOf, type HashMode } from "./sql.js";
import type { SchemaDifference } from "./types.js";

export interface ColumnPlan {
  info: ColumnInfo;
  quoted: string;
  /** Hash of this column alone, on the table aliased as t (to name changed columns). */
  hash: string;
}

export interface TablePlan {
  name: string;
  qualified: string;
  blue: TableInfo;
  green: TableInfo;
  columns: ColumnPlan[];
  /** Key columns (blue's primary key), or null: count + checksum only. */
  key: ColumnPlan[] | null;
  rowHash: string;
  keyHash: string | null;
  notes: string[];
  /** Equality rules (typeRules.ts) the compared columns follow, each with its columns. */
  rules: Array<{ rule: EqualityRuleId; columns: string[] }>;
}

/** Which equality rule each compared column follows, grouped by rule. */
export function rulesOf(columns: ColumnInfo[]): Array<{ rule: EqualityRuleId; columns: string[] }> {
  const byRule = new Map<EqualityRuleId, string[]>();
  const add = (rule: EqualityRuleId, column: string) => byRule.set(rule, [...(byRule.get(rule) ?? []), column]);
  for (const c of columns) {
    if (c.typeInfo.rule) add(c.typeInfo.rule, c.name);
    if (c.details?.nondeterministic) add("collation-bytes", c.name);
  }
  return [...byRule].map(([rule, cols]) => ({ rule, columns: cols }));
}

const list = (cols: string[]) => `(${cols.join(", ")})`;

const word = (t: TableInfo) => (t.kind === "m" ? "materialized view" : "table");

/**
 * Everything that differs in the schema. `inScope` selects tables (and their triggers) by their
 * catalog key (names.ts nameKey); `objectInScope` selects enums, domains, composite types, views
 * and functions by their schema.name (the globs' form); `databaseWide` adds extensions.
 */
export function diffSchemas(
  blue: Catalog,
  green: Catalog,
  inScope: (key: string) => boolean,
  objectInScope: (name: string) => boolean,
  databaseWide = true,
): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  for (const [key, t] of blue.tables) {
    if (inScope(key) && !green.tables.has(key))
      out.push({ kind: "table-only-on-blue", object: t.fullName, message: `${word(t)} ${t.fullName} exists on blue only` });
  }
  for (const [key, t] of green.tables) {
    if (inScope(key) && !blue.tables.has(key))
      out.push({ kind: "table-only-on-green", object: t.fullName, message: `${word(t)} ${t.fullName} exists on green only` });
  }
  for (const [key, b] of blue.tables) {
    const g = green.tables.get(key);
    if (g && inScope(key)) out.push(...diffTable(b, g));
  }
  out.push(...diffObjects(blue, green, inScope, objectInScope, databaseWide));
  return out;
}

/** A table present on both sides: its columns, keys, constraints, attributes and indexes. */
function diffTable(b: TableInfo, g: TableInfo): SchemaDifference[] {
  const name = b.fullName;
  const pk = (t: TableInfo) => (t.primaryKey ? list(t.primaryKey.columns) : "none");
  const out = diffColumns(name, b, g);
  if (pk(b) !== pk(g)) {
    out.push({ kind: "primary-key", object: name, blue: pk(b), green: pk(g), message: `${name}: primary key ${pk(b)} on blue but ${pk(g)} on green` });
  }
  out.push(...diffUniques(name, b, g));
  out.push(...diffConstraints(name, b, g), ...diffPopulated(name, b, g), ...diffTableAttributes(name, b, g));
  out.push(...diffIndexes(name, b, g));
  return out;
}

/** Columns on one side only, of another type or nullability, and their details (./schemaDiff.ts). */
function diffColumns(name: string, b: TableInfo, g: TableInfo): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  const gCols = new Map(g.columns.map((c) => [c.name, c]));
  const bCols = new Map(b.columns.map((c) => [c.name, c]));
  for (const c of b.columns) {
    const other = gCols.get(c.name);
    if (!other) {
      out.push({ kind: "column-only-on-blue", object: name, column: c.name, blue: c.type, message: `${name}.${c.name} (${c.type}) exists on blue only` });
    } else if (other.type !== c.type) {
      out.push({
        kind: "column-type",
        object: name,
        column: c.name,
        blue: c.type,
        green: other.type,
        message: `${name}.${c.name} is ${c.type} on blue but ${other.type} on green`,
      });
    } else if (other.notNull !== c.notNull) {
      const show = (n: boolean) => (n ? "NOT NULL" : "nullable");
      out.push({
        kind: "column-nullability",
        object: name,
        column: c.name,
        blue: show(c.notNull),
        green: show(other.notNull),
        message: `${name}.${c.name} is ${show(c.notNull)} on blue but ${show(other.notNull)} on green`,
      });
    }
    if (other) out.push(...diffColumnDetails(name, c, other));
  }
  for (const c of g.columns) {
    if (!bCols.has(c.name))
      out.push({ kind: "column-only-on-green", object: name, column: c.name, green: c.type, message: `${name}.${c.name} (${c.type}) exists on green only` });
  }
  return out;
}

/** Unique constraints by definition: UNIQUE (a) and UNIQUE NULLS NOT DISTINCT (a) differ. */
function diffUniques(name: string, b: TableInfo, g: TableInfo): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  const uniq = (t: TableInfo) => new Map(t.uniques.map((u) => [u.definition ?? list(u.columns), u.name]));
  const bu = uniq(b);
  const gu = uniq(g);
  const definition = (cols: string) => (cols.startsWith("(") ? `UNIQUE ${cols}` : cols);
  for (const [cols, cname] of bu) {
    if (!gu.has(cols))
      out.push({
        kind: "unique-constraint-only-on-blue",
        object: name,
        blue: `${cname} ${definition(cols)}`,
        message: `${name}: unique constraint ${cname} ${definition(cols)} exists on blue only`,
      });
  }
  for (const [cols, cname] of gu) {
    if (!bu.has(cols))
      out.push({
        kind: "unique-constraint-only-on-green",
        object: name,
        green: `${cname} ${definition(cols)}`,
        message: `${name}: unique constraint ${cname} ${definition(cols)} exists on green only`,
      });
  }
  return out;
}

/** Indexes by definition (the index's own name aside), named in the message. */
function diffIndexes(name: string, b: TableInfo, g: TableInfo): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  const bi = new Map(b.indexes.map((i) => [i.definition, i.name]));
  const gi = new Map(g.indexes.map((i) => [i.definition, i.name]));
  for (const [def, iname] of bi) {
    if (!gi.has(def))
      out.push({
        kind: "index-only-on-blue",
        object: name,
        blue: iname,
        message: `${name}: index ${iname} exists on blue only: ${def.replace("INDEX ON", `INDEX ${iname} ON`)}`,
      });
  }
  for (const [def, iname] of gi) {
    if (!bi.has(def))
      out.push({
        kind: "index-only-on-green",
        object: name,
        green: iname,
        message: `${name}: index ${iname} exists on green only: ${def.replace("INDEX ON", `INDEX ${iname} ON`)}`,
      });
  }
  return out;
}

export function planTable(blue: TableInfo, green: TableInfo, mode: HashMode): TablePlan {
  const notes: string[] = [];
  const gCols = new Map(green.columns.map((c) => [c.name, c]));
  const columns: ColumnPlan[] = [];
  const skipped: string[] = [];
  for (const c of blue.columns) {
    const other = gCols.get(c.name);
    if (!other) continue;
    if (other.type !== c.type) {
      skipped.push(c.name);
      continue;
    }
    columns.push({ info: c, quoted: quoteIdent(c.name), hash: rowHashOf([c], mode, "t.") });
  }
  if (skipped.length > 0) notes.push(`columns not compared (type differs): ${skipped.join(", ")}`);
  const onlyOneSide = [
    ...blue.columns.filter((c) => !gCols.has(c.name)).map((c) => c.name),
    ...green.columns.filter((c) => !blue.columns.some((b) => b.name === c.name)).map((c) => c.name),
  ];
  if (onlyOneSide.length > 0) notes.push(`columns on one side only, not compared: ${onlyOneSide.join(", ")}`);

  let key: ColumnPlan[] | null = null;
  // Blue's primary key, else green's: rows on the side without it are still matched (and duplicates named).
  const primaryKey = blue.primaryKey ?? green.primaryKey;
  if (blue.kind === "m") notes.push("materialized view: contents compared like a table's");
  if (primaryKey) {
    const byName = new Map(columns.map((c) => [c.info.name, c]));
    const cols = primaryKey.columns.map((n) => byName.get(n));
    if (cols.every((c): c is ColumnPlan => c !== undefined)) key = cols;
    else notes.push("primary key columns do not line up on both sides: compared by count and checksum only");
    if (key && (!blue.primaryKey || !green.primaryKey)) {
      notes.push(
        `rows matched by ${blue.primaryKey ? "blue" : "green"}'s primary key (${primaryKey.columns.join(", ")}); ${blue.primaryKey ? "green" : "blue"} has none, so a key may repeat there`,
      );
    }
  } else {
    notes.push("no primary key: compared by row count and checksum only; differing rows cannot be named");
  }
  return {
    name: blue.fullName,
    qualified: quoteTable(blue.schema, blue.name),
    blue,
    green,
    columns,
    key,
    rowHash: rowHashOf(
      columns.map((c) => c.info),
      mode,
    ),
    keyHash: key
      ? keyHashOf(
          key.map((k) => k.info),
          mode,
        )
      : null,
    notes,
    rules: rulesOf(columns.map((c) => c.info)),
  };
}
