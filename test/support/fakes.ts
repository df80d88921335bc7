// In-memory fakes of every engine port, with an injected virtual clock: sleep() advances time
// instantly, so a 5-minute bake runs in milliseconds. For the engine's tests and for anyone
// else's (CLI, sandbox): `const world = new FakeWorld(); await runCutover(world.deps(), ...)`.
//
// The fakes keep the state that outlives a process (the router's live weights, the lock, the
// stored journal, the fence, replication) so a test can "crash" the engine and resume it with
// fresh deps over the same world: see `crashingDeps`.

import type { DatabaseMode, RolloutConfig } from "../../infra/config.js";
import type { EngineDeps } from "../../scripts/core/engine.js";
import type { EngineEvent } from "../../scripts/core/events.js";
import type { OperatorRequest } from "../../scripts/core/operatorRequest.js";
import {
  LockHeldError,
  type AlarmSource,
  type Clock,
  type Color,
  type ColorMetrics,
  type DataReplication,
  type FenceMode,
  type HealthProbe,
  type HookResult,
  type HookRunner,
  type JournalStore,
  type Lock,
  type LockHolder,
  type MetricsSample,
  type MetricsSource,
  type MetricsWindow,
  type OperatorRequestChannel,
  type SampleOptions,
  type ParityResult,
  type ParitySource,
  type ReplicationDirection,
  type ReplicationStatus,
  type RouteWeights,
  type Snapshot,
  type Snapshotter,
  type TargetHealth,
  type TrafficRouter,
  type WeightRecorder,
  type Weights,
  type WriteFence,
} from "../../scripts/core/ports.js";

export { PublishedMetrics, type TrafficModel } from "./publishedMetrics.js";

export const EPOCH = Date.UTC(2026, 0, 15, 9, 0, 0);

// ---------------------------------------------------------------------------------------------
// clock

export class FakeClock implements Clock {
  sleeps = 0;
  slept = 0;
  /** Sleeps cut short because their signal aborted. */
  wokenByAbort = 0;
  private readonly timers: { at: number; fn: () => void }[] = [];
  constructor(public t: number = EPOCH) {}
  now(): number {
    return this.t;
  }
  /** Run fn once virtual time reaches `at` (during whichever sleep passes it): e.g. abort a run mid-wait. */
  at(at: number, fn: () => void): void {
    this.timers.push({ at, fn });
  }
  /** Like a real sleep: wakes at once when `signal` aborts, also when a timer fired mid-sleep aborts it. */
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps += 1;
    const end = this.t + Math.max(0, ms);
    for (;;) {
      if (signal?.aborted) {
        this.wokenByAbort += 1;
        break;
      }
      const due = this.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) {
        this.slept += end - this.t;
        this.t = end;
        break;
      }
      this.timers.splice(this.timers.indexOf(due), 1);
      const to = Math.max(this.t, due.at);
      this.slept += to - this.t;
      this.t = to;
      due.fn();
    }
    await Promise.resolve();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

// ---------------------------------------------------------------------------------------------
// router

export interface FakeRouterOptions {
  routes?: string[];
  initial?: Weights;
  /** Virtual ms between a write and the weights reading back. */
  writeLagMs?: number;
  stickinessSeconds?: number | null;
}

export class FakeRouter implements TrafficRouter {
  readonly routes: string[];
  writeLagMs: number;
  stickinessSeconds: number | null;
  /** Return true to make a write never read back (on that route). */
  refuseToConverge: ((weights: Weights, route: string) => boolean) | null = null;
  /** The next N writes throw. */
  failWrites = 0;
  /** The next N reads throw. */
  failReads = 0;
  readonly writes: { at: number; weights: Weights }[] = [];
  /** When the first route's live weights changed, oldest first (metrics fakes split traffic by it: weightsAt). */
  readonly timeline: { from: number; weights: Weights }[] = [];
  reads = 0;
  /** Called on every accepted write (tests use it to change the world). */
  onWrite: ((weights: Weights) => void) | null = null;
  private readonly live = new Map<string, { weights: Weights; pending: { weights: Weights; applyAt: number } | null }>();

