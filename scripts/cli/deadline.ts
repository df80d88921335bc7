// `--deadline <seconds>`: a bound on a command's time to an answer, shared by `rollback` (default
// 60 s) and `status` (default 20 s). Parsed before any AWS call (exit 2 when malformed), counted
// from the command's own start (its start-up, outputs and imports included), enforced by an
// AbortSignal the command hands to every AWS call. The timer is unref'd: it never keeps a process
// alive that has nothing else to do.

import { UsageError } from "./common.js";

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
