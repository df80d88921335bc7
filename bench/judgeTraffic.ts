// Simulated ALB traffic for the judge's bench: one-minute windows of per-color requests, 5xx and
// slow requests, with the noises real services have, each a named generator. Seeded; virtual clock.
//
// The base model of a minute: total requests Poisson(traffic); green's share Binomial(total,
// share) (the observed split); each color's 5xx Binomial(requests, rate); latencies log-normal
// (median 120 ms, σ 0.5), so blue's p95 (the slow bound, fixed before the cutover) is 273 ms and 5%
// of blue's requests are slow; latency × f makes 1 − Φ(1.645 − ln f / 0.5) of them slow.
// On top of it, the noises (any combination):
// - shared error-rate movement: both colors' 5xx rate × the same log-normal factor each minute
//   (a dependency flaps);
// - per-color error-rate movement: each color's rate × its own factor each minute (one of a few
//   instances has a bad minute);
// - bursts: in a share of minutes one color (either, at random) gets a burst of ~N extra 5xx (a pod
//   restart, a retry storm);
// - retries: every failed request is retried by its client and fails again on the same color, so a
//   failure is counted 1 + Poisson(k − 1) times;
// - sticky failing clients: a few clients whose every request fails, each routed to a color by the
//   weights when a step starts and staying there;
// - shared and per-color latency movement: latencies × a log-normal factor each minute;
// - load ramps: traffic × k per hour, with or without the 5xx rate rising in proportion to load;
// - warm-up: in the first minutes after green's share rises, green is slower and fails more;
// - stalls: in a share of minutes both colors' latencies are multiplied at once (a starved host, a
//   garbage-collection storm, a slow shared disk): the slow share jumps between minutes by σ ≈ 1 on
//   the log scale, shared by both colors, the hardest case for a 100% phase with no concurrent blue.

import { binomial, gaussian, poisson, slowShare } from "./distributions.js";
import type { ColorCounts, JudgeWindow } from "../scripts/core/judge/types.js";

export interface Noise {
  name: string;
  /** One sentence: what the generator models. */
  what: string;
  sharedErrorSigma?: number;
  perColorErrorSigma?: number;
  burst?: { share: number; errors: number };
  retries?: number;
  stickyClients?: { count: number; requestsPerMinute: number };
  perColorLatencySigma?: number;
  sharedLatencySigma?: number;
  ramp?: { perHour: number; ratesFollowLoad: boolean };
  warmup?: { minutes: number; latencyFactor: number; errorFactor: number };
  stalls?: { share: number; latencyFactor: number };
}

export const NOISES: readonly Noise[] = [
  { name: "none", what: "binomial counts only" },
  { name: "shared 5xx σ0.6", what: "both colors' 5xx rate × one log-normal factor per minute", sharedErrorSigma: 0.6 },
  { name: "per-color 5xx σ0.3", what: "each color's 5xx rate × its own log-normal factor per minute", perColorErrorSigma: 0.3 },
  { name: "per-color 5xx σ0.6", what: "the same, stronger", perColorErrorSigma: 0.6 },
  { name: "bursts 20 in 5%", what: "in 5% of minutes one color gets ~20 extra 5xx", burst: { share: 0.05, errors: 20 } },
  { name: "retries ×3", what: "every failure is counted ~3 times (retried on the same color)", retries: 3 },
  {
    name: "sticky failing clients",
    what: "3 clients whose every request fails, routed by the weights per step",
    stickyClients: { count: 3, requestsPerMinute: 5 },
  },
  { name: "per-color latency σ0.1", what: "each color's latencies × its own log-normal factor per minute", perColorLatencySigma: 0.1 },
  { name: "shared latency σ0.2", what: "both colors' latencies × one log-normal factor per minute", sharedLatencySigma: 0.2 },
  { name: "ramp ×4/h, rates ∝ load", what: "traffic ×4 per hour and the 5xx rate in proportion", ramp: { perHour: 4, ratesFollowLoad: true } },
  { name: "ramp ×4/h", what: "traffic ×4 per hour, rates unchanged", ramp: { perHour: 4, ratesFollowLoad: false } },
  {
    name: "warm-up",
    what: "green ×1.5 slower and ×3 the 5xx in its first 2 minutes after each shift",
    warmup: { minutes: 2, latencyFactor: 1.5, errorFactor: 3 },
  },
  {
    name: "stalls 30% ×2",
    what: "in 30% of minutes both colors' latencies ×2 (slow share 5% → ~40%)",
    stalls: { share: 0.3, latencyFactor: 2 },
  },
];

