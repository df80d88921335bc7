// The judge's statistics: likelihoods on a grid of rate ratios, the mixture e-value that fails a
// metric, and the anytime-valid upper bounds that say what a promotion rules out. Pure numbers.
//
// Model. Conditional on the n = x + y events (errors, or slow requests) both colors had in a window,
// green's x is Binomial(n, θ), θ = ρ·g / (ρ·g + b), with g, b the colors' requests and ρ = green's
// rate / blue's. (For Poisson counts this is exact; for Bernoulli requests the exact law is Fisher's
// noncentral hypergeometric, which under ρ = 1 is less spread than this binomial in the convex order
// (Hoeffding 1963, Thm 4), so the likelihood ratios below stay supermartingales.) The blue rate, and
// anything that moves both colors together (a slow dependency, a traffic burst), cancels out.
//
// A likelihood ratio L(ρ₁)/L(1) multiplied over windows is a nonnegative martingale under ρ = 1 and a
// supermartingale for every ρ ≤ 1 (monotone likelihood ratio in x); so is a fixed mixture of them.
// Ville's inequality: P(sup_t M_t ≥ 1/α) ≤ α. That is the fail test, valid at every look.
//
// The same per-window likelihoods, read the other way, give a confidence sequence for ρ: ρ₀ is ruled
// out once L(1)/L(ρ₀) ≥ 1/α' (a supermartingale whenever the true ρ ≥ ρ₀). Green's own rate gets a
// confidence sequence from the Beta-mixture (Robbins) martingale over its cumulative counts.

/**
 * Grid of ρ: 2^(k/8), k = 0..80, i.e. 1 … 1024 in steps of about 9%. Nothing below 1 is needed: the
 * fail test's alternatives are ≥ minRatio and the bounds are upper bounds. The state keeps one
 * number per grid point and metric, so the grid is sized for the journal (SSM: 8 KB in all).
 */
export const RHO_GRID: readonly number[] = Array.from({ length: 81 }, (_, i) => 2 ** (i / 8));
/** Index of ρ = 1 in RHO_GRID. */
export const RHO_ONE = 0;

/**
 * Keep a log-likelihood array compact for the journal: relative to ρ = 1 (only differences are ever
 * used) and rounded to 1e-6 (an e-value changes by at most 0.0001% in the last digit).
 */
export function normalizeLogLik(logLik: number[]): void {
  const base = logLik[RHO_ONE]!;
  for (let i = 0; i < logLik.length; i++) logLik[i] = Math.round((logLik[i]! - base) * 1e6) / 1e6;
}

/** log Γ(x) for x > 0 (Lanczos, g = 7, n = 9; about 15 digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

export function logSumExp(values: readonly number[]): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/**
 * One concurrent window's log-likelihood at every grid point, relative to ρ = 1:
 * ℓ(ρ) − ℓ(1), ℓ(ρ) = x·log ρ − n·log(ρ·g + b). x, y: green's and blue's events; g, b: their
 * requests. null when the window says nothing about ρ (no events, or one color absent).
 */
export function concurrentWindowLogLik(x: number, y: number, g: number, b: number): number[] | null {
  const n = x + y;
  if (n === 0 || g === 0 || b === 0) return null;
  const base = -n * Math.log(g + b);
  return RHO_GRID.map((rho) => x * Math.log(rho) - n * Math.log(rho * g + b) - base);
}

/** Largest rate the reference model lets ρ·rate reach (a rate of 1 would make one success impossible). */
const RATE_CAP = 1 - 1e-9;

/**
 * One window judged against a reference rate, relative to ρ = 1: x ~ Binomial(g, min(ρ·reference, cap)),
 * ℓ(ρ) = x·log q + (g − x)·log(1 − q), q = ρ·reference. null without green requests.
 */
export function referenceWindowLogLik(x: number, g: number, reference: number): number[] | null {
  if (g === 0) return null;
  const at = (rho: number) => {
    const q = Math.min(rho * reference, RATE_CAP);
    return (x > 0 ? x * Math.log(q) : 0) + (g - x) * Math.log(1 - q);
  };
  const base = at(1);
  return RHO_GRID.map((rho) => at(rho) - base);
}

/**
 * Add a window's log-likelihood to the phase's, tempered and bounded:
 * - divided by φ ≥ 1, the window's real variance over its binomial variance (./dispersion.ts);
 * - each grid point's gain capped at `cap`, so that no single window moves the fail test by more
 *   than a factor e^cap. Lowering a likelihood ratio keeps its expectation ≤ 1 under the null, so
 *   the product stays a supermartingale and the test's guarantee is unchanged.
 */
