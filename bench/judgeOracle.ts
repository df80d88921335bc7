// "Detectable under that noise", for the bench's targets: the power an ideal test would have — one
// that knows the true per-window variance of the log ratio green/blue under this noise (measured on
// simulated windows of an identical release) and the regression's true mean shift (measured the
// same way), and looks once, after bake + extensions — in the best of the concurrent phases. The
// judge pays for looking at every window and for estimating the variance; a cell where even the
// ideal test has less than 99% power is not one where a catch rate can be demanded.

import { logRatio } from "../scripts/core/judge/dispersion.js";
import { normalQuantile } from "../scripts/core/judge/normal.js";
import type { JudgeSettings } from "../scripts/core/judge/types.js";
import { normalCdf } from "./distributions.js";
import { DEFAULT_PHASES } from "./judgeSimulation.js";
import { SimulatedTraffic, type TrafficScenario } from "./judgeTraffic.js";

const SAMPLE_WINDOWS = 400;

function meanAndVariance(xs: readonly number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1);
  return { mean, variance };
}

function logRatios(scenario: TrafficScenario, share: number, rng: () => number, metric: "errors" | "slow"): number[] {
  const traffic = new SimulatedTraffic(scenario, rng);
  const out: number[] = [];
  for (let i = 0; i < SAMPLE_WINDOWS; i++) {
    // a fresh step every 5 windows: sticky clients re-routed, warm-up included as the steps have it
    if (i % 5 === 0) {
      traffic.setShare(0, i * 2 - 1);
      traffic.setShare(share, i * 2);
    }
    const w = traffic.window(i * 2 + (i % 5));
    const g = w.green;
    const b = w.blue;
    const r = metric === "errors" ? logRatio(g.errors, b.errors, g.requests, b.requests) : logRatio(g.slow ?? 0, b.slow ?? 0, g.requests, b.requests);
    if (r) out.push(r.d);
  }
  return out;
}

/** The ideal test's power for the scenario's regression (errors or latency), best concurrent phase. */
export function idealPower(settings: JudgeSettings, scenario: TrafficScenario, rng: () => number): number {
  const metric = scenario.release.errorFactor > 1 ? "errors" : "slow";
  if (metric === "errors" && scenario.baselineErrorRate <= 0) return 0;
  const z = normalQuantile(1 - settings.alphaPerTest);
  let best = 0;
  for (const phase of DEFAULT_PHASES) {
    if (phase.share >= 1) continue;
    const null0 = meanAndVariance(logRatios({ ...scenario, release: { name: "identical", errorFactor: 1, latencyFactor: 1 } }, phase.share, rng, metric));
    const alt = meanAndVariance(logRatios(scenario, phase.share, rng, metric));
    const windows = phase.windowsRequired + settings.maxExtensions;
    const shift = alt.mean - null0.mean;
    const power = normalCdf((shift * Math.sqrt(windows)) / Math.sqrt(Math.max(null0.variance, 1e-12)) - z);
    best = Math.max(best, power);
  }
  return best;
}