  constructor(
    private readonly clock: Clock,
    options: FakeRouterOptions = {},
  ) {
    this.routes = options.routes ?? [
      "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/bg/1/https",
      "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/bg/1/https/api",
    ];
    this.writeLagMs = options.writeLagMs ?? 0;
    this.stickinessSeconds = options.stickinessSeconds ?? null;
    for (const route of this.routes) this.live.set(route, { weights: { ...(options.initial ?? { blue: 100, green: 0 }) }, pending: null });
    this.timeline.push({ from: Number.MIN_SAFE_INTEGER, weights: { ...(options.initial ?? { blue: 100, green: 0 }) } });
  }

  /** The first route's live weights at time t (as the traffic saw them). */
  weightsAt(t: number): Weights {
    let current = this.timeline[0]!.weights;
    for (const entry of this.timeline) if (entry.from <= t) current = entry.weights;
    return { ...current };
  }

  private liveFrom(from: number, weights: Weights): void {
    // A later write replaces one still pending: drop entries that never took effect.
    while (this.timeline.length > 1 && this.timeline.at(-1)!.from > from) this.timeline.pop();
    this.timeline.push({ from, weights: { ...weights } });
  }

  describeWrites(): string[] {
    return this.routes.map((route) => `${route.includes("listener-rule") ? "ModifyRule" : "ModifyListener"} ${route}`);
  }

  private settle(): void {
    const now = this.clock.now();
    for (const state of this.live.values()) {
      if (state.pending && state.pending.applyAt <= now) {
        state.weights = state.pending.weights;
        state.pending = null;
      }
    }
  }

  async readWeights(): Promise<RouteWeights[]> {
    this.reads += 1;
    if (this.failReads > 0) {
      this.failReads -= 1;
      throw new Error("fake router: read failed");
    }
    this.settle();
    return this.routes.map((route) => ({ route, weights: { ...this.live.get(route)!.weights }, stickinessSeconds: this.stickinessSeconds }));
  }

  async writeWeights(weights: Weights): Promise<void> {
    if (this.failWrites > 0) {
      this.failWrites -= 1;
      throw new Error("fake router: write throttled");
    }
    this.writes.push({ at: this.clock.now(), weights: { ...weights } });
    for (const route of this.routes) {
      const state = this.live.get(route)!;
      if (this.refuseToConverge?.(weights, route)) {
        state.pending = null;
        continue;
      }
      state.pending = { weights: { ...weights }, applyAt: this.clock.now() + this.writeLagMs };
      if (route === this.routes[0]) this.liveFrom(this.clock.now() + this.writeLagMs, weights);
    }
    this.settle();
    this.onWrite?.(weights);
  }

  /** Live weights of the first route (after pending writes that are due). */
  current(): Weights {
    this.settle();
    return { ...this.live.get(this.routes[0]!)!.weights };
  }

  /** Set live weights directly (all routes, or one). */
  set(weights: Weights, route?: string): void {
    for (const name of route ? [route] : this.routes) this.live.set(name, { weights: { ...weights }, pending: null });
    if (!route || route === this.routes[0]) this.liveFrom(this.clock.now(), weights);
  }
}

// ---------------------------------------------------------------------------------------------
// metrics, health, alarms

export function colorMetrics(overrides: Partial<ColorMetrics> = {}): ColorMetrics {
  return { requests: 1000, errors5xx: 0, p95Ms: 120, p99Ms: 250, ...overrides };
}

/** Both colors healthy and busy, unless overridden. */
export function metricsReply(overrides: { blue?: Partial<ColorMetrics>; green?: Partial<ColorMetrics> } = {}): Record<Color, ColorMetrics> {
  return { blue: colorMetrics(overrides.blue), green: colorMetrics(overrides.green) };
}

