// judgeStep: add a poll's windows to the phase's evidence and decide. Pure: returns a new state.
// Method and contract: ./types.ts, ./dispersion.ts and ./statistics.ts; operator's view: docs/gates.md.

import { addScatter, closeScatterPhase, estimateDispersion, logRate, temper, HISTORY_LIMIT } from "./dispersion.js";
import { evidenceFor } from "./metricEvidence.js";
import { concurrentPriorOf, freezeReference } from "./reference.js";
import { assertValidSettings, cloneJudgeState, emptyMetrics } from "./settings.js";
import { addWindowLogLik, alternatives, concurrentWindowLogLik, normalizeLogLik, referenceWindowLogLik } from "./statistics.js";
import type { CeilingCheck, JudgeContext, JudgeMetric, JudgeSettings, JudgeState, JudgeVerdict, JudgeWindow } from "./types.js";
import { JUDGE_METRICS } from "./types.js";
import { decide } from "./decide.js";

const validCount = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0;

/** Why a window cannot be used, or null when it can. */
function windowProblem(window: JudgeWindow, lastWindowEnd: number | null): string | null {
  if (!(Number.isFinite(window.start) && Number.isFinite(window.end) && window.end > window.start)) return "empty or invalid time range";
  if (lastWindowEnd !== null && window.start < lastWindowEnd) return "already judged (starts before the end of the last window judged)";
  for (const color of ["blue", "green"] as const) {
    const c = window[color];
    if (!validCount(c.requests) || !validCount(c.errors)) return `${color} counts are not numbers ≥ 0`;
    if (c.errors > c.requests) return `${color} has more errors than requests`;
    if (c.slow !== null && (!validCount(c.slow) || c.slow > c.requests)) return `${color} slow count is not between 0 and its requests`;
  }
  return null;
}

/**
 * Blue's windows from before the cutover (one per poll interval, oldest first): its movement is the
 * prior of the concurrent phases and the reference of the 100% phase. Call once, before the first
 * window is judged; windows already in the state are kept.
 */
export function withBlueHistory(input: JudgeState, windows: readonly { end: number; requests: number; errors: number; slow: number | null }[]): JudgeState {
  const state = cloneJudgeState(input);
  for (const w of [...windows].sort((a, b) => a.end - b.end)) {
    if (!validCount(w.requests) || w.requests <= 0 || !validCount(w.errors) || w.errors > w.requests) continue;
    if (state.blue.at.length > 0 && w.end <= state.blue.at[state.blue.at.length - 1]!) continue;
    pushBlue(state, w.end, w.requests, w.errors, w.slow !== null && validCount(w.slow) && w.slow <= w.requests ? w.slow : null);
    state.historyWindows = Math.min(HISTORY_LIMIT, state.historyWindows + 1);
  }
  return state;
}

function pushBlue(state: JudgeState, end: number, requests: number, errors: number, slow: number | null): void {
  const b = state.blue;
  b.at.push(end);
  b.requests.push(requests);
  b.errors.push(errors);
  b.slow.push(slow);
  const excess = b.at.length - HISTORY_LIMIT;
  if (excess > 0) {
    for (const list of [b.at, b.requests, b.errors, b.slow]) list.splice(0, excess);
    state.historyWindows = Math.max(0, state.historyWindows - excess);
  }
}

function startPhase(settings: JudgeSettings, state: JudgeState, context: JudgeContext, firstWindow: JudgeWindow | undefined): void {
  const previous = state.metrics.errors;
  const previousPerWindow = state.windowsJudged > 0 ? (previous.greenRequests + previous.blueRequests) / state.windowsJudged : null;
  for (const metric of JUDGE_METRICS) closeScatterPhase(state.scatter[metric]);
  state.phaseKey = context.phaseKey;
  state.windowsJudged = 0;
  state.extensionsUsed = 0;
  state.lastWindowEnd = null;
  state.metrics = emptyMetrics();
  state.reference = null;
  state.ceilingStreak = { windows: 0, errors: 0, requests: 0, lastErrors: 0, lastRequests: 0 };
  if (context.greenShare < 1) return;
  const lastBlue = state.blue.at[state.blue.at.length - 1];
  const historyPerWindow = state.blue.requests.length > 0 ? state.blue.requests.reduce((a, b) => a + b, 0) / state.blue.requests.length : 0;
  const horizonWindows = context.windowsRequired + settings.maxExtensions;
  const windowMinutes = firstWindow ? (firstWindow.end - firstWindow.start) / 60_000 : 1;
  const horizonMinutes =
    lastBlue !== undefined && firstWindow ? (firstWindow.start - lastBlue) / 60_000 + horizonWindows * windowMinutes : horizonWindows * windowMinutes;
  const input = {
    settings,
    blue: state.blue,
    historyWindows: state.historyWindows,
    requestsPerWindow: previousPerWindow ?? historyPerWindow,
    horizonWindows,
    horizonMinutes,
  };
  state.reference = { errors: freezeReference(input, "errors"), slow: freezeReference(input, "slow") };
}

