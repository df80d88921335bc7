// The cutover journal: a versioned JSON document holding the state machine's position and an
// append-only timeline of every transition, gate reading, decision and timestamp. The engine
// saves it through the JournalStore port after EACH transition and each gate reading, so a run
// killed at any point can be resumed (`cutover --resume`) or rolled back (`rollback`).
//
// Resume semantics (what the engine does when it finds the journal in a given phase):
//   preflight                 re-run every preflight check (nothing has moved yet); a snapshot
//                             already recorded is not taken again
//   migrating                 apply the pending expand migrations again (journaled in the
//                             database: the applied ones are skipped)
//   fencing … reverse-replication
//                             redo that action (each is idempotent: fence on, wait for catch-up,
//                             exact parity, copy sequences, start replication)
//   writing / verifying       write the step's weights again and verify them again
//   unfencing / recording     redo (idempotent)
//   baking / monitoring       the bake reads on from its next window (bake.windows.next): the
//                             metrics source kept the minutes the process missed. The judge's
//                             evidence (journal.judge) carries over. The extensions and the consecutive
//                             metric errors already used are kept (a crash never buys more chances).
//   hooks / post-switch       run the hooks again (smoke tests must be repeatable)
//   rolling-back              continue the rollback (write blue 100 again, verify)
//   terminal phases           nothing to resume

import type { EngineEvent, JournalEvent, Operation, Outcome } from "./events.js";
import { isTerminal, PHASES, type Phase } from "./phases.js";
import type { Plan } from "./plan.js";
import { UsageError } from "./errors.js";
import type { DatabaseMode } from "../../infra/config.js";
import type { JudgeState } from "./judge/index.js";

export const JOURNAL_FORMAT = "bluegreen-cutover-journal";
export const JOURNAL_VERSION = 1;

/** Progress inside one bake or the monitoring window. */
export interface BakeProgress {
  /** Passing polls so far (in this attempt: reset on resume). */
  passes: number;
  /** Polls taken so far in this attempt. */
  polls: number;
  /** Inconclusive windows that extended the bake (kept across resume). */
  extensionsUsed: number;
  /** Metric-provider errors in a row (kept across resume). */
  consecutiveMetricErrors: number;
  /** When this attempt started (epoch ms). */
  startedAt: number;
  /** The windows this bake has read (core/engine/windows.ts); a resume goes on from the next one. Absent in older journals. */
  windows?: BakeWindows;
}

export type SnapshotRecord =
  /** availableAt / durationMs are null while it is being created: the id is journaled before the wait. */
  { taken: true; id: string; availableAt: number | null; durationMs: number | null } | { taken: false; reason: string };

export interface FenceRecord {
  /** When the current fence went on; null when it is off. */
  onAt: number | null;
  /** Each fence period this journal saw: on → off, in ms, with what it covered. */
  periods: { purpose: "switch" | "rollback"; onAt: number; offAt: number; durationMs: number }[];
  /** What the current (unlifted) fence is for. */
  purpose: "switch" | "rollback" | null;
}

export interface FailureRecord {
  reason: string;
  /** Clock time the breach was observed (the start of time-to-rollback). */
  breachObservedAt: number;
  phase: Phase;
  step: number | null;
}

export interface RollbackRecord {
  startedAt: number;
  verifiedAt: number | null;
  timeToRollbackMs: number | null;
  attempts: number;
  fenceMs: number | null;
  onlyOnGreen: string[] | null;
  detail: string;
}

/** Expand migrations the cutover applied before traffic moved; a rollback leaves them in place. */
export interface MigrationRecord {
  ok: boolean;
  applied: string[];
  summary: string;
  at: number;
}

export interface Journal {
  format: typeof JOURNAL_FORMAT;
  version: typeof JOURNAL_VERSION;
  runId: string;
  /** What created this journal; a rollback run on an existing journal appends to it. */
  operation: Operation;
  /** Lock owner of the run that is driving the journal now. */
  owner: string;
  stack: string | null;
  databaseMode: DatabaseMode;
  createdAt: number;
  updatedAt: number;
  /** The plan the run follows (null for a rollback that found no journal). */
  plan: Plan | null;
  phase: Phase;
  /** Current step (0-based) while in a step phase; null otherwise. */
  step: number | null;
  bake: BakeProgress | null;
  snapshot: SnapshotRecord | null;
  fence: FenceRecord;
  failure: FailureRecord | null;
  rollback: RollbackRecord | null;
  /** How many times the run was resumed after a crash. */
  resumes: number;
  /** The statistical judge's state (core/judge): the evidence of the current phase and blue's baseline; a resume carries it over. */
  judge?: JudgeState | null;
  /** The migrating phase's result (core/engine/migrate.ts); absent when no migrator ran. */
  migration?: MigrationRecord;
  /** Reference levels read once before the first weight moved (slow bound, blue's counts). */
  evidence?: CutoverEvidence;
  /** What compaction dropped from the timeline to keep the journal in its store (absent: nothing). */
  compacted?: CompactionRecord;
  timeline: JournalEvent[];
}