/** Healthy metrics for `total` requests split by the weights; a color without requests has no latency data. */
export function splitReply(weights: Weights, total = 4000): Record<Color, ColorMetrics> {
  const part = (percent: number) => {
    const requests = Math.round((total * percent) / 100);
    return requests > 0 ? colorMetrics({ requests }) : colorMetrics({ requests: 0, p95Ms: null, p99Ms: null });
  };
  return { blue: part(weights.blue), green: part(weights.green) };
}

export const replies = {
  ok: () => metricsReply(),
  /** Green 5xx at `rate` (blue clean). */
  errors: (rate = 0.2) => metricsReply({ green: { errors5xx: Math.round(1000 * rate) } }),
  slow: (p95Ms = 5000) => metricsReply({ green: { p95Ms, p99Ms: p95Ms * 2 } }),
  quiet: (requests = 3) => metricsReply({ green: { requests, errors5xx: 0 } }),
  error: (message = "GetMetricData throttled") => new Error(message),
};

export type MetricsReply = Record<Color, ColorMetrics> | Error;

/**
 * Scripted replies, answered at once (publication delay 0). A reply without a slow count answers 1%
 * of the color's requests as slower than the bound when a bound is asked. For a source that models
 * CloudWatch's publication delay and binomial noise, see PublishedMetrics (./publishedMetrics.ts).
 */
export class FakeMetrics implements MetricsSource {
  readonly calls: MetricsWindow[] = [];
  readonly options: SampleOptions[] = [];
  publicationDelayMs = 0;
  /**
   * When set (FakeWorld sets it), replies follow the weights live at the window's start as real
   * traffic does: green's requests are what the reply says, blue's are scaled to the split
   * (blue's rates kept; at 100% green, blue serves nothing). null: replies are returned as written
   * (for tests of weights that are not in effect).
   */
  followWeights: ((t: number) => Weights) | null = null;
  private readonly queue: MetricsReply[] = [];
  /** Used when the script queue is empty. */
  responder: (context: { window: MetricsWindow; call: number }) => MetricsReply = () => metricsReply();

  /**
   * Blue's per-window history before the cutover (MetricsSource.series), read once per cutover
   * before the first window is judged. "calm": every period answers the healthy default (blue's
   * part of metricsReply(), green without requests); it never takes a scripted reply, so scripts
   * line up with the polls. "none": the source keeps no history (no `series` method), and the judge
   * assumes its conservative default.
   */
  history: "calm" | "none" = "calm";
  /** Every series call, in order. */
  readonly seriesCalls: { span: MetricsWindow; periodMs: number; options: SampleOptions }[] = [];

  constructor(public resolutionMs = 0) {}

  get series(): MetricsSource["series"] {
    if (this.history === "none") return undefined;
    return async (span: MetricsWindow, periodMs: number, options: SampleOptions = {}) => {
      if (!(periodMs > 0)) throw new Error(`series: period must be positive (got ${periodMs})`);
      this.seriesCalls.push({ span: { ...span }, periodMs, options: { ...options } });
      const calm = metricsReply().blue;
      const blue: ColorMetrics = options.slowThresholdMs !== undefined ? { ...calm, slow: Math.round(calm.requests * 0.01) } : calm;
      const green: ColorMetrics = { requests: 0, errors5xx: 0, p95Ms: null, p99Ms: null, ...(options.slowThresholdMs !== undefined ? { slow: 0 } : {}) };
      const out: (MetricsSample & { window: MetricsWindow })[] = [];
      for (let start = span.start; start + periodMs <= span.end; start += periodMs)
        out.push({ blue: { ...blue }, green: { ...green }, window: { start, end: start + periodMs } });
      return out;
    };
  }

  /** Replies for the next calls, in order; then the responder. */
  script(...items: MetricsReply[]): this {
    this.queue.push(...items);
    return this;
  }

