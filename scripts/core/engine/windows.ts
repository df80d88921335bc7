// Which metrics windows are evidence for a step, pure. The bake module (bake.ts) reads windows
// through these rules and nowhere else decides about time:
//
// - A window is evidence for a step only if it STARTS at or after the step's bake began (which is
//   after its weights were verified): the first window starts at the bake's start rounded UP to
//   the source's resolution, so a window that straddles the weight change is never asked for,
//   never counted. Windows are whole multiples of the resolution (plan.pollMs), back to back.
// - A window is asked for only once `end + publicationDelayMs` has passed (the source's declared
//   delay): CloudWatch answers a minute partially, or not at all, before that.
// - A window whose observed split (green's share of the requests) is inconsistent with the
//   verified weights beyond binomial noise (and, with stickiness, the previous weights) is not
//   evidence: the weights it was judged under are not the ones in effect.
// - The load balancer's own 5xx that no color is named for (AWS HTTPCode_ELB_5XX_Count has no
//   TargetGroup dimension) are judged against their level before the step; the excess counts
//   against green, the color whose share changed (the default action of doubt is rollback).

import type { Color, ColorMetrics, MetricsSample, MetricsWindow } from "../ports.js";

// The windows' journaled state is the journal's (core/journal.ts); named here too for the bake.
export type { BakeWindows, CutoverEvidence } from "../journal.js";
import type { BakeWindows } from "../journal.js";

/** Inconsistent windows in a row that fail the step with "weights not in effect". */
export const INCONSISTENT_WINDOWS_LIMIT = 3;
/** Fewer requests in a window than this say nothing about the split. */
export const SPLIT_MIN_REQUESTS = 20;
/** Standard deviations of binomial noise a share may be off by, plus an absolute slack (pinned test requests, ALB node granularity). */
const SPLIT_Z = 4;
const SPLIT_SLACK = 0.02;

export function alignUp(t: number, resolutionMs: number): number {
  const r = Math.max(1, resolutionMs);
  return Math.ceil(t / r) * r;
}

export function alignDown(t: number, resolutionMs: number): number {
  const r = Math.max(1, resolutionMs);
  return Math.floor(t / r) * r;
}

/** A bake's first window starts at its start rounded up to the resolution. */
export function newBakeWindows(startedAt: number, resolutionMs: number, lengthMs: number): BakeWindows {
  const from = alignUp(startedAt, resolutionMs);
  return { from, next: from, lengthMs, counted: 0, dropped: 0, inconsistentInARow: 0, elbBefore: null };
}

export function nextWindow(state: BakeWindows): MetricsWindow {
  return { start: state.next, end: state.next + state.lengthMs };
}

/** When the source answers a window completely. */
export function answerableAt(window: MetricsWindow, publicationDelayMs: number): number {
  return window.end + Math.max(0, publicationDelayMs);
}

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
