// Seeded draws for the judge's simulations: normal, binomial, Poisson, and the latency model.

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
