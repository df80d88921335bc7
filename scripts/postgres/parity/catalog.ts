// What one database holds: tables (and materialized views), columns (with how each type must be
// hashed, collation, default, generation), keys, constraints, indexes and sequences; the other
// schema objects (enums, views, functions, triggers) come from schemaObjects.ts. Read inside the
// run's snapshot.

import { nameKey, displayName } from "./names.js";
import { readSchemaObjects, type SchemaObjects } from "./schemaObjects.js";
import { readRoles, readTableAttributes, type TableAttributes } from "./tableAttributes.js";
import { classifyType, type TypeRow, type EqualityRuleId } from "./typeRules.js";
import { QueryBatch } from "./queryBatch.js";
import type { SnapshotPool } from "./snapshotPool.js";

/** How a column's value enters the hash. */
export type HashClass =
  /** The type's own extended hash (with COLLATE "C" when collatable). */
  | "plain"
  /** numeric: value and scale, so 1.0 and 1.00 differ. */
  | "numeric"
  /** Hashed as its text form: json, enums (their OIDs differ between servers), composites, reg* types, types without a hash. */
  | "text";

export interface TypeInfo {
  typid: number;
  hashClass: HashClass;
  collatable: boolean;
  /** Extended hash function of the (base) type, e.g. hashint8extended; null when none. */
  hashFunction: string | null;
  /** An array hashed by its elements: its dimensions and lower bounds are hashed beside them. */
  isArray?: boolean;
  /** The equality rule this type follows where it is not plain byte identity (typeRules.ts). */
  rule?: EqualityRuleId;
}

export interface ColumnInfo {
  name: string;
  num: number;
  /** format_type(), e.g. "numeric(12,2)", "character varying(20)", "public.mood". */
  type: string;
  notNull: boolean;
  typeInfo: TypeInfo;
  /** Schema-only attributes (compared, never hashed); absent in hand-built test columns. */
  details?: ColumnDetails;
}

export interface ColumnDetails {
  /** Collation when it is not the type's default, e.g. "C", "s_types.ci"; null for the default. */
  collation: string | null;
  /** The column's collation is nondeterministic (e.g. case-insensitive ICU): its values are still compared byte for byte. */
  nondeterministic?: boolean;
  /** "stored" / "virtual" generated column, or null for a plain column. */
  generated: "stored" | "virtual" | null;
  /** The generation expression (generated) or the default expression (plain), as pg_get_expr shows it. */
  expression: string | null;
  /** GENERATED ALWAYS / BY DEFAULT AS IDENTITY, or null. */
  identity: "always" | "by default" | null;
}

export interface ConstraintInfo {
  name: string;
  /** p, u, c (check), f (foreign key), x (exclusion), t (constraint trigger). */
  type: string;
  /** pg_get_constraintdef(), e.g. "CHECK ((qty > 0))", "FOREIGN KEY (a) REFERENCES s.t(id) ON DELETE CASCADE". */
  definition: string;
  columns: string[];
}

export interface TableInfo {
  oid: number;
  schema: string;
  name: string;
  /** schema.table for people (names.ts displayName); maps are keyed by nameKey(schema, name). */
  fullName: string;
  /** r table, p partitioned table, m materialized view. */
  kind: "r" | "p" | "m";
  /** Materialized views: false while never refreshed (WITH NO DATA); tables: true. */
  populated: boolean;
  pages: number;
  estimatedRows: number;
  columns: ColumnInfo[];
  primaryKey: { name: string; columns: string[] } | null;
  uniques: Array<{ name: string; columns: string[]; definition?: string }>;
  /** Every constraint but NOT NULL (compared as nullability), with its definition. */
  constraints: ConstraintInfo[];
  /** Index definitions with the index name removed, so equal indexes under different names match. */
  indexes: Array<{ name: string; definition: string; valid?: boolean }>;
  /** Persistence, row security, replica identity, policies, privileges; absent in hand-built test tables. */
  attributes?: TableAttributes;
}

