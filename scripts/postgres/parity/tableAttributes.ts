// Table attributes a switch depends on beyond columns and constraints: persistence (an UNLOGGED
// table cannot be published and is emptied at a crash), row-level security (enabled, forced, the
// policies), replica identity (what UPDATE and DELETE publish), and privileges on tables and
// sequences. Read inside the run's snapshot; compared in tableAttributesDiff.ts.

import type { Queryable } from "./queryBatch.js";

export interface PolicyInfo {
  name: string;
  /** "PERMISSIVE FOR SELECT TO app USING (…) WITH CHECK (…)". */
  definition: string;
}

export interface TableAttributes {
  /** "logged", "unlogged" (temporary tables are never compared). */
  persistence: "logged" | "unlogged";
  rowSecurity: boolean;
  forceRowSecurity: boolean;
  /** "default", "nothing", "full" or "index: CREATE UNIQUE INDEX ON …". */
  replicaIdentity: string;
  policies: PolicyInfo[];
  /** Privileges as "grantee PRIVILEGE" (with " WITH GRANT OPTION" when grantable); grantee PUBLIC for everyone. */
  privileges: string[];
}

export interface Attributes {
  tables: Map<string, TableAttributes>;
  /** Sequence oid → privileges, as for tables. */
  sequences: Map<string, string[]>;
}

const TABLES_SQL = `
SELECT c.oid::int8::text AS rel, c.relpersistence::text AS persistence, c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls,
       c.relreplident::text AS replident,
       (SELECT replace(pg_get_indexdef(i.indexrelid), 'INDEX ' || quote_ident(ic.relname) || ' ON ', 'INDEX ON ')
          FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident) AS replindex
FROM pg_class c WHERE c.oid = ANY($1::oid[])`;

const POLICIES_SQL = `
SELECT p.polrelid::int8::text AS rel, p.polname AS name,
       CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END
       || ' FOR ' || CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END
       || ' TO ' || coalesce((SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END, ', ' ORDER BY 1)
                              FROM unnest(p.polroles) r), 'PUBLIC')
       || coalesce(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
       || coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '') AS def
FROM pg_policy p WHERE p.polrelid = ANY($1::oid[])`;

// Explicit grants, or the owner's defaults when the ACL was never touched (acldefault).
const PRIVILEGES_SQL = `
SELECT c.oid::int8::text AS rel,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee,
       a.privilege_type AS privilege, a.is_grantable AS grantable
FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's'::"char" ELSE 'r'::"char" END, c.relowner))) a
WHERE c.oid = ANY($1::oid[])`;

const REPLICA_IDENTITY: Record<string, string> = { d: "default", n: "nothing", f: "full", i: "index" };

export async function readTableAttributes(pool: Queryable, tableOids: string[], sequenceOids: string[]): Promise<Attributes> {
  const [tables, policies, privileges] = await Promise.all([
    pool.query<{ rel: string; persistence: string; rls: boolean; force_rls: boolean; replident: string; replindex: string | null }>(TABLES_SQL, [tableOids]),
    pool.query<{ rel: string; name: string; def: string }>(POLICIES_SQL, [tableOids]),
    pool.query<{ rel: string; grantee: string; privilege: string; grantable: boolean }>(PRIVILEGES_SQL, [[...tableOids, ...sequenceOids]]),
  ]);
  const grants = new Map<string, string[]>();
  for (const p of privileges.rows) {
    const list = grants.get(p.rel) ?? [];
    list.push(`${p.grantee} ${p.privilege}${p.grantable ? " WITH GRANT OPTION" : ""}`);
    grants.set(p.rel, list);
  }
  const out: Attributes = { tables: new Map(), sequences: new Map() };
  for (const t of tables.rows) {
    const identity = REPLICA_IDENTITY[t.replident] ?? t.replident;
    out.tables.set(t.rel, {
      persistence: t.persistence === "u" ? "unlogged" : "logged",
      rowSecurity: t.rls,
      forceRowSecurity: t.force_rls,
      replicaIdentity: identity === "index" ? `index: ${t.replindex ?? "?"}` : identity,
      policies: [],
      privileges: (grants.get(t.rel) ?? []).sort(),
    });
  }
  for (const p of policies.rows) out.tables.get(p.rel)?.policies.push({ name: p.name, definition: p.def });
  for (const oid of sequenceOids) out.sequences.set(oid, (grants.get(oid) ?? []).sort());
  return out;
}

/** Role names on a server, for comparing privileges only of roles both sides have. */
export async function readRoles(pool: Queryable): Promise<Set<string>> {
  const res = await pool.query<{ rolname: string }>("SELECT rolname FROM pg_roles");
  return new Set(["PUBLIC", ...res.rows.map((r) => r.rolname)]);
}
