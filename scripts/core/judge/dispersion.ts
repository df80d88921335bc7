// How much more than binomial noise the counts move, estimated from the data. Pure numbers.
//
// Real traffic is not a stream of independent coin tosses. A color's error rate (and its slow
// share) moves from minute to minute: together with the other color (a dependency flaps, load
// rises), on its own (one of a few instances has a bad minute, a pod restarts, clients retry), and
// over the hour (ramps). On the log scale a window's rate is
//
//     log r = level + shared noise + the color's own noise + binomial noise,
//
// and the judge sees two kinds of comparison:
//
// - Concurrent (green < 100%): d = log r_green − log r_blue over the same minute. The shared noise
//   cancels; what is left is binomial (v, known from the counts) plus τ² = the variance of the two
//   colors' own noises. τ² is estimated from the scatter of d between the windows of each phase
//   (DerSimonian & Laird's moment estimator, pooled over the phases of the cutover), and before
//   enough windows exist from blue's own minute-to-minute movement before the cutover (an upper
//   bound: blue's movement includes the shared part, which cancels).
// - Against blue's history (green at 100%): d = log r_green − blue's recent level. Nothing cancels:
//   the variance is binomial plus blue's whole minute-to-minute movement σ²_B (from successive
//   differences, which a slow trend does not inflate), and the level itself is uncertain and may
//   drift by the time green is judged (the trend's slope, from the same history).
//
// A window's likelihood is then tempered by φ = (v + τ²) / v: in the normal regime that is exactly
// the likelihood ratio of a mean with variance v + τ² (so the test's guarantee holds for the real
// variance), and at small counts, where binomial noise dominates, φ → 1 and the exact count model
// is kept. Every estimate used for a window comes from the windows before it (predictable), so the
// product of window factors stays a supermartingale under the estimate.

/** Per-window log-rate variance assumed when nothing is known yet: a color's own noise of σ 0.3. */
export const DEFAULT_OWN_VARIANCE = 0.09;
/** Prior weight (in windows) of the history's estimate against the cutover's own scatter. */
export const PRIOR_WINDOWS = 2;
/**
 * The most blue's history may say its counts are clumped (each failure counted several times:
 * client retries, one request failing on several hops). Above this, what blue's history shows is
 * the movement of its rate, which the additive part (τ²) carries.
 */
export const MAX_CLUMPING = 4;
/** Blue windows kept for the history (one hour of one-minute windows). */
export const HISTORY_LIMIT = 60;
/** Windows of the history's recent end that set green's reference level at 100%. */
export const RECENT_WINDOWS = 10;
/** Fewer history windows than this say nothing about blue's movement. */
export const MIN_HISTORY_WINDOWS = 5;

/** Accumulates the scatter of the concurrent per-window log ratios (moment estimator of τ²). */
export interface ScatterAccumulator {
  /** Completed phases: Σ Q, Σ (k − 1), Σ c. */
  q: number;
  df: number;
  c: number;
  /** The current phase's sums over windows, weight w = 1/v. */
  k: number;
  sw: number;
  sw2: number;
  swd: number;
  swd2: number;
}

export function emptyScatter(): ScatterAccumulator {
  return { q: 0, df: 0, c: 0, k: 0, sw: 0, sw2: 0, swd: 0, swd2: 0 };
}

/** Log rate with a continuity half-count, and its binomial variance (delta method). */
export function logRate(count: number, requests: number): { y: number; v: number } {
  const c = count + 0.5;
  const n = requests + 1;
  return { y: Math.log(c / n), v: Math.max(1 / c - 1 / n, 1e-6) };
}

/** One concurrent window's log ratio green / blue and its binomial variance; null when a color served nothing. */
export function logRatio(x: number, y: number, g: number, b: number): { d: number; v: number } | null {
  if (g <= 0 || b <= 0) return null;
  const green = logRate(x, g);
  const blue = logRate(y, b);
  return { d: green.y - blue.y, v: green.v + blue.v };
}

function phaseQ(s: ScatterAccumulator): { q: number; df: number; c: number } {
  if (s.k < 2 || s.sw <= 0) return { q: 0, df: 0, c: 0 };
  const mean = s.swd / s.sw;
  return { q: Math.max(0, s.swd2 - s.sw * mean * mean), df: s.k - 1, c: s.sw - s.sw2 / s.sw };
}

/** Add a window's log ratio to the current phase. */
export function addScatter(s: ScatterAccumulator, d: number, v: number): void {
  const w = 1 / v;
  s.k += 1;
  s.sw += w;
  s.sw2 += w * w;
  s.swd += w * d;
  s.swd2 += w * d * d;
}

/** Close the current phase: its scatter joins the pooled sums (phases may differ in their mean). */
export function closeScatterPhase(s: ScatterAccumulator): void {
  const p = phaseQ(s);
  s.q += p.q;
  s.df += p.df;
  s.c += p.c;
  s.k = 0;
  s.sw = 0;
  s.sw2 = 0;
  s.swd = 0;
  s.swd2 = 0;
}

export interface Dispersion {
  /** Extra variance of the log ratio (both colors' own movement). */
  tau2: number;
  /** Multiplicative factor on binomial variance (clumped counts). */
  clumping: number;
  /** Degrees of freedom the cutover's own scatter contributed. */
  df: number;
}

