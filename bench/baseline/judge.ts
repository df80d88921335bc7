// The previous judge, frozen: bench/judge.ts runs it beside the current one on the same traffic.
// Not used by the product; do not change it (the comparison is only meaningful against the original).
//
// judgeStep: add a poll's windows to the phase's evidence and decide. Pure: returns a new state.
// Method and contract: ./types.ts and ./statistics.ts; operator's view: docs/gates.md.

import { evaluateGates, type GateVerdict } from "./gates.js";
import { requestsToRuleOut, testAlpha, type Comparison } from "./forecast.js";
import { assertValidSettings, cloneJudgeState, emptyMetrics, referenceRate, regressionRate } from "./settings.js";
import { addConcurrentWindow, addReferenceWindow, logMixtureStatistic, normalizeLogLik, rateUpperBound, ratioUpperBound } from "./statistics.js";
import type {
  CeilingCheck,
  FrozenReference,
  JudgeContext,
  JudgeMetric,
  JudgeSettings,
  JudgeState,
  JudgeVerdict,
  JudgeWindow,
  MetricEvidence,
  RuledOut,
} from "./types.js";
import { JUDGE_METRICS } from "./types.js";

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

function startPhase(state: JudgeState, context: JudgeContext): void {
  state.phaseKey = context.phaseKey;
  state.windowsJudged = 0;
  state.extensionsUsed = 0;
  state.lastWindowEnd = null;
  state.metrics = emptyMetrics();
  state.thresholdPasses = 0;
  state.reference = null;
}

/** Freeze green's reference for a 100% phase: blue's pooled counts from this cutover, else the pre-cutover baseline. */
function freezeReferences(settings: JudgeSettings, state: JudgeState, context: JudgeContext): Record<JudgeMetric, FrozenReference | null> {
  const alpha = settings.alphaPerTest / 2;
  const pick = (requests: number, count: number, preRequests: number | undefined, preCount: number | undefined): FrozenReference | null => {
    if (requests > 0) return { source: "cutover", requests, count, rate: rateUpperBound(count, requests, alpha) };
    if (preRequests !== undefined && preCount !== undefined && preRequests > 0 && validCount(preCount) && preCount <= preRequests) {
      return { source: "pre-cutover", requests: preRequests, count: preCount, rate: rateUpperBound(preCount, preRequests, alpha) };
    }
    return null;
  };
  const b = state.blueBaseline;
  const pre = context.preCutoverBaseline ?? undefined;
  return {
    errors: pick(b.requests, b.errors, pre?.requests, pre?.errors),
    slow: pick(b.slowRequests, b.slow, pre?.slowRequests, pre?.slow),
  };
}

function addWindow(state: JudgeState, window: JudgeWindow): void {
  addWindowEvidence(state, window);
  normalizeLogLik(state.metrics.errors.logLik);
  normalizeLogLik(state.metrics.slow.logLik);
}

function addWindowEvidence(state: JudgeState, window: JudgeWindow): void {
  const { blue, green } = window;
  const errors = state.metrics.errors;
  const slow = state.metrics.slow;
  if (state.reference === null) {
    state.blueBaseline.requests += blue.requests;
    state.blueBaseline.errors += blue.errors;
    errors.greenRequests += green.requests;
    errors.greenCount += green.errors;
    errors.blueRequests += blue.requests;
    errors.blueCount += blue.errors;
    addConcurrentWindow(errors.logLik, green.errors, blue.errors, green.requests, blue.requests);
    if (blue.slow !== null) {
      state.blueBaseline.slowRequests += blue.requests;
      state.blueBaseline.slow += blue.slow;
    }
    if (green.slow !== null && blue.slow !== null) {
      slow.greenRequests += green.requests;
      slow.greenCount += green.slow;
      slow.blueRequests += blue.requests;
      slow.blueCount += blue.slow;
      addConcurrentWindow(slow.logLik, green.slow, blue.slow, green.requests, blue.requests);
    }
    return;
  }
  // Green at 100%: compared with the frozen reference; blue's stray requests (stickiness) are not evidence.
  const refErrors = state.reference.errors;
  if (refErrors) {
    errors.greenRequests += green.requests;
    errors.greenCount += green.errors;
    addReferenceWindow(errors.logLik, green.errors, green.requests, refErrors.rate);
  } else {
    errors.greenRequests += green.requests;
    errors.greenCount += green.errors;
  }
  if (green.slow !== null) {
    slow.greenRequests += green.requests;
    slow.greenCount += green.slow;
    const refSlow = state.reference.slow;
    if (refSlow) addReferenceWindow(slow.logLik, green.slow, green.requests, refSlow.rate);
  }
}

