// The demo's public shapes: its options, its printer, the figures it returns, and the error it
// rejects with when interrupted. scripts/demo/demo.ts re-exports all of them.

import type { CutoverResult } from "../core/engine.js";
import type { EngineEvent } from "../core/events.js";
import type { Color, Weights } from "../core/ports.js";
import type { DatabaseMode } from "../../infra/config.js";
import type { FaultSpec } from "../../sample-app/faults.js";
import type { LoadResult, WriteCheck } from "../local/load.js";
import type { DemoTimings } from "./demoConfig.js";

export interface DemoPrinter {
  /** Every engine event (ticks included: a live view redraws on them). */
  event(event: EngineEvent): void;
  /** A line of the demo's own narration. */
  line(text: string): void;
  /** Called once at the end (a live view restores the terminal). */
  close(): void;
  /** Interrupted: a line that must reach the operator now (a live view gives the terminal back first). */
  urgent?(text: string): void;
}

/**
 * A test harness's injected failures, called at the points a run can fail: the demo's own code
 * holds no failure switch.
 */
export interface DemoFaultPlan {
  /** Once the sandbox is up, before the load starts: throw to fail the start-up. */
  afterStart?: () => void;
  /**
   * Every engine event; `fail(reason, afterMs)` aborts the run after that delay as a Ctrl-C
   * would, with that reason (the timer is cleared when the run ends first).
   */
  onEngineEvent?: (event: EngineEvent, fail: (reason: string, afterMs: number) => void) => void;
}

export type DemoResource = { kind: "pid"; pid: number; label: string } | { kind: "dir"; path: string } | { kind: "port"; port: number; label: string };

export interface DemoOptions {
  database?: DatabaseMode;
  /** Green misbehaves this way once it has taken traffic (null: the happy path). */
  fault?: FaultSpec | null;
  /**
   * Both colors answer this share of business requests 500 from the start (0..1; default 0):
   * the normal error rate of a real service. A relative fault (`error-rate=10x`) multiplies it.
   */
  backgroundErrorRate?: number;
  /** Delay from the verified weights of step `faultAtStep` to the fault's onset; default 1 s. */
  faultAfterMs?: number;
  /** The step (0-based) after whose verified weights the fault delay starts; default 0 (5%). */
  faultAtStep?: number;
  /** The cutover pauses at 25% and exits, then a fault on green and the guard rolls back (shared only). */
  pause?: boolean;
  /** App processes per color behind the router; default 1 each. */
  instances?: Record<Color, number>;
  /** rollout.capacity.mode of the demo's cutover (match: green is scaled to blue first); default check. */
  capacityMode?: "check" | "match";

  timings?: DemoTimings;
  /** Requests per second of steady load; default 300. */
  ratePerSecond?: number;
  /** Where reports go; default ./reports. */
  reportsDir?: string;
  /** Unique id in every process and directory name of this run (tests look for leftovers by it). */
  runId?: string;
  /**
   * Abort (Ctrl-C): the engine is told to stop and is waited for, then everything stops in
   * parallel and is removed; runDemo rejects with DemoAbortedError.
   */
  signal?: AbortSignal;
  printer?: DemoPrinter;
  /** Told about every process, directory and port as soon as it exists. */
  onResource?: (resource: DemoResource) => void;
  /** Failures a test injects to prove the clean-up (the product never sets one). */
  faultPlan?: DemoFaultPlan;
  /** Tests: told each phase the demo enters (start-up, baking, fence, ...), to interrupt it there. */
  onPhase?: (phase: string) => void;
  /** Spawn the detached reaper (default true). */
  reaper?: boolean;
  /** Paired mode: stop after the sync and parity checks instead of running the fenced switch. */
  pairedDataChecksOnly?: boolean;
  /**
   * Paired mode without a fault: the switches to run in one go, in order; default
   * cutover → rollback → cutover (each fenced; the load keeps running across all of them).
   */
  pairedScenario?: PairedLeg[];
  /** Paired scenario: how long the serving color takes traffic between two switches; default 1.5 s. */
  pairedPauseMs?: number;
  /** Tests: disable green → blue replication (ALTER SUBSCRIPTION ... DISABLE on blue) right before each rollback. */
  breakReverseReplication?: boolean;
  /** Share of requests that are writes; default 0.3 (shared) and 0.55 (paired: ≥ 200 writes/s at the default rate). */
  writeShare?: number;
  /** The orchestrated scenario (shared database): the rollout driven by the local ASL runner; a timed pause, a promote, the guard during a wait. */
  orchestrated?: boolean;
  /**
   * The migration scenario: green v2 needs a new column; lint, expand, a cutover with a fault rolled
   * back, a clean cutover, contract. Paired databases: expand also creates a table a trigger writes,
   * applied to both sides in the order the replication needs, and every switch is fenced.
   */
  migration?: boolean;
}

