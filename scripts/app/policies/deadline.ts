// `--deadline <seconds>`: a bound on a command's time to an answer, shared by `rollback` (default
// 60 s) and `status` (default 20 s). Parsed before any AWS call (exit 2 when malformed), counted
// from the command's own start (its start-up, outputs and imports included), enforced by an
// AbortSignal the command hands to every AWS call. The timer is unref'd: it never keeps a process
// alive that has nothing else to do.

import { UsageError } from "../../core/errors.js";

const MAX_DEADLINE_SECONDS = 3600;

/** Parse --deadline: seconds, a number 1..3600 (fractions allowed for tests and scripts), in ms. */
export function parseDeadlineSeconds(value: string | undefined, defaultSeconds: number): number {
  if (value === undefined) return defaultSeconds * 1000;
  // Decimal seconds only: Number() would also read "0x10" as 16, "1e3" as 1000 and " 5 " as 5.
  const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > MAX_DEADLINE_SECONDS) {
    throw new UsageError(`--deadline ${value}: must be a number of seconds from 1 to ${MAX_DEADLINE_SECONDS}, written in decimal (e.g. 30 or 2.5)`);
  }
  return Math.round(seconds * 1000);
}

/**
 * Abort `controller` with `reason` once `ms` have passed since `startedAt` (a performance.now()
 * reading; at once when that is already past). Returns the cancel function.
 */
export function abortAfter(controller: AbortController, ms: number, reason: unknown, startedAt: number = performance.now()): () => void {
  const timer = setTimeout(() => controller.abort(reason), Math.max(0, ms - (performance.now() - startedAt)));
  timer.unref();
  return () => clearTimeout(timer);
}

/** The part of the deadline kept for recording the outcome (journal save, lock release) after the work stops. */
export function cleanupReserveMs(deadlineMs: number): number {
  return Math.round(Math.min(5_000, Math.max(250, deadlineMs * 0.2)));
}

/**
 * A rollback's deadline, counted from the command's start: the work signal aborts every call in
 * flight when the work time (the deadline less the cleanup reserve) is up; the calls made after
 * that (failed-rollback into the journal, the lock release) get the rest, on the hard signal.
 */
export class RollbackDeadline {
  readonly work = new AbortController();
  private readonly hard = new AbortController();
  private readonly cancelWork: () => void;
  private readonly cancelHard: () => void;

  constructor(
    readonly deadlineMs: number,
    began: number,
  ) {
    const error = new Error(`the rollback deadline (--deadline ${deadlineMs / 1000} s) has passed`);
    this.cancelWork = abortAfter(this.work, deadlineMs - cleanupReserveMs(deadlineMs), error, began);
    this.cancelHard = abortAfter(this.hard, deadlineMs, error, began);
  }

  /** The signal for each call: the work's until it is up, then the reserve's. */
  readonly signal = (): AbortSignal => (this.work.signal.aborted ? this.hard.signal : this.work.signal);

  get passed(): boolean {
    return this.work.signal.aborted;
  }

  /** The work is over (or there is none): no more aborts from the work timer. */
  stopWork(): void {
    this.cancelWork();
  }

  stop(): void {
    this.cancelWork();
    this.cancelHard();
  }
}