/** The evidence for one metric; `forecast` adds the (costlier) estimate of the green requests still needed. */
function metricEvidence(settings: JudgeSettings, state: JudgeState, metric: JudgeMetric, share: number, forecast: boolean): MetricEvidence {
  const acc = state.metrics[metric];
  const effect = settings[metric];
  const reference = state.reference?.[metric] ?? null;
  const comparison: MetricEvidence["comparison"] =
    state.reference === null ? (acc.blueRequests > 0 ? "concurrent" : "none") : reference !== null ? "reference" : "none";
  const alpha = comparison === "none" ? settings.alphaPerTest : testAlpha(settings, comparison);
  const boundary = 1 / alpha;
  const blueRequests = comparison === "reference" ? reference!.requests : acc.blueRequests;
  const blueCount = comparison === "reference" ? reference!.count : acc.blueCount;
  const logStatistic = comparison === "none" ? 0 : logMixtureStatistic(acc.logLik, effect.minRatio);
  const regression = logStatistic >= Math.log(boundary);

  // Against a reference, ρ is relative to the reference's upper bound: restate it relative to blue's observed rate.
  const rawRatio = comparison === "none" ? null : ratioUpperBound(acc.logLik, settings.ruleOutAlpha);
  const toObserved = comparison === "reference" ? (reference!.count > 0 ? reference!.rate / (reference!.count / reference!.requests) : null) : 1;
  const ruledOut: RuledOut = {
    ratio: rawRatio === null || toObserved === null ? null : rawRatio * toObserved,
    greenRateBelow: acc.greenRequests > 0 ? rateUpperBound(acc.greenCount, acc.greenRequests, settings.ruleOutAlpha) : null,
  };
  // With nothing to compare against, blue's rate counts as 0: promotion then needs green's own
  // rate below the absolute size of the regression (stricter, never looser).
  const blueRate = blueRequests > 0 && comparison !== "none" ? blueCount / blueRequests : 0;
  const rulesOut = (k: number) => {
    if (acc.greenRequests <= 0) return false;
    const ratioLevel = blueRate > 0 ? 1 + (k - 1) * Math.max(1, referenceRate(effect) / blueRate) : Infinity;
    if (ruledOut.ratio !== null && ruledOut.ratio <= ratioLevel) return true;
    return ruledOut.greenRateBelow !== null && ruledOut.greenRateBelow <= regressionRate(effect, blueRate, k);
  };
  const status: MetricEvidence["status"] = regression
    ? "regression"
    : rulesOut(effect.minRatio)
      ? "ruled-out-minimal"
      : rulesOut(settings.largestRegression)
        ? "ruled-out-large"
        : "open";

  let neededGreenRequests: number | null = null;
  if (forecast && (status === "open" || status === "ruled-out-large")) {
    const k = status === "open" ? settings.largestRegression : effect.minRatio;
    const forecastComparison: Comparison = comparison === "reference" ? "reference" : "concurrent";
    // the observed split, or the weights' when blue served nothing yet
    const observedShare = acc.blueRequests > 0 && acc.greenRequests > 0 ? acc.greenRequests / (acc.greenRequests + acc.blueRequests) : share;
    const total = requestsToRuleOut(
      { effect, blueRate, share: forecastComparison === "reference" ? 1 : Math.min(observedShare, 0.999), comparison: forecastComparison },
      k,
      settings.ruleOutAlpha,
      acc.greenRequests,
    );
    if (total !== null) neededGreenRequests = Math.max(1, Math.ceil(total - acc.greenRequests));
  }
  return {
    metric,
    comparison,
    greenCount: acc.greenCount,
    greenRequests: acc.greenRequests,
    blueCount,
    blueRequests,
    statistic: Math.exp(Math.min(logStatistic, 700)),
    boundary,
    ruledOut,
    status,
    neededGreenRequests,
  };
}

const pct = (x: number) => `${Number((x * 100).toPrecision(3))}%`;
const times = (x: number) => `×${Number(x.toPrecision(3))}`;

/** The hard ceiling over this call's windows; `worst` is the breaching window, else the one with the highest green 5xx rate. */
function checkCeiling(settings: JudgeSettings, windows: readonly JudgeWindow[]): CeilingCheck {
  let worst: CeilingCheck["worst"] = null;
  let breached = false;
  for (const w of windows) {
    if (w.green.requests <= 0) continue;
    const rate = w.green.errors / w.green.requests;
    const breach = w.green.errors >= settings.ceilingMinErrors && rate > settings.errorRateCeiling;
    if (breached && !breach) continue;
    if (breach !== breached || worst === null || rate > worst.errors / worst.requests) {
      worst = { errors: w.green.errors, requests: w.green.requests, start: w.start, end: w.end };
    }
    breached ||= breach;
  }
  return { breached, worst, ceiling: settings.errorRateCeiling, minErrors: settings.ceilingMinErrors };
}