/** What the migration scenario did (demo/migration.ts). */
export interface DemoMigration {
  /** Expand migrations the first cutover's migrating phase applied. */
  expandApplied: string[];
  firstCutover: string;
  /** bookings.note still there after the rollback (the expanded schema stays). */
  columnKeptAfterRollback: boolean;
  secondCutover: string;
  contract: { ran: boolean; ok: boolean; summary: string; snapshotId: string | null };
  v2Bookings: number;
  v2BookingsWithNote: number;
  nullNotes: number;
  /** bookings.note is NOT NULL after contract. */
  noteRequired: boolean;
  /** Rules the lint refused the one-step migration with. */
  lintRefused: string[];
  lintOk: boolean;
  /** Paired databases only (demo/migratePaired.ts). */
  paired?: PairedMigration;
}

/** A point of the paired migration scenario where no acknowledged write may be lost, either way. */
export interface MigrationCheckpoint {
  label: string;
  /** The color serving writes there; the other one is fed by replication from it. */
  serving: Color;
  /** Acknowledged writes so far, looked for on both sides. */
  acknowledged: number;
  /** Missing on the serving side. */
  lostOnServing: number;
  /** Missing on the other side once replication from the serving side caught up. */
  lostOnOther: number;
  /** How long the other side took to catch up (ms); null: it did not within the bound. */
  caughtUpMs: number | null;
}

/** What the paired migration scenario adds to DemoMigration. */
export interface PairedMigration {
  /** Expand and contract as applied, in order, as `side:phase/file` (from each side's migration journal). */
  applied: string[];
  /** What expand said in cutover 1's migrating phase (new tables' rows counted on both sides); null: it applied nothing. */
  expandSummary: string | null;
  /** After the rollback: bookings.note, booking_audit and its trigger still on both sides. */
  expandedSchemaKept: Record<Color, boolean>;
  checkpoints: MigrationCheckpoint[];
  /** Rows per table of the public schema at the end, both sides (load stopped, replication caught up). */
  tables: Array<{ table: string; blue: number; green: number }>;
  /** The trigger-written table: its rows on each side, the same ids on both, and bookings since the trigger without their audit row (0). */
  audit: { blue: number; green: number; sameIds: boolean; unaudited: Record<Color, number> };
  /** bookings.note is NOT NULL on each side after contract. */
  noteRequired: Record<Color, boolean>;
  /** The parity library at the end (rows and schema; sequences reported). */
  parity: { identical: boolean; summary: string };
}

export type PairedLeg = "cutover" | "rollback";

/** One fenced switch of the paired scenario, measured. */
export interface PairedSwitch {
  index: number;
  kind: PairedLeg;
  runId: string;
  outcome: string;
  reason: string | null;
  /** The color serving before and after. */
  from: Color;
  to: Color;
  /** Writes fenced, as the engine measured it (ms); and as the router saw it (on → off, summed). */
  fenceMs: number | null;
  routerFenceMs: number | null;
  /** Writes the fence answered 503 during this switch (rejected on purpose, counted, not failures). */
  writesRejected: number;
  /** Reads sent while the fence was on: answered, and failed (must be 0). */
  readsDuringFence: number;
  readFailuresDuringFence: number;
  /** Every write acknowledged so far, checked in the newly serving database right after the switch. */
  acknowledgedSoFar: number;
  lost: number;
  lostRequestIds: string[];
  /** Writes the previously serving color acknowledged while it served, and how many of them the new one holds. */
  carriedOver: { color: Color; acknowledged: number; present: number };
  /** Rollback only: keys the engine reported as existing only on green (reverse replication unhealthy). */
  onlyOnGreen: string[] | null;
  /** Rollback with broken reverse replication: the keys of the acknowledged writes missing on blue, as `public.bookings(id=N)`. */
  lostKeys: string[];
  durationMs: number;
}

export interface DemoStep {
  label: string;
  configured: Weights;
  /** Requests the weights routed while these weights were live. */
  routed: Record<Color, number>;
  /** Observed green share in percent (null without requests). */
  observedGreenPercent: number | null;
  /** Observed minus configured green share, percentage points. */
  deviationPoints: number | null;
  durationMs: number;
  /** Requests the load saw fail (5xx or network) while these weights were live. */
  failedRequests: number;
  errors5xx: Record<Color, number>;
}

export interface DemoRollback {
  /** The injected fault's onset (epoch ms), from the green app. */
  faultOnsetAt: number | null;
  /** When the engine observed the breach. */
  breachObservedAt: number | null;
  /** When traffic was verified on blue. */
  verifiedOnBlueAt: number | null;
  /** Fault onset → breach observed. */
  detectionMs: number | null;
  /** Fault onset → traffic verified on blue (the demo's time-to-rollback). */
  timeToRollbackMs: number | null;
  /** Breach observed → traffic verified on blue, as the engine measures it. */
  engineTimeToRollbackMs: number | null;
  reason: string | null;
  /**
   * Gate polls whose window reached past the fault's onset, up to and including the one the
   * breach was observed on (event order, not wall time); null without a fault onset.
   */
  pollsSeeingFault: number | null;
  /**
   * Of those, the polls whose whole window lay after the onset. The window that straddles the onset
   * may carry the fault for a fraction of its span only, too little to decide on; the promise is
   * that at most two whole windows of the fault pass before the rollback starts.
   */
  pollsWhollyAfterOnset: number | null;
  /** Of those, the 1-based number of the first failing poll (null: none failed). */
  firstFailingPoll: number | null;
  /**
   * The fewest whole windows of the fault after which the judge's rules can fail the step at the
   * traffic it met (2: the hard ceiling could see it; 3: the e-value's minimum); null: not the
   * judge's rollback (the guard's alarms), or no fault onset.
   */
  pollsTheRulesNeed?: number | null;
  /** Gate polls between the breach and traffic verified on blue (0: the rollback ran before any further poll). */
  pollsDuringRollback: number | null;
  /** Requests SENT after the rollback was verified, by serving color: all blue. */
  afterRollback: Record<Color, number>;
}

