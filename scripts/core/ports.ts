// The ports the cutover engine talks through. AWS (scripts/aws) and the local sandbox
// (scripts/local) each implement all of them, so the engine that runs in `npm run demo`
// is the engine that runs in production. Nothing here imports an AWS SDK or pg.

import { OperationFailedError } from "./errors.js";

// The colors and a traffic split are the shared vocabulary's (infra/vocabulary/colors.ts).
export { COLORS, type Color, type Weights } from "../../infra/vocabulary/colors.js";
import type { Color, Weights } from "../../infra/vocabulary/colors.js";
import type { OperatorRequest } from "./operatorRequest.js";

/** One place that forwards production traffic to both colors (an ALB listener default action or a rule). */
export interface RouteWeights {
  /** ARN of the listener or rule on AWS; a stable name in the sandbox. */
  route: string;
  weights: Weights;
  /** Stickiness duration in seconds, or null when stickiness is off. */
  stickinessSeconds: number | null;
}

export interface TrafficRouter {
  /** Human-readable description of the calls a write makes, for the plan ("ModifyListener arn:..."). */
  describeWrites(): string[];
  /** Live weights of every production route. */
  readWeights(): Promise<RouteWeights[]>;
  /** One write per production route. Resolves when the API accepted it; the engine verifies by reading back. */
  writeWeights(weights: Weights): Promise<void>;
}

export interface TargetHealth {
  healthy: number;
  unhealthy: number;
  /** Targets registered, including initial/draining/unused ones. */
  total: number;
}

export interface HealthProbe {
  health(color: Color): Promise<TargetHealth>;
}

export interface ColorMetrics {
  /** Requests the load balancer routed to this color. */
  requests: number;
  /** 5xx answered by the color's own targets (AWS: HTTPCode_Target_5XX_Count). */
  errors5xx: number;
  /**
   * 5xx the load balancer answered itself because of this color: its targets refused or reset
   * the connection, timed out, or are gone (AWS: TargetConnectionErrorCount of the color's target
   * group; sandbox: the router's 502s for the color). Absent: the source reports none separately.
   */
  elbErrors?: number;
  /**
   * Requests slower than the `slowThresholdMs` the sample asked for (strictly above the bound).
   * Absent when the sample asked for no bound.
   */
  slow?: number;
  /** Milliseconds; null when the window holds no latency data. */
  p95Ms: number | null;
  p99Ms: number | null;
}

/** Errors counted only for the whole load balancer, not per color. */
export interface LoadBalancerMetrics {
  /**
   * Every 5xx the load balancer answered itself (AWS: HTTPCode_ELB_5XX_Count, which has no
   * TargetGroup dimension), including the ones already attributed to a color in `elbErrors`.
   */
  elb5xx: number;
}

/** Both colors over one window, plus what only the load balancer as a whole reports. */
export interface MetricsSample {
  blue: ColorMetrics;
  green: ColorMetrics;
  /** Absent when the source has no load-balancer-level counts (the sandbox attributes every 502 itself). */
  loadBalancer?: LoadBalancerMetrics;
}

export interface MetricsWindow {
  /** Epoch milliseconds, inclusive. */
  start: number;
  /** Epoch milliseconds, exclusive. */
  end: number;
}

export interface SampleOptions {
  /** Count the requests slower than this many milliseconds (ColorMetrics.slow). */
  slowThresholdMs?: number;
}

export interface MetricsSource {
  /** Both colors over the same window, in one call (one GetMetricData on AWS). */
  sample(window: MetricsWindow, options?: SampleOptions): Promise<MetricsSample>;
  /**
   * The finest window the source can answer, in milliseconds (60 000 for ALB CloudWatch metrics).
   * The engine never polls faster than this, and its windows are whole multiples of it.
   */
  resolutionMs: number;
  /**
   * How long after a window ends the source answers it completely, in milliseconds. Asked earlier,
   * a source may answer a partial window (CloudWatch does). The engine asks for a window only
   * once `end + publicationDelayMs` has passed. Sandbox: 0.
   */
  publicationDelayMs: number;
  /**
   * Traffic over the last `hours` that the source has published (the plan's traffic estimate).
   * Optional: a source without history leaves it out and the plan says so.
   */
  recentTraffic?(hours: number): Promise<MetricsSample & { window: MetricsWindow }>;
  /**
   * Blue's and green's counts per period over a span, oldest first (one GetMetricData over the span
   * on AWS): the history that tells the judge how much each color moves on its own. Optional: a
   * source without it gives the judge no history, and the judge assumes the conservative default.
   */
  series?(span: MetricsWindow, periodMs: number, options?: SampleOptions): Promise<(MetricsSample & { window: MetricsWindow })[]>;
}

