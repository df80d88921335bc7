// Green at 100% has no concurrent blue: it is compared with blue's recent level. A level that
// cannot move is not a reference, so the level is widened by what blue's own windows show:
// its uncertainty (binomial and minute-to-minute), and the drift blue's trend may carry it by the
// end of the phase. Each monitoring window is then tempered by blue's minute-to-minute movement.

import { blueMovement, concurrentPrior, logRate, MAX_CLUMPING, recentLevel, type BlueSeries } from "./dispersion.js";
import { windowsToDetect } from "./forecast.js";
import { normalQuantile } from "./normal.js";
import type { BlueHistory, FrozenReference, JudgeMetric, JudgeSettings } from "./types.js";

/** Without a history, blue is assumed to move by σ 0.6 from minute to minute (the conservative end of what services show). */
export const UNKNOWN_MINUTE_VARIANCE = 0.36;
/** Ratios tried for "what this phase can detect". */
const DETECTABLE_RATIOS = [1.25, 1.5, 2, 3, 5, 10, 20, 50, 100, 1024];

/** Blue's history for one metric, as a series of (end, count, requests). */
export function seriesOf(blue: BlueHistory, metric: JudgeMetric): BlueSeries {
  const series: BlueSeries = { at: [], counts: [], requests: [] };
  for (let i = 0; i < blue.at.length; i++) {
    const count = metric === "errors" ? blue.errors[i]! : blue.slow[i];
    if (count === null || count === undefined || !(blue.requests[i]! > 0)) continue;
    series.at.push(blue.at[i]!);
    series.counts.push(count);
    series.requests.push(blue.requests[i]!);
  }
  return series;
}

export interface FreezeInput {
  settings: JudgeSettings;
  blue: BlueHistory;
  /** Blue windows in the history that came before the cutover. */
  historyWindows: number;
  /** Green's expected requests per window at 100% (for what the phase can detect). */
  requestsPerWindow: number;
  /** Windows the phase may take: required + extensions. */
  horizonWindows: number;
  /** Minutes from the newest blue window to the end of the phase. */
  horizonMinutes: number;
}

/** The reference for one metric, or null when blue has no windows for it. */
export function freezeReference(input: FreezeInput, metric: JudgeMetric): FrozenReference | null {
  const series = seriesOf(input.blue, metric);
  const level = recentLevel(series);
  if (level.requests <= 0) return null;
  const movement = blueMovement(series);
  const minuteVariance = movement ? movement.minuteVariance * (1 + Math.sqrt(2 / Math.max(1, movement.windows - 1))) : UNKNOWN_MINUTE_VARIANCE;
  const alpha = input.settings.alphaPerTest / 2;
  const z = normalQuantile(1 - alpha);
  const binomial = logRate(level.count, level.requests).v;
  const levelError = Math.sqrt(binomial + minuteVariance / Math.max(1, level.windows));
  const drift = movement ? (Math.abs(movement.slopePerMinute) + 2 * movement.slopeError) * Math.max(0, input.horizonMinutes) : 0;
  const observed = (level.count + 0.5) / (level.requests + 1);
  const rate = Math.min(1, observed * Math.exp(z * levelError + drift));
  const source = series.at.length > input.historyWindows ? "cutover" : "pre-cutover";
  const detectableRatio =
    DETECTABLE_RATIOS.find((ratio) => {
      const windows = windowsToDetect(
        { comparison: "reference", perWindowGreen: input.requestsPerWindow, share: 1, blueRate: rate, extraVariance: minuteVariance },
        Math.min(1, observed * ratio),
        input.settings,
        metric,
      );
      return windows !== null && windows <= input.horizonWindows;
    }) ?? null;
  const clumping = movement ? Math.min(MAX_CLUMPING, movement.clumping) : 1;
  return { source, requests: level.requests, count: level.count, rate, minuteVariance, clumping, historyWindows: movement?.windows ?? 0, detectableRatio };
}

/** The concurrent prior for one metric: from blue's movement in the history, or the default. */
export function concurrentPriorOf(blue: BlueHistory, metric: JudgeMetric): { tau2: number; clumping: number } {
  return concurrentPrior(blueMovement(seriesOf(blue, metric)));
}

/** What blue's history says about the extra variance, for the plan: per comparison and metric. */
export interface MeasuredDispersion {
  /** Blue windows with traffic behind the figures (0: none, the defaults are used). */
  windows: number;
  concurrent: Record<JudgeMetric, number>;
  reference: Record<JudgeMetric, number>;
}

export function measuredDispersion(blue: BlueHistory): MeasuredDispersion {
  const of = (metric: JudgeMetric) => blueMovement(seriesOf(blue, metric));
  const errors = of("errors");
  const slow = of("slow");
  return {
    windows: errors?.windows ?? 0,
    concurrent: { errors: concurrentPrior(errors).tau2, slow: concurrentPrior(slow).tau2 },
    reference: { errors: errors?.minuteVariance ?? UNKNOWN_MINUTE_VARIANCE, slow: slow?.minuteVariance ?? UNKNOWN_MINUTE_VARIANCE },
  };
}
