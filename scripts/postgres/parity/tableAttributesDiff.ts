// The schema diff of table attributes a switch depends on: persistence, row-level security and
// its policies, replica identity, index validity; and privileges on tables and sequences, which
// are a warning class of their own (a difference under --strict-privileges).

import type { Catalog, TableInfo } from "./catalog.js";
import type { SchemaDifference, SchemaDifferenceKind } from "./types.js";

type Push = (kind: SchemaDifferenceKind, blue: string, green: string, what: string) => void;

function pusher(table: string, out: SchemaDifference[]): Push {
  return (kind, blue, green, what) => out.push({ kind, object: table, blue, green, message: `${table}: ${what} is ${blue} on blue but ${green} on green` });
}

function diffPolicies(table: string, b: TableInfo, g: TableInfo, out: SchemaDifference[]): void {
  const bp = new Map((b.attributes?.policies ?? []).map((p) => [p.name, p.definition]));
  const gp = new Map((g.attributes?.policies ?? []).map((p) => [p.name, p.definition]));
  for (const [name, def] of bp) {
    const other = gp.get(name);
    if (other === undefined)
      out.push({ kind: "policy-only-on-blue", object: table, blue: `${name} ${def}`, message: `${table}: policy ${name} exists on blue only: ${def}` });
    else if (other !== def)
      out.push({
        kind: "policy-definition",
        object: table,
        blue: def,
        green: other,
        message: `${table}: policy ${name} differs: blue ${def} — green ${other}`,
      });
  }
  for (const [name, def] of gp) {
    if (!bp.has(name))
      out.push({ kind: "policy-only-on-green", object: table, green: `${name} ${def}`, message: `${table}: policy ${name} exists on green only: ${def}` });
  }
}

/** An index present on both sides (same definition) but valid on one only: a failed CREATE INDEX CONCURRENTLY. */
function diffIndexValidity(table: string, b: TableInfo, g: TableInfo, push: Push): void {
  const gValid = new Map(g.indexes.map((i) => [i.definition, i]));
  for (const bi of b.indexes) {
    const gi = gValid.get(bi.definition);
    if (!gi || bi.valid === undefined || gi.valid === undefined || bi.valid === gi.valid) continue;
    const show = (v: boolean) => (v ? "valid" : "INVALID (a failed CREATE INDEX CONCURRENTLY: not used, not enforced)");
    push("index-validity", show(bi.valid), show(gi.valid), `index ${bi.valid ? gi.name : bi.name}`);
  }
}

export function diffTableAttributes(table: string, b: TableInfo, g: TableInfo): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  const push = pusher(table, out);
  diffIndexValidity(table, b, g, push);
  const ba = b.attributes;
  const ga = g.attributes;
  if (!ba || !ga) return out;
  if (ba.persistence !== ga.persistence) push("table-persistence", ba.persistence.toUpperCase(), ga.persistence.toUpperCase(), "persistence");
  const rls = (enabled: boolean, forced: boolean) => (enabled ? (forced ? "enabled and forced" : "enabled") : forced ? "disabled (forced)" : "disabled");
  if (ba.rowSecurity !== ga.rowSecurity || ba.forceRowSecurity !== ga.forceRowSecurity) {
    push("row-security", rls(ba.rowSecurity, ba.forceRowSecurity), rls(ga.rowSecurity, ga.forceRowSecurity), "row-level security");
  }
  diffPolicies(table, b, g, out);
  if (ba.replicaIdentity !== ga.replicaIdentity) push("replica-identity", ba.replicaIdentity, ga.replicaIdentity, "REPLICA IDENTITY");
  return out;
}

/**
 * Privileges of one table or sequence, for the roles (and PUBLIC) that exist on both sides: one
 * warning per role whose privileges differ, naming what each side has only.
 */
export function diffPrivileges(
  object: string,
  word: "table" | "sequence" | "materialized view",
  blue: string[],
  green: string[],
  roles: (role: string) => boolean,
): SchemaDifference[] {
  const byRole = (list: string[]) => {
    const m = new Map<string, Set<string>>();
    for (const p of list) {
      const [role, ...rest] = splitGrant(p);
      if (!roles(role)) continue;
      m.set(role, (m.get(role) ?? new Set()).add(rest.join(" ")));
    }
    return m;
  };
  const b = byRole(blue);
  const g = byRole(green);
  const out: SchemaDifference[] = [];
  for (const role of [...new Set([...b.keys(), ...g.keys()])].sort()) {
    const bs = b.get(role) ?? new Set<string>();
    const gs = g.get(role) ?? new Set<string>();
    const onlyBlue = [...bs].filter((p) => !gs.has(p)).sort();
    const onlyGreen = [...gs].filter((p) => !bs.has(p)).sort();
    if (onlyBlue.length === 0 && onlyGreen.length === 0) continue;
    const parts = [
      onlyBlue.length > 0 ? `${onlyBlue.join(", ")} on blue only` : "",
      onlyGreen.length > 0 ? `${onlyGreen.join(", ")} on green only` : "",
    ].filter(Boolean);
    out.push({
      kind: "privileges",
      object,
      role,
      blue: [...bs].sort().join(", ") || "none",
      green: [...gs].sort().join(", ") || "none",
      message: `${word} ${object}: role ${role} has ${parts.join("; ")}`,
    });
  }
  return out;
}

/** "app INSERT WITH GRANT OPTION" → ["app", "INSERT", "WITH", "GRANT", "OPTION"]; role names may hold spaces, privileges do not. */
function splitGrant(grant: string): [string, ...string[]] {
  const m = /^(.*?) ([A-Z]+(?: WITH GRANT OPTION)?)$/.exec(grant);
  return m ? [m[1]!, m[2]!] : [grant];
}

/** Privilege warnings over every table pair and sequence pair in scope. */
export function privilegeWarnings(blue: Catalog, green: Catalog, tableKeys: string[], sequenceInScope: (key: string) => boolean): SchemaDifference[] {
  const roles = (role: string) => (blue.roles?.has(role) ?? false) && (green.roles?.has(role) ?? false);
  const out: SchemaDifference[] = [];
  for (const key of tableKeys) {
    const b = blue.tables.get(key);
    const g = green.tables.get(key);
    if (!b?.attributes || !g?.attributes) continue;
    out.push(...diffPrivileges(b.fullName, b.kind === "m" ? "materialized view" : "table", b.attributes.privileges, g.attributes.privileges, roles));
  }
  for (const [key, s] of blue.sequences) {
    const bp = blue.sequencePrivileges?.get(key);
    const gp = green.sequencePrivileges?.get(key);
    if (!bp || !gp || !sequenceInScope(key)) continue;
    out.push(...diffPrivileges(s.fullName, "sequence", bp, gp, roles));
  }
  return out;
}