export interface AlarmSource {
  /** Names of the stack's alarms currently in ALARM. */
  firing(): Promise<string[]>;
}

export interface LockHolder {
  /** Who holds it: "user@host pid 1234". */
  owner: string;
  /** Epoch milliseconds. */
  since: number;
  /** The operation that holds it: "cutover" or "rollback". */
  operation: string;
  /**
   * The journal run the holder drives (added for the engine): `cutover --resume` takes over a lock
   * left behind by a crashed run of the same runId. Adapters store and return it unchanged.
   */
  runId?: string;
}

/** Another operation holds the lock: exit 1 (a call was made, so not bad input). */
export class LockHeldError extends OperationFailedError {
  constructor(readonly holder: LockHolder) {
    super(`another operation holds the lock: ${holder.operation} by ${holder.owner} since ${new Date(holder.since).toISOString()}`);
    this.name = "LockHeldError";
  }
}

export interface Lock {
  /** Atomically create the lock; throws LockHeldError naming the holder when it exists. */
  acquire(holder: LockHolder): Promise<void>;
  /** Remove the lock if `owner` holds it. */
  release(owner: string): Promise<void>;
  /** Remove the lock whoever holds it (rollback --force). Returns the holder it broke, if any. */
  breakLock(): Promise<LockHolder | null>;
  current(): Promise<LockHolder | null>;
}

/** Durable store for the cutover journal (a JSON document, see core/journal.ts). */
export interface JournalStore {
  /** The stored document; null when there is none; the raw text when it is not JSON (core/journal.ts reports it as corrupt). */
  load(): Promise<unknown | null>;
  save(journal: unknown): Promise<void>;
}

export interface Snapshot {
  id: string;
  /** Epoch milliseconds when it became available. */
  availableAt: number;
}

export interface Snapshotter {
  /**
   * Snapshot blue's database and wait until it is available (bounded by timeoutMs). An adapter
   * may stop waiting (and throw) when `signal` aborts; the snapshot it started is not deleted.
   * Idempotent per label: asked again (a resumed run), it adopts the snapshot it started and waits
   * for it if it is still being created. `onCreated` gets the id before the wait starts (the
   * engine journals it there).
   */
  snapshot(label: string, timeoutMs: number, signal?: AbortSignal, onCreated?: (id: string) => Promise<void>): Promise<Snapshot>;
}

export interface ParityResult {
  identical: boolean;
  /** Epoch milliseconds when the parity run finished. */
  checkedAt: number;
  summary: string;
}

export interface ParitySource {
  /** The most recent parity result, or null when none exists. */
  latest(): Promise<ParityResult | null>;
}

export interface HookResult {
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /** The tail of the hook's combined output, secrets already redacted. */
  outputTail: string;
  /** Stopped because `signal` aborted (the operator's Ctrl-C), not judged: no verdict on the release. */
  interrupted?: boolean;
}

export interface HookRunner {
  /**
   * Run one hook, bounded by timeoutMs. When `signal` (the engine's) aborts, the hook is stopped
   * (every process it started) and the promise resolves, once they are gone, with interrupted: true.
   */
  run(command: string, timeoutMs: number, env: Record<string, string>, signal?: AbortSignal): Promise<HookResult>;
}

/** Writes each weight reached back into Pulumi.<stack>.yaml so a later `pulumi up` agrees with live traffic. */
export interface WeightRecorder {
  record(weights: Weights): Promise<void>;
}

/**
 * Requests from another terminal to the running cutover (`pause`, `abort`; core/operatorRequest.ts):
 * one record per stack, read by the engine at each poll of a bake.
 */