/** The timeline events compaction dropped, in total and by type, and the time they spanned. */
export interface CompactionRecord {
  events: number;
  byType: Record<string, number>;
  /** Times (epoch ms) of the oldest and newest event dropped. */
  from: number;
  to: number;
}

/** Where a bake is in its windows (journaled in journal.bake.windows: a resume goes on from `next`). */
export interface BakeWindows {
  /** Start of the first window that is evidence for this bake. */
  from: number;
  /** Start of the next window to read. */
  next: number;
  /** Window length (plan.pollMs, a multiple of the source's resolution). */
  lengthMs: number;
  /** Windows read and counted as evidence / dropped (split inconsistent). */
  counted: number;
  dropped: number;
  /** Inconsistent windows in a row (reset by a consistent one). */
  inconsistentInARow: number;
  /** The load balancer's unattributed ELB 5xx before the step, for the attribution; null until read or without such a metric. */
  elbBefore: { requests: number; unattributed: number } | null;
}

/** What the judge learnt once per cutover, before the first weight moved (journal.evidence). */
export interface CutoverEvidence {
  /** The latency bound that makes a request slow (ms); null until resolved. */
  slowThresholdMs: number | null;
  /** Blue's counts before the first weight moved: the judge's pre-cutover reference. */
  beforeCutover: { requests: number; errors: number; slowRequests: number; slow: number } | null;
  /** Requests per minute (both colors) of the last complete window: what the next window should hold (engine/windowReader.ts). */
  trafficPerMinute?: number | null;
  /** The end (epoch ms) of the window trafficPerMinute was measured over. */
  trafficMeasuredAt?: number | null;
}

/** The journal does not hold a valid document: bad input (exit 2) until an operator repairs or removes it. */
export class JournalCorruptError extends UsageError {
  override name = "JournalCorruptError";
  constructor(
    readonly path: string,
    readonly rule: string,
  ) {
    super(`the cutover journal is corrupt: ${path || "(root)"} ${rule}. Inspect it, then run \`rollback --force\` to start from a clean state`);
  }
}

export function createJournal(input: {
  runId: string;
  operation: Operation;
  owner: string;
  stack?: string | null;
  databaseMode: DatabaseMode;
  plan: Plan | null;
  now: number;
}): Journal {
  return {
    format: JOURNAL_FORMAT,
    version: JOURNAL_VERSION,
    runId: input.runId,
    operation: input.operation,
    owner: input.owner,
    stack: input.stack ?? null,
    databaseMode: input.databaseMode,
    createdAt: input.now,
    updatedAt: input.now,
    plan: input.plan,
    phase: "idle",
    step: null,
    bake: null,
    snapshot: null,
    fence: { onAt: null, periods: [], purpose: null },
    failure: null,
    rollback: null,
    resumes: 0,
    timeline: [],
  };
}

/** How the run ended: its terminal phase (every terminal phase is an outcome); null while unfinished. */
export function outcomeOf(journal: Pick<Journal, "phase">): Outcome | null {
  return isTerminal(journal.phase) ? journal.phase : null;
}

/** Append an event to the timeline (ticks are not journaled). */
export function appendEvent(journal: Journal, event: EngineEvent): void {
  if (event.type === "tick") return;
  journal.timeline.push(event);
  journal.updatedAt = Math.max(journal.updatedAt, event.at);
}

// ---------------------------------------------------------------------------------------------
// Compaction: when a store cannot hold the whole journal, only the timeline's descriptive events
// go, oldest first: readings (every window's counts and verdict, kept in full in the judge's
// state and the report up to then), metric errors, warnings and "extend" decisions. Everything
// a resume, `status` or a rollback reads stays whole: the plan, the judge's state, the bake's
// progress, the evidence, and every other event (weights written, phases, pauses and their
// promotion, locks, rollbacks). What went is counted in `journal.compacted`.

/** The newest droppable events kept whatever the size (the last readings `status` shows). */
const KEEP_NEWEST_DROPPABLE = 4;

