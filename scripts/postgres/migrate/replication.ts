// Paired databases: logical replication carries rows, never DDL, so a migration is applied to
// both sides, and the replication set follows the schema: a table a migration creates is added to
// our publication on each side (ALTER PUBLICATION … ADD TABLE) and each subscription reading that
// publication is refreshed (ALTER SUBSCRIPTION … REFRESH PUBLICATION WITH (copy_data = false):
// the migration created the table, with the same rows if any, on both sides).
//
// Order keeps both directions applying. Expand (additive) goes to the side that only receives
// first: once the subscriber has the new column or table, the writer's changes that carry it apply
// there. Contract (destructive) goes to the writer first: once it no longer sends the column,
// the subscriber may drop it.

import type pg from "pg";
import { SYNC_NAMES } from "../sync/index.js";
import { JOURNAL_SCHEMA } from "./journal.js";
import type { Phase } from "./files.js";

export type Color = "blue" | "green";

export interface ReplicationStatement {
  on: Color;
  sql: string;
  why: string;
}

const OUR_PUBLICATIONS: readonly string[] = [SYNC_NAMES.forward, SYNC_NAMES.reverse];

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const qualified = (schema: string, name: string) => `${ident(schema)}.${ident(name)}`;

export interface ReplicationState {
  /** User tables (schema.table, quoted) outside the journal schema. */
  tables: Set<string>;
  /** Our publications on this side (not FOR ALL TABLES), with their tables. */
  publications: Map<string, Set<string>>;
  /** Our subscriptions on this side and the publications they read. */
  subscriptions: Array<{ name: string; publications: string[] }>;
  /** Tables without a primary key or replica identity: UPDATE/DELETE on them fail once published. */
  withoutIdentity: Set<string>;
}

export async function readReplicationState(client: pg.ClientBase): Promise<ReplicationState> {
  const tables = await client.query<{ schema: string; name: string; ident: boolean }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            (c.relreplident = 'f' OR (c.relreplident = 'd' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))
             OR (c.relreplident = 'i' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident))) AS ident
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', $1) AND n.nspname NOT LIKE 'pg\\_%'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`,
    [JOURNAL_SCHEMA],
  );
  const pubs = await client.query<{ pubname: string; schema: string | null; name: string | null }>(
    `SELECT p.pubname, n.nspname AS schema, c.relname AS name
       FROM pg_publication p LEFT JOIN pg_publication_rel pr ON pr.prpubid = p.oid
       LEFT JOIN pg_class c ON c.oid = pr.prrelid LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE p.pubname = ANY($1::text[]) AND NOT p.puballtables`,
    [OUR_PUBLICATIONS],
  );
  // pg_subscription is readable by superusers and (PostgreSQL 16+) pg_create_subscription members; others have none of ours.
  let subs: Array<{ name: string; publications: string[] }> = [];
  try {
    const res = await client.query<{ name: string; publications: string[] }>(
      `SELECT subname AS name, subpublications::text[] AS publications FROM pg_subscription
        WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND subname = ANY($1::text[])`,
      [OUR_PUBLICATIONS],
    );
    subs = res.rows;
  } catch (error) {
    if ((error as { code?: string }).code !== "42501") throw error;
  }
  const publications = new Map<string, Set<string>>();
  for (const r of pubs.rows) {
    const set = publications.get(r.pubname) ?? new Set<string>();
    if (r.schema !== null && r.name !== null) set.add(qualified(r.schema, r.name));
    publications.set(r.pubname, set);
  }
  return {
    tables: new Set(tables.rows.map((t) => qualified(t.schema, t.name))),
    publications,
    subscriptions: subs,
    withoutIdentity: new Set(tables.rows.filter((t) => !t.ident).map((t) => qualified(t.schema, t.name))),
  };
}

/** Which side gets a phase's DDL first. `writer` serves the application's writes now. */
export function applyOrder(phase: Phase, writer: Color): [Color, Color] {
  const receiver: Color = writer === "blue" ? "green" : "blue";
  return phase === "expand" ? [receiver, writer] : [writer, receiver];
}

/**
 * The statements that bring the replication set in line with the schema after a migration:
 * tables created on a side join that side's publications; subscriptions reading a publication
 * whose table list changed (added, or dropped by the migration) are refreshed.
 */
export function replicationCatchUp(before: Record<Color, ReplicationState>, after: Record<Color, ReplicationState>): { statements: ReplicationStatement[]; warnings: string[] } {
  const statements: ReplicationStatement[] = [];
  const warnings: string[] = [];
  const changedPublications = new Set<string>();
  for (const side of ["blue", "green"] as const) {
    const created = [...after[side].tables].filter((t) => !before[side].tables.has(t)).sort();
    const dropped = [...before[side].tables].filter((t) => !after[side].tables.has(t));
    for (const [pub, tables] of after[side].publications) {
      const add = created.filter((t) => !tables.has(t));
      if (add.length > 0) {
        statements.push({ on: side, sql: `ALTER PUBLICATION ${ident(pub)} ADD TABLE ${add.join(", ")}`, why: `tables the migration created join ${pub}` });
        changedPublications.add(pub);
        for (const t of add) {
          if (after[side].withoutIdentity.has(t)) {
            warnings.push(`${side}: ${t} has no primary key or replica identity: UPDATE and DELETE on it fail while it is published (add a primary key, or ALTER TABLE … REPLICA IDENTITY FULL)`);
          }
        }
      }
      if (dropped.some((t) => before[side].publications.get(pub)?.has(t))) changedPublications.add(pub);
    }
  }
  for (const side of ["blue", "green"] as const) {
    for (const sub of after[side].subscriptions) {
      if (sub.publications.some((p) => changedPublications.has(p))) {
        statements.push({ on: side, sql: `ALTER SUBSCRIPTION ${ident(sub.name)} REFRESH PUBLICATION WITH (copy_data = false)`, why: `${sub.name} picks up the new table list` });
      }
    }
  }
  return { statements, warnings };
}
