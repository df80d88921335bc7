// The state of one engine run: its journal, how events are emitted and saved, the lock check
// before every save, the phase transitions and the terminal "done". Every phase module works on
// a Run; none of them saves the journal or changes the phase any other way.

import type { DatabaseMode } from "../../../infra/config.js";
import type { Decision, EngineEvent, Operation } from "../events.js";
import { appendEvent, type Journal } from "../journal.js";
import { canTransition, type Phase, type TerminalPhase } from "../phases.js";
import type { Plan } from "../plan.js";
import type { Clock, LockHolder, RouteWeights } from "../ports.js";
import type { CutoverDeps, RollbackDeps, RunSettings } from "./types.js";

/** A gate, hook, verification or paired-switch check failed: roll back. */
export class Breach extends Error {
  constructor(
    readonly reason: string,
    readonly observedAt: number,
  ) {
    super(reason);
  }
}

/** Another operator broke our lock (`rollback --force`): stop touching anything. */
export class LockLost extends Error {
  constructor(readonly holder: LockHolder | null) {
    super(holder ? `the lock now belongs to ${holder.owner} (${holder.operation})` : "the lock was removed");
  }
}

/**
 * The caller aborted the run (the request's signal): stop at this safe point, leave the journal
 * in its current non-terminal phase for `--resume`, and touch nothing more.
 */
export class Interrupted extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The journal could not be saved. */
export class JournalWriteError extends Error {
  constructor(readonly original: unknown) {
    super(`could not save the journal: ${(original as Error)?.message ?? String(original)}`);
  }
}

export interface RollbackOptions {
  /** The stack's mode now (the journal's mode is used too: paired if either says so). */
  databaseMode?: DatabaseMode | undefined;
  verifyTimeoutMs?: number | undefined;
  verifyIntervalMs?: number | undefined;
  catchUpTimeoutMs?: number | undefined;
  stopReverseReplication: boolean;
  /** When the rollback's work must be done (clock ms): each read-back window is cut so a rewrite still fits. */
  deadlineAt?: number | undefined;
}

export interface RunOptions {
  operation: Operation;
  owner: string;
  hookEnv: Record<string, string>;
  /** Check that this run still holds the lock before every save (cutover yes, rollback no). */
  checkLock: boolean;
  /** Aborting it interrupts the run at the next safe point (see Interrupted). */
  signal?: AbortSignal | undefined;
  /** The lock holder's `since` of this session: operator requests name it (core/operatorRequest.ts). */
  holderSince?: number | undefined;
}

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What the caller said when aborting, as a sentence. */
export function abortReason(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  if (typeof reason === "string" && reason.length > 0) return reason;
  if (reason instanceof Error && reason.name !== "AbortError") return reason.message;
  return "interrupted";
}

/** One run over its ports D: a cutover's (the default) or a rollback's narrower set. */
export class Run<D extends RollbackDeps = CutoverDeps> {
  aborted = false;
  /** Set when the run stopped because the caller aborted it (outcome "interrupted"). */
  interrupted: string | null = null;
  skipSnapshotReason: string | undefined;
  /** Resumed in "verifying": write the step's weights again before verifying them. */
  rewriteBeforeVerify = false;
  lastRoutes: RouteWeights[] = [];
  /** The journal store failed once: nothing more is saved. */
  journalBroken = false;
  rollbackOptions: RollbackOptions = { stopReverseReplication: false };
  readonly clock: Clock;

  constructor(
    readonly deps: D & RunSettings,
    readonly journal: Journal,
    readonly options: RunOptions,
  ) {
    this.clock = deps.clock;
  }

  get plan(): Plan {
    return this.journal.plan!;
  }

  now(): number {
    return this.clock.now();
  }

  get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  /** A safe point: throw Interrupted once the caller has aborted. */
  throwIfAborted(): void {
    if (this.options.signal?.aborted) throw new Interrupted(abortReason(this.options.signal));
  }

  /** Every engine wait: wakes as soon as the caller aborts, then stops the run there. */
  async sleep(ms: number): Promise<void> {
    await this.clock.sleep(ms, this.options.signal);
    this.throwIfAborted();
  }

  emit(event: DistributiveOmit<EngineEvent, "at" | "runId">): void {
    const full = { ...event, at: this.now(), runId: this.journal.runId } as EngineEvent;
    appendEvent(this.journal, full);
    this.deliver(full);
  }

  /** Hand an event to the sink only (ticks: not journaled). */
  deliver(event: EngineEvent): void {
    if (!this.deps.events) return;
    try {
      this.deps.events(event);
    } catch {
      // A broken renderer must never stop a cutover or a rollback.
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

  async checkLock(): Promise<void> {
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
  async finish(outcome: Exclude<TerminalPhase, "aborted">, reason: string | null, step: number | null = this.journal.step): Promise<void> {
    // The lock is checked before either event, so a lost lock never follows a "done".
    const lockChecked = !this.journalBroken && this.options.checkLock;
    if (lockChecked) await this.checkLock();
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

  currentStep() {
    const index = this.journal.step;
    const step = index === null ? undefined : this.plan.steps[index];
    if (!step) throw new Error(`internal error: phase ${this.journal.phase} without a step`);
    return step;
  }
}
