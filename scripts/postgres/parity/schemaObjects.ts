// Schema objects beside the tables, read by their definition text so two servers can be compared:
// enums (labels in order), views and materialized views (pg_get_viewdef), functions and
// procedures (pg_get_functiondef) and triggers (pg_get_triggerdef). Extension-owned objects and the
// system schemas are skipped, as for tables.

import type { SnapshotPool } from "./snapshotPool.js";

export interface SchemaObject {
  /** schema.name for enums, views, functions (with identity arguments: "s.f(integer, text)"); schema.table for triggers. */
  object: string;
  /** The trigger's name; unset for the others. */
  name?: string;
  definition: string;
}

export interface SchemaObjects {
  enums: Map<string, SchemaObject>;
  views: Map<string, SchemaObject & { materialized: boolean }>;
  functions: Map<string, SchemaObject>;
  /** Keyed by "schema.table trigger". */
  triggers: Map<string, SchemaObject>;
}

const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;
const NOT_EXTENSION = (classid: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${classid}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;

const ENUMS_SQL = `
SELECT n.nspname || '.' || t.typname AS object, array_to_string(array(SELECT quote_literal(e.enumlabel) FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), ', ') AS def
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'e' AND ${USER_SCHEMA} AND ${NOT_EXTENSION("pg_type", "t.oid")}`;

const VIEWS_SQL = `
SELECT n.nspname || '.' || c.relname AS object, c.relkind = 'm' AS materialized, pg_get_viewdef(c.oid) AS def
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND ${USER_SCHEMA} AND ${NOT_EXTENSION("pg_class", "c.oid")}`;

// Aggregates have no pg_get_functiondef; they are compared by signature only (kind 'a' → signature).
const FUNCTIONS_SQL = `
SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS object,
       CASE WHEN p.prokind = 'a' THEN 'aggregate ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' ELSE pg_get_functiondef(p.oid) END AS def
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE ${USER_SCHEMA} AND ${NOT_EXTENSION("pg_proc", "p.oid")}`;

const TRIGGERS_SQL = `
SELECT n.nspname || '.' || c.relname AS object, tg.tgname AS name, pg_get_triggerdef(tg.oid) AS def
FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT tg.tgisinternal AND ${USER_SCHEMA} AND ${NOT_EXTENSION("pg_class", "c.oid")}`;

export async function readSchemaObjects(pool: SnapshotPool): Promise<SchemaObjects> {
  const [enums, views, functions, triggers] = await Promise.all([
    pool.query<{ object: string; def: string }>(ENUMS_SQL),
    pool.query<{ object: string; materialized: boolean; def: string }>(VIEWS_SQL),
    pool.query<{ object: string; def: string }>(FUNCTIONS_SQL),
    pool.query<{ object: string; name: string; def: string }>(TRIGGERS_SQL),
  ]);
  return {
    enums: new Map(enums.rows.map((r) => [r.object, { object: r.object, definition: r.def }])),
    views: new Map(views.rows.map((r) => [r.object, { object: r.object, definition: r.def, materialized: r.materialized }])),
    functions: new Map(functions.rows.map((r) => [r.object, { object: r.object, definition: r.def }])),
    triggers: new Map(triggers.rows.map((r) => [`${r.object} ${r.name}`, { object: r.object, name: r.name, definition: r.def }])),
  };
}
