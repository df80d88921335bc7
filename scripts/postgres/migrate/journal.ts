// The journal: node-pg-migrate's own table, one per phase, in a schema of its own:
// bluegreen_migrations.expand and bluegreen_migrations.contract (id, name, run_on). Each database
// keeps its own journal; parity and sync leave that schema out (it is per-database by design and
// must not be replicated: both sides record their own run).

import type pg from "pg";
import type { Phase } from "./files.js";

export const JOURNAL_SCHEMA = "bluegreen_migrations";

export interface JournalEntry {
  name: string;
  runOn: string;
}

/** What one database has applied, per phase, in the order it applied them. Read-only. */
export async function readJournal(client: pg.ClientBase): Promise<Record<Phase, JournalEntry[]>> {
  const out: Record<Phase, JournalEntry[]> = { expand: [], contract: [] };
  for (const phase of ["expand", "contract"] as const) {
    const exists = await client.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [`${JOURNAL_SCHEMA}.${phase}`]);
    if (!exists.rows[0]?.t) continue;
    const rows = await client.query<{ name: string; run_on: Date | string }>(`SELECT name, run_on FROM "${JOURNAL_SCHEMA}"."${phase}" ORDER BY run_on, id`);
    out[phase] = rows.rows.map((r) => ({ name: r.name, runOn: r.run_on instanceof Date ? r.run_on.toISOString() : String(r.run_on) }));
  }
  return out;
}