export function addWindowLogLik(logLik: number[], window: readonly number[] | null, phi: number, cap: number): void {
  if (window === null) return;
  const divisor = Math.max(1, phi);
  for (let i = 0; i < logLik.length; i++) logLik[i]! += Math.min(window[i]! / divisor, cap);
}

/** Add one concurrent window untempered and unbounded (the forecast's expected path). */
export function addConcurrentWindow(logLik: number[], x: number, y: number, g: number, b: number): void {
  addWindowLogLik(logLik, concurrentWindowLogLik(x, y, g, b), 1, Infinity);
}

/** Add one reference window untempered and unbounded (the forecast's expected path). */
export function addReferenceWindow(logLik: number[], x: number, g: number, reference: number): void {
  addWindowLogLik(logLik, referenceWindowLogLik(x, g, reference), 1, Infinity);
}

/** Grid indices of the fail mixture's alternatives: ρ ≥ minRatio in steps of √2, with weights ∝ 2^−k (most on the regressions near the smallest worth catching, which need the most evidence). */
export function alternatives(minRatio: number): { index: number; logWeight: number }[] {
  const start = RHO_GRID.findIndex((rho) => rho >= minRatio * (1 - 1e-12));
  const indices: number[] = [];
  for (let i = start < 0 ? RHO_GRID.length - 1 : start; i < RHO_GRID.length; i += 4) indices.push(i);
  const raw = indices.map((_, k) => 0.5 ** k);
  const total = raw.reduce((a, b) => a + b, 0);
  return indices.map((index, k) => ({ index, logWeight: Math.log(raw[k]! / total) }));
}

/** log of the mixture e-value Σ w·L(ρ)/L(1) over the alternatives (0 = no evidence). */
export function logMixtureStatistic(logLik: readonly number[], minRatio: number): number {
  const base = logLik[RHO_ONE]!;
  return logSumExp(alternatives(minRatio).map(({ index, logWeight }) => logWeight + logLik[index]! - base));
}

/**
 * The anytime-valid upper bound on ρ at level alpha: the smallest grid ρ₀ ≥ 1 with
 * log L(1) − log L(ρ₀) ≥ log(1/alpha) (every larger ρ₀ then also qualifies: ℓ is concave in log ρ).
 * null when even the largest grid ratio is not ruled out.
 */
export function ratioUpperBound(logLik: readonly number[], alpha: number): number | null {
  const base = logLik[RHO_ONE]!;
  const need = Math.log(1 / alpha);
  for (let i = RHO_ONE; i < RHO_GRID.length; i++) {
    if (base - logLik[i]! >= need) return RHO_GRID[i]!;
  }
  return null;
}

/** Beta(½, ½) prior of the rate confidence sequence (Jeffreys: cheap for the small rates that matter here). */
const PRIOR_A = 0.5;
const PRIOR_B = 0.5;

/**
 * Anytime-valid upper confidence bound on a Bernoulli rate from k events in n trials (Robbins'
 * Beta-mixture confidence sequence; Howard, Ramdas, McAuliffe & Sekhon 2021, §3): the largest q
 * whose mixture martingale B(a+k, b+n−k)/B(a, b) / (q^k (1−q)^(n−k)) is still below 1/alpha.
 * 1 when n = 0. Counts may be non-integer (expected counts in the forecast).
 */
export function rateUpperBound(k: number, n: number, alpha: number): number {
  if (n <= 0) return 1;
  // log martingale(q) = constant − k·log q − (n − k)·log(1 − q); increasing in q above k/n.
  const constant = logBeta(PRIOR_A + k, PRIOR_B + n - k) - logBeta(PRIOR_A, PRIOR_B) - Math.log(1 / alpha);
  const excess = (q: number) => constant - (k > 0 ? k * Math.log(q) : 0) - (n - k) * Math.log(1 - q);
  let lo = Math.min(k / n, 1);
  let hi = 1 - 1e-12;
  if (excess(hi) < 0) return 1;
  for (let i = 0; i < 60 && hi - lo > 1e-9 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (excess(mid) >= 0) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** A fresh log-likelihood array (all zeros: no evidence). */
export function emptyLogLik(): number[] {
  return new Array<number>(RHO_GRID.length).fill(0);
}
