// Large objects live outside every table (pg_largeobject), so no table's hash covers them. Each
// side's are listed with owner and privileges, and those on both sides are compared by the md5
// of their content (lo_get, in the run's snapshot). Reported as schema differences naming the OID.

import { cannotRead } from "./errors.js";
import type { SnapshotPool } from "./snapshotPool.js";
import type { SchemaDifference } from "./types.js";

interface LargeObjectMeta {
  owner: string;
  acl: string;
}

/** Content hashes per query: bounds the rows a query returns, not the size of one object. */
const HASH_BATCH = 256;

const LIST_SQL = `SELECT m.oid::int8::text AS oid, pg_get_userbyid(m.lomowner) AS owner, coalesce(m.lomacl::text, '') AS acl FROM pg_largeobject_metadata m`;

async function list(pool: SnapshotPool): Promise<Map<string, LargeObjectMeta>> {
  const res = await pool.query<{ oid: string; owner: string; acl: string }>(LIST_SQL);
  return new Map(res.rows.map((r) => [r.oid, { owner: r.owner, acl: r.acl }]));
}

async function contentHashes(pool: SnapshotPool, oids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < oids.length; i += HASH_BATCH) {
    const batch = oids.slice(i, i + HASH_BATCH);
    try {
      const res = await pool.query<{ oid: string; h: string }>(
        "SELECT o::int8::text AS oid, md5(x.c) || ':' || octet_length(x.c) AS h FROM unnest($1::oid[]) AS o, LATERAL (SELECT lo_get(o) AS c) AS x",
        [batch],
      );
      for (const r of res.rows) out.set(r.oid, r.h);
    } catch (error) {
      throw cannotRead(`large objects (${pool.target.side}, OIDs ${batch[0]}…${batch[batch.length - 1]})`, error);
    }
  }
  return out;
}

export interface LargeObjectComparison {
  blue: number;
  green: number;
  differences: SchemaDifference[];
}

export async function compareLargeObjects(blue: SnapshotPool, green: SnapshotPool): Promise<LargeObjectComparison> {
  const [b, g] = await Promise.all([list(blue), list(green)]);
  const differences: SchemaDifference[] = [];
  const both: string[] = [];
  const object = (oid: string) => `large object ${oid}`;
  for (const [oid, meta] of b) {
    const other = g.get(oid);
    if (!other) {
      differences.push({ kind: "large-object-only-on-blue", object: object(oid), blue: meta.owner, message: `large object ${oid} exists on blue only` });
      continue;
    }
    both.push(oid);
    if (meta.owner !== other.owner) {
      differences.push({
        kind: "large-object-owner",
        object: object(oid),
        blue: meta.owner,
        green: other.owner,
        message: `large object ${oid} is owned by ${meta.owner} on blue but ${other.owner} on green`,
      });
    }
    if (meta.acl !== other.acl) {
      differences.push({
        kind: "large-object-privileges",
        object: object(oid),
        blue: meta.acl,
        green: other.acl,
        message: `large object ${oid}: privileges are ${meta.acl || "the owner's"} on blue but ${other.acl || "the owner's"} on green`,
      });
    }
  }
  for (const oid of g.keys()) {
    if (!b.has(oid))
      differences.push({
        kind: "large-object-only-on-green",
        object: object(oid),
        green: g.get(oid)!.owner,
        message: `large object ${oid} exists on green only`,
      });
  }
  const [bh, gh] = await Promise.all([contentHashes(blue, both), contentHashes(green, both)]);
  for (const oid of both) {
    const x = bh.get(oid);
    const y = gh.get(oid);
    if (x !== y) {
      const size = (h: string | undefined) => (h ? `${h.split(":")[1]} bytes` : "unreadable");
      differences.push({
        kind: "large-object-content",
        object: object(oid),
        blue: x,
        green: y,
        message: `large object ${oid}: content differs (${size(x)} on blue, ${size(y)} on green)`,
      });
    }
  }
  differences.sort((x, y) => Number(x.object.replace(/\D/g, "")) - Number(y.object.replace(/\D/g, "")));
  return { blue: b.size, green: g.size, differences };
}
