// Paired databases: logical replication carries rows, never DDL, so a migration is applied to
// both sides, in an order the replication running between them can bear, and the replication set
// follows the schema.
//
// Order comes from what is observed, not from a flag: each subscription on one side reading a
// publication of the other is an edge publisher → subscriber. Expand (additive) goes to the
// subscriber first: once it has the new column or table, the publisher's changes that carry it
// apply there. Contract (destructive) goes to the publisher first: once it no longer sends the
// column, the subscriber may drop it. With both directions running the two rules conflict; the
// writer decides (the other direction carries nothing while only the writer takes writes).
//
// A table a migration created joins every publication an edge reads, and each subscription
// reading a changed publication is refreshed. The writer's copy is the one with rows: its rows
// written between the CREATE and the refresh were never streamed (the table was not published
// yet, then not yet in the subscription), so the subscription fed by the writer refreshes WITH
// (copy_data = true) after the subscriber's own copy is emptied (it holds at most the rows the
// migration itself inserted, which the copy brings back). The other direction refreshes without
// a copy.

import type pg from "pg";
import { JOURNAL_SCHEMA } from "./journal.js";
import type { Phase } from "./files.js";
import { otherColor, type Color } from "./database.js";

export type { Color } from "./database.js";

export interface ReplicationStatement {
  on: Color;
  sql: string;
  why: string;
  /** A refresh that copies the created tables: whose rows, into which side, by which subscription. */
  copy?: { subscription: string; from: Color; to: Color; tables: string[] };
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const qualified = (schema: string, name: string) => `${ident(schema)}.${ident(name)}`;

export interface ReplicationState {
  /** User tables (schema.table, quoted) outside the journal schema. */
  tables: Set<string>;
  /** Publications on this side listing their tables (not FOR ALL TABLES), with those tables. */
  publications: Map<string, Set<string>>;
  /** FOR ALL TABLES publications on this side: new tables join by themselves. */
  allTablesPublications?: Set<string>;
  /** Subscriptions in this database and the publications they read. */
  subscriptions: Array<{ name: string; publications: string[]; enabled?: boolean }>;
  /** Tables without a primary key or replica identity: UPDATE/DELETE on them fail once published. */
  withoutIdentity: Set<string>;
}

/** A subscription on `subscriber` reading publications that exist on `publisher`. */
export interface Edge {
  subscription: string;
  publisher: Color;
  subscriber: Color;
  publications: string[];
  enabled: boolean;
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
  const pubs = await client.query<{ pubname: string; all: boolean; schema: string | null; name: string | null }>(
    `SELECT p.pubname, p.puballtables AS all, n.nspname AS schema, c.relname AS name
       FROM pg_publication p LEFT JOIN pg_publication_rel pr ON pr.prpubid = p.oid
       LEFT JOIN pg_class c ON c.oid = pr.prrelid LEFT JOIN pg_namespace n ON n.oid = c.relnamespace`,
  );
  // pg_subscription is readable by superusers and (PostgreSQL 16+) pg_create_subscription members; others see none.
  let subs: Array<{ name: string; publications: string[]; enabled: boolean }> = [];
  try {
    const res = await client.query<{ name: string; publications: string[]; enabled: boolean }>(
      `SELECT subname AS name, subpublications::text[] AS publications, subenabled AS enabled FROM pg_subscription
        WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY subname`,
    );
    subs = res.rows;
  } catch (error) {
    if ((error as { code?: string }).code !== "42501") throw error;
  }
  const publications = new Map<string, Set<string>>();
  const allTablesPublications = new Set<string>();
  for (const r of pubs.rows) {
    if (r.all) {
      allTablesPublications.add(r.pubname);
      continue;
    }
    const set = publications.get(r.pubname) ?? new Set<string>();
    if (r.schema !== null && r.name !== null) set.add(qualified(r.schema, r.name));
    publications.set(r.pubname, set);
  }
  return {
    tables: new Set(tables.rows.map((t) => qualified(t.schema, t.name))),
    publications,
    allTablesPublications,
    subscriptions: subs,
    withoutIdentity: new Set(tables.rows.filter((t) => !t.ident).map((t) => qualified(t.schema, t.name))),
  };
}

const hasPublication = (s: ReplicationState, name: string) => s.publications.has(name) || (s.allTablesPublications?.has(name) ?? false);

/** Every subscription on one side that reads a publication of the other. */
export function edgesOf(state: Record<Color, ReplicationState>): Edge[] {
  const edges: Edge[] = [];
  for (const subscriber of ["green", "blue"] as const) {
    const publisher = otherColor(subscriber);
    for (const sub of state[subscriber].subscriptions) {
      const publications = sub.publications.filter((p) => hasPublication(state[publisher], p));
      if (publications.length > 0) edges.push({ subscription: sub.name, publisher, subscriber, publications, enabled: sub.enabled !== false });
    }
  }
  return edges;
}

export const describeEdge = (e: Edge) => `${e.subscription} (${e.publisher} → ${e.subscriber})`;

/** Which side gets a phase's DDL first when only the writer is known. */
export function applyOrder(phase: Phase, writer: Color): [Color, Color] {
  const receiver = otherColor(writer);
  return phase === "expand" ? [receiver, writer] : [writer, receiver];
}

export interface Sequencing {
  order: [Color, Color];
  /** Whose rows a created table starts from (the side that writes); null: copy nothing. */
  source: Color | null;
  /** How the order was decided, when replication decided it. */
  note: string | null;
  /**
   * The writer was named and the one direction running says otherwise: the order follows the
   * replication (safe for it whoever writes), but which copy of a new table holds the rows is
   * in doubt, so a run that creates tables is refused with this reason.
   */
  contested?: string;
}

/**
 * The order of the two sides for a phase, from the edges observed. One direction: the order it
 * requires (expand: its subscriber first; contract: its publisher first), safe for that
 * subscription whoever writes. Both directions: the writer's order (the other direction carries
 * nothing while only the writer takes writes). None: the writer's order.
 */
export function sequence(phase: Phase, edges: Edge[], writer: Color, writerFrom: "flag" | "default" = "flag"): Sequencing {
  const directions = new Set(edges.map((e) => e.publisher));
  if (directions.size === 0) return { order: applyOrder(phase, writer), source: null, note: null };
  if (directions.size === 2) {
    return {
      order: applyOrder(phase, writer),
      source: writer,
      note: `replication runs both ways (${edges.map(describeEdge).join(", ")}): ordered for ${writer} as the writer${writerFrom === "default" ? " (the default; --writer names it)" : ""}`,
    };
  }
  const publisher = [...directions][0]!;
  const flow = edges.map(describeEdge).join(", ");
  const order = applyOrder(phase, publisher);
  const wanted = applyOrder(phase, writer);
  if (publisher === writer) return { order, source: publisher, note: `following ${flow}: ${order[0]} first` };
  const note = `following ${flow}: ${order[0]} first, not ${wanted[0]} as the ${writerFrom === "default" ? "default " : ""}writer ${writer} would have it (${phase === "expand" ? `${publisher} would send rows in a shape ${otherColor(publisher)} cannot apply yet` : `${otherColor(publisher)} would lose a column ${publisher} still sends`})`;
  if (writerFrom === "default") return { order, source: publisher, note };
  return {
    order,
    source: null,
    note,
    contested:
      `the writer was named ${writer}, but the only replication running is ${flow}: a table this run creates would be copied from the side that does not write, or not at all. ` +
      `Check which color takes writes; if ${publisher} takes none, stop that replication first (npm run sync -- stop), or run without --writer to follow it`,
  };
}

/**
 * The statements that bring the replication set in line with the schema after a migration:
 * tables created on a side join the publications an edge reads there; the subscriber fed by
 * `source` empties its copy and refreshes with a copy; other subscriptions reading a changed
 * publication refresh without one.
 */
export function replicationCatchUp(
  before: Record<Color, ReplicationState>,
  after: Record<Color, ReplicationState>,
  source: Color | null,
): { statements: ReplicationStatement[]; warnings: string[] } {
  const edges = edgesOf(after);
  const truncates: ReplicationStatement[] = [];
  const adds: ReplicationStatement[] = [];
  const refreshes: ReplicationStatement[] = [];
  const warnings: string[] = [];
  const created = (side: Color) => [...after[side].tables].filter((t) => !before[side].tables.has(t)).sort();
  const addedTo = new Map<string, string[]>(); // "side/publication" → tables it gains
  for (const side of ["blue", "green"] as const) {
    const fresh = created(side);
    const dropped = [...before[side].tables].filter((t) => !after[side].tables.has(t));
    const read = new Set(edges.filter((e) => e.publisher === side).flatMap((e) => e.publications));
    for (const pub of [...read].sort()) {
      const listed = after[side].publications.get(pub);
      const gains = listed ? fresh.filter((t) => !listed.has(t)) : fresh;
      if (listed && gains.length > 0)
        adds.push({ on: side, sql: `ALTER PUBLICATION ${ident(pub)} ADD TABLE ${gains.join(", ")}`, why: `tables the migration created join ${pub}` });
      const lost = listed ? dropped.some((t) => before[side].publications.get(pub)?.has(t)) : dropped.length > 0;
      if (gains.length > 0 || lost) addedTo.set(`${side}/${pub}`, gains);
      for (const t of gains) {
        if (after[side].withoutIdentity.has(t)) {
          warnings.push(
            `${side}: ${t} has no primary key or replica identity: UPDATE and DELETE on it fail while it is published (add a primary key, or ALTER TABLE … REPLICA IDENTITY FULL)`,
          );
        }
      }
    }
  }
  for (const edge of edges) {
    const changed = edge.publications.filter((p) => addedTo.has(`${edge.publisher}/${p}`));
    if (changed.length === 0) continue;
    if (!edge.enabled) {
      warnings.push(
        `${describeEdge(edge)} is disabled: once enabled, run ALTER SUBSCRIPTION ${ident(edge.subscription)} REFRESH PUBLICATION on ${edge.subscriber}`,
      );
      continue;
    }
    const gained = [...new Set(changed.flatMap((p) => addedTo.get(`${edge.publisher}/${p}`) ?? []))].filter((t) => after[edge.subscriber].tables.has(t)).sort();
    if (edge.publisher === source && gained.length > 0) {
      const travels = edges.some((e) => e.publisher === edge.subscriber && e.publications.some((p) => after[edge.subscriber].allTablesPublications?.has(p)));
      if (travels)
        warnings.push(
          `${edge.subscriber} publishes FOR ALL TABLES: its copy of ${gained.join(", ")} is not emptied first (a TRUNCATE would travel to ${edge.publisher}); rows the migration inserted there conflict with the copy`,
        );
      else
        truncates.push({
          on: edge.subscriber,
          sql: `TRUNCATE ${gained.join(", ")}`,
          why: `${edge.subscriber}'s copy of the new tables is emptied: ${edge.publisher}'s copy (every row written since it was created) is copied in`,
        });
      refreshes.push({
        on: edge.subscriber,
        sql: `ALTER SUBSCRIPTION ${ident(edge.subscription)} REFRESH PUBLICATION WITH (copy_data = true)`,
        why: `${edge.subscription} picks up the new tables with the rows ${edge.publisher} wrote to them since they were created`,
        copy: { subscription: edge.subscription, from: edge.publisher, to: edge.subscriber, tables: gained },
      });
    } else {
      refreshes.push({
        on: edge.subscriber,
        sql: `ALTER SUBSCRIPTION ${ident(edge.subscription)} REFRESH PUBLICATION WITH (copy_data = false)`,
        why: `${edge.subscription} picks up the new table list`,
      });
    }
  }
  // Emptied before any publication lists them: a TRUNCATE of a published table would travel.
  return { statements: [...truncates, ...adds, ...refreshes], warnings };
}
