// The engine's public request/result types and its one input error. Re-exported by core/engine.ts.

import type { DatabaseMode, RolloutConfig } from "../../../infra/config.js";
import type { EventSink, Outcome } from "../events.js";
import type { Journal } from "../journal.js";
import type { Plan } from "../plan.js";
import { UsageError } from "../errors.js";
import type {
  CapacityManager,
  AlarmSource,
  Clock,
  DataReplication,
  HealthProbe,
  HookRunner,
  JournalStore,
  Lock,
  LockHolder,
  MetricsSource,
  OperatorRequestChannel,
  ParitySource,
  RouteWeights,
  SchemaMigrator,
  Snapshotter,
  TrafficRouter,
  WeightRecorder,
  WriteFence,
} from "../ports.js";

/**
 * The ports a rollback moves traffic through (the CLI's `rollback` and both guards): it writes
 * weights, reads them back and journals, under the lock; nothing else.
 */
export interface RollbackDeps {
  router: TrafficRouter;
  lock: Lock;
  journal: JournalStore;
  recorder: WeightRecorder;
  clock: Clock;
  /** Paired database mode only: the write fence. */
  fence?: WriteFence | undefined;
  /** Paired database mode only: logical replication both ways. */
  replication?: DataReplication | undefined;
  /** The colors' Auto Scaling groups (rollout.capacity): blue's in-service count, match, blue scaled down/back. Absent: blue's healthy targets stand for its capacity. */
  capacity?: CapacityManager | undefined;
  /** Target health: a rollback that scales blue back up waits on it for blue's targets (with `capacity`). */
  health?: HealthProbe | undefined;
}

/** The guard's ports: a rollback's. */
export type GuardDeps = RollbackDeps;

/** Everything a cutover reads and moves: a rollback's ports, and health, metrics, alarms, snapshots, hooks. */
export interface CutoverDeps extends RollbackDeps {
  health: HealthProbe;
  metrics: MetricsSource;
  alarms: AlarmSource;
  snapshotter: Snapshotter;
  hooks: HookRunner;
  /** Paired database mode only: the newest parity result (preflight). */
  parity?: ParitySource | undefined;
  /** Schema migrations (rollout.migrationsDir): present when there are expand migrations to run in the migrating phase. */
  migrator?: SchemaMigrator | undefined;
  /** Requests from another terminal (`pause`, `abort`), read at each poll of a bake. Absent: none are read. */
  requests?: OperatorRequestChannel | undefined;
}

/**
 * How one run is observed and bounded: not ports, so no wiring carries them. The entry points
 * (runCutover, runRollback, ...) take them as their own argument; a run sees them beside its ports.
 */
export interface RunSettings {
  /** Receives every event, ticks included. Exceptions thrown by the sink are ignored. */
  events?: EventSink | undefined;
  /** Live-view heartbeat period while waiting between polls; default 1000 ms; 0 = no ticks. */
  tickMs?: number | undefined;
  /** Run id generator; default: ISO time + random suffix. */
  newRunId?: (() => string) | undefined;
  /**
   * `rollback --deadline`: once it aborts, the rollback stops writing and waiting, and records
   * failed-rollback with the live weights it last read (a deadline is a failure to answer, not an
   * interrupt: the journal must not stay in rolling-back as if someone were still at it).
   */
  rollbackDeadline?: AbortSignal | undefined;
}

/** A run's view: a cutover's ports and the run's settings. */
export type EngineDeps = CutoverDeps & RunSettings;

