// The judge's statistics (scripts/core/judge/statistics.ts, forecast.ts): the e-value keeps its
// false-alarm bound at every look, the confidence sequences cover, the forecast is consistent.
import { describe, expect, it } from "vitest";
import { binomial, seededRandom } from "../../bench/judgeSimulation.js";
import { stackConfigSchema } from "../../infra/config.js";
import { expectedTimeToDecision, windowsToDetect, windowsToRuleOut } from "../../scripts/core/judge/forecast.js";
import { resolveJudgeSettings } from "../../scripts/core/judge/settings.js";
import {
  addConcurrentWindow,
  addReferenceWindow,
  emptyLogLik,
  logGamma,
  logMixtureStatistic,
  RHO_GRID,
  RHO_ONE,
  rateUpperBound,
  ratioUpperBound,
} from "../../scripts/core/judge/statistics.js";

const settings = resolveJudgeSettings(stackConfigSchema.shape.rollout.parse({}).gates, { judgedPhases: 3 });

describe("numerics", () => {
  it("logGamma matches known values", () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(logGamma(10)).toBeCloseTo(Math.log(362_880), 10);
    expect(logGamma(1e6)).toBeCloseTo(1e6 * Math.log(1e6) - 1e6 - 0.5 * Math.log(1e6) + 0.5 * Math.log(2 * Math.PI), 4);
  });

  it("the grid holds 1 at RHO_ONE and is increasing", () => {
    expect(RHO_GRID[RHO_ONE]).toBe(1);
    for (let i = 1; i < RHO_GRID.length; i++) expect(RHO_GRID[i]!).toBeGreaterThan(RHO_GRID[i - 1]!);
  });
});

describe("the mixture e-value under 'green as good as blue' (Ville's inequality at every look)", () => {
  it("crosses 1/α in at most α of long runs, looked at after every window", () => {
    const alpha = 0.05;
    const runs = 400;
    let crossed = 0;
    const rng = seededRandom(42);
    for (let r = 0; r < runs; r++) {
      const logLik = emptyLogLik();
      for (let window = 0; window < 40; window++) {
        const g = binomial(rng, 2000, 0.1);
        const b = 2000 - g;
        addConcurrentWindow(logLik, binomial(rng, g, 0.02), binomial(rng, b, 0.02), g, b);
        if (logMixtureStatistic(logLik, 2) >= Math.log(1 / alpha)) {
          crossed += 1;
          break;
        }
      }
    }
    expect(crossed / runs).toBeLessThanOrEqual(alpha);
  });

  it("the same holds against a frozen reference rate when green's true rate equals it", () => {
    const alpha = 0.05;
    let crossed = 0;
    const rng = seededRandom(43);
    for (let r = 0; r < 400; r++) {
      const logLik = emptyLogLik();
      for (let window = 0; window < 40; window++) {
        addReferenceWindow(logLik, binomial(rng, 1000, 0.01), 1000, 0.01);
        if (logMixtureStatistic(logLik, 2) >= Math.log(1 / alpha)) {
          crossed += 1;
          break;
        }
      }
    }
    expect(crossed / 400).toBeLessThanOrEqual(alpha);
  });

  it("grows without bound when green is ×3 worse", () => {
    const logLik = emptyLogLik();
    const rng = seededRandom(44);
    for (let window = 0; window < 10; window++) addConcurrentWindow(logLik, binomial(rng, 500, 0.03), binomial(rng, 9500, 0.01), 500, 9500);
    expect(logMixtureStatistic(logLik, 2)).toBeGreaterThan(Math.log(1e6));
  });
});