/**
 * The most one window may add to a metric's fail test (log scale): windowShare of what the first
 * alternative of the mixture needs to reach the boundary, so that one window never fails a step
 * alone (with windowShare 0.5) and two extreme windows can.
 */
export function windowCap(settings: JudgeSettings, comparison: "concurrent" | "reference", metric: JudgeMetric): number {
  const alpha = comparison === "reference" ? settings.alphaPerTest / 2 : settings.alphaPerTest;
  const firstWeight = alternatives(settings[metric].minRatio)[0]!.logWeight;
  return settings.windowShare * (Math.log(1 / alpha) - firstWeight);
}

function addConcurrent(settings: JudgeSettings, state: JudgeState, metric: JudgeMetric, x: number, y: number, g: number, b: number): void {
  const acc = state.metrics[metric];
  acc.greenRequests += g;
  acc.greenCount += x;
  acc.blueRequests += b;
  acc.blueCount += y;
  if (g <= 0 || b <= 0) return;
  // The binomial variance from the phase's pooled rates, not this window's own counts: a window's
  // weight must not depend on its own noise.
  const expectedGreen = ((acc.greenCount + 0.5) / (acc.greenRequests + 1)) * g;
  const expectedBlue = ((acc.blueCount + 0.5) / (acc.blueRequests + 1)) * b;
  const v = 1 / (expectedGreen + 0.5) + 1 / (expectedBlue + 0.5);
  const d = logRate(x, g).y - logRate(y, b).y;
  // The dispersion this window is judged with comes from the windows before it only.
  const dispersion = estimateDispersion(state.scatter[metric], concurrentPriorOf(state.blue, metric));
  const phi = temper(v, dispersion);
  acc.extraVariance = dispersion.tau2;
  acc.dispersion = phi;
  acc.effectiveCount += x / phi;
  acc.effectiveRequests += g / phi;
  addWindowLogLik(acc.logLik, concurrentWindowLogLik(x, y, g, b), phi, windowCap(settings, "concurrent", metric));
  addScatter(state.scatter[metric], d, v);
}

function addAgainstReference(settings: JudgeSettings, state: JudgeState, metric: JudgeMetric, x: number, g: number): void {
  const acc = state.metrics[metric];
  acc.greenRequests += g;
  acc.greenCount += x;
  const reference = state.reference?.[metric];
  if (!reference || g <= 0) return;
  const movement = { tau2: reference.minuteVariance, clumping: reference.clumping };
  // The ratio test is about rates near the reference: its window variance is the reference's.
  const phi = temper(1 / (reference.rate * g + 0.5), movement);
  // Green's own rate bound is about green's counts: moving by blue's minute-to-minute movement, their
  // variance is binomial at green's own (pooled) rate times 1 + τ²·(expected count). Tempering them at
  // the reference's raised rate instead would discount a green far below it as if it were far above.
  const greenPhi = temper(1 / (((acc.greenCount + 0.5) / (acc.greenRequests + 1)) * g + 0.5), movement);
  acc.extraVariance = reference.minuteVariance;
  acc.dispersion = greenPhi;
  acc.effectiveCount += x / greenPhi;
  acc.effectiveRequests += g / greenPhi;
  addWindowLogLik(acc.logLik, referenceWindowLogLik(x, g, reference.rate), phi, windowCap(settings, "reference", metric));
}

function addWindow(settings: JudgeSettings, state: JudgeState, window: JudgeWindow): void {
  const { blue, green } = window;
  if (state.reference === null) {
    addConcurrent(settings, state, "errors", green.errors, blue.errors, green.requests, blue.requests);
    if (green.slow !== null && blue.slow !== null) addConcurrent(settings, state, "slow", green.slow, blue.slow, green.requests, blue.requests);
    if (blue.requests > 0) pushBlue(state, window.end, blue.requests, blue.errors, blue.slow);
  } else {
    // Green at 100%: compared with blue's level; blue's stray requests (stickiness) are not evidence.
    addAgainstReference(settings, state, "errors", green.errors, green.requests);
    if (green.slow !== null) addAgainstReference(settings, state, "slow", green.slow, green.requests);
  }
  for (const metric of JUDGE_METRICS) normalizeLogLik(state.metrics[metric].logLik);
}

