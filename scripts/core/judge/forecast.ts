// How long a decision takes: the judge's "about N more green requests", the plan's expected time
// per step (`cutover --dry-run`), what the 100% phase can detect, and the bench's "which cells can
// decide at all". Normal approximations of the judge's own test on one-window steps: a window's
// log ratio has variance V = binomial + the extra variance the judge tempers with (./dispersion.ts),
// so a regression of log size δ adds about δ·θ/V − θ²/(2V) to the log e-value at alternative θ per
// window, with standard deviation θ/√V. Predictions, not guarantees: bench/judge.ts measures them.

import { normalCdf, normalQuantile } from "./normal.js";
import { referenceRate, regressionRate } from "./settings.js";
import { alternatives, RHO_GRID, rateUpperBound } from "./statistics.js";
import type { JudgeMetric, JudgeSettings, TimeToDecision } from "./types.js";

/** The comparison a phase makes: concurrent (share < 1) or against blue's recent level (share = 1). */
export type Comparison = "concurrent" | "reference";

export interface WindowForecast {
  comparison: Comparison;
  /** Green's requests per window. */
  perWindowGreen: number;
  /** Green's share (concurrent): blue serves perWindowGreen × (1 − share) / share. */
  share: number;
  /** Blue's rate (concurrent), or the reference rate (reference). */
  blueRate: number;
  /** The extra per-window variance of the log ratio (concurrent: both colors' own noise; reference: blue's minute variance). */
  extraVariance: number;
}

/** More windows than this are "never" for a plan. */
const MAX_WINDOWS = 10_000;

/** Per-window variance of the compared log ratio when green's rate is greenRate. */
function windowVariance(input: WindowForecast, greenRate: number): number {
  const greenEvents = Math.max(input.perWindowGreen * greenRate, 1e-9);
  let binomial = 1 / greenEvents;
  if (input.comparison === "concurrent") {
    const blueRequests = (input.perWindowGreen * (1 - input.share)) / Math.max(input.share, 1e-9);
    binomial += 1 / Math.max(blueRequests * input.blueRate, 1e-9);
  }
  return binomial + Math.max(0, input.extraVariance);
}

/** The test's alpha for a comparison: the reference spends half its alpha on the reference's own bound. */
export function testAlpha(settings: JudgeSettings, comparison: Comparison): number {
  return comparison === "reference" ? settings.alphaPerTest / 2 : settings.alphaPerTest;
}

/** Windows until a green rate of greenRate is detected in about `power` of runs. null: never (or not worse). */
export function windowsToDetect(input: WindowForecast, greenRate: number, settings: JudgeSettings, metric: JudgeMetric, power = 0.95): number | null {
  if (!(greenRate > input.blueRate) || input.perWindowGreen <= 0 || input.blueRate <= 0) return null;
  const delta = Math.log(Math.min(greenRate, 1) / input.blueRate);
  const variance = windowVariance(input, greenRate);
  const need = Math.log(1 / testAlpha(settings, input.comparison));
  const cap = settings.windowShare * (need - alternatives(settings[metric].minRatio)[0]!.logWeight);
  const z = normalQuantile(power);
  let best: number | null = null;
  for (const alt of alternatives(settings[metric].minRatio)) {
    const theta = Math.log(RHO_GRID[alt.index]!);
    const rawMean = (theta * delta - (theta * theta) / 2) / variance;
    const sd = theta / Math.sqrt(variance);
    let windows: number;
    if (rawMean - z * sd >= cap) {
      // nearly every window is capped: the evidence grows by the cap per window
      windows = Math.ceil((need - alt.logWeight) / cap);
    } else {
      const mean = Math.min(cap, rawMean);
      if (mean <= 0) continue;
      // smallest W with W·mean − z·sd·√W + logWeight ≥ need (a quadratic in √W)
      const b = -z * sd;
      const c = alt.logWeight - need;
      const root = (-b + Math.sqrt(b * b - 4 * mean * c)) / (2 * mean);
      windows = Math.ceil(root * root);
    }
    windows = Math.max(1, windows);
    if (windows <= MAX_WINDOWS && (best === null || windows < best)) best = windows;
  }
  return best;
}

/**
 * Windows until an identical release (green's rate = blue's, or the reference's observed level)
 * rules out a regression of size k, on the median path: by the ratio bound, or by green's own rate
 * bound where blue's rate is too low for a ratio. null: never.
 */