  respond(responder: (context: { window: MetricsWindow; call: number }) => MetricsReply): this {
    this.responder = responder;
    return this;
  }

  async sample(window: MetricsWindow, options: SampleOptions = {}): Promise<MetricsSample> {
    this.calls.push({ ...window });
    this.options.push({ ...options });
    const reply = this.queue.length > 0 ? this.queue.shift()! : this.responder({ window, call: this.calls.length });
    if (reply instanceof Error) throw reply;
    const withSlow = (metrics: ColorMetrics): ColorMetrics =>
      options.slowThresholdMs !== undefined && metrics.slow === undefined ? { ...metrics, slow: Math.round(metrics.requests * 0.01) } : { ...metrics };
    const blue = this.followWeights ? blueForSplit(reply.blue, reply.green.requests, this.followWeights(window.start)) : reply.blue;
    return { blue: withSlow(blue), green: withSlow(reply.green) };
  }
}

/** Blue's reply scaled so that green's `greenRequests` are the weights' share of the total (rates kept). */
function blueForSplit(blue: ColorMetrics, greenRequests: number, weights: Weights): ColorMetrics {
  if (weights.green <= 0 || greenRequests <= 0) return { ...blue };
  const requests = Math.round((greenRequests * weights.blue) / weights.green);
  if (requests === blue.requests) return { ...blue };
  if (requests === 0) return { ...blue, requests: 0, errors5xx: 0, elbErrors: 0, slow: 0, p95Ms: null, p99Ms: null };
  const factor = blue.requests > 0 ? requests / blue.requests : 0;
  const scaled: ColorMetrics = { ...blue, requests, errors5xx: Math.round(blue.errors5xx * factor) };
  if (blue.elbErrors !== undefined) scaled.elbErrors = Math.round(blue.elbErrors * factor);
  if (blue.slow !== undefined) scaled.slow = Math.round(blue.slow * factor);
  return scaled;
}

export class FakeHealth implements HealthProbe {
  readonly state: Record<Color, TargetHealth> = {
    blue: { healthy: 2, unhealthy: 0, total: 2 },
    green: { healthy: 2, unhealthy: 0, total: 2 },
  };
  error: Error | null = null;
  calls = 0;
  set(color: Color, health: Partial<TargetHealth>): this {
    this.state[color] = { ...this.state[color], ...health };
    return this;
  }
  async health(color: Color): Promise<TargetHealth> {
    this.calls += 1;
    if (this.error) throw this.error;
    return { ...this.state[color] };
  }
}

export class FakeAlarms implements AlarmSource {
  names: string[] = [];
  error: Error | null = null;
  async firing(): Promise<string[]> {
    if (this.error) throw this.error;
    return [...this.names];
  }
}

// ---------------------------------------------------------------------------------------------
// lock and journal

export class InMemoryLock implements Lock {
  holder: LockHolder | null = null;
  readonly log: string[] = [];
  async acquire(holder: LockHolder): Promise<void> {
    if (this.holder) throw new LockHeldError({ ...this.holder });
    this.holder = { ...holder };
    this.log.push(`acquire ${holder.owner}`);
  }
  async release(owner: string): Promise<void> {
    if (this.holder?.owner === owner) {
      this.holder = null;
      this.log.push(`release ${owner}`);
    }
  }
  async breakLock(): Promise<LockHolder | null> {
    const previous = this.holder;
    this.holder = null;
    this.log.push(`break ${previous?.owner ?? "(none)"}`);
    return previous ? { ...previous } : null;
  }
  async current(): Promise<LockHolder | null> {
    return this.holder ? { ...this.holder } : null;
  }
}

/**
 * The operator-request channel as one stored JSON text (as SSM or a file would hold it). `reads`
 * counts the engine's polls of it; `failWith` makes every read fail.
 */