export interface SequenceInfo {
  schema: string;
  name: string;
  fullName: string;
  lastValue: string | null;
  startValue: string;
  increment: string;
  /** Type, bounds, cache and cycle: "bigint 1..9223372036854775807 cache 1 no cycle". */
  definition?: string;
  ownedBy: { schema: string; table: string; column: string } | null;
}

export interface Catalog {
  /** Keyed by nameKey(schema, name). */
  tables: Map<string, TableInfo>;
  /** Keyed by nameKey(schema, name). */
  sequences: Map<string, SequenceInfo>;
  /** Privileges on sequences, keyed like `sequences`; absent in hand-built test catalogs. */
  sequencePrivileges?: Map<string, string[]>;
  /** Role names (and PUBLIC): privileges are compared for roles both sides have. */
  roles?: Set<string>;
  /** Enums, views, functions, triggers; absent only in hand-built test catalogs. */
  objects?: SchemaObjects;
}

// bluegreen_migrations holds each database's own migration journal (scripts/postgres/migrate/journal.ts):
// it differs between the sides by design (run times), so it is not compared.
const TABLES_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind, c.relispopulated AS populated,
       (pg_relation_size(c.oid) / current_setting('block_size')::int8)::text AS pages,
       coalesce((SELECT sum(CASE WHEN lc.relpages > 0 AND lc.reltuples >= 0
                                 THEN lc.reltuples / lc.relpages * (pg_relation_size(lc.oid) / current_setting('block_size')::int8)
                                 ELSE pg_relation_size(lc.oid) / current_setting('block_size')::int8 * 60 END)
                 FROM pg_class lc
                 WHERE lc.oid = c.oid OR (c.relkind = 'p' AND lc.oid IN (SELECT relid FROM pg_partition_tree(c.oid)))), 0)::float8 AS est_rows
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'bluegreen_migrations') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`;

const COLUMNS_SQL = `
SELECT a.attrelid::int8::text AS rel, a.attname AS name, a.attnum AS num, format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS notnull, a.atttypid::int8::text AS typid,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname) ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END END AS collation,
       coalesce(NOT co.collisdeterministic, false) AS nondeterministic,
       a.attgenerated::text AS generated, a.attidentity::text AS identity, pg_get_expr(ad.adbin, ad.adrelid) AS expr
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`;

// The types of the columns of the tables $1: domains resolved to their base type, then how the
// base type is hashed.
const TYPES_SQL = `
WITH RECURSIVE chain(typ, cur, depth) AS (
  SELECT t.oid, t.oid, 0 FROM pg_type t
  WHERE t.oid IN (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped)
  UNION ALL
  SELECT c.typ, t.typbasetype, c.depth + 1 FROM chain c JOIN pg_type t ON t.oid = c.cur WHERE t.typtype = 'd'
), base AS (
  SELECT DISTINCT ON (typ) typ, cur AS base FROM chain ORDER BY typ, depth DESC
), hashfn AS (
  SELECT oc.opcintype AS typ, min(p.amproc::regproc::text) AS fn
  FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod AND am.amname = 'hash'
  JOIN pg_amproc p ON p.amprocfamily = oc.opcfamily AND p.amproclefttype = oc.opcintype AND p.amprocrighttype = oc.opcintype AND p.amprocnum = 2
  WHERE oc.opcdefault GROUP BY oc.opcintype
), range_sub AS (
  -- The element type of a range or multirange, through one level of domain.
  SELECT r.rngtypid AS typ, st.typname AS sub FROM pg_range r JOIN pg_type st0 ON st0.oid = r.rngsubtype
  JOIN pg_type st ON st.oid = CASE WHEN st0.typtype = 'd' THEN st0.typbasetype ELSE st0.oid END
  UNION ALL
  SELECT r.rngmultitypid, st.typname FROM pg_range r JOIN pg_type st0 ON st0.oid = r.rngsubtype
  JOIN pg_type st ON st.oid = CASE WHEN st0.typtype = 'd' THEN st0.typbasetype ELSE st0.oid END
)
SELECT b.typ::int8::text AS typid, bt.typname AS name, bt.typtype::text AS typtype, bt.typcategory::text AS category,
       bt.typcollation <> 0 AS collatable, bh.fn AS fn,
       et.typname AS elem_name, et.typtype::text AS elem_typtype, (eh.fn IS NOT NULL) AS elem_hashable,
       rs.sub AS range_sub, ers.sub AS elem_range_sub