/** What the engine decided at the end of a bake or of the monitoring, with the evidence it gave. */
export interface DemoDecision {
  /** "step 1 (green 5%)" or "monitoring". */
  where: string;
  decision: string;
  /** The engine's own explanation: counts, statistic and boundary (sequential judge) or the gates' verdict. */
  reason: string;
}

export interface DemoResult {
  runId: string;
  database: DatabaseMode;
  outcome: CutoverResult["outcome"] | "data-checks-only";
  /** The run behaved as its scenario expects (happy path succeeded / fault rolled back), data intact. */
  asExpected: boolean;
  exitCode: 0 | 1;
  reason: string | null;
  durationMs: number;
  /** Start-up (PostgreSQL, data, apps, router) and the cutover alone. */
  phasesMs: { startup: number; cutover: number; checks: number };
  pollMs: number;
  steps: DemoStep[];
  load: Omit<LoadResult, "acknowledged" | "failures" | "timeline" | "rejected"> & { failures: LoadResult["failures"] };
  /** Failed requests while the cutover ran, excluding those injected on purpose (background, fault, crash). */
  unexpectedFailures: number;
  dataCheck: WriteCheck & { database: string };
  rollback: DemoRollback | null;
  /** The judge's decision per step and for the monitoring, in order. */
  decisions: DemoDecision[];
  fault: FaultSpec | null;
  /** The share of requests both colors answered 500 on purpose (0: none). */
  backgroundErrorRate: number;
  /** Failed requests that were injected on purpose (background errors, the fault's errors, a crash's 502s). */
  injectedFailures: number;
  /** Paired mode: what the data checks found. */
  paired: {
    initialParity: string;
    /** Parity at the end (after catch-up), or the data-checks-only figure. */
    parityAfterWrites: string;
    /** Acknowledged writes checked in the database that does NOT serve at the end (replicated there). */
    writesOnOtherSide: WriteCheck & { database: string };
    /** How long writes were fenced for the switch / the rollback (ms). */
    switchFenceMs: number | null;
    rollbackFenceMs: number | null;
    /** Writes the fence answered 503 (rejected on purpose, counted, not failures). */
    writesRejectedByFence: number;
    note: string;
    /** The scenario's switches (cutover → rollback → cutover by default); empty for the fault scenario. */
    switches: PairedSwitch[];
    /** Acknowledged writes per second over the load's whole run. */
    writesPerSecond: number;
    /** Reads that failed (must be 0: reads flow through the fence). */
    readFailures: number;
    readsCompleted: number;
    /** Rows applied twice (count - distinct request ids) in each database: 0. */
    duplicates: Record<Color, number>;
    /** Fence-rejected writes found in either database anyway: none. */
    rejectedApplied: string[];
  } | null;
  /** html: null when the page could not be drawn (the demo says why). */
  reportPaths: { markdown: string; json: string; html: string | null } | null;
  weightsRecorded: Weights | null;
  /** The migration scenario only. */
  migration?: DemoMigration;
  /** The orchestrated scenario only (scripts/demo/orchestrated.ts). */
  orchestrated?: DemoOrchestrated;
}

/** One execution of the orchestrated scenario, as the local ASL runner counted it. */
export interface DemoExecution {
  runId: string;
  status: string;
  error: string | null;
  /** State transitions, billed as Step Functions bills them (every state entered, every retry). */
  transitions: number;
  /** Invocations of the advance function (approval registrations included). */
  invocations: number;
  /** Wait states entered, and the seconds each held. */
  waits: number[];
  /** Wait states that began with the lock held (must be 0: nothing of ours runs between invocations). */
  waitsWithLockHeld: number;
  journalPhase: string;
  /** Who released each pause (the timed one: the state machine's run; the approval: the operator). */
  promotedBy: (string | null)[];
}

export interface DemoOrchestrated {
  /** The canary with a timed pause at 5% and `pause: promote` at 25%, released by a promote. */
  promoted: DemoExecution;
  /** The second run: a timed pause at 25% during which the guard rolled back. */
  guarded: DemoExecution;
  /** Engine events emitted while no invocation of the advance function ran (must be 0). */
  engineEventsBetweenInvocations: number;
  /** The guard process's outcome during the second run's wait. */
  guard: string | null;
}

export class DemoAbortedError extends Error {
  override name = "DemoAbortedError";
}