export class InMemoryRequests implements OperatorRequestChannel {
  stored: string | null = null;
  reads = 0;
  clears = 0;
  failWith: Error | null = null;
  async read(): Promise<unknown | null> {
    this.reads += 1;
    if (this.failWith) throw this.failWith;
    return this.stored === null ? null : (JSON.parse(this.stored) as unknown);
  }
  async write(request: OperatorRequest): Promise<void> {
    this.stored = JSON.stringify(request);
  }
  async clear(): Promise<void> {
    this.clears += 1;
    this.stored = null;
  }
}

/** Stores the journal as JSON text, exactly as a real store would (class instances would not survive). */
export class InMemoryJournal implements JournalStore {
  stored: string | null = null;
  saves = 0;
  /** Every saved version, oldest first. */
  readonly history: string[] = [];
  /** Like the file and SSM stores: text that is not JSON comes back as the raw string (the engine reports it as corrupt). */
  async load(): Promise<unknown | null> {
    if (this.stored === null) return null;
    try {
      return JSON.parse(this.stored) as unknown;
    } catch {
      return this.stored;
    }
  }
  async save(journal: unknown): Promise<void> {
    const text = JSON.stringify(journal);
    this.stored = text;
    this.saves += 1;
    this.history.push(text);
  }
  /** Put arbitrary text in the store (corrupt-journal tests). */
  setRaw(text: string | null): void {
    this.stored = text;
  }
  /** The stored journal, parsed. */
  get value(): any {
    return this.stored === null ? null : JSON.parse(this.stored);
  }
}

// ---------------------------------------------------------------------------------------------
// snapshot, hooks, recorder

export class FakeSnapshotter implements Snapshotter {
  readonly calls: { label: string; timeoutMs: number }[] = [];
  error: Error | null = null;
  /** Virtual time a snapshot takes. */
  durationMs = 5 * 60_000;
  constructor(private readonly clock: Clock) {}
  async snapshot(label: string, timeoutMs: number, signal?: AbortSignal): Promise<Snapshot> {
    this.calls.push({ label, timeoutMs });
    if (this.error) throw this.error;
    await this.clock.sleep(Math.min(this.durationMs, timeoutMs), signal);
    if (signal?.aborted) throw new Error("stopped waiting for the snapshot: aborted");
    if (this.durationMs > timeoutMs) throw new Error(`snapshot not available after ${timeoutMs} ms`);
    return { id: `snap-${this.calls.length}`, availableAt: this.clock.now() };
  }
}

export type HookBehaviour = HookResult | ((env: Record<string, string>) => HookResult | Promise<HookResult>);

export class FakeHooks implements HookRunner {
  readonly runs: { command: string; timeoutMs: number; env: Record<string, string> }[] = [];
  private readonly behaviours = new Map<string, HookBehaviour>();
  constructor(private readonly clock: Clock) {}
  /** Exit code 0 in 1 s unless told otherwise. */
  on(command: string, behaviour: HookBehaviour): this {
    this.behaviours.set(command, behaviour);
    return this;
  }
  fail(command: string, exitCode = 1): this {
    return this.on(command, { exitCode, timedOut: false, durationMs: 1000, outputTail: "assertion failed" });
  }
  timeout(command: string): this {
    return this.on(command, (env) => ({ exitCode: null, timedOut: true, durationMs: Number(env.__timeoutMs ?? 0), outputTail: "" }));
  }
  /**
   * Like ShellHookRunner: the hook takes its duration on the clock unless `signal` aborts first
   * (before it starts, or while it runs); then it is stopped and reported as interrupted, with
   * the time it had run.
   */
  async run(command: string, timeoutMs: number, env: Record<string, string>, signal?: AbortSignal): Promise<HookResult> {
    this.runs.push({ command, timeoutMs, env: { ...env } });
    const started = this.clock.now();
    const interrupted = (): HookResult => ({
      exitCode: null,
      timedOut: false,
      interrupted: true,
      durationMs: this.clock.now() - started,
      outputTail: "(stopped: the run was interrupted)",
    });
    if (signal?.aborted) return interrupted();
    const behaviour = this.behaviours.get(command) ?? { exitCode: 0, timedOut: false, durationMs: 1000, outputTail: "ok" };
    const result = typeof behaviour === "function" ? await behaviour({ ...env, __timeoutMs: String(timeoutMs) }) : behaviour;
    await this.clock.sleep(result.timedOut ? timeoutMs : result.durationMs, signal);
    if (signal?.aborted) return interrupted();
    return { ...result, durationMs: result.timedOut ? timeoutMs : result.durationMs };
  }
}