FROM base b JOIN pg_type bt ON bt.oid = b.base
LEFT JOIN hashfn bh ON bh.typ = bt.oid
LEFT JOIN pg_type et0 ON et0.oid = bt.typelem AND bt.typcategory = 'A'
LEFT JOIN pg_type et ON et.oid = CASE WHEN et0.typtype = 'd' THEN et0.typbasetype ELSE et0.oid END
LEFT JOIN hashfn eh ON eh.typ = et.oid
LEFT JOIN range_sub rs ON rs.typ = bt.oid
LEFT JOIN range_sub ers ON ers.typ = et.oid`;

const CONSTRAINTS_SQL = `
SELECT con.conrelid::int8::text AS rel, con.contype::text AS type, con.conname AS name,
       array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o) AS cols,
       pg_get_constraintdef(con.oid) AS def
FROM pg_constraint con WHERE con.conrelid = ANY($1::oid[]) AND con.contype <> 'n'`;

const INDEXES_SQL = `
SELECT i.indrelid::int8::text AS rel, ic.relname AS name, i.indisvalid AS valid,
       replace(pg_get_indexdef(i.indexrelid), 'INDEX ' || quote_ident(ic.relname) || ' ON ', 'INDEX ON ') AS def
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = ANY($1::oid[])`;

const SEQUENCES_SQL = `
SELECT n.nspname AS schema, c.relname AS name, c.oid::int8::text AS oid,
       CASE WHEN has_sequence_privilege(c.oid, 'SELECT') THEN pg_sequence_last_value(c.oid)::text END AS last_value,
       s.seqstart::text AS start_value, s.seqincrement::text AS increment,
       format_type(s.seqtypid, NULL) || ' ' || s.seqmin || '..' || s.seqmax || ' cache ' || s.seqcache || CASE WHEN s.seqcycle THEN ' cycle' ELSE ' no cycle' END AS definition,
       tn.nspname AS owner_schema, tc.relname AS owner_table, a.attname AS owner_column
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class tc ON tc.oid = d.refobjid
LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'bluegreen_migrations')`;

type ColumnRow = {
  rel: string;
  name: string;
  num: number;
  type: string;
  notnull: boolean;
  typid: string;
  collation: string | null;
  nondeterministic: boolean;
  generated: string;
  identity: string;
  expr: string | null;
};

export { classifyType };

function detailsOf(c: ColumnRow): ColumnDetails {
  const generated = c.generated === "s" ? "stored" : c.generated === "v" ? "virtual" : null;
  const identity = c.identity === "a" ? "always" : c.identity === "d" ? "by default" : null;
  return { collation: c.collation, ...(c.nondeterministic ? { nondeterministic: true } : {}), generated, expression: c.expr, identity };
}

function sequenceInfo(s: SequenceRow): SequenceInfo {
  return {
    schema: s.schema,
    name: s.name,
    fullName: displayName(s.schema, s.name),
    lastValue: s.last_value,
    startValue: s.start_value,
    increment: s.increment,
    definition: s.definition,
    ownedBy:
      s.owner_schema !== null && s.owner_table !== null && s.owner_column !== null
        ? { schema: s.owner_schema, table: s.owner_table, column: s.owner_column }
        : null,
  };
}

type SequenceRow = {
  schema: string;
  name: string;
  oid: string;
  last_value: string | null;
  start_value: string;
  increment: string;
  definition: string;
  owner_schema: string | null;
  owner_table: string | null;
  owner_column: string | null;
};

function tableInfo(t: { oid: string; schema: string; name: string; kind: string; populated: boolean; pages: string; est_rows: number }): TableInfo {
  return {
    oid: Number(t.oid),
    schema: t.schema,
    name: t.name,
    fullName: displayName(t.schema, t.name),
    kind: t.kind === "p" ? "p" : t.kind === "m" ? "m" : "r",
    populated: t.populated,
    pages: Number(t.pages),
    estimatedRows: Math.max(0, Math.round(t.est_rows)),
    columns: [],
    primaryKey: null,
    uniques: [],
    constraints: [],
    indexes: [],
  };
}

/**
 * Everything parity needs to know about one database, in two round trips on one connection of the
 * pool (QueryBatch): what needs no table list, then what is read per table.
 */
export async function readCatalog(pool: SnapshotPool): Promise<Catalog> {
  return pool.run((client) => readCatalogBatched(new QueryBatch(client)));
}

async function readCatalogBatched(db: QueryBatch): Promise<Catalog> {
  const [tablesResult, sequences, objects, roles] = await Promise.all([
    db.query<{ oid: string; schema: string; name: string; kind: string; populated: boolean; pages: string; est_rows: number }>(TABLES_SQL),
    db.query<SequenceRow>(SEQUENCES_SQL),
    readSchemaObjects(db),
    readRoles(db),
  ]);
  const tables = tablesResult.rows;
  const oids = tables.map((t) => t.oid);
  const [columns, constraints, indexes, attributes, typeRows] = await Promise.all([
    db.query<ColumnRow>(COLUMNS_SQL, [oids]),
    db.query<{ rel: string; type: string; name: string; cols: string[]; def: string }>(CONSTRAINTS_SQL, [oids]),
    db.query<{ rel: string; name: string; def: string; valid: boolean }>(INDEXES_SQL, [oids]),
    readTableAttributes(
      db,
      oids,
      sequences.rows.map((s) => s.oid),
    ),
    db.query<TypeRow>(TYPES_SQL, [oids]),
  ]);
  const types = new Map<string, TypeInfo>();
  for (const row of typeRows.rows) types.set(row.typid, classifyType(row));

  const byOid = new Map<string, TableInfo>();
  const result: Catalog = { tables: new Map(), sequences: new Map(), sequencePrivileges: new Map(), roles, objects };
  for (const t of tables) {
    const info = tableInfo(t);
    const attrs = attributes.tables.get(t.oid);
    if (attrs) info.attributes = attrs;
    byOid.set(t.oid, info);
    result.tables.set(nameKey(t.schema, t.name), info);
  }
  for (const c of columns.rows) {
    const typeInfo = types.get(c.typid) ?? { typid: Number(c.typid), hashClass: "text", collatable: false, hashFunction: "hashtextextended" };
    byOid.get(c.rel)?.columns.push({ name: c.name, num: c.num, type: c.type, notNull: c.notnull, typeInfo, details: detailsOf(c) });
  }
  for (const con of constraints.rows) {
    const table = byOid.get(con.rel);
    if (!table) continue;
    table.constraints.push({ name: con.name, type: con.type, definition: con.def, columns: con.cols });
    if (con.type === "p") table.primaryKey = { name: con.name, columns: con.cols };
    else if (con.type === "u") table.uniques.push({ name: con.name, columns: con.cols, definition: con.def });
  }
  for (const index of indexes.rows) byOid.get(index.rel)?.indexes.push({ name: index.name, definition: index.def, valid: index.valid });
  for (const s of sequences.rows) {
    const key = nameKey(s.schema, s.name);
    result.sequences.set(key, sequenceInfo(s));
    result.sequencePrivileges!.set(key, attributes.sequences.get(s.oid) ?? []);
  }
  return result;
}
