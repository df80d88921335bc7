// JournalStore over SSM Parameter Store: `/bluegreen/<project>/<stack>/journal`, a JSON document.
//
// Size: a parameter value holds 4 KB in the standard tier and 8 KB in the advanced tier. The
// journal is written with Tier "Intelligent-Tiering": standard while it fits in 4 KB (free),
// advanced once it grows (about $0.05 per month for the one parameter). Within the 8 KB:
// 1. plain JSON when it fits (readable in the console: `aws ssm get-parameter`);
// 2. otherwise gzip + base64 inside a small JSON envelope {"bluegreenJournal":"gzip+base64","data":...}
//    (gate readings repeat the same keys, so they compress roughly 8–10×);
// 3. otherwise the caller's compaction (or the default: drop the oldest half of the longest
//    array, repeatedly) is applied before encoding again; the dropped count is kept in the
//    envelope so the report can say the SSM copy was compacted. The run's full journal is never
//    lost: the command line also writes it into the report (reports/<stack>-<time>.json).

import { gunzipSync, gzipSync } from "node:zlib";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { JournalStore } from "../core/ports.js";
import { awsErrorCode, classifyAwsError, sendOptions } from "./errors.js";
import { ssmSdk } from "./sdk.js";
import { ssmParameterPrefix, type SsmParameterOptions, type StackIdentity } from "./ssmLock.js";

const { GetParameterCommand, PutParameterCommand } = ssmSdk();

/** The advanced-tier limit for a parameter value, in bytes. */
export const SSM_MAX_VALUE_BYTES = 8192;

interface Envelope {
  bluegreenJournal: "gzip+base64";
  data: string;
  compacted?: number;
}

export type Compactor = (journal: unknown) => { journal: unknown; dropped: number } | null;

export function encodeJournal(journal: unknown, compact: Compactor = compactJournal): string {
  let current = journal;
  let dropped = 0;
  for (let round = 0; round < 32; round++) {
    const json = JSON.stringify(current);
    if (dropped === 0 && Buffer.byteLength(json) <= SSM_MAX_VALUE_BYTES) return json;
    const envelope: Envelope = { bluegreenJournal: "gzip+base64", data: gzipSync(json, { level: 9 }).toString("base64") };
    if (dropped > 0) envelope.compacted = dropped;
    const packed = JSON.stringify(envelope);
    if (Buffer.byteLength(packed) <= SSM_MAX_VALUE_BYTES) return packed;
    const next = compact(current);
    if (!next) break;
    current = next.journal;
    dropped += next.dropped;
  }
  throw new Error(`the journal does not fit in an SSM parameter (${SSM_MAX_VALUE_BYTES} bytes) even compacted`);
}

export function decodeJournal(value: string): unknown {
  const parsed = JSON.parse(value) as unknown;
  if (parsed && typeof parsed === "object" && (parsed as Envelope).bluegreenJournal === "gzip+base64") {
    return JSON.parse(gunzipSync(Buffer.from((parsed as Envelope).data, "base64")).toString("utf8"));
  }
  return parsed;
}

/**
 * Default compaction for the engine's journal: the oldest half of the bulky, repetitive timeline
 * entries (gate readings, metric errors) goes first; state, decisions and every other event stay.
 * Anything else: the generic halving below.
 */
export function compactJournal(journal: unknown): { journal: unknown; dropped: number } | null {
  const timeline = (journal as { timeline?: unknown } | null)?.timeline;
  if (Array.isArray(timeline)) {
    const bulky = (entry: unknown) => {
      const type = (entry as { type?: unknown } | null)?.type;
      return type === "gate-reading" || type === "metric-error";
    };
    const count = timeline.filter(bulky).length;
    if (count >= 2) {
      let toDrop = Math.floor(count / 2);
      const kept = timeline.filter((entry) => !(bulky(entry) && toDrop-- > 0));
      return { journal: { ...(journal as object), timeline: kept }, dropped: Math.floor(count / 2) };
    }
  }
  return dropOldestOfLongestArray(journal);
}

/** Generic compaction: halve the longest array (oldest entries first), wherever it is. */
export function dropOldestOfLongestArray(journal: unknown): { journal: unknown; dropped: number } | null {
  const copy = structuredClone(journal);
  let longest: unknown[] | null = null;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      if (!longest || value.length > longest.length) longest = value;
      value.forEach(visit);
    } else if (value && typeof value === "object") {
      Object.values(value).forEach(visit);
    }
  };
  visit(copy);
  const target = longest as unknown[] | null;
  if (!target || target.length < 2) return null;
  const dropped = Math.floor(target.length / 2);
  target.splice(0, dropped);
  return { journal: copy, dropped };
}

export class SsmJournalStore implements JournalStore {
  readonly name: string;

  constructor(
    private readonly client: SSMClient,
    identity: StackIdentity,
    private readonly compact?: Compactor,
    private readonly options: SsmParameterOptions = {},
  ) {
    this.name = `${ssmParameterPrefix(identity)}/journal`;
  }

  async load(): Promise<unknown | null> {
    const abort = this.options.signal?.();
    let value: string | undefined;
    try {
      const out = await this.client.send(new GetParameterCommand({ Name: this.name }), sendOptions(abort));
      value = out.Parameter?.Value;
    } catch (error) {
      if (awsErrorCode(error) === "ParameterNotFound") return null;
      throw classifyAwsError(error, `GetParameter ${this.name}`, abort);
    }
    if (value === undefined) return null;
    try {
      return decodeJournal(value);
    } catch (error) {
      throw new Error(`${this.name} holds something that is not a journal: ${(error as Error).message}`);
    }
  }

  async save(journal: unknown): Promise<void> {
    const value = encodeJournal(journal, this.compact);
    const abort = this.options.signal?.();
    try {
      await this.client.send(
        new PutParameterCommand({
          Name: this.name,
          Value: value,
          Type: "String",
          Overwrite: true,
          Tier: "Intelligent-Tiering",
          Description: "bluegreen: cutover journal (state, decisions, gate readings)",
        }),
        sendOptions(abort),
      );
    } catch (error) {
      throw classifyAwsError(error, `PutParameter ${this.name}`, abort);
    }
  }
}