export class FakeRecorder implements WeightRecorder {
  readonly recorded: Weights[] = [];
  error: Error | null = null;
  async record(weights: Weights): Promise<void> {
    if (this.error) throw this.error;
    this.recorded.push({ ...weights });
  }
}

// ---------------------------------------------------------------------------------------------
// paired mode: fence, replication, parity

export class FakeFence implements WriteFence {
  mode: FenceMode = "off";
  readonly history: { at: number; mode: FenceMode }[] = [];
  error: Error | null = null;
  constructor(private readonly clock: Clock) {}
  async set(mode: FenceMode): Promise<void> {
    if (this.error) throw this.error;
    this.mode = mode;
    this.history.push({ at: this.clock.now(), mode });
  }
  async read(): Promise<FenceMode> {
    return this.mode;
  }
}

export class FakeReplication implements DataReplication {
  readonly running: Record<ReplicationDirection, boolean> = { "blue-to-green": true, "green-to-blue": false };
  readonly lagBytes: Record<ReplicationDirection, number | null> = { "blue-to-green": 0, "green-to-blue": 0 };
  /** Virtual time a catch-up takes, per direction. */
  readonly catchUpMs: Record<ReplicationDirection, number> = { "blue-to-green": 300, "green-to-blue": 300 };
  readonly catchUpError: Record<ReplicationDirection, Error | null> = { "blue-to-green": null, "green-to-blue": null };
  parityResult: ParityResult & { onlyOnGreen?: string[] };
  readonly calls: string[] = [];
  constructor(private readonly clock: Clock) {
    this.parityResult = { identical: true, checkedAt: clock.now(), summary: "3 tables, 12000 rows identical", onlyOnGreen: [] };
  }
  async status(direction: ReplicationDirection): Promise<ReplicationStatus> {
    this.calls.push(`status ${direction}`);
    return {
      direction,
      running: this.running[direction],
      lagBytes: this.lagBytes[direction],
      detail: this.running[direction] ? "streaming" : "no subscription",
    };
  }
  async waitForCatchUp(direction: ReplicationDirection, timeoutMs: number, signal?: AbortSignal): Promise<{ waitedMs: number }> {
    this.calls.push(`catch-up ${direction}`);
    if (!this.running[direction]) throw new Error(`${direction} replication is not running`);
    const error = this.catchUpError[direction];
    if (error) {
      await this.clock.sleep(timeoutMs, signal);
      if (signal?.aborted) throw new Error("stopped waiting for catch-up: aborted");
      throw error;
    }
    const waited = Math.min(this.catchUpMs[direction], timeoutMs);
    await this.clock.sleep(waited, signal);
    if (signal?.aborted) throw new Error("stopped waiting for catch-up: aborted");
    if (this.catchUpMs[direction] > timeoutMs) throw new Error(`${direction} did not catch up within ${timeoutMs} ms`);
    return { waitedMs: waited };
  }
  async parity(): Promise<ParityResult & { onlyOnGreen?: string[] }> {
    this.calls.push("parity");
    return { ...this.parityResult, checkedAt: this.clock.now() };
  }
  async copySequences(direction: ReplicationDirection): Promise<void> {
    this.calls.push(`copy-sequences ${direction}`);
  }
  async start(direction: ReplicationDirection, options: { copyData: boolean }): Promise<void> {
    this.calls.push(`start ${direction} copyData=${options.copyData}`);
    this.running[direction] = true;
  }
  async stop(direction: ReplicationDirection): Promise<void> {
    this.calls.push(`stop ${direction}`);
    this.running[direction] = false;
  }
}

