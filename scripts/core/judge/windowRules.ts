// What a window read from the metrics source is worth, pure: the judge's rules for the windows
// themselves, before their counts are weighed (./judge.ts). The bake reads windows and acts on
// what these say; it decides nothing itself.
//
// - A window whose observed split (green's share of the requests) is inconsistent with the
//   verified weights beyond binomial noise (and, with stickiness, the previous weights) is not
//   evidence: the weights it would be judged under are not the ones in effect. A few in a row fail
//   the step ("weights not in effect").
// - The load balancer's own 5xx that no color is named for (AWS HTTPCode_ELB_5XX_Count has no
//   TargetGroup dimension) are judged against their level before the step; the excess counts
//   against green, the color whose share changed (the default action of doubt is rollback).
// - Green with unhealthy targets fails the step: the load balancer is already routing around them.
// - The metrics source failing a few times in a row fails the step: missing data is never a pass.

import type { Color, ColorMetrics, MetricsSample, MetricsWindow, TargetHealth } from "../ports.js";
import type { ColorCounts, JudgeWindow } from "./types.js";
import { formatPercent } from "../format.js";

/** Inconsistent windows in a row that fail the step with "weights not in effect". */
export const INCONSISTENT_WINDOWS_LIMIT = 3;
/** Fewer requests in a window than this say nothing about the split. */
export const SPLIT_MIN_REQUESTS = 20;
/** Standard deviations of binomial noise a share may be off by, plus an absolute slack (pinned test requests, ALB node granularity). */
const SPLIT_Z = 4;
const SPLIT_SLACK = 0.02;

export interface SplitExpectation {
  /** Green's share from the verified weights (0..1). */
  share: number;
  /** Green's share before this step (0..1): with stickiness, clients stay where they were for a while. */
  previousShare: number;
  /** Until when (epoch ms) stickiness may keep clients on their previous color; null: no stickiness. */
  stickyUntil: number | null;
}

export interface SplitCheck {
  /** null when the window holds too few requests to say anything. */
  consistent: boolean | null;
  observed: number | null;
  /** The range of shares binomial noise (and stickiness) explain. */
  low: number;
  high: number;
  requests: number;
}

/**
 * Is green's observed share in the window explained by the weights? Binomial noise: a request
 * goes to green with probability `share`, so over n requests the share is within SPLIT_Z standard
 * deviations (+ a continuity term 1/n and an absolute slack) of it. While stickiness may still hold
 * clients on their previous color, any share between the previous and the new one is explained too.
 */
export function checkSplit(sample: Pick<MetricsSample, Color>, window: MetricsWindow, expected: SplitExpectation): SplitCheck {
  const requests = sample.blue.requests + sample.green.requests;
  const sticky = expected.stickyUntil !== null && window.start < expected.stickyUntil;
  const lowShare = sticky ? Math.min(expected.share, expected.previousShare) : expected.share;
  const highShare = sticky ? Math.max(expected.share, expected.previousShare) : expected.share;
  if (requests < SPLIT_MIN_REQUESTS) return { consistent: null, observed: requests > 0 ? sample.green.requests / requests : null, low: 0, high: 1, requests };
  const noise = (p: number) => SPLIT_Z * Math.sqrt((p * (1 - p)) / requests) + 1 / requests + SPLIT_SLACK;
  const low = Math.max(0, lowShare - noise(lowShare));
  const high = Math.min(1, highShare + noise(highShare));
  const observed = sample.green.requests / requests;
  return { consistent: observed >= low && observed <= high, observed, low, high, requests };
}

/** The load balancer's 5xx in a sample that no color is named for. */
export function unattributedElb(sample: MetricsSample): number {
  if (!sample.loadBalancer) return 0;
  return Math.max(0, sample.loadBalancer.elb5xx - (sample.blue.elbErrors ?? 0) - (sample.green.elbErrors ?? 0));
}

/**
 * The unattributed ELB 5xx in a window above their level before the step, counted against green.
 * The expected count is the earlier rate × this window's requests; only what exceeds a generous
 * upper bound of Poisson noise around it (expected + 2√expected + 1) is attributed, so a steady
 * background of ALB errors never accumulates against an identical green.
 */
