// A metrics source that behaves like ALB metrics in CloudWatch, on the virtual clock:
//
// - traffic is generated per resolution bucket (one minute by default): Poisson request counts,
//   split between the colors by the weights the router had at that time (binomially, and pro rata
//   when the weights changed inside the bucket), binomial 5xx with a background rate for both
//   colors plus whatever the model says for green, ALB-answered errors, slow requests;
// - a bucket is published `publicationDelayMs` after it ends: asked earlier the source answers
//   zero (the bucket has not ended) or a partial count (it has ended, not all of it is in yet),
//   exactly the trap a bake that reads "the last minute" falls into;
// - or, with `spread`, as the load balancer really delivers it: each of its nodes (three by
//   default) serves its own share of the minute's requests and publishes its part after its own
//   delay, drawn per minute and node between `minDelayMs` and `maxDelayMs` (60–150 s after the
//   minute as measured): until the last node's part is in, a minute reads short on every count in
//   proportion, and its nodes may still be missing after the source's declared delay has passed;
// - every bucket is drawn from a generator seeded by (seed, bucket start), so asking again for the
//   same minute gives the same answer, as CloudWatch does.
//
// Every call is recorded with the clock time it was made, so tests can prove that no window was
// asked for before it was published and that no window from before a step was counted.

import type { Clock, Color, ColorMetrics, MetricsSample, MetricsSource, MetricsWindow, SampleOptions, Weights } from "../../scripts/core/ports.js";
import { seededRandom } from "../../bench/seededRandom.js";

export interface TrafficModel {
  /** All requests per minute, both colors together. */
  requestsPerMinute: number;
  /** Probability that a request to `color` is answered 5xx by its targets, at time t under weights w. */
  errorRate?: (color: Color, t: number, weights: Weights) => number;
  /** Probability that the load balancer answers a request to `color` itself (connection refused/reset). */
  elbErrorRate?: (color: Color, t: number, weights: Weights) => number;
  /** Probability of a load-balancer 5xx no color is named for (HTTPCode_ELB_5XX_Count only). */
  unattributedElbRate?: (t: number) => number;
  /** Probability that a request to `color` is slower than `thresholdMs`. Default: 5% when the bound is 250 ms or more, else 50%. */
  slowRate?: (color: Color, t: number, weights: Weights, thresholdMs: number) => number;
  /** p95/p99 per color (reported, not judged). */
  latencyMs?: (color: Color) => { p95: number; p99: number };
}

export interface PublishedMetricsOptions {
  resolutionMs?: number;
  /** The delay the source declares (what the engine waits for). */
  publicationDelayMs?: number;
  seed?: number;
  /** Per-node publication: each node's part arrives after its own delay in [minDelayMs, maxDelayMs]. */
  spread?: { nodes?: number; minDelayMs: number; maxDelayMs: number };
}

export interface WeightsTimeline {
  weightsAt(t: number): Weights;
}

interface BucketCounts {
  requests: Record<Color, number>;
  errors: Record<Color, number>;
  elbErrors: Record<Color, number>;
  unattributed: number;
}

export class PublishedMetrics implements MetricsSource {
  readonly resolutionMs: number;
  readonly publicationDelayMs: number;
  readonly calls: { window: MetricsWindow; at: number; options: SampleOptions }[] = [];
  /** series() calls (blue's history before the cutover), kept apart from the per-window samples. */
  readonly seriesCalls: { span: MetricsWindow; periodMs: number; at: number; options: SampleOptions }[] = [];
  /** The next N calls throw (throttling). */
  failCalls = 0;
  private readonly seed: number;
  private readonly spread: { nodes: number; minDelayMs: number; maxDelayMs: number } | null;

  constructor(
    private readonly clock: Clock,
    private readonly router: WeightsTimeline,
    public model: TrafficModel,
    options: PublishedMetricsOptions = {},
  ) {
    this.resolutionMs = options.resolutionMs ?? 60_000;
    this.publicationDelayMs = options.publicationDelayMs ?? 120_000;
    this.seed = options.seed ?? 1;
    this.spread = options.spread ? { nodes: options.spread.nodes ?? 3, ...options.spread } : null;
  }

