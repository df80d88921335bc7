// What `status` reports: the report's shape (one field per section), a section's result (its
// value, or the error that section met: one failing section never hides the others), and the
// deadline every AWS section is raced against.

import { raceAbort } from "../../core/abort.js";
import type { FenceMode, LockHolder, ReplicationDirection, RouteWeights, Weights } from "../../core/ports.js";
import type { PauseView } from "../../core/engine/pause.js";
import type { AlarmState } from "../../aws/alarms.js";
import type { TargetDetail } from "../../aws/targetHealth.js";
import type { SyncStatus } from "../../postgres/sync/status.js";
import { UnreachableError } from "../common.js";

/** late: the section had not answered when the deadline passed (its error says so). */
export type Section<T> = { ok: true; value: T } | { ok: false; error: string; unreachable: boolean; late?: true };

/** One replication direction as status shows it. */
export interface ReplicationView {
  name: string;
  /** The apply worker runs on the target. */
  running: boolean;
  enabled: boolean;
  lagBytes: number | null;
  lagSeconds: number | null;
  tablesReady: number;
  tablesTotal: number;
  healthy: boolean;
  problems: string[];
}

export interface StatusHooks {
  /** Read one direction (tests inject this). Default: syncStatus over the stack's database connections. */
  syncStatus?: (direction: ReplicationDirection) => Promise<SyncStatus>;
  /** Bound on the replication section; default 20 s. */
  replicationTimeoutMs?: number;
  /** The deadline's signal instead of the --deadline timer: tests abort it on an event, never on time. */
  deadline?: AbortSignal;
  /** Called as each AWS section settles, by its name in `deadline.unanswered` ("lock", "live weights", ...). */
  onSection?: (name: string, ok: boolean) => void;
}

/** The deadline as the sections see it: its signal and what a section that missed it says. */
export interface Deadline {
  signal: AbortSignal;
  message: string;
}

/** null when nothing of that direction exists (no subscription, publication or slot). */
export function replicationView(status: SyncStatus): ReplicationView | null {
  if (!status.subscription.exists && !status.publication.exists && status.slot === null) return null;
  return {
    name: status.name,
    running: status.workerRunning,
    enabled: status.subscription.enabled,
    lagBytes: status.lag.bytes,
    lagSeconds: status.lag.seconds,
    tablesReady: status.tablesReady,
    tablesTotal: status.tablesTotal,
    healthy: status.healthy,
    problems: status.problems,
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UnreachableError(`${what}: no answer within ${Math.round(ms / 1000)} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Read one section, raced against the deadline: its value, or the error it met. */
export async function section<T>(read: () => Promise<T>, deadline?: Deadline): Promise<Section<T>> {
  try {
    return { ok: true, value: await (deadline ? raceAbort(read(), deadline.signal, () => new UnreachableError(deadline.message)) : read()) };
  } catch (error) {
    // Failed once the deadline had passed: the deadline is the reason, whatever the call said (an aborted call, say).
    if (deadline?.signal.aborted) return { ok: false, error: deadline.message, unreachable: true, late: true };
    return { ok: false, error: (error as Error).message.split("\n")[0] ?? String(error), unreachable: error instanceof UnreachableError };
  }
}

export interface LastRunView {
  runId: string;
  operation: string;
  phase: string;
  outcome: string | null;
  updatedAt: string;
  last: string | null;
  pause?: PauseView | null;
}

export interface StatusReport {
  stack: string;
  region: string;
  databaseMode: string;
  configPath: string;
  configWeights: Section<Weights | null>;
  /** The stack's SSM weights parameter, the live weights' owner (README "Who owns the weights"). */
  parameterWeights: Section<{ name: string; exists: boolean; weights: Weights | null }>;
  /** What a `pulumi up` now would set: the parameter's weights, or the config's while the parameter does not exist. */
  pulumiUpWeights: Weights | null;
  /** drift: live differs from pulumiUpWeights; differs: from each source (null when that source could not be read). */
  routes: Section<Array<RouteWeights & { drift: boolean; differs: { parameter: boolean | null; config: boolean | null } }>>;
  drift: boolean | null;
  /** The config's seed differs from the parameter: harmless, the parameter owns the weights. */
  configDiffersFromParameter: boolean | null;
  health: Record<"blue" | "green", Section<{ healthy: number; unhealthy: number; total: number; targets: TargetDetail[] }>>;
  alarms: Section<AlarmState[]>;
  fence: Section<Array<{ rule: string; mode: FenceMode | "unknown" }>> | null;
  lock: Section<LockHolder | null>;
  lastRun: Section<LastRunView | null>;
  /** A stack whose rollouts run on Step Functions: the last run's execution (../executionStatus.ts); absent otherwise. */
  execution?: import("../executionStatus.js").ExecutionSection;
  /** database.mode paired only (else null); a direction's value is null when it is not set up. */
  replication: Record<ReplicationDirection, Section<ReplicationView | null>> | null;
  /** --deadline: passed when it ran out before every AWS section had answered (then exit 3); unanswered names them. */
  deadline: { seconds: number; passed: boolean; unanswered: string[] };
}
