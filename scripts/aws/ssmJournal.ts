// JournalStore over SSM Parameter Store: `/bluegreen/<project>/<stack>/journal`, a JSON document.
//
// Size (./ssmParameters.ts): a value holds 4 KB in the Standard tier and 8 KB in the Advanced
// tier. Every value is written with Tier "Intelligent-Tiering": Standard while it fits in 4 KB
// (free), Advanced once it grows (about $0.05 per month per parameter). The journal is stored as:
// 1. plain JSON when it fits in 8 KB (readable in the console: `aws ssm get-parameter`);
// 2. otherwise gzip + base64 inside a small JSON envelope {"bluegreenJournal":"gzip+base64","data":...}
//    (readings repeat the same keys, so they compress several times);
// 3. otherwise the same gzip + base64 text cut into parts of at most 8 KB, each in its own
//    parameter named by its content's hash (`…/journal/part/<sha256>`), and an envelope in the
//    journal parameter that lists them with the hash of the whole. The parts are written first
//    and the envelope last, so a reader never sees an envelope whose parts are missing; the parts
//    the previous envelope listed and this one does not are deleted afterwards;
// 4. only when even MAX_PARTS parts do not hold it: the timeline is compacted (core/journal.ts
//    compactJournal: the oldest descriptive events go, counted in `journal.compacted`). The plan,
//    the judge's state, the bake's progress and every event a resume reads are never cut; a
//    journal that still does not fit is refused, not truncated.
// Before anything is written, the encoded value is decoded again and must give back exactly the
// document meant to be stored, parse as a journal (with the judge's state) and hold the
// original's trusted part unchanged: a journal that would not load is never written.

import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { compactJournal as compactTimeline, JOURNAL_FORMAT, parseJournal, trustedPart, type Journal } from "../core/journal.js";
import { parseJudgeState } from "../core/judge/index.js";
import type { JournalStore } from "../core/ports.js";
import { SSM_ADVANCED_MAX_BYTES, SsmParameters, stackParameterName, type SsmParameterOptions, type StackIdentity } from "./ssmParameters.js";

/** The advanced-tier limit for a parameter value, in bytes. */
export const SSM_MAX_VALUE_BYTES = SSM_ADVANCED_MAX_BYTES;
/** At most this many part parameters (8 KB each) hold one journal before its timeline is compacted. */
export const MAX_PARTS = 8;

type Envelope = { bluegreenJournal: "gzip+base64"; data: string } | { bluegreenJournal: "gzip+base64 parts"; sha256: string; parts: string[] };

/** What one save writes: the journal parameter's value and the part parameters it lists (name → value). */
export interface EncodedJournal {
  value: string;
  parts: Map<string, string>;
  /** The document that was encoded (the journal itself, or its compacted copy). */
  document: unknown;
}

/** Compaction for a document that does not fit: a smaller copy, or null when nothing more may go. */
export type Compactor = (journal: unknown) => unknown | null;

const isEngineJournal = (value: unknown): value is Journal => (value as { format?: unknown } | null)?.format === JOURNAL_FORMAT;

/** The engine journal's compaction (timeline only); any other document is never cut. */
export function compactJournal(journal: unknown): unknown | null {
  return isEngineJournal(journal) ? compactTimeline(journal) : null;
}

const bytes = (text: string) => Buffer.byteLength(text);
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The parameter name of a part, from the journal parameter's name and the part's content. */
export function partName(journalName: string, piece: string): string {
  return `${journalName}/part/${sha256(piece).slice(0, 40)}`;
}

/** Encode a journal for the parameter `name` (see the top of this file). Throws when it cannot fit without cutting what must stay. */
export function encodeJournalParts(journal: unknown, name: string, compact: Compactor = compactJournal, maxParts = MAX_PARTS): EncodedJournal {
  let current = journal;
  for (let round = 0; round < 64; round++) {
    const json = JSON.stringify(current);
    if (bytes(json) <= SSM_MAX_VALUE_BYTES) return { value: json, parts: new Map(), document: current };
    const data = gzipSync(json, { level: 9 }).toString("base64");
    const single = JSON.stringify({ bluegreenJournal: "gzip+base64", data } satisfies Envelope);
    if (bytes(single) <= SSM_MAX_VALUE_BYTES) return { value: single, parts: new Map(), document: current };
    const pieces: string[] = [];
    for (let at = 0; at < data.length; at += SSM_MAX_VALUE_BYTES) pieces.push(data.slice(at, at + SSM_MAX_VALUE_BYTES));
    if (maxParts > 1 && pieces.length <= maxParts) {
      const parts = new Map(pieces.map((piece) => [partName(name, piece), piece] as const));
      const envelope: Envelope = { bluegreenJournal: "gzip+base64 parts", sha256: sha256(data), parts: [...parts.keys()] };
      return { value: JSON.stringify(envelope), parts, document: current };
    }
    const next = compact(current);
    if (next === null) break;
    current = next;
  }
  throw new Error(
    `the journal does not fit in ${maxParts} SSM parameter(s) of ${SSM_MAX_VALUE_BYTES} bytes even with its timeline compacted; ` +
      "nothing was cut from the plan or the judge's evidence, and nothing was written",
  );
}