export class FakeParity implements ParitySource {
  result: ParityResult | null;
  constructor(clock: Clock) {
    this.result = { identical: true, checkedAt: clock.now() - 60_000, summary: "3 tables identical" };
  }
  async latest(): Promise<ParityResult | null> {
    return this.result ? { ...this.result } : null;
  }
}

// ---------------------------------------------------------------------------------------------
// rollout config without zod (same defaults as infra/config.ts)

export function testRollout(overrides: Partial<RolloutConfig> = {}): RolloutConfig {
  return {
    strategy: { type: "canary", steps: [5, 25, 100] },
    bakeSeconds: 300,
    pollIntervalSeconds: 60,
    monitorSeconds: 300,
    verifyTimeoutSeconds: 60,
    gates: {
      // The engine tests written for the per-window gates run in thresholds mode; the statistical
      // judge's tests (engine.windows.test.ts) set mode "sequential", the production default.
      falseRollbackBudget: 0.01,
      minErrorRatio: 2,
      minErrorIncrease: 0.005,
      minSlowRatio: 1.5,
      minSlowIncrease: 0.02,
      slowThreshold: { from: "blue-p95" },
      largestRegression: 5,
      maxExtensions: 10,
      onUndecided: "fail",
      errorRateCeiling: 0.1,
      ceilingMinErrors: 10,
      warmupSeconds: 0,
      maxConsecutiveMetricErrors: 3,
      minHealthyTargets: 2,
    },
    hooks: [],
    snapshot: { enabled: true, timeoutSeconds: 3600 },
    parityMaxAgeSeconds: 3600,
    ...overrides,
  } as RolloutConfig;
}

// ---------------------------------------------------------------------------------------------
// the whole world

export interface FakeWorldOptions extends FakeRouterOptions {
  databaseMode?: DatabaseMode;
  resolutionMs?: number;
  clock?: FakeClock;
}

/** Every fake, wired to one virtual clock. `deps()` builds EngineDeps over them. */
export class FakeWorld {
  readonly clock: FakeClock;
  readonly router: FakeRouter;
  readonly metrics: FakeMetrics;
  readonly health = new FakeHealth();
  readonly alarms = new FakeAlarms();
  readonly lock = new InMemoryLock();
  readonly journal = new InMemoryJournal();
  readonly requests = new InMemoryRequests();
  readonly snapshotter: FakeSnapshotter;
  readonly hooks: FakeHooks;
  readonly recorder = new FakeRecorder();
  readonly fence: FakeFence;
  readonly replication: FakeReplication;
  readonly parity: FakeParity;
  readonly events: EngineEvent[] = [];

  constructor(options: FakeWorldOptions = {}) {
    this.clock = options.clock ?? new FakeClock();
    this.router = new FakeRouter(this.clock, options);
    this.metrics = new FakeMetrics(options.resolutionMs ?? 0);
    this.snapshotter = new FakeSnapshotter(this.clock);
    this.hooks = new FakeHooks(this.clock);
    this.fence = new FakeFence(this.clock);
    this.replication = new FakeReplication(this.clock);
    this.parity = new FakeParity(this.clock);
    // By default both colors are healthy and see requests in proportion to the weights live at the
    // window's start (a window from before the first write, e.g. blue's history, saw blue only).
    this.metrics.respond(({ window }) => splitReply(this.router.weightsAt(window.start)));
    this.metrics.followWeights = (t) => this.router.weightsAt(t);
  }

