// The parts of the schema diff beyond tables and column types: column collation, default,
// generation and identity; constraints by definition (CHECK, FOREIGN KEY, EXCLUDE, constraint
// triggers); enums with their labels in order; views, materialized views, functions and triggers
// by definition; sequence definitions. Names of constraints and indexes do not count, their
// definitions do.

import type { Catalog, ColumnInfo, SequenceInfo, TableInfo } from "./catalog.js";
import type { SchemaObject, SchemaObjects } from "./schemaObjects.js";
import type { SchemaDifference, SchemaDifferenceKind } from "./types.js";
import { displayName, nameKey } from "./names.js";

const CONSTRAINT_WORD: Record<string, string> = { c: "check", f: "foreign key", x: "exclusion", t: "constraint trigger", u: "unique" };

/** Column attributes other than type and nullability. */
export function diffColumnDetails(table: string, b: ColumnInfo, g: ColumnInfo): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  const bd = b.details;
  const gd = g.details;
  if (!bd || !gd) return out;
  const at = `${table}.${b.name}`;
  const push = (kind: SchemaDifferenceKind, blue: string, green: string, what: string) =>
    out.push({ kind, object: table, column: b.name, blue, green, message: `${at}: ${what} is ${blue} on blue but ${green} on green` });
  const coll = (c: string | null) => (c === null ? "the type's default" : `COLLATE ${c}`);
  if (bd.collation !== gd.collation) push("column-collation", coll(bd.collation), coll(gd.collation), "collation");
  const gen = (d: typeof bd) => (d.generated ? `GENERATED ALWAYS AS (${d.expression}) ${d.generated.toUpperCase()}` : "a plain column");
  if (bd.generated !== gd.generated || (bd.generated !== null && bd.expression !== gd.expression)) {
    push("column-generated", gen(bd), gen(gd), "generation");
  } else if (bd.generated === null && bd.expression !== gd.expression) {
    const def = (e: string | null) => (e === null ? "no default" : `DEFAULT ${e}`);
    push("column-default", def(bd.expression), def(gd.expression), "default");
  }
  const ident = (i: string | null) => (i === null ? "not an identity" : `GENERATED ${i.toUpperCase()} AS IDENTITY`);
  if (bd.identity !== gd.identity) push("column-identity", ident(bd.identity), ident(gd.identity), "identity");
  return out;
}

/** Constraints other than the primary key and unique constraints (compared in plan.ts), by definition. */
export function diffConstraints(table: string, b: TableInfo, g: TableInfo): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  const map = (t: TableInfo) => new Map(t.constraints.filter((c) => c.type !== "p" && c.type !== "u").map((c) => [`${c.type} ${c.definition}`, c]));
  const bm = map(b);
  const gm = map(g);
  for (const [key, c] of bm) {
    if (!gm.has(key)) {
      out.push({
        kind: "constraint-only-on-blue",
        object: table,
        blue: `${c.name} ${c.definition}`,
        message: `${table}: ${CONSTRAINT_WORD[c.type] ?? c.type} constraint ${c.name} exists on blue only: ${c.definition}`,
      });
    }
  }
  for (const [key, c] of gm) {
    if (!bm.has(key)) {
      out.push({
        kind: "constraint-only-on-green",
        object: table,
        green: `${c.name} ${c.definition}`,
        message: `${table}: ${CONSTRAINT_WORD[c.type] ?? c.type} constraint ${c.name} exists on green only: ${c.definition}`,
      });
    }
  }
  return out;
}

export function diffPopulated(table: string, b: TableInfo, g: TableInfo): SchemaDifference[] {
  if (b.kind !== "m" || (b.populated && g.populated)) return [];
  const show = (t: TableInfo) => (t.populated ? "populated" : "never refreshed (WITH NO DATA)");
  return [
    {
      kind: "materialized-view-not-populated",
      object: table,
      blue: show(b),
      green: show(g),
      message: `materialized view ${table} is ${show(b)} on blue and ${show(g)} on green: its contents are not compared (REFRESH MATERIALIZED VIEW)`,
    },
  ];
}

interface ObjectKinds {
  only: [SchemaDifferenceKind, SchemaDifferenceKind];
  changed: SchemaDifferenceKind;
  word: (o: SchemaObject) => string;
}