export interface OperatorRequestChannel {
  /** The stored record (null when there is none); the engine checks its shape and whom it is for. */
  read(): Promise<unknown | null>;
  /** Replace the record. */
  write(request: OperatorRequest): Promise<void>;
  /** Remove the record (the run that honoured it); already gone is not an error. */
  clear(): Promise<void>;
}

/** Injected time, so tests run a 5-minute bake in milliseconds. */
export interface Clock {
  now(): number;
  /** Resolves after ms, or early (never rejecting) as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const wake = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      signal?.addEventListener("abort", wake, { once: true });
    }),
};

// ---------------------------------------------------------------------------------------------
// Paired databases (database.mode: paired): the fenced, lossless switch.

/** off: everything flows; writes: non-idempotent methods answered 503, reads flow; all: every request 503. */
export type FenceMode = "off" | "writes" | "all";

export interface WriteFence {
  set(mode: FenceMode): Promise<void>;
  read(): Promise<FenceMode>;
}

export type ReplicationDirection = "blue-to-green" | "green-to-blue";

export interface ReplicationStatus {
  direction: ReplicationDirection;
  running: boolean;
  /** Bytes of WAL the subscriber has not confirmed; null when unknown. */
  lagBytes: number | null;
  detail: string;
}

/** Logical replication between the colors' databases (scripts/postgres/sync behind an adapter). */
export interface DataReplication {
  status(direction: ReplicationDirection): Promise<ReplicationStatus>;
  /**
   * Wait until the subscriber has applied everything the publisher committed before this call.
   * An adapter may stop waiting (and throw) when `signal` aborts.
   */
  waitForCatchUp(direction: ReplicationDirection, timeoutMs: number, signal?: AbortSignal): Promise<{ waitedMs: number }>;
  /** Exact parity between the two databases, now (writes are fenced). */
  parity(): Promise<ParityResult & { onlyOnGreen?: string[] }>;
  copySequences(direction: ReplicationDirection): Promise<void>;
  /**
   * Start replicating in `direction`. Must be idempotent (a no-op when already running): a
   * resumed cutover may call it again. Both directions may run at once (after the paired switch,
   * blue → green is still set up); the adapter must not loop changes back (origin = none).
   */
  start(direction: ReplicationDirection, options: { copyData: boolean }): Promise<void>;
  stop(direction: ReplicationDirection): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Capacity (rollout.capacity): green must carry its next share before any weight moves.

/** A color's compute as its Auto Scaling group (or the sandbox's process pool) reports it. */
export interface ColorCapacity {
  /** Instances in service (AWS: lifecycle state InService). Not the same as healthy in the target group. */
  inService: number;
  desired: number;
  /** The program owns min and max (Pulumi); the scripts only move desired between them. */
  min: number;
  max: number;
}

/** The colors' compute. Desired capacity belongs to the scripts (ignoreChanges in the program). */
export interface CapacityManager {
  capacity(color: Color): Promise<ColorCapacity>;
  /** Ask for `desired` instances (between min and max). Resolves when the request is accepted, not when instances serve. */
  setDesired(color: Color, desired: number): Promise<void>;
  /** The call a setDesired makes, for the plan ("SetDesiredCapacity bluegreen-prod-green-asg"). */
  describeScale(color: Color): string;
}

// ---------------------------------------------------------------------------------------------
// Schema migrations (scripts/postgres/migrate): expand runs in the cutover's migrating phase,
// after preflight and the snapshot and before the first weight moves.

export interface SchemaMigrationResult {
  /** False: the lint refused a migration, one failed, or (paired) the two schemas differ. Traffic is untouched either way. */
  ok: boolean;
  /** Expand migrations applied by this call (names, in order; each database counted once). */
  applied: string[];
  /** One line: what was applied, or what stopped it. */
  summary: string;
}

export interface SchemaMigrator {
  /** Pending expand migrations, in order, for the plan; changes nothing. */
  pendingExpand(): Promise<string[]>;
  /**
   * Lint, then apply every pending expand migration (paired: both databases in a replication-safe
   * order, then schema parity). Idempotent and resumable: applied migrations are journaled in the
   * database and skipped when called again. When `signal` aborts it stops between migrations
   * (one already running completes: PostgreSQL cannot pause DDL halfway).
   */
  expand(signal?: AbortSignal): Promise<SchemaMigrationResult>;
}
