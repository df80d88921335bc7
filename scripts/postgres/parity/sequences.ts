// Sequences: logical replication does not carry them, so after a switch green must not hand
// out a value that already exists. Green's last value must be ≥ the largest key it serves
// and ≥ blue's (mirrored for descending sequences).

import type { Catalog, SequenceInfo } from "./catalog.js";
import { cannotRead } from "./errors.js";
import { nameKey } from "./names.js";
import { quoteIdent, quoteTable } from "./sql.js";
import type { SnapshotPool } from "./snapshotPool.js";
import type { SchemaDifference, SequenceResult } from "./types.js";

function effective(s: SequenceInfo): bigint {
  // Never called: the next value is start, so the "last" value is start - increment.
  return s.lastValue !== null ? BigInt(s.lastValue) : BigInt(s.startValue) - BigInt(s.increment);
}

function toBig(text: string | null): bigint | null {
  if (text === null || !/^-?\d+$/.test(text)) return null;
  return BigInt(text);
}

export async function compareSequences(
  blue: Catalog,
  green: Catalog,
  greenPool: SnapshotPool,
  inScope: (seq: SequenceInfo) => boolean,
): Promise<{ results: SequenceResult[]; schema: SchemaDifference[] }> {
  const results: SequenceResult[] = [];
  const schema: SchemaDifference[] = [];
  for (const [key, b] of blue.sequences) {
    if (inScope(b) && !green.sequences.has(key)) {
      schema.push({ kind: "sequence-only-on-blue", object: b.fullName, message: `sequence ${b.fullName} exists on blue only` });
    }
  }
  const work = [...green.sequences]
    .filter(([, g]) => inScope(g))
    .map(async ([key, g]): Promise<SequenceResult> => {
      const b = blue.sequences.get(key);
      if (!b) schema.push({ kind: "sequence-only-on-green", object: g.fullName, message: `sequence ${g.fullName} exists on green only` });
      const descending = BigInt(g.increment) < 0n;
      let maxKey: bigint | null = null;
      let maxText: string | null = null;
      const owner = g.ownedBy;
      const ownerTable = owner ? green.tables.get(nameKey(owner.schema, owner.table)) : undefined;
      if (owner && ownerTable?.columns.some((c) => c.name === owner.column)) {
        const res = await greenPool
          .query<{ v: string | null }>(
            `SELECT ${descending ? "min" : "max"}(${quoteIdent(owner.column)})::text AS v FROM ${quoteTable(owner.schema, owner.table)}`,
          )
          .catch((error: unknown) => {
            throw cannotRead(`table ${ownerTable!.fullName} (green, for sequence ${g.fullName})`, error);
          });
        maxText = res.rows[0]?.v ?? null;
        maxKey = toBig(maxText);
      }
      const gEff = effective(g);
      const bEff = b ? effective(b) : null;
      const behind = (x: bigint | null) => x !== null && (descending ? gEff > x : gEff < x);
      const problems: string[] = [];
      if (behind(maxKey))
        problems.push(
          `green's last value ${gEff} is behind the ${descending ? "smallest" : "largest"} key ${maxText} in ${owner!.schema}.${owner!.table}.${owner!.column}`,
        );
      if (behind(bEff)) problems.push(`green's last value ${gEff} is behind blue's ${bEff}`);
      return {
        sequence: g.fullName,
        ownedBy: owner ? `${owner.schema}.${owner.table}.${owner.column}` : null,
        blueLastValue: bEff?.toString() ?? null,
        greenLastValue: gEff.toString(),
        greenMaxKey: maxText,
        status: problems.length > 0 ? "behind" : "ok",
        ...(problems.length > 0 ? { message: `${problems.join("; ")} (run \`npm run sync -- sequences\`)` } : {}),
      };
    });
  results.push(...(await Promise.all(work)));
  results.sort((x, y) => (x.sequence < y.sequence ? -1 : 1));
  return { results, schema };
}