function diffMaps(
  blue: Map<string, SchemaObject>,
  green: Map<string, SchemaObject>,
  inScope: (o: SchemaObject) => boolean,
  k: ObjectKinds,
): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  for (const [key, b] of blue) {
    if (!inScope(b)) continue;
    const g = green.get(key);
    const label = `${k.word(b)} ${b.name ? `${b.name} on ${b.object}` : b.object}`;
    if (!g) out.push({ kind: k.only[0], object: b.object, blue: b.definition, message: `${label} exists on blue only` });
    else if (g.definition !== b.definition) {
      out.push({
        kind: k.changed,
        object: b.object,
        blue: b.definition,
        green: g.definition,
        message: `${label} differs: blue ${oneLine(b.definition)} — green ${oneLine(g.definition)}`,
      });
    }
  }
  for (const [key, g] of green) {
    if (inScope(g) && !blue.has(key)) {
      out.push({
        kind: k.only[1],
        object: g.object,
        green: g.definition,
        message: `${k.word(g)} ${g.name ? `${g.name} on ${g.object}` : g.object} exists on green only`,
      });
    }
  }
  return out;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 240 ? `${flat.slice(0, 240)}…` : flat;
}

/** The schema.name an object's scope is decided by ("s.f(integer)" → "s.f"), for the include/exclude globs. */
function scopeName(o: SchemaObject): string {
  return o.schema !== undefined && o.relation !== undefined ? displayName(o.schema, o.relation) : o.object.replace(/\(.*$/, "");
}

/** A trigger enabled on one side and disabled (or replica-only) on the other. */
function diffTriggerStates(blue: Map<string, SchemaObject>, green: Map<string, SchemaObject>, inScope: (o: SchemaObject) => boolean): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  for (const [key, b] of blue) {
    const g = green.get(key);
    if (!g || !inScope(b) || b.state === g.state) continue;
    out.push({
      kind: "trigger-enabled",
      object: b.object,
      blue: b.state ?? "",
      green: g.state ?? "",
      message: `trigger ${b.name} on ${b.object} is ${b.state} on blue but ${g.state} on green`,
    });
  }
  return out;
}

export function diffObjects(
  blue: Catalog,
  green: Catalog,
  tableInScope: (key: string) => boolean,
  objectInScope: (name: string) => boolean,
  databaseWide = true,
): SchemaDifference[] {
  const bo = blue.objects;
  const go = green.objects;
  if (!bo || !go) return [];
  const obj = (o: SchemaObject) => objectInScope(scopeName(o));
  const onTable = (o: SchemaObject) => (o.schema !== undefined && o.relation !== undefined && tableInScope(nameKey(o.schema, o.relation))) || obj(o);
  // A materialized view on one side only is already reported with the tables: compare definitions only.
  const bothSides = (m: SchemaObjects["views"], other: SchemaObjects["views"]) => new Map([...m].filter(([k, v]) => !v.materialized || other.has(k)));
  const none = new Map<string, SchemaObject>();
  return [
    ...diffMaps(bo.enums, go.enums, obj, { only: ["enum-only-on-blue", "enum-only-on-green"], changed: "enum-labels", word: () => "enum" }),
    ...diffMaps(bo.domains ?? none, go.domains ?? none, obj, {
      only: ["domain-only-on-blue", "domain-only-on-green"],
      changed: "domain-definition",
      word: () => "domain",
    }),
    ...diffMaps(bo.composites ?? none, go.composites ?? none, obj, {
      only: ["composite-type-only-on-blue", "composite-type-only-on-green"],
      changed: "composite-type-definition",
      word: () => "composite type",
    }),
    ...diffMaps(bothSides(bo.views, go.views), bothSides(go.views, bo.views), onTable, {
      only: ["view-only-on-blue", "view-only-on-green"],
      changed: "view-definition",
      word: (o) => ((o as { materialized?: boolean }).materialized ? "materialized view" : "view"),
    }),
    ...diffMaps(bo.functions, go.functions, obj, {
      only: ["function-only-on-blue", "function-only-on-green"],
      changed: "function-definition",
      word: () => "function",
    }),
    ...diffMaps(bo.triggers, go.triggers, onTable, {
      only: ["trigger-only-on-blue", "trigger-only-on-green"],
      changed: "trigger-definition",
      word: () => "trigger",
    }),
    ...diffTriggerStates(bo.triggers, go.triggers, onTable),
    ...(databaseWide
      ? diffMaps(bo.extensions ?? none, go.extensions ?? none, () => true, {
          only: ["extension-only-on-blue", "extension-only-on-green"],
          changed: "extension-version",
          word: () => "extension",
        })
      : []),
  ];
}

export function diffSequenceDefinitions(blue: Catalog, green: Catalog, inScope: (s: SequenceInfo) => boolean): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  for (const [key, b] of blue.sequences) {
    const g = green.sequences.get(key);
    const name = b.fullName;
    if (!g || !inScope(b)) continue;
    const def = (s: SequenceInfo) => `${s.definition ?? ""} start ${s.startValue} increment ${s.increment}`.trim();
    if (def(b) !== def(g)) {
      out.push({
        kind: "sequence-definition",
        object: name,
        blue: def(b),
        green: def(g),
        message: `sequence ${name} is ${def(b)} on blue but ${def(g)} on green`,
      });
    }
  }
  return out;
}