/** Events that only describe: a resume never reads them back. */
export function isDroppableEvent(event: Pick<JournalEvent, "type"> & { decision?: unknown }): boolean {
  switch (event.type) {
    case "judge-reading":
    case "gate-reading":
    case "metric-error":
    case "warning":
      return true;
    case "decision":
      return event.decision === "extend";
    default:
      return false;
  }
}

/**
 * Drop the oldest half of the timeline's droppable events (never the newest few), recording what
 * went in `compacted`. Returns a new journal sharing every other field with the input, or null
 * when nothing more can go. Never touches anything but `timeline` and `compacted`.
 */
export function compactJournal(journal: Journal): Journal | null {
  const droppable = journal.timeline.filter(isDroppableEvent);
  const count = Math.floor((droppable.length - KEEP_NEWEST_DROPPABLE) / 2);
  if (count < 1) return null;
  const dropped = new Set(droppable.slice(0, count));
  const record: CompactionRecord = journal.compacted
    ? { ...journal.compacted, byType: { ...journal.compacted.byType } }
    : { events: 0, byType: {}, from: Number.POSITIVE_INFINITY, to: Number.NEGATIVE_INFINITY };
  for (const event of dropped) {
    record.events += 1;
    record.byType[event.type] = (record.byType[event.type] ?? 0) + 1;
    record.from = Math.min(record.from, event.at);
    record.to = Math.max(record.to, event.at);
  }
  return { ...journal, compacted: record, timeline: journal.timeline.filter((event) => !dropped.has(event)) };
}

/** Everything but the timeline and the compaction record: what compaction must leave exactly as it was. */
export function trustedPart(journal: Journal): Omit<Journal, "timeline" | "compacted"> {
  const { timeline: _timeline, compacted: _compacted, ...rest } = journal;
  return rest;
}

/** A deep copy through JSON, as the store would see it. */
export function cloneJournal(journal: Journal): Journal {
  return JSON.parse(JSON.stringify(journal)) as Journal;
}

// ---------------------------------------------------------------------------------------------
// Validation on load. Hand-written (no zod on the rollback start-up path); checks what the
// engine relies on and names the first offending path.

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === "object" && value !== null && !Array.isArray(value);
const isNum = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);
const isInt = (value: unknown): value is number => Number.isInteger(value);

function need(condition: boolean, path: string, rule: string): asserts condition {
  if (!condition) throw new JournalCorruptError(path, rule);
}

function checkWeights(value: unknown, path: string): void {
  need(isObj(value), path, "must be an object { blue, green }");
  need(isInt(value.blue) && isInt(value.green) && value.blue + value.green === 100, path, "must be integer weights summing to 100");
}

function checkPlan(value: unknown, path: string): void {
  need(isObj(value), path, "must be an object or null");
  need(Array.isArray(value.steps) && value.steps.length > 0, `${path}.steps`, "must be a non-empty array");
  value.steps.forEach((step: unknown, i: number) => {
    const p = `${path}.steps.${i}`;
    need(isObj(step), p, "must be an object");
    need(step.index === i, `${p}.index`, `must be ${i}`);
    checkWeights(step.weights, `${p}.weights`);
    need(isInt(step.bakeMs) && step.bakeMs >= 0, `${p}.bakeMs`, "must be a non-negative integer");
    need(isInt(step.pollsRequired) && step.pollsRequired >= 0, `${p}.pollsRequired`, "must be a non-negative integer");
    need(step.kind === "shift" || step.kind === "fenced-switch", `${p}.kind`, 'must be "shift" or "fenced-switch"');
  });
  for (const key of ["monitorMs", "monitorPollsRequired", "pollMs", "verifyTimeoutMs", "verifyIntervalMs", "catchUpTimeoutMs", "parityMaxAgeMs"]) {
    need(isNum(value[key]) && (value[key] as number) >= 0, `${path}.${key}`, "must be a non-negative number");
  }
  need((value.pollMs as number) > 0, `${path}.pollMs`, "must be positive");
  need(typeof value.fenced === "boolean", `${path}.fenced`, "must be a boolean");
  need(isObj(value.gates), `${path}.gates`, "must be an object");
  need(Array.isArray(value.hooks), `${path}.hooks`, "must be an array");
  need(isObj(value.snapshot), `${path}.snapshot`, "must be an object");
  checkWeights(value.startWeights, `${path}.startWeights`);
  checkWeights(value.rollbackWeights, `${path}.rollbackWeights`);
}

