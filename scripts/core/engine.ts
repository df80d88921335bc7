// The cutover engine: moves traffic blue → green in verified, gated steps and rolls back by
// itself on any failure. It talks to the world only through the ports (core/ports.ts), so the
// engine that runs in `npm run demo` is the engine that runs in production. No AWS SDK, no pg,
// no child processes (hooks run through the HookRunner port), no zod on this path.
//
// The state machine is in core/phases.ts; the journal format and the resume semantics in
// core/journal.ts. The journal is saved after every transition and every gate reading.

import type { DatabaseMode, RolloutConfig } from "../../infra/config.js";
import type { Decision, EngineEvent, EventSink, Operation, Outcome, PreflightCheckName } from "./events.js";
import { evaluateGates, type GateVerdict } from "./gates.js";
import { appendEvent, createJournal, parseJournal, type Journal } from "./journal.js";
import { canTransition, isTerminal, trafficMayHaveMoved, type Phase } from "./phases.js";
import { BLUE_ONLY, buildPlan, describePlan, formatDuration, sameWeights, type Plan } from "./plan.js";
import {
  LockHeldError,
  type AlarmSource,
  type Clock,
  type DataReplication,
  type HealthProbe,
  type HookResult,
  type HookRunner,
  type JournalStore,
  type Lock,
  type LockHolder,
  type MetricsSource,
  type ParitySource,
  type RouteWeights,
  type Snapshotter,
  type TargetHealth,
  type TrafficRouter,
  type WeightRecorder,
  type Weights,
  type WriteFence,
} from "./ports.js";

export { JournalCorruptError } from "./journal.js";
export { PlanError } from "./plan.js";

// ---------------------------------------------------------------------------------------------
// Public API

export interface EngineDeps {
  router: TrafficRouter;
  health: HealthProbe;
  metrics: MetricsSource;
  alarms: AlarmSource;
  lock: Lock;
  journal: JournalStore;
  snapshotter: Snapshotter;
  hooks: HookRunner;
  recorder: WeightRecorder;
  clock: Clock;
  /** Paired database mode only: the newest parity result (preflight). */
  parity?: ParitySource;
  /** Paired database mode only: the write fence. */
  fence?: WriteFence;
  /** Paired database mode only: logical replication both ways. */
  replication?: DataReplication;
  /** Receives every event, ticks included. Exceptions thrown by the sink are ignored. */
  events?: EventSink;
  /** Live-view heartbeat period while waiting between polls; default 1000 ms; 0 = no ticks. */
  tickMs?: number;
  /** Run id generator; default: ISO time + random suffix. */
  newRunId?: () => string;
}

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
  runId?: string;
}

export interface RollbackRequest {
  owner: string;
  databaseMode: DatabaseMode;
  stack?: string;
  /** Why (recorded); default "operator requested rollback". */
  reason?: string;
  /** Break a lock held by someone else (recorded). */
  force?: boolean;
  /** Used when the journal holds no plan; default 60 s. */
  verifyTimeoutMs?: number;
  verifyIntervalMs?: number;
  /** Paired mode: bound on waiting for green → blue replication; default: the plan's or 30 s. */
  catchUpTimeoutMs?: number;
  /** Paired mode: stop green → blue replication once traffic is verified on blue; default false (keep it). */
  stopReverseReplication?: boolean;
  runId?: string;
}