  /** Calls made before the window was fully published (a correct engine makes none). */
  earlyCalls(): { window: MetricsWindow; at: number }[] {
    const series = this.seriesCalls.map((call) => ({ window: call.span, at: call.at }));
    return [...this.calls, ...series].filter((call) => call.at < call.window.end + this.publicationDelayMs);
  }

  async sample(window: MetricsWindow, options: SampleOptions = {}): Promise<MetricsSample> {
    const now = this.clock.now();
    this.calls.push({ window: { ...window }, at: now, options: { ...options } });
    if (this.failCalls > 0) {
      this.failCalls -= 1;
      throw new Error("GetMetricData: Rate exceeded");
    }
    return this.counted(window, options, now);
  }

  /**
   * Both colors per period over a span, oldest first: one GetMetricData over the span, as
   * CloudWatch answers it (the same buckets, publication and throttling as sample()).
   */
  async series(span: MetricsWindow, periodMs: number, options: SampleOptions = {}): Promise<(MetricsSample & { window: MetricsWindow })[]> {
    if (!(periodMs > 0)) throw new Error(`series: period must be positive (got ${periodMs})`);
    const now = this.clock.now();
    this.seriesCalls.push({ span: { ...span }, periodMs, at: now, options: { ...options } });
    if (this.failCalls > 0) {
      this.failCalls -= 1;
      throw new Error("GetMetricData: Rate exceeded");
    }
    const out: (MetricsSample & { window: MetricsWindow })[] = [];
    for (let start = span.start; start + periodMs <= span.end; start += periodMs) {
      const window = { start, end: start + periodMs };
      out.push({ ...this.counted(window, options, now), window });
    }
    return out;
  }

  private counted(window: MetricsWindow, options: SampleOptions, now: number): MetricsSample {
    const res = this.resolutionMs;
    const out = {
      blue: { requests: 0, errors5xx: 0, elbErrors: 0, slow: 0 },
      green: { requests: 0, errors5xx: 0, elbErrors: 0, slow: 0 },
      elb5xx: 0,
    };
    for (let b = Math.floor(window.start / res) * res; b < window.end; b += res) {
      const publishedShare = this.publishedShare(b + res, now);
      if (publishedShare === 0) continue;
      const counts = this.bucket(b);
      const scale = (x: number) => Math.floor(x * publishedShare);
      for (const color of ["blue", "green"] as const) {
        out[color].requests += scale(counts.requests[color]);
        out[color].errors5xx += scale(counts.errors[color]);
        out[color].elbErrors += scale(counts.elbErrors[color]);
        if (options.slowThresholdMs !== undefined) out[color].slow += scale(this.slowCount(b, color, counts.requests[color], options.slowThresholdMs));
      }
      out.elb5xx += scale(counts.unattributed + counts.elbErrors.blue + counts.elbErrors.green);
    }
    const color = (c: Color): ColorMetrics => {
      const latency = this.model.latencyMs?.(c) ?? { p95: 120, p99: 250 };
      const metrics: ColorMetrics = {
        requests: out[c].requests,
        errors5xx: out[c].errors5xx,
        elbErrors: out[c].elbErrors,
        p95Ms: out[c].requests > 0 ? latency.p95 : null,
        p99Ms: out[c].requests > 0 ? latency.p99 : null,
      };
      if (options.slowThresholdMs !== undefined) metrics.slow = out[c].slow;
      return metrics;
    };
    return { blue: color("blue"), green: color("green"), loadBalancer: { elb5xx: out.elb5xx } };
  }

  /** 1 once the bucket ending at `end` is published; 0 before it ends; in between, the part that has arrived. */
  private publishedShare(end: number, now: number): number {
    if (now < end) return 0;
    if (this.spread) {
      const share = this.nodeParts(end - this.resolutionMs).reduce((sum, node) => sum + (now >= end + node.delayMs ? node.share : 0), 0);
      return share > 1 - 1e-9 ? 1 : share;
    }
    if (this.publicationDelayMs <= 0 || now >= end + this.publicationDelayMs) return 1;
    return (now - end) / this.publicationDelayMs;
  }

