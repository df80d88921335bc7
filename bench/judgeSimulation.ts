// A simulated canary for the judge's bench and property tests: seeded, virtual clock, binomial
// noise per window, the real judge (scripts/core/judge) and the real threshold gates (its
// `thresholds` mode, which calls scripts/core/gates.ts) on the same traffic.
//
// Model of one 1-minute window: the total requests are Poisson(traffic) (normal beyond 1,000);
// green's requests are Binomial(total, share) (the observed split); each color's 5xx are
// Binomial(requests, rate); latencies are log-normal (median 120 ms, σ 0.5) so blue's p95 (the slow
// bound, read before the cutover) is 273 ms and 5% of blue's requests are slow; a release with
// latency × f makes 1 − Φ(1.645 − ln f / σ) of green's requests slow (×1.2: 10%, ×1.5: 20.6%).
// Window p95s (for the thresholds) are sampled from the order statistic's normal approximation.

import { judgeStep } from "../scripts/core/judge/judge.js";
import { newJudgeState } from "../scripts/core/judge/settings.js";
import type { ColorCounts, JudgeDecision, JudgeSettings, JudgeWindow } from "../scripts/core/judge/types.js";

export { seededRandom } from "./seededRandom.js";

export function gaussian(rng: () => number): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Binomial(n, p): inversion below a mean of 30 (exact), normal with continuity beyond. */
export function binomial(rng: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rng, n, 1 - p);
  const mean = n * p;
  if (mean < 30) {
    const q = 1 - p;
    const s = p / q;
    const a = (n + 1) * s;
    let r = Math.exp(n * Math.log(q));
    let u = rng();
    let x = 0;
    while (u > r && x < n) {
      u -= r;
      x += 1;
      r *= a / x - s;
    }
    return x;
  }
  const x = Math.round(mean + Math.sqrt(mean * (1 - p)) * gaussian(rng));
  return Math.min(n, Math.max(0, x));
}

export function poisson(rng: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 1000) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(rng)));
  const limit = Math.exp(-mean);
  let k = 0;
  let prod = rng();
  while (prod > limit) {
    k += 1;
    prod *= rng();
  }
  return k;
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 via erf). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

export const LATENCY_MEDIAN_MS = 120;
export const LATENCY_SIGMA = 0.5;
const Z95 = 1.6448536269514722;
/** Blue's p95: the slow bound. */
export const BLUE_P95_MS = LATENCY_MEDIAN_MS * Math.exp(Z95 * LATENCY_SIGMA);

/** Share of requests slower than blue's p95 when latencies are multiplied by `factor`. */
export function slowShare(factor: number): number {
  return 1 - normalCdf(Z95 - Math.log(factor) / LATENCY_SIGMA);
}

/** A window's sample p95 for n requests at latency × factor (normal approximation of the order statistic). */
function sampleP95(rng: () => number, n: number, factor: number): number | null {
  if (n <= 0) return null;
  const q = BLUE_P95_MS * factor;
  const density = Math.exp(-(Z95 * Z95) / 2) / Math.sqrt(2 * Math.PI); // φ(z₉₅)
  const sd = (Math.sqrt((0.95 * 0.05) / n) * q * LATENCY_SIGMA) / density;
  return Math.max(1, q + sd * gaussian(rng));
}

export interface Release {
  name: string;
  /** Green's 5xx rate = blue's × errorFactor. */
  errorFactor: number;
  /** Green's latencies × latencyFactor. */
  latencyFactor: number;
}

export const RELEASES: readonly Release[] = [
  { name: "identical", errorFactor: 1, latencyFactor: 1 },
  { name: "errors ×1.5", errorFactor: 1.5, latencyFactor: 1 },
  { name: "errors ×2", errorFactor: 2, latencyFactor: 1 },
  { name: "errors ×5", errorFactor: 5, latencyFactor: 1 },
  { name: "latency +20%", errorFactor: 1, latencyFactor: 1.2 },
  { name: "latency +50%", errorFactor: 1, latencyFactor: 1.5 },
];