export interface ReleaseSpec {
  name: string;
  errorFactor: number;
  latencyFactor: number;
}

export const BENCH_RELEASES: readonly ReleaseSpec[] = [
  { name: "identical", errorFactor: 1, latencyFactor: 1 },
  { name: "errors ×2", errorFactor: 2, latencyFactor: 1 },
  { name: "errors ×5", errorFactor: 5, latencyFactor: 1 },
  { name: "latency +50%", errorFactor: 1, latencyFactor: 1.5 },
];

export interface TrafficScenario {
  trafficPerMinute: number;
  baselineErrorRate: number;
  release: ReleaseSpec;
  noise: Noise;
}

const logNormal = (rng: () => number, sigma: number | undefined) => (sigma ? Math.exp(sigma * gaussian(rng) - (sigma * sigma) / 2) : 1);

/** A traffic source over a virtual clock in minutes; minute 0 is the first shift. */
export class SimulatedTraffic {
  private stickyOnGreen: boolean[] = [];
  private shareStartedAt = -Infinity;
  private share = 0;

  constructor(
    private readonly scenario: TrafficScenario,
    private readonly rng: () => number,
  ) {}

  /** Green's share from this minute on (a step); re-routes sticky clients and restarts warm-up. */
  setShare(share: number, minute: number): void {
    if (share > this.share) this.shareStartedAt = minute;
    this.share = share;
    const sticky = this.scenario.noise.stickyClients;
    this.stickyOnGreen = sticky ? Array.from({ length: sticky.count }, () => this.rng() < share) : [];
  }

  private load(minute: number): number {
    const ramp = this.scenario.noise.ramp;
    return ramp ? ramp.perHour ** (minute / 60) : 1;
  }

  /** The window of one minute (virtual epoch: minute × 60 s). */
  window(minute: number): JudgeWindow {
    const { noise, release } = this.scenario;
    const rng = this.rng;
    const load = this.load(minute);
    const total = poisson(rng, this.scenario.trafficPerMinute * load);
    const g = this.share >= 1 ? total : binomial(rng, total, this.share);
    const rate = this.scenario.baselineErrorRate * (noise.ramp?.ratesFollowLoad ? load : 1) * logNormal(rng, noise.sharedErrorSigma);
    const stalled = noise.stalls && rng() < noise.stalls.share ? noise.stalls.latencyFactor : 1;
    const latency = logNormal(rng, noise.sharedLatencySigma) * stalled;
    const warm = noise.warmup && minute - this.shareStartedAt < noise.warmup.minutes ? noise.warmup : null;
    const color = (requests: number, green: boolean): ColorCounts => {
      const ownRate = rate * logNormal(rng, noise.perColorErrorSigma) * (green ? release.errorFactor * (warm?.errorFactor ?? 1) : 1);
      const ownLatency = latency * logNormal(rng, noise.perColorLatencySigma) * (green ? release.latencyFactor * (warm?.latencyFactor ?? 1) : 1);
      let errors = binomial(rng, requests, Math.min(1, ownRate));
      if (noise.retries && errors > 0) {
        let counted = 0;
        for (let i = 0; i < errors; i++) counted += 1 + poisson(rng, noise.retries - 1);
        requests += counted - errors;
        errors = counted;
      }
      const slow = binomial(rng, requests, slowShare(ownLatency));
      return { requests, errors, slow, p95Ms: null, p99Ms: null };
    };
    const window: JudgeWindow = { start: minute * 60_000, end: (minute + 1) * 60_000, green: color(g, true), blue: color(total - g, false) };
    this.addBursts(window);
    this.addStickyClients(window);
    return window;
  }

  private addBursts(window: JudgeWindow): void {
    const burst = this.scenario.noise.burst;
    if (!burst || this.rng() >= burst.share) return;
    const onGreen = this.share >= 1 || (this.share > 0 && this.rng() < 0.5);
    const target = onGreen ? window.green : window.blue;
    if (target.requests <= 0) return;
    const extra = poisson(this.rng, burst.errors);
    target.requests += extra;
    target.errors += extra;
  }

  private addStickyClients(window: JudgeWindow): void {
    const sticky = this.scenario.noise.stickyClients;
    if (!sticky) return;
    for (const onGreen of this.stickyOnGreen) {
      const target = this.share >= 1 || onGreen ? window.green : window.blue;
      const n = poisson(this.rng, sticky.requestsPerMinute);
      target.requests += n;
      target.errors += n;
    }
  }
}