/** In a concurrent window, green counts toward the ceiling only at more than this × blue's rate. */
const CEILING_OVER_BLUE = 2;

/**
 * The hard ceiling: green's 5xx rate above the ceiling in two windows in a row, with at least
 * ceilingMinErrors green errors between them. One window alone never breaches it: a single short
 * burst (a pod restart, a retry storm) is not an outage; a crash shows in two windows.
 */
function updateCeiling(settings: JudgeSettings, state: JudgeState, window: JudgeWindow): void {
  const g = window.green;
  const b = window.blue;
  const greenRate = g.requests > 0 ? g.errors / g.requests : 0;
  // Concurrent: only where green is worse than blue in the same window (a dependency failing both
  // colors is not green's outage).
  const worseThanBlue = state.reference !== null || b.requests <= 0 || greenRate > (b.errors / b.requests) * CEILING_OVER_BLUE;
  const above = g.requests > 0 && greenRate > settings.errorRateCeiling && worseThanBlue;
  const s = state.ceilingStreak;
  if (!above) {
    state.ceilingStreak = { windows: 0, errors: 0, requests: 0, lastErrors: 0, lastRequests: 0 };
    return;
  }
  // The streak's counts are the last two windows' (a breach is two windows in a row).
  state.ceilingStreak = {
    windows: s.windows + 1,
    errors: (s.windows > 0 ? s.lastErrors : 0) + g.errors,
    requests: (s.windows > 0 ? s.lastRequests : 0) + g.requests,
    lastErrors: g.errors,
    lastRequests: g.requests,
  };
}

/** How many times over a failure may be counted here (clients retrying): the ceiling's count is divided by it. */
function errorClumping(state: JudgeState): number {
  if (state.reference !== null) return state.reference.errors?.clumping ?? 1;
  return estimateDispersion(state.scatter.errors, concurrentPriorOf(state.blue, "errors")).clumping;
}

function ceilingCheck(settings: JudgeSettings, state: JudgeState): CeilingCheck {
  const s = state.ceilingStreak;
  const breached = s.windows >= 2 && s.errors / errorClumping(state) >= settings.ceilingMinErrors;
  return {
    breached,
    streak: s.windows > 0 ? { windows: s.windows, errors: s.errors, requests: s.requests } : null,
    ceiling: settings.errorRateCeiling,
    minErrors: settings.ceilingMinErrors,
  };
}

/** See ./types.ts. Pure; never throws on data (bad windows are ignored with a reason); throws only on invalid settings. */
export function judgeStep(settings: JudgeSettings, input: JudgeState, windows: readonly JudgeWindow[], context: JudgeContext): JudgeVerdict {
  assertValidSettings(settings);
  const state = cloneJudgeState(input);
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  if (state.phaseKey !== context.phaseKey) startPhase(settings, state, context, sorted[0]);

  const ignoredWindows: JudgeVerdict["ignoredWindows"] = [];
  let breachedAt: CeilingCheck | null = null;
  for (const window of sorted) {
    const problem = windowProblem(window, state.lastWindowEnd);
    if (problem) {
      ignoredWindows.push({ start: window.start, end: window.end, why: problem });
      continue;
    }
    addWindow(settings, state, window);
    updateCeiling(settings, state, window);
    breachedAt ??= ceilingCheck(settings, state).breached ? ceilingCheck(settings, state) : null;
    state.windowsJudged += 1;
    state.lastWindowEnd = window.end;
  }
  const ceiling = breachedAt ?? ceilingCheck(settings, state);
  const bakeOver = state.windowsJudged >= context.windowsRequired + state.extensionsUsed;
  const evidence = {
    errors: evidenceFor(settings, state, "errors", context.greenShare, bakeOver),
    slow: evidenceFor(settings, state, "slow", context.greenShare, bakeOver),
  };
  const outcome = decide(settings, state, context, evidence, ceiling);
  return {
    ...outcome,
    state,
    phaseKey: context.phaseKey,
    windowsJudged: state.windowsJudged,
    windowsNeeded: context.windowsRequired + state.extensionsUsed,
    extensionsUsed: state.extensionsUsed,
    maxExtensions: settings.maxExtensions,
    evidence,
    ceiling,
    detectable: state.reference ? { errors: state.reference.errors?.detectableRatio ?? null, slow: state.reference.slow?.detectableRatio ?? null } : null,
    ignoredWindows,
  };
}