export function windowsToRuleOut(input: WindowForecast, k: number, settings: JudgeSettings, metric: JudgeMetric, greenRate = input.blueRate): number | null {
  if (input.perWindowGreen <= 0) return null;
  const effect = settings[metric];
  const alpha = settings.ruleOutAlpha;
  const p = input.blueRate;
  const ratioLevel = p > 0 ? 1 + (k - 1) * Math.max(1, referenceRate(effect) / p) : Infinity;
  let ratioWindows: number | null = null;
  if (p > 0 && greenRate > 0 && Number.isFinite(ratioLevel)) {
    const theta = Math.log(ratioLevel);
    const delta = Math.log(greenRate / p);
    const perWindow = ((theta * theta) / 2 - theta * delta) / windowVariance(input, greenRate);
    if (perWindow > 0) ratioWindows = Math.ceil(Math.log(1 / alpha) / perWindow);
  }
  const absoluteLevel = regressionRate(effect, p, k);
  let absoluteWindows: number | null = null;
  for (let w = 1; w <= Math.min(MAX_WINDOWS, ratioWindows ?? MAX_WINDOWS); w = Math.ceil(w * 1.25)) {
    const n = w * input.perWindowGreen;
    if (rateUpperBound(n * greenRate, n, alpha) <= absoluteLevel) {
      absoluteWindows = w;
      break;
    }
  }
  const options = [ratioWindows, absoluteWindows].filter((x): x is number => x !== null && x <= MAX_WINDOWS);
  return options.length > 0 ? Math.max(1, Math.min(...options)) : null;
}

/**
 * The chance that an identical release has not ruled out a regression of size k after `windows`
 * windows (the step then ends undecided), on the normal approximation of the rule-out statistic.
 */
export function undecidedChance(input: WindowForecast, k: number, settings: JudgeSettings, metric: JudgeMetric, windows: number): number {
  if (input.perWindowGreen <= 0 || windows <= 0) return 1;
  const p = input.blueRate;
  if (!(p > 0)) {
    const needed = windowsToRuleOut(input, k, settings, metric);
    return needed !== null && needed <= windows ? 0 : 1;
  }
  const ratioLevel = 1 + (k - 1) * Math.max(1, referenceRate(settings[metric]) / p);
  const theta = Math.log(ratioLevel);
  const variance = windowVariance(input, p);
  const mean = (theta * theta) / 2 / variance;
  const sd = theta / Math.sqrt(variance);
  const need = Math.log(1 / settings.ruleOutAlpha);
  return 1 - normalCdf((windows * mean - need) / (Math.sqrt(windows) * sd));
}

/** Blue's slow share assumed by the planner: 5% with a blue-p95 bound, 1% with blue-p99 or a fixed bound. */
export function assumedSlowShare(settings: JudgeSettings): number {
  return "from" in settings.slowThreshold && settings.slowThreshold.from === "blue-p95" ? 0.05 : 0.01;
}

/** The extra variance the plan assumes per metric (from the operator's measured history when there is one). */
export interface PlanDispersion {
  errors: number;
  slow: number;
}

/**
 * Expected time to a decision for a phase at this traffic (requests per minute, both colors),
 * green share (0 < share ≤ 1) and baseline 5xx rate, with windows of `windowMinutes` (one minute on
 * AWS). The extra variance defaults to what the judge assumes without a history.
 */
export function expectedTimeToDecision(
  settings: JudgeSettings,
  trafficPerMinute: number,
  share: number,
  baselineRate: number,
  dispersion: PlanDispersion = { errors: 0.18, slow: 0.18 },
  windowsAllowed = 5 + settings.maxExtensions,
  windowMinutes = 1,
): TimeToDecision {
  const clampedShare = Math.min(Math.max(share, 0), 1);
  const greenPerMinute = Math.max(0, trafficPerMinute) * clampedShare;
  const toMinutes = (windows: number | null) => (windows === null ? null : windows * windowMinutes);
  const comparison: Comparison = share >= 1 ? "reference" : "concurrent";
  const rates: Record<JudgeMetric, number> = { errors: Math.max(0, baselineRate), slow: assumedSlowShare(settings) };
  const worst = (values: (number | null)[]) => (values.some((v) => v === null) ? null : Math.max(...(values as number[])));
  const perMetric = (["errors", "slow"] as const).map((metric) => {
    const input: WindowForecast = {
      comparison,
      perWindowGreen: greenPerMinute * windowMinutes,
      share: clampedShare,
      blueRate: rates[metric],
      extraVariance: dispersion[metric],
    };
    const k = settings[metric].minRatio;
    return {
      metric,
      ruleOutMinimal: toMinutes(windowsToRuleOut(input, k, settings, metric)),
      ruleOutLarge: toMinutes(windowsToRuleOut(input, settings.largestRegression, settings, metric)),
      detectMinimal: toMinutes(windowsToDetect(input, regressionRate(settings[metric], rates[metric], k), settings, metric)),
      detectLarge: toMinutes(windowsToDetect(input, regressionRate(settings[metric], rates[metric], settings.largestRegression), settings, metric)),
      undecided: undecidedChance(input, comparison === "reference" ? settings.largestRegression : settings.largestRegression, settings, metric, windowsAllowed),
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
    undecidedChance: Math.max(...perMetric.map((m) => m.undecided)),
  };
}