/** See types.ts (JudgeStep). */
export function judgeStep(settings: JudgeSettings, input: JudgeState, windows: readonly JudgeWindow[], context: JudgeContext): JudgeVerdict {
  assertValidSettings(settings);
  const state = cloneJudgeState(input);
  if (state.phaseKey !== context.phaseKey) startPhase(state, context);
  if (state.reference === null && context.greenShare >= 1 && state.windowsJudged === 0) {
    state.reference = freezeReferences(settings, state, context);
  }

  const ignoredWindows: JudgeVerdict["ignoredWindows"] = [];
  const accepted: JudgeWindow[] = [];
  for (const window of [...windows].sort((a, b) => a.start - b.start)) {
    const problem = windowProblem(window, state.lastWindowEnd);
    if (problem) {
      ignoredWindows.push({ start: window.start, end: window.end, why: problem });
      continue;
    }
    accepted.push(window);
    state.windowsJudged += 1;
    state.lastWindowEnd = window.end;
  }

  const reasons: string[] = [];
  let summary: string | null = null;
  const gateVerdicts: GateVerdict[] = [];
  let decision: JudgeVerdict["decision"] | null = null;
  const ceiling = checkCeiling(settings, accepted);

  if (settings.mode === "thresholds") {
    // The old per-window gates (gates.ts), kept for comparison: a window passes, fails, or is inconclusive.
    for (const w of accepted) {
      addWindow(state, w);
      const verdict = evaluateGates(settings.thresholds, {
        metrics: {
          blue: { requests: w.blue.requests, errors5xx: w.blue.errors, p95Ms: w.blue.p95Ms ?? null, p99Ms: w.blue.p99Ms ?? null },
          green: { requests: w.green.requests, errors5xx: w.green.errors, p95Ms: w.green.p95Ms ?? null, p99Ms: w.green.p99Ms ?? null },
        },
      });
      gateVerdicts.push(verdict);
      if (decision !== null) continue;
      if (verdict.status === "fail") {
        decision = "fail";
        reasons.push(...verdict.reasons);
      } else if (verdict.status === "pass") {
        state.thresholdPasses += 1;
      } else if (state.extensionsUsed >= settings.thresholds.inconclusiveExtensions) {
        decision = "undecided";
        reasons.push(`inconclusive after ${state.extensionsUsed} extension(s): ${verdict.reasons.join("; ")}: missing data is never a pass`);
      } else {
        state.extensionsUsed += 1;
        reasons.push(`inconclusive window, extended (${state.extensionsUsed}/${settings.thresholds.inconclusiveExtensions}): ${verdict.reasons.join("; ")}`);
      }
    }
  } else {
    for (const w of accepted) addWindow(state, w);
  }

  // The forecast of the traffic still needed matters only once the bake is over (extend, undecided).
  const bakeOverNow = settings.mode === "sequential" && state.windowsJudged >= context.windowsRequired + state.extensionsUsed;
  const evidence = {
    errors: metricEvidence(settings, state, "errors", context.greenShare, bakeOverNow),
    slow: metricEvidence(settings, state, "slow", context.greenShare, bakeOverNow),
  };

  if (ceiling.breached && decision !== "fail") {
    decision = "fail";
    const w = ceiling.worst!;
    summary = `green 5xx ${w.errors}/${w.requests} (${pct(w.errors / w.requests)}) in one window is above the ceiling ${pct(settings.errorRateCeiling)} (≥ ${settings.ceilingMinErrors} errors)`;
    reasons.unshift(summary);
  }

  const windowsNeeded = () => context.windowsRequired + (settings.mode === "thresholds" ? 0 : state.extensionsUsed);

  if (decision === null && settings.mode === "thresholds") {
    decision = state.thresholdPasses >= context.windowsRequired ? "promote" : "continue";
    if (decision === "promote") reasons.push(`${state.thresholdPasses} passing window(s)`);
  }

  if (decision === null) {
    const regressions = JUDGE_METRICS.filter((m) => evidence[m].status === "regression");
    const bakeOver = state.windowsJudged >= windowsNeeded();
    if (regressions.length > 0) {
      decision = "fail";
      summary = regressions.map((m) => `green's ${noun(m)} is worse by at least ${times(settings[m].minRatio)}`).join("; ");
      for (const m of regressions) reasons.push(regressionReason(settings, evidence[m]));
    } else if (!bakeOver) {
      decision = "continue";
    } else if (JUDGE_METRICS.every((m) => evidence[m].status === "ruled-out-minimal")) {
      decision = "promote";
      summary = `the smallest regressions worth catching are ruled out (${JUDGE_METRICS.map((m) => `${noun(m)} ${times(settings[m].minRatio)}`).join(", ")})`;
      for (const m of JUDGE_METRICS) reasons.push(ruledOutReason(evidence[m]));
    } else if (state.extensionsUsed < settings.maxExtensions) {
      decision = "extend";
      state.extensionsUsed += 1;
      summary = `not decided after ${state.windowsJudged} window(s): extending (${state.extensionsUsed}/${settings.maxExtensions})`;
      reasons.push(summary);
      for (const m of JUDGE_METRICS) if (evidence[m].status !== "ruled-out-minimal") reasons.push(openReason(settings, evidence[m]));
    } else if (JUDGE_METRICS.every((m) => evidence[m].status !== "open")) {
      decision = "promote";
      for (const m of JUDGE_METRICS) reasons.push(ruledOutReason(evidence[m]));
      summary = `smallest regression not ruled out at this traffic after ${settings.maxExtensions} extension(s); the large one (${times(settings.largestRegression)}) is ruled out`;
      reasons.push(summary);
    } else {
      const noGreen = evidence.errors.greenRequests <= 0;
      const needed = JUDGE_METRICS.map((m) => evidence[m].neededGreenRequests).filter((n): n is number => n !== null);
      const more = needed.length > 0 ? `about ${Math.max(...needed).toLocaleString("en-US")} more green requests needed` : "no estimate of the traffic needed";
      if (noGreen) {
        decision = "undecided";
        summary = `no green requests in ${state.windowsJudged} window(s): missing data is never a pass`;
        reasons.push(summary);
      } else if (settings.onUndecided === "promote") {
        decision = "promote";
        summary = `not enough traffic to decide: ${more}; promoted because onUndecided is "promote"`;
        reasons.push(summary);
      } else {
        decision = "undecided";
        summary = `not enough traffic to decide: ${more}`;
        reasons.push(summary);
      }
      for (const m of JUDGE_METRICS) if (evidence[m].status === "open") reasons.push(openReason(settings, evidence[m]));
    }
  }

  return {
    decision,
    state,
    mode: settings.mode,
    phaseKey: context.phaseKey,
    windowsJudged: state.windowsJudged,
    windowsNeeded: windowsNeeded(),
    extensionsUsed: state.extensionsUsed,
    maxExtensions: settings.mode === "thresholds" ? settings.thresholds.inconclusiveExtensions : settings.maxExtensions,
    evidence,
    ceiling,
    reasons,
    summary: summary ?? reasons[0] ?? (decision === "continue" ? `watching: ${state.windowsJudged}/${windowsNeeded()} window(s)` : decision),
    ignoredWindows,
    gateVerdicts,
  };
}