export function excessElbErrors(sample: MetricsSample, before: { requests: number; unattributed: number } | null): number {
  const observed = unattributedElb(sample);
  if (observed === 0) return 0;
  const requests = sample.blue.requests + sample.green.requests;
  const rate = before && before.requests > 0 ? before.unattributed / before.requests : 0;
  const expected = rate * requests;
  const bound = expected + 2 * Math.sqrt(expected) + 1;
  return Math.max(0, Math.round(observed - bound));
}

/** A color's errors as the judge counts them: its targets' 5xx plus the ones the load balancer answered for it. */
export function colorErrors(metrics: Pick<ColorMetrics, "errors5xx" | "elbErrors">): number {
  return metrics.errors5xx + (metrics.elbErrors ?? 0);
}

/** A window's counts as the judge takes them; latency without data is null, never "no slow requests". */
export function countsOf(metrics: ColorMetrics, extraErrors: number): ColorCounts {
  return {
    requests: metrics.requests,
    errors: colorErrors(metrics) + extraErrors,
    slow: metrics.slow === undefined || (metrics.requests > 0 && metrics.p95Ms === null && metrics.slow === 0) ? null : metrics.slow,
    p95Ms: metrics.p95Ms,
    p99Ms: metrics.p99Ms,
  };
}

/** Where the bake's window bookkeeping stands (journal.bake.windows), as far as these rules need it. */
export interface WindowTally {
  inconsistentInARow: number;
  elbBefore: { requests: number; unattributed: number } | null;
}

export interface WindowReading {
  sample: MetricsSample;
  green: TargetHealth;
  blue: TargetHealth;
}

export type WindowAssessment =
  /** Weigh it: the counts the judge takes, with the ELB 5xx attributed to green and the observed share. */
  | { kind: "judge"; window: JudgeWindow; attributedElbErrors: number; observedGreenShare: number | null }
  /** Not evidence; the bake says why and reads the next window. */
  | { kind: "drop"; warning: string }
  /** The step fails now. */
  | { kind: "fail"; reason: string };

const pct = (x: number) => formatPercent(x, { decimals: 1 });

export function describeWindow(window: MetricsWindow): string {
  return `[${new Date(window.start).toISOString()}, ${new Date(window.end).toISOString()})`;
}

/**
 * What one window read is worth. `where` names the phase for messages ("at step 2", "during
 * monitoring"). The tally is updated (a consistent window resets the inconsistent streak).
 */
export function assessWindow(
  reading: WindowReading,
  window: MetricsWindow,
  expectation: SplitExpectation,
  tally: WindowTally,
  where: string,
): WindowAssessment {
  const split = checkSplit(reading.sample, window, expectation);
  if (split.consistent === false) {
    tally.inconsistentInARow += 1;
    const observed = `green served ${pct(split.observed ?? 0)} of ${split.requests} request(s) in ${describeWindow(window)}, the weights say ${pct(expectation.share)} (noise explains ${pct(split.low)}–${pct(split.high)})`;
    if (tally.inconsistentInARow >= INCONSISTENT_WINDOWS_LIMIT)
      return { kind: "fail", reason: `weights not in effect ${where}: ${tally.inconsistentInARow} windows in a row: ${observed}` };
    return {
      kind: "drop",
      warning: `observed split: ${observed}: the window is not evidence (${tally.inconsistentInARow}/${INCONSISTENT_WINDOWS_LIMIT} in a row fail the step)`,
    };
  }
  tally.inconsistentInARow = 0;
  if (reading.green.unhealthy > 0) return { kind: "fail", reason: `green has ${reading.green.unhealthy} unhealthy target(s) ${where}` };
  const attributedElbErrors = excessElbErrors(reading.sample, tally.elbBefore);
  return {
    kind: "judge",
    window: { start: window.start, end: window.end, blue: countsOf(reading.sample.blue, 0), green: countsOf(reading.sample.green, attributedElbErrors) },
    attributedElbErrors,
    observedGreenShare: split.observed,
  };
}

/** After a failed read: try the same window again at the next poll, or fail the step after `limit` in a row. */
export function assessMetricError(consecutive: number, limit: number, message: string): { kind: "retry"; note: string } | { kind: "fail"; reason: string } {
  if (consecutive >= limit) return { kind: "fail", reason: `metrics unavailable ${consecutive} time(s) in a row: ${message}` };
  return { kind: "retry", note: `metrics error ${consecutive}/${limit}: the same window again at the next poll` };
}