/** Validate a loaded document. Throws JournalCorruptError naming the path and the rule. */
export function parseJournal(raw: unknown): Journal {
  let value = raw;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch (error) {
      throw new JournalCorruptError("", `is not valid JSON (${(error as Error).message})`);
    }
  }
  need(isObj(value), "", "must be a JSON object");
  need(value.format === JOURNAL_FORMAT, "format", `must be "${JOURNAL_FORMAT}"`);
  need(isInt(value.version), "version", "must be an integer");
  need(value.version === JOURNAL_VERSION, "version", `is ${value.version}; this engine reads version ${JOURNAL_VERSION}`);
  need(typeof value.runId === "string" && value.runId.length > 0, "runId", "must be a non-empty string");
  need(value.operation === "cutover" || value.operation === "rollback", "operation", 'must be "cutover" or "rollback"');
  need(typeof value.owner === "string", "owner", "must be a string");
  need(value.stack === null || typeof value.stack === "string", "stack", "must be a string or null");
  need(value.databaseMode === "shared" || value.databaseMode === "paired", "databaseMode", 'must be "shared" or "paired"');
  need(isNum(value.createdAt) && isNum(value.updatedAt), "createdAt", "createdAt and updatedAt must be epoch milliseconds");
  need(typeof value.phase === "string" && (PHASES as readonly string[]).includes(value.phase), "phase", `must be one of ${PHASES.join(", ")}`);
  const phase = value.phase as Phase;
  if (value.plan !== null) checkPlan(value.plan, "plan");
  need(value.operation === "rollback" || value.plan !== null, "plan", "must be present for a cutover");
  need(value.step === null || (isInt(value.step) && value.step >= 0), "step", "must be a non-negative integer or null");
  if (value.step !== null && isObj(value.plan)) {
    const steps = value.plan.steps as unknown[];
    need((value.step as number) < steps.length, "step", `must be below the plan's ${steps.length} step(s)`);
  }
  const stepPhases: Phase[] = ["writing", "verifying", "unfencing", "recording", "baking", "hooks"];
  if (stepPhases.includes(phase)) need(value.step !== null, "step", `must be set in phase ${phase}`);
  if (value.bake !== null) {
    const bake = value.bake;
    need(isObj(bake), "bake", "must be an object or null");
    for (const key of ["passes", "polls", "extensionsUsed", "consecutiveMetricErrors"]) {
      need(isInt(bake[key]) && (bake[key] as number) >= 0, `bake.${key}`, "must be a non-negative integer");
    }
    need(isNum(bake.startedAt), "bake.startedAt", "must be epoch milliseconds");
  }
  if (value.snapshot !== null) {
    const snapshot = value.snapshot;
    need(isObj(snapshot) && typeof snapshot.taken === "boolean", "snapshot", "must be null or a snapshot record");
    if (snapshot.taken) need(typeof snapshot.id === "string", "snapshot.id", "must be a string");
    else need(typeof snapshot.reason === "string", "snapshot.reason", "must say why the snapshot was skipped");
  }
  need(isObj(value.fence), "fence", "must be an object");
  need(value.fence.onAt === null || isNum(value.fence.onAt), "fence.onAt", "must be epoch milliseconds or null");
  need(Array.isArray(value.fence.periods), "fence.periods", "must be an array");
  if (value.failure !== null) {
    need(isObj(value.failure), "failure", "must be an object or null");
    need(typeof value.failure.reason === "string", "failure.reason", "must be a string");
    need(isNum(value.failure.breachObservedAt), "failure.breachObservedAt", "must be epoch milliseconds");
  }
  if (value.rollback !== null) {
    need(isObj(value.rollback), "rollback", "must be an object or null");
    need(isNum(value.rollback.startedAt), "rollback.startedAt", "must be epoch milliseconds");
  }
  need(isInt(value.resumes), "resumes", "must be an integer");
  need(Array.isArray(value.timeline), "timeline", "must be an array");
  if (value.compacted !== undefined) {
    const c = value.compacted;
    need(isObj(c) && isInt(c.events) && isObj(c.byType) && isNum(c.from) && isNum(c.to), "compacted", "must be { events, byType, from, to }");
  }
  value.timeline.forEach((entry: unknown, i: number) => {
    need(isObj(entry) && typeof entry.type === "string" && isNum(entry.at), `timeline.${i}`, "must be an event with type and at");
  });
  // Fields older journals carry that repeat others: `outcome` (the terminal phase) and a skipped
  // snapshot's `skipped` (taken: false). Accepted and dropped.
  delete value.outcome;
  if (isObj(value.snapshot) && value.snapshot.taken === false) delete value.snapshot.skipped;
  return value as unknown as Journal;
}
