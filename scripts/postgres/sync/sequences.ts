// `sync sequences`: logical replication does not carry sequence values, so before green serves
// writes each of its sequences is set to blue's position. One read per server, one write.

import type pg from "pg";
import { withClient, type Db } from "./connect.js";
import { displayName, literal, qualified } from "./sql.js";

export type SequenceAction =
  /** setval ran on the target. */
  | "set"
  /** The target already held exactly the source's value. */
  | "unchanged"
  /** The target was further along than the source and was left alone (moving it back could reissue used values). */
  | "kept-target-ahead"
  /** No sequence of that name on the target. */
  | "missing-on-target";

export interface SequenceCopy {
  sequence: string;
  sourceValue: string;
  sourceIsCalled: boolean;
  targetBefore: string | null;
  targetIsCalledBefore: boolean | null;
  action: SequenceAction;
}

export interface CopySequencesOptions {
  /** Set the target even when it is ahead of the source; default false. */
  allowDecrease?: boolean;
  /** Plan only: report what would be set. */
  dryRun?: boolean;
  sourceLabel?: string;
  targetLabel?: string;
}

interface SeqValue {
  schema: string;
  name: string;
  lastValue: bigint;
  isCalled: boolean;
  increment: bigint;
}

async function readSequences(client: pg.ClientBase): Promise<SeqValue[]> {
  const { rows } = await client.query<{ schema: string; name: string; increment: string }>(
    `SELECT n.nspname AS schema, c.relname AS name, s.seqincrement::text AS increment
       FROM pg_sequence s
       JOIN pg_class c ON c.oid = s.seqrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_temp%'
      ORDER BY 1, 2`,
  );
  if (rows.length === 0) return [];
  // One statement reads every sequence's own row (last_value and is_called; pg_sequences hides is_called).
  const union = rows.map((row, i) => `SELECT ${i} AS i, last_value::text AS last_value, is_called FROM ${qualified(row)}`).join(" UNION ALL ");
  const values = await client.query<{ i: number; last_value: string; is_called: boolean }>(union);
  const byIndex = new Map(values.rows.map((v) => [v.i, v]));
  return rows.map((row, i) => {
    const v = byIndex.get(i);
    return {
      schema: row.schema,
      name: row.name,
      lastValue: BigInt(v?.last_value ?? "0"),
      isCalled: v?.is_called ?? false,
      increment: BigInt(row.increment),
    };
  });
}

/** Position of a sequence along its direction: the next value it would hand out. */
function nextValue(seq: { lastValue: bigint; isCalled: boolean; increment: bigint }): bigint {
  return seq.isCalled ? seq.lastValue + seq.increment : seq.lastValue;
}

/**
 * Set every sequence on the target to the source's last_value, is_called kept. A target sequence
 * already ahead of the source is kept (unless allowDecrease); one missing on the target is reported.
 */
export async function copySequences(sourceUrl: Db, targetUrl: Db, options: CopySequencesOptions = {}): Promise<SequenceCopy[]> {
  const source = await withClient(sourceUrl, options.sourceLabel ?? "source database", readSequences);
  return withClient(targetUrl, options.targetLabel ?? "target database", async (target) => {
    const existing = new Map((await readSequences(target)).map((s) => [`${s.schema}\u0000${s.name}`, s]));
    const report: SequenceCopy[] = [];
    const sets: string[] = [];
    for (const seq of source) {
      const there = existing.get(`${seq.schema}\u0000${seq.name}`);
      const base = {
        sequence: displayName(seq),
        sourceValue: seq.lastValue.toString(),
        sourceIsCalled: seq.isCalled,
        targetBefore: there ? there.lastValue.toString() : null,
        targetIsCalledBefore: there ? there.isCalled : null,
      };
      if (!there) {
        report.push({ ...base, action: "missing-on-target" });
        continue;
      }
      if (there.lastValue === seq.lastValue && there.isCalled === seq.isCalled) {
        report.push({ ...base, action: "unchanged" });
        continue;
      }
      const ahead = seq.increment > 0n ? nextValue(there) > nextValue(seq) : nextValue(there) < nextValue(seq);
      if (ahead && !options.allowDecrease) {
        report.push({ ...base, action: "kept-target-ahead" });
        continue;
      }
      sets.push(`setval(${literal(qualified(seq))}::regclass, ${seq.lastValue.toString()}, ${seq.isCalled})`);
      report.push({ ...base, action: "set" });
    }
    if (!options.dryRun) {
      // A select list holds at most 1,664 entries: set in chunks.
      for (let i = 0; i < sets.length; i += 500) {
        await target.query(`SELECT ${sets.slice(i, i + 500).join(", ")}`);
      }
    }
    return report;
  });
}