  deps(overrides: Partial<EngineDeps> = {}): EngineDeps {
    return {
      router: this.router,
      health: this.health,
      metrics: this.metrics,
      alarms: this.alarms,
      lock: this.lock,
      journal: this.journal,
      snapshotter: this.snapshotter,
      hooks: this.hooks,
      recorder: this.recorder,
      clock: this.clock,
      parity: this.parity,
      fence: this.fence,
      replication: this.replication,
      requests: this.requests,
      events: (event) => this.events.push(event),
      tickMs: 0,
      newRunId: () => `run-${this.clock.now()}`,
      ...overrides,
    };
  }

  /** Events of one type, typed. */
  eventsOf<T extends EngineEvent["type"]>(type: T): Extract<EngineEvent, { type: T }>[] {
    return this.events.filter((event): event is Extract<EngineEvent, { type: T }> => event.type === type);
  }
}

// ---------------------------------------------------------------------------------------------
// crash simulation

export class CrashError extends Error {
  override name = "CrashError";
  constructor() {
    super("simulated crash (kill -9)");
  }
}

export interface CrashPlan {
  /** Crash right after the k-th journal save succeeded (1-based). */
  afterSave?: number;
  /** Crash at the k-th side-effecting port call (1-based): before it takes effect, or after. */
  atCall?: { k: number; when: "before" | "after" };
}

/** Port calls that change the world, by port: where a crash may strike, and what an aborted run must no longer call. */
export const SIDE_EFFECTS: Readonly<Record<string, readonly string[]>> = {
  router: ["writeWeights"],
  lock: ["acquire", "release", "breakLock"],
  journal: ["save"],
  snapshotter: ["snapshot"],
  hooks: ["run"],
  recorder: ["record"],
  fence: ["set"],
  replication: ["waitForCatchUp", "copySequences", "start", "stop"],
};

/**
 * EngineDeps over the world whose ports all die at the crash point, like a process killed with
 * -9: after it, every port call throws CrashError and nothing more reaches the world.
 */
export function crashingDeps(
  world: FakeWorld,
  crash: CrashPlan,
  overrides: Partial<EngineDeps> = {},
): { deps: EngineDeps; crashed: () => boolean; saves: () => number; sideEffects: () => number } {
  const state = { dead: false, saves: 0, calls: 0 };
  const base = world.deps(overrides);
  const wrap = <T extends object>(name: string, port: T): T =>
    new Proxy(port, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== "function") return value;
        const fn = value as (...args: unknown[]) => unknown;
        if (property === "describeWrites") return fn.bind(target);
        return async (...args: unknown[]) => {
          if (state.dead) throw new CrashError();
          const sideEffect = SIDE_EFFECTS[name]?.includes(String(property)) ?? false;
          if (sideEffect) state.calls += 1;
          if (sideEffect && crash.atCall && crash.atCall.k === state.calls && crash.atCall.when === "before") {
            state.dead = true;
            throw new CrashError();
          }
          const result = await fn.apply(target, args);
          if (name === "journal" && property === "save") {
            state.saves += 1;
            if (crash.afterSave === state.saves) {
              state.dead = true;
              throw new CrashError();
            }
          }
          if (sideEffect && crash.atCall && crash.atCall.k === state.calls && crash.atCall.when === "after") {
            state.dead = true;
            throw new CrashError();
          }
          return result;
        };
      },
    });
  const deps: EngineDeps = { ...base };
  for (const key of [
    "router",
    "health",
    "metrics",
    "alarms",
    "lock",
    "journal",
    "snapshotter",
    "hooks",
    "recorder",
    "parity",
    "fence",
    "replication",
  ] as const) {
    const port = base[key];
    if (port !== undefined) (deps as unknown as Record<string, unknown>)[key] = wrap(key, port as object);
  }
  return { deps, crashed: () => state.dead, saves: () => state.saves, sideEffects: () => state.calls };
}