describe("confidence sequences (what a promotion claims to rule out)", () => {
  it("green's rate bound covers the true rate at every look in ≥ 95% of runs", () => {
    const rng = seededRandom(7);
    for (const p of [0, 0.001, 0.02]) {
      let missed = 0;
      for (let r = 0; r < 300; r++) {
        let k = 0;
        let n = 0;
        for (let window = 0; window < 30; window++) {
          k += binomial(rng, 500, p);
          n += 500;
          if (rateUpperBound(k, n, 0.05) < p) {
            missed += 1;
            break;
          }
        }
      }
      expect(missed / 300).toBeLessThanOrEqual(0.05);
    }
    expect(rateUpperBound(0, 0, 0.05)).toBe(1);
    expect(rateUpperBound(0, 10_000, 0.05)).toBeLessThan(0.001);
  });

  it("the ratio bound covers the true ratio ×1.5 at every look in ≥ 95% of runs, and tightens with evidence", () => {
    const rng = seededRandom(8);
    let missed = 0;
    let last = Infinity;
    for (let r = 0; r < 300; r++) {
      const logLik = emptyLogLik();
      for (let window = 0; window < 20; window++) {
        addConcurrentWindow(logLik, binomial(rng, 1000, 0.015), binomial(rng, 9000, 0.01), 1000, 9000);
        const bound = ratioUpperBound(logLik, 0.05);
        if (bound !== null && bound < 1.5) {
          missed += 1;
          break;
        }
        if (r === 0 && window === 19) last = bound ?? Infinity;
      }
    }
    expect(missed / 300).toBeLessThanOrEqual(0.05);
    expect(last).toBeLessThan(3);
  });
});

describe("forecast", () => {
  it("takes longer at lower traffic, never at no traffic, and the large regression is faster than the smallest", () => {
    const times = [1_000, 10_000, 100_000].map((traffic) => expectedTimeToDecision(settings, traffic, 0.05, 0.01));
    for (let i = 1; i < times.length; i++) {
      expect(times[i]!.ruleOutMinimalMinutes!).toBeLessThanOrEqual(times[i - 1]!.ruleOutMinimalMinutes!);
      expect(times[i]!.detectMinimalMinutes!).toBeLessThanOrEqual(times[i - 1]!.detectMinimalMinutes!);
    }
    expect(times[2]!.ruleOutMinimalMinutes!).toBeLessThan(times[0]!.ruleOutMinimalMinutes!);
    expect(times[2]!.detectMinimalMinutes!).toBeLessThan(times[0]!.detectMinimalMinutes!);
    for (const t of times) {
      expect(t.ruleOutLargeMinutes!).toBeLessThanOrEqual(t.ruleOutMinimalMinutes!);
      expect(t.detectLargeMinutes!).toBeLessThanOrEqual(t.detectMinimalMinutes!);
    }
    const none = expectedTimeToDecision(settings, 0, 0.05, 0.01);
    expect(none.ruleOutMinimalMinutes).toBeNull();
    expect(none.greenPerMinute).toBe(0);
  });

  it("predicts the judge: at 10,000 req/min and 1%, a ×5 regression at 5% is caught within three to five one-minute windows (never fewer than three; σ 0.3 per color assumed)", () => {
    const t = expectedTimeToDecision(settings, 10_000, 0.05, 0.01);
    expect(t.detectLargeMinutes!).toBeGreaterThanOrEqual(3);
    expect(t.detectLargeMinutes!).toBeLessThanOrEqual(5);
    expect(t.greenPerMinute).toBe(500);
    // at 0% baseline only green's own bound can rule anything out: +0.5 points needs ~1,000+ clean green requests
    const input = { comparison: "concurrent" as const, perWindowGreen: 100, share: 0.05, blueRate: 0, extraVariance: 0 };
    const zero = windowsToRuleOut(input, 2, settings, "errors")! * 100;
    expect(zero).toBeGreaterThan(500);
    expect(zero).toBeLessThan(5_000);
    expect(windowsToDetect({ ...input, blueRate: 0.01 }, 0.01, settings, "errors")).toBeNull();
  });

  it("more extra variance makes every decision take longer", () => {
    const quiet = expectedTimeToDecision(settings, 10_000, 0.05, 0.01, { errors: 0, slow: 0 });
    const noisy = expectedTimeToDecision(settings, 10_000, 0.05, 0.01, { errors: 0.5, slow: 0.5 });
    expect(noisy.detectMinimalMinutes!).toBeGreaterThan(quiet.detectMinimalMinutes!);
    expect(noisy.ruleOutMinimalMinutes!).toBeGreaterThan(quiet.ruleOutMinimalMinutes!);
  });
});
