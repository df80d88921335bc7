// Reading a window once its data are complete. CloudWatch's ALB metrics for a minute are published
// in parts, one per load-balancer node, each after its own delay (60–150 s after the minute has
// been measured): read at `end + publicationDelayMs` a window may hold half its requests, or none.
// Judging it then would judge a fraction of the evidence, and an empty window would be counted as
// judged while traffic flows. So a window is read, then read again every REREAD_MS while it is not
// complete, up to MAX_EXTRA_MS past the source's declared delay:
//
// - complete: its request count reached the traffic expected from the last complete windows
//   (within Poisson noise and a tolerance), or it stopped growing between two reads (traffic that
//   fell is not waited for);
// - at the bound, a window with requests is judged with what was seen, and says how much that was;
// - at the bound, a window with no request while traffic flows (or while the traffic is not yet
//   known) is not evidence: WindowNotPublishedError, which the bake counts like a metrics error
//   (the same window again at the next poll; a few in a row fail the step).
//
// A source that declares no publication delay (the sandbox's router counters) is complete when the
// window ends: it is read once. Pure except for the injected read/sleep.

/** Time between two reads of the same window. */
export const REREAD_MS = 30_000;
/** How long past the declared delay a window is re-read before it is judged with what was seen. */
export const MAX_EXTRA_MS = 180_000;
/** A window is complete at this share of the expected requests (less Poisson noise). */
const COMPLETE_SHARE = 0.95;

/** How complete a window was when it was judged (journaled with the reading, shown in the verdict). */
export interface WindowCompleteness {
  /** Reads of this window. */
  reads: number;
  /** Requests (both colors) at the last read. */
  requests: number;
  /** Requests expected from the traffic of the last complete windows; null while unknown. */
  expectedRequests: number | null;
  /** requests / expectedRequests, null while unknown. */
  seenShare: number | null;
  /** Reached the expected traffic or stopped growing; false: judged at the bound with what was seen. */
  complete: boolean;
  /** Time spent re-reading past the first read (ms). */
  waitedMs: number;
}

export class WindowNotPublishedError extends Error {
  override name = "WindowNotPublishedError";
}

/** Requests a window of `lengthMs` should hold at `perMinute`; null while the traffic is unknown. */
export function expectedRequests(perMinute: number | null | undefined, lengthMs: number): number | null {
  return perMinute === null || perMinute === undefined ? null : Math.round((perMinute * lengthMs) / 60_000);
}

/** Is a window whose reads gave `totals` (oldest first) complete? */
export function isComplete(totals: readonly number[], expected: number | null): boolean {
  const last = totals.at(-1) ?? 0;
  if (expected !== null && expected > 0 && last >= expected * COMPLETE_SHARE - 3 * Math.sqrt(expected)) return true;
  if (totals.length < 2 || last !== totals.at(-2)) return false;
  // Stable: complete when it holds requests, or when no traffic is expected at all.
  return last > 0 || expected === 0;
}

export interface ReadWindowOptions<T> {
  read: () => Promise<T>;
  requestsOf: (value: T) => number;
  expected: number | null;
  /** The source's declared delay: 0 means a window is complete when it ends (one read). */
  publicationDelayMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** Words for the error (the window, the phase). */
  describe: string;
}

/** Read a window until it is complete (see the top of this file). */
export async function readWindowWhenComplete<T>(options: ReadWindowOptions<T>): Promise<{ value: T; completeness: WindowCompleteness }> {
  const started = options.now();
  const totals: number[] = [];
  let value = await options.read();
  totals.push(options.requestsOf(value));
  if (options.publicationDelayMs > 0) {
    while (!isComplete(totals, options.expected) && options.now() - started + REREAD_MS <= MAX_EXTRA_MS) {
      await options.sleep(REREAD_MS);
      value = await options.read();
      totals.push(options.requestsOf(value));
    }
  }
  const requests = totals.at(-1)!;
  const complete = options.publicationDelayMs <= 0 || isComplete(totals, options.expected);
  if (!complete && requests === 0) {
    const flowing = options.expected !== null ? `while ~${options.expected} request(s) per window flow` : "and no traffic seen yet to tell it is idle";
    throw new WindowNotPublishedError(
      `no request published for ${options.describe} after ${totals.length} read(s) over ${Math.round((options.now() - started) / 1000)} s ${flowing}`,
    );
  }
  const expected = options.expected;
  return {
    value,
    completeness: {
      reads: totals.length,
      requests,
      expectedRequests: expected,
      seenShare: expected !== null && expected > 0 ? Math.min(1, requests / expected) : null,
      complete,
      waitedMs: options.now() - started,
    },
  };
}

/** An expectation older than this (a pause, a long crash) is not used: traffic may have moved since. */
export const TRAFFIC_FRESH_MS = 15 * 60_000;

interface TrafficRecord {
  trafficPerMinute?: number | null;
  trafficMeasuredAt?: number | null;
}

/** Requests per minute measured over a complete window that ended at most TRAFFIC_FRESH_MS before `at`; null otherwise. */
export function recentTrafficPerMinute(record: TrafficRecord, at: number): number | null {
  const perMinute = record.trafficPerMinute ?? null;
  const measuredAt = record.trafficMeasuredAt ?? null;
  return perMinute !== null && measuredAt !== null && at - measuredAt <= TRAFFIC_FRESH_MS ? perMinute : null;
}

/** A complete window's traffic becomes the next windows' expectation (an incomplete one says nothing). */
export function noteTraffic(record: TrafficRecord, completeness: WindowCompleteness, window: { start: number; end: number }): void {
  const lengthMs = window.end - window.start;
  if (!completeness.complete || lengthMs <= 0) return;
  record.trafficPerMinute = (completeness.requests * 60_000) / lengthMs;
  record.trafficMeasuredAt = window.end;
}

/** "saw 97% of ~2000 expected requests (2 reads, +30 s)": for the reading's line. */
export function describeCompleteness(c: WindowCompleteness): string {
  const seen = c.seenShare !== null ? `saw ${Math.round(c.seenShare * 100)}% of ~${c.expectedRequests} expected req` : `saw ${c.requests} req`;
  const how = `${c.reads} read${c.reads === 1 ? "" : "s"}${c.waitedMs > 0 ? `, +${Math.round(c.waitedMs / 1000)} s` : ""}`;
  return `${seen} (${how}${c.complete ? "" : ", judged incomplete at the bound"})`;
}
