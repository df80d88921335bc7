// Schema objects beside the tables, read by their definition text so two servers can be compared:
// enums (labels in order), domains (base type, NOT NULL, default, constraints), composite types
// (attributes in order), views and materialized views (pg_get_viewdef), functions and procedures
// (pg_get_functiondef), triggers (pg_get_triggerdef, and whether each is enabled) and extensions
// (name and version). Extension-owned objects and the system schemas are skipped, as for tables.
// Maps are keyed by nameKey (the schema and name themselves, never a joined string).

import { displayName, nameKey } from "./names.js";
import type { Queryable } from "./queryBatch.js";

export interface SchemaObject {
  /** schema.name for people (functions with identity arguments: "s.f(integer, text)"); schema.table for triggers. */
  object: string;
  /** The schema and name the object's scope is decided by (a trigger's: its table's). */
  schema?: string;
  relation?: string;
  /** The trigger's name; unset for the others. */
  name?: string;
  definition: string;
  /** Triggers: "enabled", "disabled", "replica" (fires only in replication sessions) or "always". */
  state?: string;
}

export interface SchemaObjects {
  enums: Map<string, SchemaObject>;
  domains?: Map<string, SchemaObject>;
  composites?: Map<string, SchemaObject>;
  views: Map<string, SchemaObject & { materialized: boolean }>;
  functions: Map<string, SchemaObject>;
  /** Keyed by nameKey(schema, table, trigger). */
  triggers: Map<string, SchemaObject>;
  /** Keyed by extension name; definition is the version. */
  extensions?: Map<string, SchemaObject>;
}

const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;
const NOT_EXTENSION = (classid: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${classid}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;

const ENUMS_SQL = `
SELECT n.nspname AS schema, t.typname AS name, array_to_string(array(SELECT quote_literal(e.enumlabel) FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), ', ') AS def
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'e' AND ${USER_SCHEMA} AND ${NOT_EXTENSION("pg_type", "t.oid")}`;

// Constraints sorted by definition: their names do not count, as for table constraints.
const DOMAINS_SQL = `
SELECT n.nspname AS schema, t.typname AS name,
       format_type(t.typbasetype, t.typtypmod)
       || CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation
               THEN ' COLLATE ' || quote_ident(cn.nspname) || '.' || quote_ident(co.collname) ELSE '' END
       || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || t.typdefault, '')
       || coalesce((SELECT ' ' || string_agg(pg_get_constraintdef(c.oid), ' ' ORDER BY pg_get_constraintdef(c.oid))
                      FROM pg_constraint c WHERE c.contypid = t.oid), '') AS def
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_collation co ON co.oid = t.typcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE t.typtype = 'd' AND ${USER_SCHEMA} AND ${NOT_EXTENSION("pg_type", "t.oid")}`;

const COMPOSITES_SQL = `
SELECT n.nspname AS schema, t.typname AS name,
       '(' || coalesce((SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
                         || CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation
                                 THEN ' COLLATE ' || quote_ident(cn.nspname) || '.' || quote_ident(co.collname) ELSE '' END, ', ' ORDER BY a.attnum)
                        FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
                        LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                        WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')' AS def
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid
WHERE t.typtype = 'c' AND c.relkind = 'c' AND ${USER_SCHEMA} AND ${NOT_EXTENSION("pg_type", "t.oid")}`;

const VIEWS_SQL = `
SELECT n.nspname AS schema, c.relname AS name, c.relkind = 'm' AS materialized, pg_get_viewdef(c.oid) AS def
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND ${USER_SCHEMA} AND ${NOT_EXTENSION("pg_class", "c.oid")}`;

// Aggregates have no pg_get_functiondef; they are compared by signature only (kind 'a' → signature).
const FUNCTIONS_SQL = `
SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args,
       CASE WHEN p.prokind = 'a' THEN 'aggregate ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' ELSE pg_get_functiondef(p.oid) END AS def
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE ${USER_SCHEMA} AND ${NOT_EXTENSION("pg_proc", "p.oid")}`;

const TRIGGERS_SQL = `
SELECT n.nspname AS schema, c.relname AS relation, tg.tgname AS name, pg_get_triggerdef(tg.oid) AS def, tg.tgenabled::text AS enabled
FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT tg.tgisinternal AND ${USER_SCHEMA} AND ${NOT_EXTENSION("pg_class", "c.oid")}`;

const EXTENSIONS_SQL = `SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace`;

const TRIGGER_STATE: Record<string, string> = { O: "enabled", D: "disabled", R: "replica", A: "always" };

type Named = { schema: string; name: string; def: string };

function byName(rows: Named[]): Map<string, SchemaObject> {
  return new Map(
    rows.map((r) => [nameKey(r.schema, r.name), { object: displayName(r.schema, r.name), schema: r.schema, relation: r.name, definition: r.def }]),
  );
}

export async function readSchemaObjects(pool: Queryable): Promise<SchemaObjects> {
  const [enums, domains, composites, views, functions, triggers, extensions] = await Promise.all([
    pool.query<Named>(ENUMS_SQL),
    pool.query<Named>(DOMAINS_SQL),
    pool.query<Named>(COMPOSITES_SQL),
    pool.query<Named & { materialized: boolean }>(VIEWS_SQL),
    pool.query<Named & { args: string }>(FUNCTIONS_SQL),
    pool.query<{ schema: string; relation: string; name: string; def: string; enabled: string }>(TRIGGERS_SQL),
    pool.query<{ name: string; version: string; schema: string }>(EXTENSIONS_SQL),
  ]);
  return {
    enums: byName(enums.rows),
    domains: byName(domains.rows),
    composites: byName(composites.rows),
    views: new Map(
      views.rows.map((r) => [
        nameKey(r.schema, r.name),
        { object: displayName(r.schema, r.name), schema: r.schema, relation: r.name, definition: r.def, materialized: r.materialized },
      ]),
    ),
    functions: new Map(
      functions.rows.map((r) => [
        nameKey(r.schema, r.name, r.args),
        { object: `${displayName(r.schema, r.name)}(${r.args})`, schema: r.schema, relation: r.name, definition: r.def },
      ]),
    ),
    triggers: new Map(
      triggers.rows.map((r) => [
        nameKey(r.schema, r.relation, r.name),
        {
          object: displayName(r.schema, r.relation),
          schema: r.schema,
          relation: r.relation,
          name: r.name,
          definition: r.def,
          state: TRIGGER_STATE[r.enabled] ?? r.enabled,
        },
      ]),
    ),
    extensions: new Map(extensions.rows.map((r) => [r.name, { object: r.name, definition: `${r.version} in schema ${r.schema}` }])),
  };
}
