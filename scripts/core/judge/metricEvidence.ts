// One metric's evidence in the current phase: the fail statistic against its boundary, what the
// evidence rules out, and (once the bake is over) how much more green traffic a decision needs.

import { testAlpha, windowsToRuleOut, type Comparison } from "./forecast.js";
import { referenceRate, regressionRate } from "./settings.js";
import { logMixtureStatistic, rateUpperBound, ratioUpperBound } from "./statistics.js";
import type { JudgeMetric, JudgeSettings, JudgeState, MetricEvidence, RuledOut } from "./types.js";

export function evidenceFor(settings: JudgeSettings, state: JudgeState, metric: JudgeMetric, share: number, forecast: boolean): MetricEvidence {
  const acc = state.metrics[metric];
  const effect = settings[metric];
  const reference = state.reference?.[metric] ?? null;
  const comparison: MetricEvidence["comparison"] =
    state.reference === null ? (acc.blueRequests > 0 ? "concurrent" : "none") : reference !== null ? "reference" : "none";
  const alpha = testAlpha(settings, comparison === "reference" ? "reference" : "concurrent");
  const boundary = 1 / alpha;
  const blueRequests = comparison === "reference" ? reference!.requests : acc.blueRequests;
  const blueCount = comparison === "reference" ? reference!.count : acc.blueCount;
  const logStatistic = comparison === "none" ? 0 : logMixtureStatistic(acc.logLik, effect.minRatio);
  const regression = logStatistic >= Math.log(boundary);

  // Against a reference, ρ is relative to the reference's raised rate: restate it relative to blue's observed level.
  const rawRatio = comparison === "none" ? null : ratioUpperBound(acc.logLik, settings.ruleOutAlpha);
  const observedLevel = comparison === "reference" ? (reference!.count + 0.5) / (reference!.requests + 1) : null;
  const toObserved = comparison === "reference" ? reference!.rate / observedLevel! : 1;
  const effectiveRequests = acc.effectiveRequests > 0 ? acc.effectiveRequests : acc.greenRequests;
  const effectiveCount = acc.effectiveRequests > 0 ? acc.effectiveCount : acc.greenCount;
  const ruledOut: RuledOut = {
    ratio: rawRatio === null ? null : rawRatio * toObserved,
    // green's own rate bound on its counts divided by their dispersion: clumped or moving counts claim less
    greenRateBelow: acc.greenRequests > 0 ? rateUpperBound(effectiveCount, effectiveRequests, settings.ruleOutAlpha) : null,
  };
  // With nothing to compare against, blue's rate counts as 0: promotion then needs green's own
  // rate below the absolute size of the regression (stricter, never looser).
  const blueRate = comparison === "none" ? 0 : comparison === "reference" ? observedLevel! : blueRequests > 0 ? blueCount / blueRequests : 0;
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
  if (forecast && (status === "open" || status === "ruled-out-large") && acc.greenRequests > 0 && state.windowsJudged > 0) {
    const k = status === "open" ? settings.largestRegression : effect.minRatio;
    const forecastComparison: Comparison = comparison === "reference" ? "reference" : "concurrent";
    const perWindowGreen = acc.greenRequests / state.windowsJudged;
    const observedShare = acc.blueRequests > 0 ? acc.greenRequests / (acc.greenRequests + acc.blueRequests) : share;
    const greenRate = acc.greenCount / acc.greenRequests;
    const windows = windowsToRuleOut(
      {
        comparison: forecastComparison,
        perWindowGreen,
        share: forecastComparison === "reference" ? 1 : Math.min(observedShare, 0.999),
        blueRate: comparison === "reference" ? reference!.rate : blueRate,
        extraVariance: acc.extraVariance,
      },
      k,
      settings,
      metric,
      Math.max(greenRate, 1e-9),
    );
    if (windows !== null && windows > state.windowsJudged) neededGreenRequests = Math.ceil((windows - state.windowsJudged) * perWindowGreen);
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
    extraVariance: acc.extraVariance,
    dispersion: acc.dispersion,
    ruledOut,
    status,
    neededGreenRequests,
  };
}