export interface Scenario {
  trafficPerMinute: number;
  baselineErrorRate: number;
  release: Release;
}

/** The phases of a canary as the engine runs them: green share and windows required. */
export interface SimPhase {
  key: string;
  share: number;
  windowsRequired: number;
}

/** The default canary: 5 → 25 → 100, 5-minute bakes polled every minute, 5 minutes of monitoring at 100%. */
export const DEFAULT_PHASES: readonly SimPhase[] = [
  { key: "step-1", share: 0.05, windowsRequired: 5 },
  { key: "step-2", share: 0.25, windowsRequired: 5 },
  { key: "monitoring", share: 1, windowsRequired: 5 },
];

export interface CutoverResult {
  outcome: "succeeded" | "rolled-back" | "undecided";
  /** The phase that failed or ran out of extensions; null on success. */
  phase: string | null;
  /** Minutes from the first shift to the decision that ended the cutover (success: the whole run). */
  minutes: number;
  /** Windows judged in the phase that ended it (1 = its first window). */
  windowInPhase: number;
  /** Promotions after the extensions with only the large regression ruled out, or onUndecided: promote. */
  extendedPhases: number;
}

function window(rng: () => number, scenario: Scenario, share: number, start: number): JudgeWindow {
  const total = poisson(rng, scenario.trafficPerMinute);
  const g = share >= 1 ? total : binomial(rng, total, share);
  const b = total - g;
  const p = scenario.baselineErrorRate;
  const greenSlow = slowShare(scenario.release.latencyFactor);
  const color = (requests: number, rate: number, slow: number, factor: number): ColorCounts => ({
    requests,
    errors: binomial(rng, requests, Math.min(1, rate)),
    slow: binomial(rng, requests, slow),
    p95Ms: sampleP95(rng, requests, factor),
    p99Ms: null,
  });
  return {
    start,
    end: start + 60_000,
    green: color(g, p * scenario.release.errorFactor, greenSlow, scenario.release.latencyFactor),
    blue: color(b, p, 0.05, 1),
  };
}

const ENDS: readonly JudgeDecision[] = ["fail", "undecided", "promote"];

/** One cutover on a virtual clock (1-minute windows), judged by `settings` (either mode). */
export function simulateCutover(settings: JudgeSettings, scenario: Scenario, rng: () => number, phases: readonly SimPhase[] = DEFAULT_PHASES): CutoverResult {
  let state = newJudgeState();
  let clock = 0;
  let extendedPhases = 0;
  for (const phase of phases) {
    let decision: JudgeDecision = "continue";
    let windowInPhase = 0;
    // bounded: a phase never takes more than its windows + extensions (+ the thresholds' passes)
    const limit = phase.windowsRequired + Math.max(settings.maxExtensions, settings.thresholds.inconclusiveExtensions) + 1;
    while (!ENDS.includes(decision) && windowInPhase < limit) {
      const w = window(rng, scenario, phase.share, clock);
      clock += 60_000;
      windowInPhase += 1;
      const verdict = judgeStep(settings, state, [w], {
        phaseKey: phase.key,
        phase: phase.share >= 1 ? "monitoring" : "baking",
        greenShare: phase.share,
        windowsRequired: phase.windowsRequired,
      });
      state = verdict.state;
      decision = verdict.decision;
    }
    if (decision === "fail") return { outcome: "rolled-back", phase: phase.key, minutes: clock / 60_000, windowInPhase, extendedPhases };
    if (decision !== "promote") return { outcome: "undecided", phase: phase.key, minutes: clock / 60_000, windowInPhase, extendedPhases };
    if (state.extensionsUsed > 0) extendedPhases += 1;
  }
  return { outcome: "succeeded", phase: null, minutes: clock / 60_000, windowInPhase: 0, extendedPhases };
}