export interface CutoverRequest {
  rollout: RolloutConfig;
  databaseMode: DatabaseMode;
  /** Lock owner: "user@host pid 1234". */
  owner: string;
  stack?: string;
  /** Continue the unfinished run in the journal (the plan recorded there wins over `rollout`). */
  resume?: boolean;
  /** Skip the snapshot of blue's database; the reason is recorded in the journal and report. */
  skipSnapshot?: string;
  /** Extra environment for hook commands (not journaled). */
  hookEnv?: Record<string, string>;
  /** Paired mode: bound on each replication catch-up wait; default 30 s. */
  catchUpTimeoutMs?: number;
  /** Called with the plan after the lock is held and before anything else; false cancels. */
  confirm?: (plan: Plan, lines: string[]) => Promise<boolean>;
  /**
   * Aborting stops the run at the next safe point (between phases, or in any wait): a write in
   * flight completes, the journal is saved in its current phase (`--resume` continues), the lock
   * is released, and the promise resolves with outcome "interrupted". Never a rollback because
   * of it: what happens to traffic is the caller's policy.
   */
  signal?: AbortSignal;
  runId?: string;
  /** With resume: continue a timed pause before its time is up (`promote --now`). */
  pauseNow?: boolean;
}

export interface RollbackRequest {
  owner: string;
  databaseMode: DatabaseMode;
  stack?: string;
  /** Why (recorded); default "operator requested rollback". */
  reason?: string;
  /** Break a lock held by someone else (recorded). */
  force?: boolean | "except-rollback";
  /** Used when the journal holds no plan; default 60 s. */
  verifyTimeoutMs?: number;
  verifyIntervalMs?: number;
  /** Paired mode: bound on waiting for green → blue replication; default: the plan's or 30 s. */
  catchUpTimeoutMs?: number;
  /** Paired mode: stop green → blue replication once traffic is verified on blue; default false (keep it). */
  stopReverseReplication?: boolean;
  /** As CutoverRequest.signal: the rollback stops at the next safe point (outcome "interrupted"; `rollback` continues it). */
  signal?: AbortSignal;
  runId?: string;
  /**
   * When the work must be done (the deadline less what recording the outcome needs), on the
   * engine's clock: the read-back windows are derived from it so that several read-backs and a
   * rewrite fit before it (engine/rollback.ts verifyWindowMs).
   */
  deadlineAt?: number;
  /**
   * Whether a lock holder is a process known to be dead (same host, pid gone): rollback takes its
   * lock over without --force, and journals that it did. Unknown or alive: the lock is refused.
   */
  holderIsDead?: (holder: LockHolder) => boolean;
}

export interface CutoverResult {
  operation: "cutover";
  /** "paused": a step that pauses was reached; the journal is in phase "paused" (exit 0, `promote` continues). */
  outcome: Outcome | "cancelled" | "paused";
  /** Why it rolled back / refused / aborted; null on success. */
  reason: string | null;
  runId: string;
  /** The final journal (null when cancelled before anything was written). */
  journal: Journal | null;
  plan: Plan;
  /** Breach observed → traffic verified on blue. */
  timeToRollbackMs: number | null;
  /** Paired mode: how long writes were fenced for the switch. */
  switchFenceMs: number | null;
  /** Paired mode: how long writes were fenced for the rollback. */
  rollbackFenceMs: number | null;
  onlyOnGreen: string[] | null;
}

export interface RollbackResult {
  operation: "rollback";
  outcome: "rolled-back" | "failed-rollback" | "interrupted";
  reason: string;
  runId: string;
  journal: Journal;
  timeToRollbackMs: number | null;
  /** Clock time from the call to the end. */
  wallMs: number;
  /** The lock `force` broke, if any. */
  brokeLock: LockHolder | null;
  /** Weights read back at the end. */
  routes: RouteWeights[];
  /** Longest stickiness among the routes: clients may stay on green that long. */
  stickinessSeconds: number | null;
  fenceMs: number | null;
  onlyOnGreen: string[] | null;
}

/** Bad request for the state the journal is in (nothing to resume, an unfinished run exists, ...). CLI: exit 2. */
export class EngineInputError extends UsageError {
  override name = "EngineInputError";
}

/** Exit code for an outcome: 0 succeeded (or cancelled by the operator), 1 otherwise. */
export function outcomeExitCode(outcome: Outcome | "cancelled" | "paused"): 0 | 1 {
  return outcome === "succeeded" || outcome === "cancelled" || outcome === "paused" ? 0 : 1;
}