/** Encode into the journal parameter alone (no parts), compacting the timeline as far as that needs. */
export function encodeJournal(journal: unknown, compact: Compactor = compactJournal): string {
  return encodeJournalParts(journal, "/journal", compact, 1).value;
}

/** The part parameters an envelope lists (none for plain JSON or a single envelope). */
export function partsOf(value: string): string[] {
  try {
    const parsed = JSON.parse(value) as Partial<Envelope> | null;
    return parsed?.bluegreenJournal === "gzip+base64 parts" && Array.isArray(parsed.parts) ? parsed.parts : [];
  } catch {
    return [];
  }
}

/** Decode a journal parameter's value; `part` answers a part parameter's value (undefined: missing). */
export function decodeJournal(value: string, part: (name: string) => string | undefined = () => undefined): unknown {
  const parsed = JSON.parse(value) as unknown;
  const envelope = parsed as Partial<Envelope> | null;
  if (envelope?.bluegreenJournal === "gzip+base64") return JSON.parse(gunzipSync(Buffer.from(envelope.data ?? "", "base64")).toString("utf8"));
  if (envelope?.bluegreenJournal === "gzip+base64 parts") {
    const pieces = (envelope.parts ?? []).map((name) => {
      const piece = part(name);
      if (piece === undefined) throw new Error(`part ${name} is missing`);
      if (partName(name.slice(0, name.lastIndexOf("/part/")), piece) !== name) throw new Error(`part ${name} does not hold what its name says`);
      return piece;
    });
    const data = pieces.join("");
    if (sha256(data) !== envelope.sha256) throw new Error("the parts do not add up to the journal the envelope names");
    return JSON.parse(gunzipSync(Buffer.from(data, "base64")).toString("utf8"));
  }
  return parsed;
}

/**
 * Decode what is about to be written and compare: the same document, and for the engine's
 * journal one that parses (judge state included) with the original's trusted part unchanged.
 */
export function checkRoundTrip(original: unknown, encoded: EncodedJournal): void {
  const back = decodeJournal(encoded.value, (name) => encoded.parts.get(name));
  if (JSON.stringify(back) !== JSON.stringify(encoded.document)) throw new Error("it does not decode to the document meant to be stored");
  if (!isEngineJournal(original)) return;
  let intended: Journal;
  try {
    intended = parseJournal(structuredClone(original));
  } catch {
    return; // not a whole journal (a test's fragment): stored as given, and it decodes to exactly that
  }
  const journal = parseJournal(structuredClone(back));
  if (journal.judge !== undefined && journal.judge !== null) parseJudgeState(journal.judge);
  if (JSON.stringify(trustedPart(journal)) !== JSON.stringify(trustedPart(intended))) {
    throw new Error("compaction changed more than the timeline");
  }
}

export class SsmJournalStore implements JournalStore {
  readonly name: string;
  private readonly parameters: SsmParameters;
  /** The parts the stored envelope lists (from the last load or save): written already, deleted once no longer listed. */
  private storedParts = new Set<string>();

  constructor(
    client: SSMClient,
    identity: StackIdentity,
    private readonly compact?: Compactor,
    options: SsmParameterOptions = {},
  ) {
    this.name = stackParameterName(identity, "journal");
    this.parameters = new SsmParameters(client, options);
  }

  async load(): Promise<unknown | null> {
    // Twice at most: a writer may replace the parts between our read of the envelope and of its
    // parts (it deletes the old ones once its new envelope is in place); the envelope read again is whole.
    for (let attempt = 1; ; attempt++) {
      const value = await this.parameters.get(this.name);
      if (value === null) return null;
      const names = partsOf(value);
      const parts = new Map<string, string>();
      for (const name of names) {
        const piece = await this.parameters.get(name);
        if (piece !== null) parts.set(name, piece);
      }
      if (parts.size < names.length && attempt < 2) continue;
      try {
        const journal = decodeJournal(value, (name) => parts.get(name));
        this.storedParts = new Set(names);
        return journal;
      } catch (error) {
        throw new Error(`${this.name} holds something that is not a journal: ${(error as Error).message}`);
      }
    }
  }

  async save(journal: unknown): Promise<void> {
    const encoded = encodeJournalParts(journal, this.name, this.compact ?? compactJournal);
    try {
      checkRoundTrip(journal, encoded);
    } catch (error) {
      throw new Error(`refusing to write ${this.name}: the journal would not load back (${(error as Error).message})`);
    }
    for (const [name, piece] of encoded.parts) {
      if (this.storedParts.has(name)) continue;
      await this.parameters.put(name, piece, {
        overwrite: true,
        tier: "Intelligent-Tiering",
        description: "bluegreen: part of the cutover journal (content-addressed)",
      });
    }
    await this.parameters.put(this.name, encoded.value, {
      overwrite: true,
      tier: "Intelligent-Tiering",
      description: "bluegreen: cutover journal (state, decisions, readings)",
    });
    const unlisted = [...this.storedParts].filter((name) => !encoded.parts.has(name));
    this.storedParts = new Set(encoded.parts.keys());
    // The new envelope is in place: parts only the old one listed are garbage (a failed delete leaves one behind, harmless).
    for (const name of unlisted) await this.parameters.delete(name).catch(() => undefined);
  }
}