/**
 * The dispersion for the next window, from the scatter of every phase so far, each shrunk toward
 * its prior by PRIOR_WINDOWS windows of weight (the prior dominates the first windows of a
 * cutover). The scatter Q over df windows is read two ways: additively, τ² = (Q − df) / c
 * (DerSimonian & Laird), and multiplicatively, Q / df (a quasi-likelihood dispersion). A window is
 * tempered by the larger of the two (temper()), so neither way of being wrong makes it overconfident.
 */
export function estimateDispersion(s: ScatterAccumulator, prior: { tau2: number; clumping: number }): Dispersion {
  const current = phaseQ(s);
  const q = s.q + current.q;
  const df = s.df + current.df;
  const c = s.c + current.c;
  const additive = df > 0 && c > 0 ? Math.max(0, (q - df) / c) : 0;
  const multiplicative = df > 0 ? Math.max(1, q / df) : 1;
  return {
    tau2: (PRIOR_WINDOWS * prior.tau2 + df * additive) / (PRIOR_WINDOWS + df),
    clumping: (PRIOR_WINDOWS * prior.clumping + df * multiplicative) / (PRIOR_WINDOWS + df),
    df,
  };
}

/** The tempering factor of a window with binomial variance v: its real variance over v (≥ 1). */
export function temper(v: number, dispersion: { tau2: number; clumping: number }): number {
  return Math.max(1, dispersion.clumping, 1 + Math.max(0, dispersion.tau2) / Math.max(v, 1e-9));
}

/** Blue's windows, kept for its movement and its recent level (oldest first, at most HISTORY_LIMIT). */
export interface BlueSeries {
  /** Window starts (epoch ms), counts (errors or slow requests) and requests, aligned. */
  at: number[];
  counts: number[];
  requests: number[];
}

export function emptySeries(): BlueSeries {
  return { at: [], counts: [], requests: [] };
}

export function addToSeries(series: BlueSeries, at: number, count: number, requests: number): void {
  if (!(requests > 0)) return;
  series.at.push(at);
  series.counts.push(count);
  series.requests.push(requests);
  const excess = series.at.length - HISTORY_LIMIT;
  if (excess > 0) {
    series.at.splice(0, excess);
    series.counts.splice(0, excess);
    series.requests.splice(0, excess);
  }
}

/** What blue's windows say about its own movement. */
export interface BlueMovement {
  windows: number;
  /** Minute-to-minute variance of blue's log rate beyond binomial noise (successive differences). */
  minuteVariance: number;
  /** The same movement as a factor on binomial variance (≥ 1). */
  clumping: number;
  /** Trend of blue's log rate per minute (least squares), and its standard error. */
  slopePerMinute: number;
  slopeError: number;
}

export function blueMovement(series: BlueSeries): BlueMovement | null {
  const n = series.at.length;
  if (n < MIN_HISTORY_WINDOWS) return null;
  const points = series.at.map((at, i) => ({ t: at / 60_000, ...logRate(series.counts[i]!, series.requests[i]!) }));
  let diff2 = 0;
  let binomial = 0;
  for (let i = 1; i < n; i++) {
    diff2 += (points[i]!.y - points[i - 1]!.y) ** 2;
    binomial += points[i]!.v + points[i - 1]!.v;
  }
  const minuteVariance = Math.max(0, (diff2 - binomial) / (2 * (n - 1)));
  const clumping = binomial > 0 ? Math.max(1, diff2 / binomial) : 1;
  const meanT = points.reduce((a, p) => a + p.t, 0) / n;
  const meanY = points.reduce((a, p) => a + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.t - meanT) ** 2;
    sxy += (p.t - meanT) * (p.y - meanY);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  let residual = 0;
  for (const p of points) residual += (p.y - meanY - slope * (p.t - meanT)) ** 2;
  const slopeError = sxx > 0 && n > 2 ? Math.sqrt(residual / (n - 2) / sxx) : 0;
  return { windows: n, minuteVariance, clumping, slopePerMinute: slope, slopeError };
}

/**
 * The dispersion a concurrent comparison starts from, before the cutover's own windows say more:
 * both colors moving on their own as much as blue moved in total (an upper bound: blue's movement
 * includes what both colors share), and blue's clumping up to MAX_CLUMPING; without a history,
 * DEFAULT_OWN_VARIANCE per color.
 */
export function concurrentPrior(movement: BlueMovement | null): { tau2: number; clumping: number } {
  if (!movement) return { tau2: 2 * DEFAULT_OWN_VARIANCE, clumping: 1 };
  return { tau2: 2 * movement.minuteVariance, clumping: Math.min(MAX_CLUMPING, movement.clumping) };
}

/** Blue's recent level: the pooled rate over the newest RECENT_WINDOWS windows. */
export function recentLevel(series: BlueSeries): { count: number; requests: number; windows: number; end: number } {
  const from = Math.max(0, series.at.length - RECENT_WINDOWS);
  let count = 0;
  let requests = 0;
  for (let i = from; i < series.at.length; i++) {
    count += series.counts[i]!;
    requests += series.requests[i]!;
  }
  const end = series.at.length > 0 ? series.at[series.at.length - 1]! + 60_000 : 0;
  return { count, requests, windows: series.at.length - from, end };
}
