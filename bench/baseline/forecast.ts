// The previous judge, frozen: bench/judge.ts runs it beside the current one on the same traffic.
// Not used by the product; do not change it (the comparison is only meaningful against the original).
//
// How much green traffic a decision needs: the judge's "about N more green requests", the plan's
// expected time per step (`cutover --dry-run`) and the bench's "which cells can decide at all".
//
// Each answer runs the judge's own statistics on the counts one expects at the given rates (the
// median path), plus, for detection, a one-sided normal margin so that about 95% of runs decide
// by then. Predictions, not guarantees: bench/judge.ts measures how close they are.

import { referenceRate, regressionRate } from "./settings.js";
import {
  addConcurrentWindow,
  addReferenceWindow,
  alternatives,
  emptyLogLik,
  logMixtureStatistic,
  RHO_GRID,
  rateUpperBound,
  ratioUpperBound,
} from "./statistics.js";
import type { JudgeMetric, JudgeSettings, MetricEffect, TimeToDecision } from "./types.js";

/** The comparison a phase makes: concurrent (share < 1) or against a frozen reference (share = 1). */
export type Comparison = "concurrent" | "reference";

export interface ForecastInput {
  effect: MetricEffect;
  /** Blue's rate (errors or slow share) — for the reference comparison, the reference rate. */
  blueRate: number;
  /** Green's share of requests, 0 < share ≤ 1 (1: reference comparison). */
  share: number;
  comparison: Comparison;
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** The z with Φ(z) = p, 0.5 ≤ p < 1 (bisection; the forecast needs three digits). */
export function normalQuantile(p: number): number {
  let lo = 0;
  let hi = 10;
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return hi;
}
const MAX_REQUESTS = 1e11;

/** Smallest N in [from, MAX_REQUESTS] with predicate(N) (within 2%), assuming monotone; null when none. */
function smallestN(predicate: (n: number) => boolean, from = 1): number | null {
  let hi = Math.max(1, from);
  if (predicate(hi)) return Math.ceil(hi);
  while (!predicate(hi)) {
    hi *= 2;
    if (hi > MAX_REQUESTS) return null;
  }
  let lo = hi / 2;
  while (hi - lo > Math.max(1, lo * 0.02)) {
    const mid = (lo + hi) / 2;
    if (predicate(mid)) hi = mid;
    else lo = mid;
  }
  return Math.ceil(hi);
}

/** Log-likelihood grid for N green requests at green rate pg, blue rate pb, on the expected counts. */
function expectedLogLik(input: ForecastInput, n: number, greenRate: number): number[] {
  const logLik = emptyLogLik();
  if (input.comparison === "concurrent") {
    const blueRequests = (n * (1 - input.share)) / input.share;
    addConcurrentWindow(logLik, n * greenRate, blueRequests * input.blueRate, n, blueRequests);
  } else {
    addReferenceWindow(logLik, n * greenRate, n, input.blueRate);
  }
  return logLik;
}

/**
 * Green requests an identical release needs until a regression of size k is ruled out
 * (ratio bound or green's own rate bound, whichever comes first). null: never (within 1e11).
 */
export function requestsToRuleOut(input: ForecastInput, k: number, alpha: number, from = 1): number | null {
  const p = input.blueRate;
  const ratioLevel = p > 0 ? 1 + (k - 1) * Math.max(1, referenceRate(input.effect) / p) : Infinity;
  const absoluteLevel = regressionRate(input.effect, p, k);
  return smallestN((n) => {
    if (rateUpperBound(n * p, n, alpha) <= absoluteLevel) return true;
    if (p <= 0) return false;
    const bound = ratioUpperBound(expectedLogLik(input, n, p), alpha);
    return bound !== null && bound <= ratioLevel;
  }, from);
}

/**
 * Green requests until a regression of size k (green's rate = blue + (k − 1)·max(blue, r*)) is
 * detected in about `power` of runs (default 95%): the expected log e-value minus z(power) standard
 * deviations of its dominant term reaches log(1/alpha). null: never.
 */
export function requestsToDetect(input: ForecastInput, k: number, alpha: number, power = 0.95): number | null {
  return requestsToDetectRate(input, regressionRate(input.effect, input.blueRate, k), alpha, power);
}

/** As requestsToDetect, for a given green rate (the bench's "errors ×2" is 2 × blue's rate). null: never, or not worse than blue. */
export function requestsToDetectRate(input: ForecastInput, greenRate: number, alpha: number, power = 0.95): number | null {
  const pb = input.blueRate;
  const z = normalQuantile(Math.min(Math.max(power, 0.5), 0.999999));
  if (!(greenRate > pb)) return null;
  const pg = Math.min(greenRate, 1 - 1e-9);
  const need = Math.log(1 / alpha);
  const alts = alternatives(input.effect.minRatio);
  return smallestN((n) => {
    const logLik = expectedLogLik(input, n, pg);
    const logM = logMixtureStatistic(logLik, input.effect.minRatio);
    // the alternative that carries the mixture on the expected path
    let best = alts[0]!;
    for (const alt of alts) if (logLik[alt.index]! + alt.logWeight > logLik[best.index]! + best.logWeight) best = alt;
    const rho = RHO_GRID[best.index]!;
    let variance: number;
    if (input.comparison === "concurrent") {
      const s = input.share;
      const shift = Math.log(rho * s + (1 - s)); // log((ρg + b)/(g + b)) with g:b = s:(1−s)
      const greenEvents = n * pg;
      const blueEvents = (n * (1 - s) * pb) / s;
      variance = greenEvents * (Math.log(rho) - shift) ** 2 + blueEvents * shift ** 2;
    } else {
      const q = Math.min(rho * pb, 1 - 1e-9);
      const c = Math.log(rho) - Math.log((1 - q) / (1 - pb));
      variance = n * pg * (1 - pg) * c * c;
    }
    return logM - z * Math.sqrt(variance) >= need;
  });
}

/** The alpha a phase's test uses: the reference comparison spends half on the reference's own bound. */
export function testAlpha(settings: JudgeSettings, comparison: Comparison): number {
  return comparison === "reference" ? settings.alphaPerTest / 2 : settings.alphaPerTest;
}

/** Blue's slow share assumed by the planner: 5% with a blue-p95 bound, 1% with blue-p99 or a fixed bound. */
export function assumedSlowShare(settings: JudgeSettings): number {
  return "from" in settings.slowThreshold && settings.slowThreshold.from === "blue-p95" ? 0.05 : 0.01;
}

/**
 * Expected time to a decision for a phase at this traffic (requests per minute, both colors),
 * green share (0 < share ≤ 1) and baseline 5xx rate. At share 1 the comparison is against a frozen
 * reference; the forecast takes the reference to be exactly the baseline (optimistic by the
 * reference's own bound).
 */
export function expectedTimeToDecision(settings: JudgeSettings, trafficPerMinute: number, share: number, baselineRate: number): TimeToDecision {
  const greenPerMinute = Math.max(0, trafficPerMinute) * Math.min(Math.max(share, 0), 1);
  const comparison: Comparison = share >= 1 ? "reference" : "concurrent";
  const rates: Record<JudgeMetric, number> = { errors: Math.max(0, baselineRate), slow: assumedSlowShare(settings) };
  const alpha = testAlpha(settings, comparison);
  const minutes = (requests: number | null) => (requests === null || greenPerMinute <= 0 ? null : requests / greenPerMinute);
  const worst = (values: (number | null)[]) => (values.some((v) => v === null) ? null : Math.max(...(values as number[])));
  const perMetric = (["errors", "slow"] as const).map((metric) => {
    const input: ForecastInput = { effect: settings[metric], blueRate: rates[metric], share: Math.min(share, 1), comparison };
    return {
      metric,
      ruleOutMinimal: minutes(requestsToRuleOut(input, settings[metric].minRatio, settings.ruleOutAlpha)),
      ruleOutLarge: minutes(requestsToRuleOut(input, settings.largestRegression, settings.ruleOutAlpha)),
      detectMinimal: minutes(requestsToDetect(input, settings[metric].minRatio, alpha)),
      detectLarge: minutes(requestsToDetect(input, settings.largestRegression, alpha)),
    };
  });
  const slowest = perMetric.reduce((a, b) => ((b.ruleOutMinimal ?? Infinity) > (a.ruleOutMinimal ?? Infinity) ? b : a));
  return {
    greenPerMinute,
    ruleOutMinimalMinutes: worst(perMetric.map((m) => m.ruleOutMinimal)),
    ruleOutLargeMinutes: worst(perMetric.map((m) => m.ruleOutLarge)),
    detectMinimalMinutes: worst(perMetric.map((m) => m.detectMinimal)),
    detectLargeMinutes: worst(perMetric.map((m) => m.detectLarge)),
    slowestMetric: slowest.metric,
  };
}
