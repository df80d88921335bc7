// When the metrics windows of a step are read, pure. The bake module (bake.ts) reads windows
// through these rules and nowhere else decides about time (what a window is worth is the judge's:
// core/judge/windowRules.ts):
//
// - A window is evidence for a step only if it STARTS at or after the step's bake began (which is
//   after its weights were verified) plus the judge's warm-up: the first window starts there
//   rounded UP to the source's resolution, so a window that straddles the weight change is never
//   asked for, never counted. Windows are whole multiples of the resolution (plan.pollMs), back to back.
// - A window is asked for only once `end + publicationDelayMs` has passed (the source's declared
//   delay): CloudWatch answers a minute partially, or not at all, before that.

import type { MetricsWindow } from "../ports.js";

export { colorErrors } from "../judge/windowRules.js";

// The windows' journaled state is the journal's (core/journal.ts); named here too for the bake.
export type { BakeWindows, CutoverEvidence } from "../journal.js";
import type { BakeWindows } from "../journal.js";

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