const noun = (metric: JudgeMetric) => (metric === "errors" ? "5xx rate" : "slow share");

function counts(e: MetricEvidence): string {
  const rate = (count: number, requests: number) => (requests > 0 ? pct(count / requests) : "n/a");
  const blueLabel = e.comparison === "reference" ? "reference blue" : "blue";
  return `green ${e.greenCount}/${e.greenRequests} (${rate(e.greenCount, e.greenRequests)}) vs ${blueLabel} ${e.blueCount}/${e.blueRequests} (${rate(e.blueCount, e.blueRequests)})`;
}

function regressionReason(settings: JudgeSettings, e: MetricEvidence): string {
  return `green's ${noun(e.metric)} is worse by at least ${times(settings[e.metric].minRatio)}: ${counts(e)}, e-value ${fmt(e.statistic)} ≥ ${fmt(e.boundary)}`;
}

function ruledOutReason(e: MetricEvidence): string {
  const parts: string[] = [];
  if (e.ruledOut.ratio !== null) parts.push(`rules out ${times(e.ruledOut.ratio)}`);
  if (e.ruledOut.greenRateBelow !== null) parts.push(`green's rate < ${pct(e.ruledOut.greenRateBelow)}`);
  return `${noun(e.metric)}: ${counts(e)}, e-value ${fmt(e.statistic)} < ${fmt(e.boundary)}, ${parts.join(", ")}`;
}

function openReason(settings: JudgeSettings, e: MetricEvidence): string {
  const target = e.status === "open" ? settings.largestRegression : settings[e.metric].minRatio;
  const more =
    e.neededGreenRequests !== null
      ? `about ${e.neededGreenRequests.toLocaleString("en-US")} more green requests to rule out ${times(target)}`
      : `no green traffic to estimate from`;
  return `${noun(e.metric)} undecided (${counts(e)}): ${more}`;
}

/** Compact numbers for verdict lines: 0.42, 17, 1.2e5. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 0.01)) return x.toExponential(1);
  return String(Number(x.toPrecision(3)));
}