export interface CutoverResult {
  operation: "cutover";
  outcome: Outcome | "cancelled";
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
  outcome: "rolled-back" | "failed-rollback";
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
export class EngineInputError extends Error {
  override name = "EngineInputError";
}

/** Exit code for an outcome: 0 succeeded (or cancelled by the operator), 1 otherwise. */
export function outcomeExitCode(outcome: Outcome | "cancelled"): 0 | 1 {
  return outcome === "succeeded" || outcome === "cancelled" ? 0 : 1;
}

const DEFAULT_VERIFY_TIMEOUT_MS = 60_000;
const DEFAULT_VERIFY_INTERVAL_MS = 1_000;
const DEFAULT_CATCH_UP_MS = 30_000;
const ROLLBACK_ATTEMPTS = 3;

/** Dry run: the plan and its description from live weights; no lock, no journal, no writes. */
export async function previewCutover(
  deps: Pick<EngineDeps, "router" | "metrics">,
  request: Pick<CutoverRequest, "rollout" | "databaseMode" | "skipSnapshot" | "catchUpTimeoutMs">,
): Promise<{ plan: Plan; lines: string[]; routes: RouteWeights[] }> {
  const routes = await deps.router.readWeights();
  return { ...planFromLiveWeights(deps, request, routes), routes };
}

/** The plan from the live weights (the start of the run) and its human-readable description. */
function planFromLiveWeights(
  deps: Pick<EngineDeps, "router" | "metrics">,
  request: Pick<CutoverRequest, "rollout" | "databaseMode" | "skipSnapshot" | "catchUpTimeoutMs">,
  routes: RouteWeights[],
): { plan: Plan; lines: string[] } {
  const plan = buildPlan(request.rollout, {
    databaseMode: request.databaseMode,
    startWeights: startWeightsOf(routes),
    resolutionMs: deps.metrics.resolutionMs,
    ...(request.catchUpTimeoutMs !== undefined ? { catchUpTimeoutMs: request.catchUpTimeoutMs } : {}),
  });
  const lines = describePlan(plan, deps.router.describeWrites(), {
    ...(request.skipSnapshot !== undefined ? { snapshotSkipped: request.skipSnapshot || true } : {}),
    stickinessSeconds: maxStickiness(routes),
  });
  return { plan, lines };
}

/**
 * Run (or resume) a cutover. Resolves with the outcome; throws LockHeldError when another
 * operation holds the lock, EngineInputError / JournalCorruptError on a bad request for the
 * journal's state, and the JournalStore's error when the journal cannot be written (after a
 * best-effort rollback of traffic).
 */
export async function runCutover(deps: EngineDeps, request: CutoverRequest): Promise<CutoverResult> {
  requirePairedPorts(deps, request.databaseMode);
  return request.resume ? resumeCutover(deps, request) : startCutover(deps, request);
}

/**
 * Send all traffic back to blue, from any state (no journal, a running or crashed cutover, a
 * finished one, a rollback that failed), verified by reading back. Idempotent.
 */
export async function runRollback(deps: EngineDeps, request: RollbackRequest): Promise<RollbackResult> {
  requirePairedPorts(deps, request.databaseMode);
  const started = deps.clock.now();
  const runId = request.runId ?? newRunId(deps);
  let brokeLock: LockHolder | null = null;
  const holder: LockHolder = { owner: request.owner, since: started, operation: "rollback", runId };
  let staleLock: LockHolder | null = null;
  try {
    await deps.lock.acquire(holder);
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    if (await isStaleLock(deps, error.holder)) {
      staleLock = await deps.lock.breakLock();
    } else if (request.force) {
      brokeLock = await deps.lock.breakLock();
    } else {
      throw error;
    }
    await deps.lock.acquire(holder);
  }

  const warnings: string[] = [];
  let journal: Journal | null = null;
  try {
    const raw = await deps.journal.load();
    if (raw !== null && raw !== undefined) journal = parseJournal(raw);
  } catch (error) {
    if ((error as Error).name !== "JournalCorruptError" && !(error instanceof SyntaxError)) {
      await deps.lock.release(request.owner).catch(() => undefined);
      throw error;
    }
    // Rollback must work from any state: a corrupt journal does not stop traffic going back to blue.
    warnings.push(`${(error as Error).message} — starting a new journal for this rollback`);
    journal = null;
  }
  if (journal === null) {
    journal = createJournal({
      runId,
      operation: "rollback",
      owner: request.owner,
      stack: request.stack ?? null,
      databaseMode: request.databaseMode,
      plan: null,
      now: started,
    });
  }
  journal.owner = request.owner;

  const run = new Run(deps, journal, { operation: "rollback", owner: request.owner, hookEnv: {}, checkLock: false });
  if (brokeLock) {
    run.emit({ type: "lock", action: "broken", holder: brokeLock, detail: `broke the lock held by ${brokeLock.owner} (${brokeLock.operation}) with --force` });
  }
  if (staleLock) {
    run.emit({ type: "lock", action: "taken-over", holder: staleLock, detail: `removed the stale lock of finished run ${staleLock.runId} (${staleLock.owner})` });
  }
  run.emit({ type: "lock", action: "acquired", holder, detail: `rollback by ${request.owner}` });
  for (const message of warnings) run.emit({ type: "warning", message });

  const reason = request.reason ?? "operator requested rollback";
  try {
    await run.beginRollback(reason, started, {
      databaseMode: request.databaseMode,
      verifyTimeoutMs: request.verifyTimeoutMs,
      verifyIntervalMs: request.verifyIntervalMs,
      catchUpTimeoutMs: request.catchUpTimeoutMs,
      stopReverseReplication: request.stopReverseReplication ?? false,
    });
    await run.drive();
  } finally {
    await deps.lock.release(request.owner).catch(() => undefined);
  }
  const j = run.journal;
  const routes = run.lastRoutes;
  return {
    operation: "rollback",
    outcome: j.phase === "rolled-back" ? "rolled-back" : "failed-rollback",
    reason,
    runId: j.runId,
    journal: j,
    timeToRollbackMs: j.rollback?.timeToRollbackMs ?? null,
    wallMs: deps.clock.now() - started,
    brokeLock,
    routes,
    stickinessSeconds: maxStickiness(routes),
    fenceMs: j.rollback?.fenceMs ?? null,
    onlyOnGreen: j.rollback?.onlyOnGreen ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Cutover entry points

async function startCutover(deps: EngineDeps, request: CutoverRequest): Promise<CutoverResult> {
  const runId = request.runId ?? newRunId(deps);
  const holder: LockHolder = { owner: request.owner, since: deps.clock.now(), operation: "cutover", runId };
  let staleLock: LockHolder | null = null;
  try {
    await deps.lock.acquire(holder);
  } catch (error) {
    // LockHeldError names the holder; only the leftover lock of a run that already ended is removed.
    if (!(error instanceof LockHeldError) || !(await isStaleLock(deps, error.holder))) throw error;
    staleLock = await deps.lock.breakLock();
    await deps.lock.acquire(holder);
  }
  let keepLock = false;
  try {
    const raw = await deps.journal.load();
    if (raw !== null && raw !== undefined) {
      const previous = parseJournal(raw);
      if (!isTerminal(previous.phase)) {
        throw new EngineInputError(
          `an unfinished ${previous.operation} (run ${previous.runId}) is in phase "${previous.phase}": ` +
            `continue it with \`cutover --resume\` or send traffic back with \`rollback\``,
        );
      }
    }
    const routes = await deps.router.readWeights();
    const { plan, lines } = planFromLiveWeights(deps, request, routes);
    const journal = createJournal({
      runId,
      operation: "cutover",
      owner: request.owner,
      stack: request.stack ?? null,
      databaseMode: request.databaseMode,
      plan,
      now: deps.clock.now(),
    });
    const run = new Run(deps, journal, { operation: "cutover", owner: request.owner, hookEnv: request.hookEnv ?? {}, checkLock: true });
    run.skipSnapshotReason = request.skipSnapshot;
    run.emit({ type: "plan", operation: "cutover", plan, lines });
    if (request.confirm && !(await request.confirm(plan, lines))) {
      return resultOf(run, "cancelled", "the operator did not confirm the plan");
    }
    if (staleLock) {
      run.emit({ type: "lock", action: "taken-over", holder: staleLock, detail: `removed the stale lock of finished run ${staleLock.runId} (${staleLock.owner})` });
    }
    run.emit({ type: "lock", action: "acquired", holder, detail: `cutover by ${request.owner}` });
    await run.persist();
    await run.drive();
    keepLock = run.aborted;
    return resultOf(run);
  } finally {
    if (!keepLock) await deps.lock.release(request.owner).catch(() => undefined);
  }
}

async function resumeCutover(deps: EngineDeps, request: CutoverRequest): Promise<CutoverResult> {
  const raw = await deps.journal.load();
  if (raw === null || raw === undefined) throw new EngineInputError("there is no cutover journal to resume: start a new cutover without --resume");
  const journal = parseJournal(raw);
  if (journal.plan === null) throw new EngineInputError(`the journal holds a ${journal.operation} (run ${journal.runId}), not a cutover to resume`);
  if (isTerminal(journal.phase)) {
    throw new EngineInputError(`run ${journal.runId} already ended (${journal.phase}); start a new cutover without --resume`);
  }
  if (journal.databaseMode !== request.databaseMode) {
    throw new EngineInputError(`the run was started with database mode "${journal.databaseMode}", the stack now says "${request.databaseMode}"`);
  }

  const holder: LockHolder = { owner: request.owner, since: deps.clock.now(), operation: "cutover", runId: journal.runId };
  const current = await deps.lock.current();
  let takenOverFrom: LockHolder | null = null;
  if (current !== null && current.runId === journal.runId) {
    // The crashed run's lock: this process continues that run.
    takenOverFrom = await deps.lock.breakLock();
  } else if (current !== null) {
    throw new LockHeldError(current);
  }
  await deps.lock.acquire(holder);

  let keepLock = false;
  try {
    journal.owner = request.owner;
    journal.resumes += 1;
    const run = new Run(deps, journal, { operation: "cutover", owner: request.owner, hookEnv: request.hookEnv ?? {}, checkLock: true });
    run.skipSnapshotReason = request.skipSnapshot;
    run.emit({
      type: "lock",
      action: takenOverFrom ? "taken-over" : "acquired",
      holder,
      detail: takenOverFrom ? `took over the lock of the crashed run (held by ${takenOverFrom.owner})` : `cutover resumed by ${request.owner}`,
    });
    const plan = journal.plan!;
    run.emit({
      type: "plan",
      operation: "cutover",
      plan,
      lines: describePlan(plan, deps.router.describeWrites(), journal.snapshot && !journal.snapshot.taken ? { snapshotSkipped: journal.snapshot.reason } : {}),
    });
    // Traffic must be where the journal says it is; if someone moved it since (or this run's
    // best-effort rollback did after the journal failed), continuing would bake the wrong split.
    const expected = expectedLiveWeights(journal);
    if (expected !== null) {
      const routes = await deps.router.readWeights();
      if (routes.length === 0 || !routes.every((r) => sameWeights(r.weights, expected))) {
        throw new EngineInputError(
          `cannot resume run ${journal.runId} in phase "${journal.phase}": live weights (${describeRoutes(routes)}) are not ` +
            `blue ${expected.blue} / green ${expected.green} as the journal expects; traffic was moved outside this run. ` +
            "Run `rollback`, then start a new cutover",
        );
      }
    }
    let how = "continuing";
    if ((journal.phase === "baking" || journal.phase === "monitoring") && journal.bake) {
      // The time the process was dead was not watched: restart the bake from its beginning.
      journal.bake.passes = 0;
      journal.bake.polls = 0;
      journal.bake.startedAt = deps.clock.now();
      how = `restarting the ${journal.phase === "baking" ? "bake" : "monitoring window"} from its beginning`;
    } else if (journal.phase === "writing" || journal.phase === "verifying") {
      how = "writing and verifying the step's weights again";
      run.rewriteBeforeVerify = journal.phase === "verifying";
    }
    run.decide("resume", `resuming run ${journal.runId} in phase "${journal.phase}"${journal.step !== null ? ` at step ${journal.step + 1}` : ""}: ${how}`);
    await run.persist();
    await run.drive();
    keepLock = run.aborted;
    return resultOf(run);
  } finally {
    if (!keepLock) await deps.lock.release(request.owner).catch(() => undefined);
  }
}

function resultOf(run: Run, outcome?: Outcome | "cancelled", reason?: string): CutoverResult {
  const j = run.journal;
  const switchPeriods = j.fence.periods.filter((p) => p.purpose === "switch");
  return {
    operation: "cutover",
    outcome: outcome ?? j.outcome ?? "failed-rollback",
    reason: reason ?? j.failure?.reason ?? null,
    runId: j.runId,
    journal: outcome === "cancelled" ? null : j,
    plan: j.plan!,
    timeToRollbackMs: j.rollback?.timeToRollbackMs ?? null,
    switchFenceMs: switchPeriods.length > 0 ? switchPeriods.reduce((sum, p) => sum + p.durationMs, 0) : null,
    rollbackFenceMs: j.rollback?.fenceMs ?? null,
    onlyOnGreen: j.rollback?.onlyOnGreen ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Internals

/** A gate, hook, verification or paired-switch check failed: roll back. */
class Breach extends Error {
  constructor(
    readonly reason: string,
    readonly observedAt: number,
  ) {
    super(reason);
  }
}

/** Another operator broke our lock (`rollback --force`): stop touching anything. */
class LockLost extends Error {
  constructor(readonly holder: LockHolder | null) {
    super(holder ? `the lock now belongs to ${holder.owner} (${holder.operation})` : "the lock was removed");
  }
}

/** The journal could not be saved. */
class JournalWriteError extends Error {
  constructor(readonly original: unknown) {
    super(`could not save the journal: ${(original as Error)?.message ?? String(original)}`);
  }
}

interface RollbackOptions {
  /** The stack's mode now (the journal's mode is used too: paired if either says so). */
  databaseMode?: DatabaseMode | undefined;
  verifyTimeoutMs?: number | undefined;
  verifyIntervalMs?: number | undefined;
  catchUpTimeoutMs?: number | undefined;
  stopReverseReplication: boolean;
}

class Run {
  aborted = false;
  skipSnapshotReason: string | undefined;
  /** Resumed in "verifying": write the step's weights again before verifying them. */
  rewriteBeforeVerify = false;
  lastRoutes: RouteWeights[] = [];
  private journalBroken = false;
  private rollbackOptions: RollbackOptions = { stopReverseReplication: false };
  private readonly clock: Clock;

  constructor(
    private readonly deps: EngineDeps,
    readonly journal: Journal,
    private readonly options: { operation: Operation; owner: string; hookEnv: Record<string, string>; checkLock: boolean },
  ) {
    this.clock = deps.clock;
  }

  private get plan(): Plan {
    return this.journal.plan!;
  }

  private now(): number {
    return this.clock.now();
  }

  emit(event: DistributiveOmit<EngineEvent, "at" | "runId">): void {
    const full = { ...event, at: this.now(), runId: this.journal.runId } as EngineEvent;
    appendEvent(this.journal, full);
    if (this.deps.events) {
      try {
        this.deps.events(full);
      } catch {
        // A broken renderer must never stop a cutover or a rollback.
      }
    }
  }

  decide(decision: Decision, reason: string): void {
    this.emit({ type: "decision", decision, reason, step: this.journal.step, phase: this.journal.phase });
  }

  async persist(lockChecked = false): Promise<void> {
    if (this.journalBroken) return;
    if (!lockChecked && this.options.checkLock && this.journal.phase !== "rolling-back") await this.checkLock();
    this.journal.updatedAt = this.now();
    try {
      await this.deps.journal.save(this.journal);
    } catch (error) {
      if (this.options.operation === "rollback") {
        // `rollback` must work from any state: traffic first, the journal when it can.
        this.journalBroken = true;
        this.emit({ type: "warning", message: `could not save the journal (${messageOf(error)}): the rollback goes on without it` });
        return;
      }
      throw new JournalWriteError(error);
    }
  }

  private async checkLock(): Promise<void> {
    const holder = await this.deps.lock.current();
    if (!holder || holder.owner !== this.options.owner || (holder.runId !== undefined && holder.runId !== this.journal.runId)) {
      throw new LockLost(holder);
    }
  }

  async transition(to: Phase, step: number | null = this.journal.step, persist = true): Promise<void> {
    const from = this.journal.phase;
    if (!canTransition(from, to)) throw new Error(`internal error: illegal transition ${from} → ${to}`);
    this.journal.phase = to;
    this.journal.step = step;
    this.emit({ type: "phase-changed", from, to, step });
    if (to === "baking" || to === "monitoring") {
      this.journal.bake = { passes: 0, polls: 0, extensionsUsed: 0, consecutiveMetricErrors: 0, startedAt: this.now() };
    } else if (from === "baking" || from === "monitoring") {
      this.journal.bake = null;
    }
    if (persist) await this.persist();
  }

  /** Enter a terminal phase and announce it: one journal save (one lock check) for both events. */
  private async finish(outcome: Exclude<Outcome, "aborted">, reason: string | null, step: number | null = this.journal.step): Promise<void> {
    // The lock is checked before either event, so a lost lock never follows a "done".
    const lockChecked = !this.journalBroken && this.options.checkLock;
    if (lockChecked) await this.checkLock();
    this.journal.outcome = outcome;
    await this.transition(outcome, step, false);
    this.emit({ type: "done", operation: this.options.operation, outcome, reason });
    await this.persist(lockChecked);
  }

  /** Enter rolling-back (persisted) with the reason and the moment the breach was observed. */
  async beginRollback(reason: string, observedAt: number, options?: RollbackOptions): Promise<void> {
    if (options) this.rollbackOptions = options;
    const j = this.journal;
    j.failure = { reason, breachObservedAt: observedAt, phase: j.phase, step: j.step };
    if (j.phase === "rolling-back") {
      this.decide("rollback", `continuing the interrupted rollback: ${reason}`);
      this.emit({ type: "rollback-started", reason, breachObservedAt: observedAt, fromPhase: j.phase, step: j.step });
      await this.persist();
      return;
    }
    this.decide("rollback", reason);
    this.emit({ type: "rollback-started", reason, breachObservedAt: observedAt, fromPhase: j.phase, step: j.step });
    await this.transition("rolling-back");
  }

  /** Run the state machine until a terminal phase. */
  async drive(): Promise<void> {
    while (!isTerminal(this.journal.phase)) {
      try {
        await this.advance();
      } catch (error) {
        if (error instanceof LockLost) {
          this.aborted = true;
          this.journal.phase = "aborted";
          this.journal.outcome = "aborted";
          this.decide("abort", `${error.message}: stopping without touching traffic (that operation owns it now)`);
          this.emit({ type: "lock", action: "lost", holder: error.holder, detail: error.message });
          this.emit({ type: "done", operation: this.options.operation, outcome: "aborted", reason: error.message });
          return; // the journal now belongs to the other operation: not saved
        }
        if (error instanceof JournalWriteError) {
          if (this.journalBroken) throw error.original;
          this.journalBroken = true;
          this.emit({ type: "warning", message: `${error.message}; the journal can no longer be trusted` });
          if (trafficMayHaveMoved(this.journal.phase) && !isTerminal(this.journal.phase)) {
            // Best effort: the default action of anything that fails is rollback.
            try {
              if (this.journal.phase !== "rolling-back") await this.beginRollback(error.message, this.now());
              await this.rollbackTraffic();
            } catch {
              // the original error is what the caller needs to see
            }
          }
          throw error.original;
        }
        if (this.journal.phase === "rolling-back") throw error; // rollbackTraffic handles its own failures
        const reason = error instanceof Breach ? error.reason : `unexpected error in phase "${this.journal.phase}": ${messageOf(error)}`;
        const observedAt = error instanceof Breach ? error.observedAt : this.now();
        await this.beginRollback(reason, observedAt);
      }
    }
  }

  private async advance(): Promise<void> {
    const j = this.journal;
    const plan = this.plan;
    switch (j.phase) {
      case "idle":
        return this.transition("preflight", null);
      case "preflight":
        return this.preflight();
      case "fencing":
        await this.fenceOn("switch");
        return this.transition("catching-up");
      case "catching-up": {
        const replication = this.deps.replication!;
        try {
          const { waitedMs } = await replication.waitForCatchUp("blue-to-green", plan.catchUpTimeoutMs);
          this.emit({ type: "replication", action: "catch-up", direction: "blue-to-green", ok: true, detail: `green caught up with blue in ${waitedMs} ms` });
        } catch (error) {
          this.emit({ type: "replication", action: "catch-up", direction: "blue-to-green", ok: false, detail: messageOf(error) });
          throw new Breach(`green did not catch up with blue within ${formatDuration(plan.catchUpTimeoutMs)}: ${messageOf(error)}`, this.now());
        }
        return this.transition("parity");
      }
      case "parity": {
        const result = await this.deps.replication!.parity();
        this.emit({ type: "replication", action: "parity", direction: null, ok: result.identical, detail: result.summary });
        if (!result.identical) throw new Breach(`exact parity failed under the write fence: ${result.summary}`, this.now());
        return this.transition("sequences");
      }
      case "sequences":
        await this.deps.replication!.copySequences("blue-to-green");
        this.emit({ type: "replication", action: "copy-sequences", direction: "blue-to-green", ok: true, detail: "sequences copied to green" });
        return this.transition("reverse-replication");
      case "reverse-replication":
        await this.deps.replication!.start("green-to-blue", { copyData: false });
        this.emit({ type: "replication", action: "start", direction: "green-to-blue", ok: true, detail: "green → blue replication started (no initial copy)" });
        return this.transition("writing", 0);
      case "writing": {
        const step = this.currentStep();
        await this.writeStepWeights(step.index, step.weights, 1);
        return this.transition("verifying");
      }
      case "verifying": {
        const step = this.currentStep();
        if (this.rewriteBeforeVerify) {
          this.rewriteBeforeVerify = false;
          await this.writeStepWeights(step.index, step.weights, 2);
        }
        const verified = await this.verify(step.weights, plan.verifyTimeoutMs, plan.verifyIntervalMs, step.index);
        if (!verified.ok) {
          throw new Breach(
            `weights blue ${step.weights.blue} / green ${step.weights.green} did not read back within ${formatDuration(plan.verifyTimeoutMs)}` +
              (verified.error ? ` (${verified.error})` : ""),
            this.now(),
          );
        }
        return this.transition(plan.fenced && j.fence.onAt !== null ? "unfencing" : "recording");
      }
      case "unfencing":
        await this.fenceOff();
        return this.transition("recording");
      case "recording": {
        const step = this.currentStep();
        await this.record(step.weights, step.index);
        return this.transition("baking");
      }
      case "baking": {
        const step = this.currentStep();
        await this.bake("baking", step.pollsRequired);
        return this.transition("hooks");
      }
      case "hooks": {
        const step = this.currentStep();
        await this.runHooks("after-step", step.index);
        const next = step.index + 1;
        if (next < plan.steps.length) return this.transition("writing", next);
        return this.transition("post-switch", null);
      }
      case "post-switch":
        await this.runHooks("post-switch", null);
        return this.transition("monitoring", null);
      case "monitoring":
        await this.bake("monitoring", plan.monitorPollsRequired);
        return this.finish("succeeded", null, null);
      case "rolling-back":
        return this.rollbackTraffic();
      default:
        throw new Error(`internal error: no handler for phase ${j.phase}`);
    }
  }

  private currentStep() {
    const index = this.journal.step;
    const step = index === null ? undefined : this.plan.steps[index];
    if (!step) throw new Error(`internal error: phase ${this.journal.phase} without a step`);
    return step;
  }

  // -------------------------------------------------------------------------------------------
  // preflight

  private async preflight(): Promise<void> {
    const j = this.journal;
    const plan = this.plan;
    const gates = plan.gates;
    const failures: string[] = [];
    const check = (name: PreflightCheckName, ok: boolean, detail: string) => {
      this.emit({ type: "preflight-check", check: name, ok, detail });
      if (!ok) failures.push(`${name}: ${detail}`);
    };
    const attempt = async (name: PreflightCheckName, body: () => Promise<void>) => {
      try {
        await body();
      } catch (error) {
        check(name, false, `error: ${messageOf(error)}`);
      }
    };

    await attempt("start-weights", async () => {
      const routes = await this.deps.router.readWeights();
      this.lastRoutes = routes;
      if (routes.length === 0) return check("start-weights", false, "the router reports no production routes");
      const distinct = new Set(routes.map((r) => `${r.weights.blue}/${r.weights.green}`));
      if (distinct.size > 1) {
        return check("start-weights", false, `the routes disagree (${routes.map((r) => `${r.route}: ${r.weights.blue}/${r.weights.green}`).join(", ")}): run rollback first`);
      }
      const live = routes[0]!.weights;
      if (!sameWeights(live, plan.startWeights)) {
        return check("start-weights", false, `live weights blue ${live.blue} / green ${live.green} moved since the plan was made (${plan.startWeights.blue}/${plan.startWeights.green})`);
      }
      if (plan.fenced && !sameWeights(live, BLUE_ONLY)) {
        return check("start-weights", false, `paired mode switches from blue 100 / green 0; live is blue ${live.blue} / green ${live.green}: run rollback first`);
      }
      check("start-weights", true, `blue ${live.blue} / green ${live.green} on ${routes.length} route(s)`);
    });
    await attempt("green-health", async () => {
      const h = await this.deps.health.health("green");
      check("green-health", h.healthy >= gates.minHealthyTargets && h.unhealthy === 0, `${describeHealth(h)}; needs ≥ ${gates.minHealthyTargets} healthy and 0 unhealthy`);
    });
    await attempt("blue-health", async () => {
      const h = await this.deps.health.health("blue");
      check("blue-health", h.healthy >= 1 && h.unhealthy === 0, `${describeHealth(h)}; rollback needs a healthy blue (≥ 1 healthy, 0 unhealthy)`);
    });
    await attempt("alarms", async () => {
      const firing = await this.deps.alarms.firing();
      check("alarms", firing.length === 0, firing.length === 0 ? "no alarm in ALARM" : `in ALARM: ${firing.join(", ")}`);
    });
    if (plan.fenced) {
      await attempt("replication", async () => {
        const status = await this.deps.replication!.status("blue-to-green");
        check("replication", status.running, `blue → green ${status.running ? "running" : "NOT running"}${status.lagBytes !== null ? `, lag ${status.lagBytes} bytes` : ""} (${status.detail})`);
      });
      await attempt("parity", async () => {
        const latest = this.deps.parity ? await this.deps.parity.latest() : null;
        if (latest === null) return check("parity", false, "no parity result: run `npm run parity` first");
        const age = this.now() - latest.checkedAt;
        if (!latest.identical) return check("parity", false, `the latest parity run found differences: ${latest.summary}`);
        if (age > plan.parityMaxAgeMs) {
          return check("parity", false, `the latest passing parity result is ${formatDuration(age)} old (max ${formatDuration(plan.parityMaxAgeMs)}): run \`npm run parity\` again`);
        }
        check("parity", true, `identical, ${formatDuration(age)} old: ${latest.summary}`);
      });
    }
    if (failures.length === 0) {
      for (const hook of plan.hooks.filter((h) => h.when === "preflight")) {
        const result = await this.runHook(hook.name, hook.command, hook.timeoutSeconds, "preflight", null);
        check(`hook:${hook.name}`, result.ok, result.detail);
      }
    }
    if (failures.length === 0) await this.ensureSnapshot(check);

    if (failures.length > 0) {
      this.decide("refuse", `preflight failed, nothing moved: ${failures.join("; ")}`);
      j.failure = { reason: `preflight failed: ${failures.join("; ")}`, breachObservedAt: this.now(), phase: "preflight", step: null };
      return this.finish("preflight-failed", j.failure.reason, null);
    }
    this.decide("proceed", "preflight passed");
    if (plan.fenced) return this.transition("fencing", null);
    return this.transition("writing", 0);
  }

  private async ensureSnapshot(check: (name: PreflightCheckName, ok: boolean, detail: string) => void): Promise<void> {
    const j = this.journal;
    const plan = this.plan;
    if (j.snapshot !== null) {
      const detail = j.snapshot.taken ? `already taken in this run: ${j.snapshot.id}` : `skipped: ${j.snapshot.reason}`;
      check("snapshot", true, detail);
      return;
    }
    const skip = this.skipSnapshotReason !== undefined ? this.skipSnapshotReason || "skipped with an explicit flag" : !plan.snapshot.enabled ? "disabled by rollout.snapshot.enabled: false" : null;
    if (skip !== null) {
      j.snapshot = { taken: false, skipped: true, reason: skip };
      this.emit({ type: "snapshot", ok: true, skipped: true, snapshotId: null, detail: skip });
      this.emit({ type: "warning", message: `no snapshot of blue's database before the cutover: ${skip}` });
      check("snapshot", true, `SKIPPED: ${skip}`);
      await this.persist();
      return;
    }
    const started = this.now();
    try {
      const snapshot = await this.deps.snapshotter.snapshot(`bluegreen-${j.runId}`, plan.snapshot.timeoutMs);
      j.snapshot = { taken: true, id: snapshot.id, availableAt: snapshot.availableAt, durationMs: this.now() - started };
      this.emit({ type: "snapshot", ok: true, skipped: false, snapshotId: snapshot.id, detail: `available after ${formatDuration(this.now() - started)}` });
      check("snapshot", true, `${snapshot.id} available`);
      await this.persist();
    } catch (error) {
      this.emit({ type: "snapshot", ok: false, skipped: false, snapshotId: null, detail: messageOf(error) });
      check("snapshot", false, `snapshot of blue's database failed: ${messageOf(error)}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // weights

  private async verify(
    weights: Weights,
    timeoutMs: number,
    intervalMs: number,
    step: number | null,
  ): Promise<{ ok: boolean; routes: RouteWeights[]; error: string | null }> {
    const started = this.now();
    const deadline = started + timeoutMs;
    let routes: RouteWeights[] = [];
    let error: string | null = null;
    for (;;) {
      try {
        routes = await this.deps.router.readWeights();
        error = null;
      } catch (e) {
        error = messageOf(e);
      }
      const ok = error === null && routes.length > 0 && routes.every((r) => sameWeights(r.weights, weights));
      if (ok || this.now() >= deadline) {
        this.lastRoutes = routes;
        this.emit({ type: "weights-verified", step, weights, ok, routes, waitedMs: this.now() - started });
        return { ok, routes, error: ok ? null : (error ?? (routes.length === 0 ? "no routes" : describeRoutes(routes))) };
      }
      await this.clock.sleep(Math.max(1, Math.min(intervalMs, deadline - this.now())));
    }
  }

  /**
   * Write a step's weights, checking the lock right before and right after: a `rollback --force`
   * that broke our lock in between must not be overridden by this write.
   */
  private async writeStepWeights(step: number, weights: Weights, attempt: number): Promise<void> {
    if (this.options.checkLock) await this.checkLock();
    this.emit({ type: "weights-written", step, weights, attempt });
    await this.deps.router.writeWeights(weights);
    if (!this.options.checkLock) return;
    try {
      await this.checkLock();
    } catch (error) {
      if (error instanceof LockLost) {
        // We raced a forced rollback: put back what it wrote (blue 100), then stop.
        await this.deps.router.writeWeights(BLUE_ONLY).catch(() => undefined);
        this.emit({ type: "warning", message: "the lock was broken while this run wrote weights: blue 100 / green 0 written again for that rollback" });
      }
      throw error;
    }
  }

  private async record(weights: Weights, step: number | null): Promise<void> {
    try {
      await this.deps.recorder.record(weights);
      this.emit({ type: "weights-recorded", step, weights, ok: true, detail: "stack config updated" });
    } catch (error) {
      // Not a traffic problem: warn, so `status` shows the drift, and go on.
      this.emit({ type: "weights-recorded", step, weights, ok: false, detail: messageOf(error) });
      this.emit({ type: "warning", message: `could not write blue ${weights.blue} / green ${weights.green} back to the stack config: ${messageOf(error)}; \`status\` will show drift` });
    }
  }

  // -------------------------------------------------------------------------------------------
  // bake and monitoring

  private async bake(phase: "baking" | "monitoring", required: number): Promise<void> {
    const j = this.journal;
    const plan = this.plan;
    const gates = plan.gates;
    if (!j.bake) j.bake = { passes: 0, polls: 0, extensionsUsed: 0, consecutiveMetricErrors: 0, startedAt: this.now() };
    const bake = j.bake;
    const expectedShare = phase === "baking" ? this.currentStep().weights.green / 100 : 1;
    let splitChecked = false;
    while (bake.passes < required) {
      await this.wait(plan.pollMs, phase, required);
      const end = this.now();
      const window = { start: end - plan.pollMs, end };
      bake.polls += 1;
      let metrics;
      let green: TargetHealth;
      let blue: TargetHealth;
      try {
        [metrics, green, blue] = await Promise.all([
          this.deps.metrics.sample(window),
          this.deps.health.health("green"),
          this.deps.health.health("blue"),
        ]);
      } catch (error) {
        bake.consecutiveMetricErrors += 1;
        this.emit({
          type: "metric-error",
          step: j.step,
          phase,
          poll: bake.polls,
          message: messageOf(error),
          consecutive: bake.consecutiveMetricErrors,
          limit: gates.maxConsecutiveMetricErrors,
        });
        if (bake.consecutiveMetricErrors >= gates.maxConsecutiveMetricErrors) {
          throw new Breach(`metrics unavailable ${bake.consecutiveMetricErrors} time(s) in a row: ${messageOf(error)}`, this.now());
        }
        this.decide("extend", `metrics error ${bake.consecutiveMetricErrors}/${gates.maxConsecutiveMetricErrors}: one more window`);
        await this.persist();
        continue;
      }
      bake.consecutiveMetricErrors = 0;
      const verdict: GateVerdict = evaluateGates(gates, { metrics, health: { green, blue } });
      if (verdict.status === "pass") bake.passes += 1;
      this.emit({ type: "gate-reading", step: j.step, phase, poll: bake.polls, passes: bake.passes, passesRequired: required, window, verdict });
      const share = verdict.observedGreenShare;
      if (!splitChecked && share !== null && metrics.blue.requests + metrics.green.requests >= gates.minRequests) {
        // DESIGN.md: confirm the verified weights in the observed split too. Informational
        // (stickiness and a window that straddles the write skew it), so a warning, not a gate.
        splitChecked = true;
        if (Math.abs(share - expectedShare) > Math.max(0.1, Math.min(expectedShare, 1 - expectedShare) * 0.5)) {
          this.emit({
            type: "warning",
            message: `observed split: green served ${(share * 100).toFixed(1)}% of requests in the window, the weights say ${(expectedShare * 100).toFixed(0)}%`,
          });
        }
      }
      if (verdict.status === "fail") {
        throw new Breach(`gate failed ${phase === "baking" ? `at step ${(j.step ?? 0) + 1}` : "during monitoring"}: ${verdict.reasons.join("; ")}`, end);
      }
      if (verdict.status === "inconclusive") {
        if (bake.extensionsUsed >= gates.inconclusiveExtensions) {
          throw new Breach(
            `inconclusive after ${bake.extensionsUsed} extension(s) (${verdict.reasons.join("; ")}): missing data is never a pass`,
            end,
          );
        }
        bake.extensionsUsed += 1;
        this.decide("extend", `inconclusive: extending by one window (${bake.extensionsUsed}/${gates.inconclusiveExtensions}): ${verdict.reasons.join("; ")}`);
      }
      await this.persist();
    }
    if (required > 0) this.decide("proceed", `${required} passing poll(s) ${phase === "baking" ? "in the bake" : "while monitoring"}`);
  }

  private async wait(ms: number, phase: "baking" | "monitoring", required: number): Promise<void> {
    const tick = this.deps.tickMs ?? 1000;
    if (tick <= 0) return this.clock.sleep(ms);
    const bake = this.journal.bake!;
    const pollMs = this.plan.pollMs;
    let left = ms;
    while (left > 0) {
      const d = Math.min(tick, left);
      await this.clock.sleep(d);
      left -= d;
      if (this.deps.events) {
        const elapsedMs = this.now() - bake.startedAt;
        const remainingPolls = Math.max(0, required - bake.passes - 1);
        const remainingMs = left + remainingPolls * pollMs;
        const event = {
          type: "tick",
          at: this.now(),
          runId: this.journal.runId,
          phase,
          step: this.journal.step,
          elapsedMs,
          totalMs: elapsedMs + remainingMs,
          remainingMs,
          nextPollInMs: left,
        } as EngineEvent;
        try {
          this.deps.events(event);
        } catch {
          // ignore renderer errors
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // hooks

  private async runHook(
    name: string,
    command: string,
    timeoutSeconds: number,
    when: "preflight" | "after-step" | "post-switch",
    step: number | null,
  ): Promise<{ ok: boolean; detail: string }> {
    const weights = step !== null ? this.plan.steps[step]!.weights : when === "post-switch" ? { blue: 0, green: 100 } : this.plan.startWeights;
    const env: Record<string, string> = {
      ...this.options.hookEnv,
      BLUEGREEN_RUN_ID: this.journal.runId,
      BLUEGREEN_HOOK: name,
      BLUEGREEN_WHEN: when,
      BLUEGREEN_STEP: step === null ? "" : String(step + 1),
      BLUEGREEN_WEIGHT_BLUE: String(weights.blue),
      BLUEGREEN_WEIGHT_GREEN: String(weights.green),
    };
    const started = this.now();
    let result: HookResult;
    try {
      result = await this.deps.hooks.run(command, timeoutSeconds * 1000, env);
    } catch (error) {
      result = { exitCode: null, timedOut: false, durationMs: this.now() - started, outputTail: messageOf(error) };
    }
    const ok = result.exitCode === 0 && !result.timedOut;
    this.emit({ type: "hook-result", name, when, step, ok, result });
    const detail = ok
      ? `exited 0 in ${result.durationMs} ms`
      : result.timedOut
        ? `timed out after ${timeoutSeconds}s`
        : result.exitCode === null
          ? `could not run: ${result.outputTail}`
          : `exited with code ${result.exitCode}`;
    return { ok, detail };
  }

  private async runHooks(when: "after-step" | "post-switch", step: number | null): Promise<void> {
    for (const hook of this.plan.hooks.filter((h) => h.when === when)) {
      const result = await this.runHook(hook.name, hook.command, hook.timeoutSeconds, when, step);
      if (!result.ok) throw new Breach(`hook ${hook.name} (${when}) ${result.detail}`, this.now());
    }
  }

  // -------------------------------------------------------------------------------------------
  // write fence (paired mode)

  private async fenceOn(purpose: "switch" | "rollback"): Promise<void> {
    const fence = this.deps.fence!;
    // Timed from the call, not its return: set() also waits for writes already inside the
    // apps to finish, and clients see 503s from the moment the fence takes effect.
    const requestedAt = this.now();
    await fence.set("writes");
    const j = this.journal;
    if (j.fence.onAt === null) j.fence.onAt = requestedAt;
    if (j.fence.purpose === null) j.fence.purpose = purpose;
    this.emit({ type: "fence", mode: "writes", ok: true, detail: `writes answered 503 (${purpose})` });
  }

  /** Lift the fence this journal put up; returns how long it was on. */
  private async fenceOff(): Promise<number | null> {
    const fence = this.deps.fence!;
    await fence.set("off");
    const j = this.journal;
    let duration: number | null = null;
    if (j.fence.onAt !== null) {
      const offAt = this.now();
      duration = offAt - j.fence.onAt;
      j.fence.periods.push({ purpose: j.fence.purpose ?? "switch", onAt: j.fence.onAt, offAt, durationMs: duration });
      j.fence.onAt = null;
      j.fence.purpose = null;
    }
    this.emit({ type: "fence", mode: "off", ok: true, detail: duration !== null ? `writes flow again after ${duration} ms` : "writes flow" });
    return duration;
  }

  // -------------------------------------------------------------------------------------------
  // rollback

  async rollbackTraffic(): Promise<void> {
    const j = this.journal;
    const failure = j.failure ?? { reason: "rollback", breachObservedAt: this.now(), phase: j.phase, step: j.step };
    const opts = this.rollbackOptions;
    const verifyTimeoutMs = j.plan?.verifyTimeoutMs ?? opts.verifyTimeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS;
    const verifyIntervalMs = j.plan?.verifyIntervalMs ?? opts.verifyIntervalMs ?? DEFAULT_VERIFY_INTERVAL_MS;
    const catchUpTimeoutMs = opts.catchUpTimeoutMs ?? j.plan?.catchUpTimeoutMs ?? DEFAULT_CATCH_UP_MS;
    const paired =
      (j.databaseMode === "paired" || opts.databaseMode === "paired") && this.deps.fence !== undefined && this.deps.replication !== undefined;
    j.rollback = { startedAt: this.now(), verifiedAt: null, timeToRollbackMs: null, attempts: 0, fenceMs: null, onlyOnGreen: null, detail: "" };

    // Paired: green may hold writes that blue lacks only if green has served traffic.
    let greenServing = false;
    let caughtUp = false;
    if (paired) {
      try {
        const routes = await this.deps.router.readWeights();
        greenServing = routes.length === 0 || routes.some((r) => r.weights.green > 0);
      } catch (error) {
        greenServing = true; // unknown: assume the worst
        this.emit({ type: "warning", message: `could not read weights before the paired rollback (${messageOf(error)}): fencing anyway` });
      }
      if (greenServing) {
        try {
          await this.fenceOn("rollback");
          await this.persist();
        } catch (error) {
          if (error instanceof JournalWriteError) throw error;
          this.emit({ type: "fence", mode: "writes", ok: false, detail: messageOf(error) });
        }
        try {
          const status = await this.deps.replication!.status("green-to-blue");
          this.emit({ type: "replication", action: "status", direction: "green-to-blue", ok: status.running, detail: status.detail });
          if (status.running) {
            const { waitedMs } = await this.deps.replication!.waitForCatchUp("green-to-blue", catchUpTimeoutMs);
            caughtUp = true;
            this.emit({ type: "replication", action: "catch-up", direction: "green-to-blue", ok: true, detail: `blue caught up with green in ${waitedMs} ms` });
            await this.deps.replication!.copySequences("green-to-blue");
            this.emit({ type: "replication", action: "copy-sequences", direction: "green-to-blue", ok: true, detail: "sequences copied to blue" });
          }
        } catch (error) {
          this.emit({ type: "replication", action: caughtUp ? "copy-sequences" : "catch-up", direction: "green-to-blue", ok: false, detail: messageOf(error) });
        }
        if (!caughtUp) {
          this.emit({ type: "warning", message: "green → blue replication is not healthy: flipping anyway, then listing the keys that exist only on green" });
          // Sequences do not travel by replication and need none: copy them anyway (best effort).
          // Otherwise blue hands out keys green already used: they collide with the rows only on
          // green (which then show as changed, not as only on green) and break blue → green replication.
          try {
            await this.deps.replication!.copySequences("green-to-blue");
            this.emit({ type: "replication", action: "copy-sequences", direction: "green-to-blue", ok: true, detail: "sequences copied to blue (replication unhealthy)" });
          } catch (error) {
            this.emit({ type: "replication", action: "copy-sequences", direction: "green-to-blue", ok: false, detail: messageOf(error) });
          }
        }
      }
    }

    // The flip: one write per route, read back until equal. Retried, bounded.
    let verified = false;
    let lastError = "";
    for (let attempt = 1; attempt <= ROLLBACK_ATTEMPTS && !verified; attempt++) {
      j.rollback.attempts = attempt;
      this.emit({ type: "weights-written", step: null, weights: BLUE_ONLY, attempt });
      try {
        await this.deps.router.writeWeights(BLUE_ONLY);
      } catch (error) {
        lastError = `write failed: ${messageOf(error)}`;
        this.emit({ type: "warning", message: `rollback write attempt ${attempt} failed: ${messageOf(error)}` });
        continue;
      }
      const result = await this.verify(BLUE_ONLY, verifyTimeoutMs, verifyIntervalMs, null);
      verified = result.ok;
      if (!verified) lastError = `did not read back within ${formatDuration(verifyTimeoutMs)}: ${result.error}`;
    }

    if (!verified) {
      j.rollback.detail = `traffic NOT verified on blue after ${ROLLBACK_ATTEMPTS} attempt(s): ${lastError}` + (paired && j.fence.onAt !== null ? "; the write fence stays on to avoid split-brain writes" : "");
      this.emit({
        type: "rollback-complete",
        ok: false,
        reason: failure.reason,
        timeToRollbackMs: null,
        weights: BLUE_ONLY,
        routes: this.lastRoutes,
        fenceMs: null,
        onlyOnGreen: null,
        detail: j.rollback.detail,
      });
      return this.finish("failed-rollback", j.rollback.detail);
    }

    const verifiedAt = this.now();
    j.rollback.verifiedAt = verifiedAt;
    j.rollback.timeToRollbackMs = verifiedAt - failure.breachObservedAt;
    await this.persist(); // traffic is on blue: record it before anything slower

    if (paired) {
      if (j.fence.onAt !== null) {
        try {
          j.rollback.fenceMs = await this.fenceOff();
        } catch (error) {
          this.emit({ type: "fence", mode: "off", ok: false, detail: messageOf(error) });
          this.emit({ type: "warning", message: `could not lift the write fence: ${messageOf(error)}; run \`npm run maintenance -- off\`` });
        }
      } else {
        try {
          const mode = await this.deps.fence!.read();
          if (mode !== "off") this.emit({ type: "warning", message: `the fence is "${mode}" and was not set by this run: left as it is` });
        } catch {
          // informational only
        }
      }
      if (greenServing && !caughtUp) {
        try {
          const parity = await this.deps.replication!.parity();
          j.rollback.onlyOnGreen = parity.onlyOnGreen ?? [];
          this.emit({ type: "replication", action: "parity", direction: null, ok: j.rollback.onlyOnGreen.length === 0, detail: parity.summary });
          if (j.rollback.onlyOnGreen.length > 0) {
            this.emit({ type: "warning", message: `${j.rollback.onlyOnGreen.length} key(s) exist only on green: ${j.rollback.onlyOnGreen.slice(0, 20).join(", ")}${j.rollback.onlyOnGreen.length > 20 ? ", …" : ""}` });
          }
        } catch (error) {
          this.emit({ type: "warning", message: `could not compare the databases after the rollback: ${messageOf(error)}` });
        }
      }
      if (opts.stopReverseReplication) {
        try {
          await this.deps.replication!.stop("green-to-blue");
          this.emit({ type: "replication", action: "stop", direction: "green-to-blue", ok: true, detail: "stopped after the rollback" });
        } catch (error) {
          this.emit({ type: "replication", action: "stop", direction: "green-to-blue", ok: false, detail: messageOf(error) });
        }
      }
    }

    await this.record(BLUE_ONLY, null);
    const sticky = maxStickiness(this.lastRoutes);
    if (sticky) this.emit({ type: "warning", message: `stickiness is on: clients may stay on green for up to ${formatDuration(sticky * 1000)}` });
    j.rollback.detail = `blue 100 / green 0 verified ${j.rollback.timeToRollbackMs} ms after the breach was observed`;
    this.emit({
      type: "rollback-complete",
      ok: true,
      reason: failure.reason,
      timeToRollbackMs: j.rollback.timeToRollbackMs,
      weights: BLUE_ONLY,
      routes: this.lastRoutes,
      fenceMs: j.rollback.fenceMs,
      onlyOnGreen: j.rollback.onlyOnGreen,
      detail: j.rollback.detail,
    });
    await this.finish("rolled-back", failure.reason);
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describeHealth(h: TargetHealth): string {
  return `${h.healthy} healthy, ${h.unhealthy} unhealthy of ${h.total}`;
}

function describeRoutes(routes: RouteWeights[]): string {
  return routes.map((r) => `${r.route}: blue ${r.weights.blue} / green ${r.weights.green}`).join(", ");
}

function maxStickiness(routes: RouteWeights[]): number | null {
  const values = routes.map((r) => r.stickinessSeconds).filter((s): s is number => typeof s === "number" && s > 0);
  return values.length > 0 ? Math.max(...values) : null;
}

/** The plan starts from the least-advanced route (the conservative choice when routes disagree; preflight refuses that anyway). */
function startWeightsOf(routes: RouteWeights[]): Weights {
  if (routes.length === 0) return { ...BLUE_ONLY };
  const least = routes.reduce((a, b) => (b.weights.green < a.weights.green ? b : a));
  return { ...least.weights };
}

/** Where traffic must be when a run resumes in this phase; null when the phase re-establishes it itself. */
function expectedLiveWeights(journal: Journal): Weights | null {
  const plan = journal.plan;
  if (!plan) return null;
  switch (journal.phase) {
    case "fencing":
    case "catching-up":
    case "parity":
    case "sequences":
    case "reverse-replication":
      return plan.startWeights;
    case "unfencing":
    case "recording":
    case "baking":
    case "hooks":
      return journal.step === null ? null : (plan.steps[journal.step]?.weights ?? null);
    case "post-switch":
    case "monitoring":
      return plan.steps.at(-1)?.weights ?? null;
    default:
      return null; // preflight checks it; writing/verifying write again; rolling-back goes to blue anyway
  }
}

/** A lock left behind by a run whose journal already reached a terminal phase (its process died before releasing it). */
async function isStaleLock(deps: EngineDeps, holder: LockHolder): Promise<boolean> {
  if (holder.runId === undefined) return false;
  try {
    const raw = await deps.journal.load();
    if (raw === null || raw === undefined) return false;
    const journal = parseJournal(raw);
    return journal.runId === holder.runId && isTerminal(journal.phase);
  } catch {
    return false;
  }
}

function requirePairedPorts(deps: EngineDeps, mode: DatabaseMode): void {
  if (mode !== "paired") return;
  const missing = (["fence", "replication", "parity"] as const).filter((name) => deps[name] === undefined);
  if (missing.length > 0) throw new EngineInputError(`paired database mode needs the ${missing.join(", ")} port(s)`);
}

function newRunId(deps: EngineDeps): string {
  if (deps.newRunId) return deps.newRunId();
  const time = new Date(deps.clock.now()).toISOString().replace(/[:.]/g, "-");
  const random = Math.random().toString(36).slice(2, 8);
  return `${time}-${random}`;
}
