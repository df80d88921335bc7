// Column type changes PostgreSQL makes in the catalog alone (no rewrite, no scan, and every value
// blue reads or writes stays what it was): a longer varchar, varchar → text or unbounded
// varchar, more numeric precision with the same scale, numeric → unbounded numeric. The old type
// comes from the migration set (a column it declared) or from the live database; without it a
// varchar or text target is taken as the widening teams write, anything else is a type change.

import type pg from "pg";
import { relationName, type Node, type Statement } from "./statements.js";

export interface ColumnType {
  /** Base name as PostgreSQL spells it internally: varchar, bpchar, text, numeric, int4, … */
  base: string;
  /** Type modifiers: varchar(n) → [n], numeric(p, s) → [p, s]. */
  mods: number[];
}

const ALIASES: Record<string, string> = {
  "character varying": "varchar",
  character: "bpchar",
  char: "bpchar",
  integer: "int4",
  bigint: "int8",
  smallint: "int2",
  decimal: "numeric",
};

/** A TypeName parse-tree node as a ColumnType. */
export function typeOf(typeName: unknown): ColumnType {
  const t = (typeName ?? {}) as { names?: Array<{ String?: { sval?: string } }>; typmods?: Array<{ A_Const?: { ival?: { ival?: number } } }> };
  const names = (t.names ?? []).map((n) => n.String?.sval ?? "");
  const base = names[names.length - 1] ?? "?";
  return { base: ALIASES[base] ?? base, mods: (t.typmods ?? []).map((m) => m.A_Const?.ival?.ival ?? 0) };
}

/** format_type() text ("character varying(100)", "numeric(12,2)", "text") as a ColumnType. */
export function parseFormattedType(text: string): ColumnType {
  const m = /^([a-z ]+?)\s*(?:\(([\d,\s]+)\))?$/.exec(text.trim().toLowerCase());
  if (!m) return { base: text, mods: [] };
  const base = m[1]!.trim();
  return { base: ALIASES[base] ?? base, mods: m[2] ? m[2].split(",").map((x) => Number(x.trim())) : [] };
}

export function catalogOnlyTypeChange(old: ColumnType | undefined, def: Node | undefined): { catalogOnly: boolean; why?: string } {
  const column = (def?.ColumnDef ?? {}) as Node;
  if (column.raw_default) return { catalogOnly: false, why: "with USING: every row is rewritten" };
  const next = typeOf(column.typeName);
  if (!old) {
    if (next.base === "varchar" || next.base === "text") return { catalogOnly: true };
    return { catalogOnly: false, why: "the current type is not known here, so no widening can be proved" };
  }
  if (next.base === "varchar" && old.base === "varchar" && (next.mods.length === 0 || (old.mods.length > 0 && next.mods[0]! >= old.mods[0]!)))
    return { catalogOnly: true };
  if (next.base === "text" && (old.base === "varchar" || old.base === "text")) return { catalogOnly: true };
  if (next.base === "numeric" && old.base === "numeric") {
    if (next.mods.length === 0) return { catalogOnly: true };
    if (old.mods.length > 0 && next.mods[0]! >= old.mods[0]! && (next.mods[1] ?? 0) === (old.mods[1] ?? 0)) return { catalogOnly: true };
  }
  return {
    catalogOnly: false,
    why: `from ${old.base}${old.mods.length > 0 ? `(${old.mods.join(",")})` : ""} to ${next.base}${next.mods.length > 0 ? `(${next.mods.join(",")})` : ""} is not a widening`,
  };
}

/** The table.column pairs whose type the statements change, as rules key them. */
export function typeChangeTargets(statements: Statement[]): Array<{ key: string; table: string; column: string }> {
  const out: Array<{ key: string; table: string; column: string }> = [];
  for (const s of statements) {
    if (s.type !== "AlterTableStmt") continue;
    const table = relationName(s.node.relation);
    for (const c of (s.node.cmds as Array<{ AlterTableCmd?: { subtype?: string; name?: string } }> | undefined) ?? []) {
      if (c.AlterTableCmd?.subtype === "AT_AlterColumnType" && c.AlterTableCmd.name)
        out.push({ key: `${table}.${c.AlterTableCmd.name}`, table, column: c.AlterTableCmd.name });
    }
  }
  return out;
}

/** The live types of those columns (unqualified tables resolve through the search path). */
export async function liveColumnTypes(client: pg.ClientBase, targets: Array<{ key: string; table: string; column: string }>): Promise<Map<string, ColumnType>> {
  const out = new Map<string, ColumnType>();
  for (const t of targets) {
    const res = await client.query<{ type: string | null }>(
      "SELECT format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped",
      [t.table, t.column],
    );
    const type = res.rows[0]?.type;
    if (type) out.set(t.key, parseFormattedType(type));
  }
  return out;
}