  /** The load balancer's nodes for one bucket: each one's share of the requests and its publication delay. */
  nodeParts(start: number): { share: number; delayMs: number }[] {
    const spread = this.spread;
    if (!spread) return [{ share: 1, delayMs: this.publicationDelayMs }];
    const rng = seededRandom(hash(this.seed, start, 3));
    const weights = Array.from({ length: spread.nodes }, () => 0.75 + 0.5 * rng());
    const total = weights.reduce((a, b) => a + b, 0);
    return weights.map((w) => ({ share: w / total, delayMs: spread.minDelayMs + Math.round(rng() * (spread.maxDelayMs - spread.minDelayMs)) }));
  }

  /** When the bucket starting at `start` is wholly published. */
  publishedAt(start: number): number {
    return start + this.resolutionMs + Math.max(...this.nodeParts(start).map((node) => node.delayMs));
  }

  private bucket(start: number): BucketCounts {
    const rng = seededRandom(hash(this.seed, start, 0));
    const res = this.resolutionMs;
    const counts: BucketCounts = {
      requests: { blue: 0, green: 0 },
      errors: { blue: 0, green: 0 },
      elbErrors: { blue: 0, green: 0 },
      unattributed: 0,
    };
    // Split the bucket where the weights changed, so a straddling bucket mixes both splits pro rata.
    const cuts = [start];
    for (let t = start + 1000; t < start + res; t += 1000) {
      const before = this.router.weightsAt(t - 1);
      const after = this.router.weightsAt(t);
      if (before.green !== after.green) cuts.push(t);
    }
    cuts.push(start + res);
    for (let i = 0; i + 1 < cuts.length; i++) {
      const from = cuts[i]!;
      const to = cuts[i + 1]!;
      const mid = (from + to) / 2;
      const weights = this.router.weightsAt(from);
      const n = poisson(rng, (this.model.requestsPerMinute * (to - from)) / 60_000);
      const green = binomial(rng, n, weights.green / 100);
      const split: Record<Color, number> = { blue: n - green, green };
      for (const color of ["blue", "green"] as const) {
        const requests = split[color];
        const elb = binomial(rng, requests, clamp(this.model.elbErrorRate?.(color, mid, weights) ?? 0));
        const errors = binomial(rng, requests - elb, clamp(this.model.errorRate?.(color, mid, weights) ?? 0));
        counts.requests[color] += requests;
        counts.errors[color] += errors;
        counts.elbErrors[color] += elb;
      }
      counts.unattributed += binomial(rng, n, clamp(this.model.unattributedElbRate?.(mid) ?? 0));
    }
    return counts;
  }

  private slowCount(start: number, color: Color, requests: number, thresholdMs: number): number {
    const rng = seededRandom(hash(this.seed, start, color === "blue" ? 1 : 2));
    const mid = start + this.resolutionMs / 2;
    const rate = this.model.slowRate?.(color, mid, this.router.weightsAt(mid), thresholdMs) ?? (thresholdMs >= 250 ? 0.05 : 0.5);
    return binomial(rng, requests, clamp(rate));
  }
}

const clamp = (p: number) => Math.min(1, Math.max(0, p));

function hash(...parts: number[]): number {
  let h = 2166136261;
  for (const part of parts) {
    let x = Math.floor(part / 1000) ^ (part % 1000);
    for (let i = 0; i < 4; i++) {
      h ^= x & 0xff;
      h = Math.imul(h, 16777619);
      x = Math.floor(x / 256);
    }
  }
  return h >>> 0;
}

function normal(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function poisson(rng: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 50) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(rng)));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  for (;;) {
    p *= rng();
    if (p <= limit) return k;
    k += 1;
  }
}

export function binomial(rng: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (n < 60) {
    let k = 0;
    for (let i = 0; i < n; i++) if (rng() < p) k += 1;
    return k;
  }
  if (n * p < 30) return Math.min(n, poisson(rng, n * p));
  if (n * (1 - p) < 30) return Math.max(0, n - poisson(rng, n * (1 - p)));
  return Math.min(n, Math.max(0, Math.round(n * p + Math.sqrt(n * p * (1 - p)) * normal(rng))));
}
