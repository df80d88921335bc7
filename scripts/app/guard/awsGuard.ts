// The always-on guard on AWS: a composite CloudWatch
// alarm over green's alarms → an EventBridge rule → this code in a Lambda function. It runs the
// project's own rollback (core/engine runRollback: the same lock, journal and verification as
// `npm run rollback`) over the same AWS adapters, and only while a rollout is active (the
// decision is core/guard.ts, shared with the sandbox guard): a step, a paused step, a crashed or
// running cutover; never for no journal, a finished run, a run still in preflight, or while a
// rollback holds the lock. A cutover process that still holds the lock is overridden
// (`rollback --force` semantics): its engine sees the lost lock and stops without touching traffic.
//
// What it did goes into the journal as the rollback's own entries, with operator "guard (...)",
// so `status` and the next report tell the story.
//
// Both database modes. In paired mode the rollback is the lossless one of `npm run rollback`:
// when green has served traffic, raise the write fence (ModifyRule on the fence rules, read back,
// rollout.fenceDrainSeconds), wait for green → blue replication and copy the sequences, flip,
// lift the fence; the replication port is scripts/postgres/stackReplication.ts, the CLI's, over
// connections built from the ARNs in BLUEGREEN_GUARD and the secrets read at run time (the
// environment carries no secret). The function then runs in the VPC (infra/guard.ts).
//
// A bound on time: the function's remaining time (Lambda's context) minus a reserve is the
// rollback's deadline (deps.rollbackDeadline, as `rollback --deadline`): past it the rollback
// stops, records failed-rollback and releases the lock in the reserve, instead of Lambda killing
// it mid-run with the journal in rolling-back and the lock held (the retry would then find "a
// rollback is already running" and do nothing).

import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { GuardDeps, RunSettings } from "../../core/engine.js";
import { guardRollback, type GuardOutcome } from "../../core/guard.js";
import { systemClock, type Color, type DataReplication } from "../../core/ports.js";
import { lazyReplication } from "../../postgres/stackReplication.js";
import { AlbFence } from "../../aws/albFence.js";
import { AlbRouter } from "../../aws/albRouter.js";
import type { SignalSource } from "../../aws/errors.js";
import { COLORS } from "../../../infra/vocabulary/colors.js";
import { AWS_REGION, isElbArn, isSecretArn } from "../../../infra/vocabulary/stackOutputs.js";
import { SsmJournalStore } from "../../aws/ssmJournal.js";
import { SsmLock } from "../../aws/ssmLock.js";
import { SsmWeightsParameter } from "../../aws/weightsParameter.js";

interface GuardConfigBase {
  region: string;
  project: string;
  stack: string;
  listenerArns: string[];
  targetGroupArns: Record<Color, string>;
  stickinessSeconds: number | null;
  /** The composite alarm this guard answers to (events about other alarms are ignored). */
  compositeAlarmName: string;
}

export interface SharedGuardConfig extends GuardConfigBase {
  databaseMode: "shared";
}

/** database.mode paired: what the lossless rollback needs beyond the listeners. ARNs and names only, never a secret. */
export interface PairedGuardConfig extends GuardConfigBase {
  databaseMode: "paired";
  /** The write-fence rules (stack output fenceRuleArns). */
  fenceRuleArns: string[];
  /** rollout.fenceDrainSeconds: how long a raised fence waits for writes already inside the apps. */
  fenceDrainSeconds: number;
  /** host:port per color (stack output databaseEndpoints). */
  databaseEndpoints: Record<Color, string>;
  /** The RDS-managed master secrets (databaseSecretArns) and the replication roles' secrets (replicationSecretArns). */
  databaseSecretArns: Record<Color, string>;
  replicationSecretArns: Record<Color, string>;
  databaseName: string;
}

/** What the program puts in the function's environment (BLUEGREEN_GUARD, JSON): the stack outputs rollback needs. */
export type GuardConfig = SharedGuardConfig | PairedGuardConfig;

export const GUARD_ENV = "BLUEGREEN_GUARD";
/** Kept from the function's remaining time for recording the outcome after the deadline (journal save, lock release: a few SSM calls, each retried by the SDK). */
export const GUARD_CLEANUP_RESERVE_MS = 30_000;
export type { GuardOutcome };

const ENDPOINT = /^[A-Za-z0-9.-]+:\d{1,5}$/;
/** The contract's secret ARN rule, narrowed to a secret's ARN (the policy grants exactly these). */
const secretArn = (arn: unknown) => isSecretArn(arn) && arn.includes(":secret:");

/** Validate BLUEGREEN_GUARD; the program wrote it, but a broken one must fail loudly, not guess. */
export function parseGuardConfig(text: string | undefined): GuardConfig {
  if (!text) throw new Error(`${GUARD_ENV} is not set: the function was not deployed by the bluegreen program`);
  const value = JSON.parse(text) as Partial<Omit<PairedGuardConfig, "databaseMode">> & { databaseMode?: string };
  const problems: string[] = [];
  const isArn = isElbArn;
  const perColor = (key: "databaseEndpoints" | "databaseSecretArns" | "replicationSecretArns", valid: (v: unknown) => boolean) => {
    const group = value[key] as Record<string, unknown> | undefined;
    if (!group || typeof group !== "object" || !COLORS.every((color) => valid(group[color]))) problems.push(key);
  };
  if (typeof value.region !== "string" || !AWS_REGION.test(value.region)) problems.push("region");
  for (const key of ["project", "stack", "compositeAlarmName"] as const) if (typeof value[key] !== "string" || value[key]!.length === 0) problems.push(key);
  if (value.databaseMode !== "shared" && value.databaseMode !== "paired") problems.push('databaseMode (must be "shared" or "paired")');
  if (!Array.isArray(value.listenerArns) || value.listenerArns.length === 0 || !value.listenerArns.every(isArn)) problems.push("listenerArns");
  if (!value.targetGroupArns || !isArn(value.targetGroupArns.blue) || !isArn(value.targetGroupArns.green)) problems.push("targetGroupArns");
  if (value.stickinessSeconds !== null && !(Number.isInteger(value.stickinessSeconds) && (value.stickinessSeconds as number) > 0))
    problems.push("stickinessSeconds");
  if (value.databaseMode === "paired") {
    if (
      !Array.isArray(value.fenceRuleArns) ||
      value.fenceRuleArns.length === 0 ||
      !value.fenceRuleArns.every((arn) => isArn(arn) && arn.includes(":listener-rule/"))
    )
      problems.push("fenceRuleArns");
    if (!(Number.isInteger(value.fenceDrainSeconds) && value.fenceDrainSeconds! >= 0 && value.fenceDrainSeconds! <= 120)) problems.push("fenceDrainSeconds");
    perColor("databaseEndpoints", (v) => typeof v === "string" && ENDPOINT.test(v));
    perColor("databaseSecretArns", secretArn);
    perColor("replicationSecretArns", secretArn);
    if (typeof value.databaseName !== "string" || value.databaseName.length === 0) problems.push("databaseName");
  }
  if (problems.length > 0) throw new Error(`${GUARD_ENV} is malformed: ${problems.join(", ")}`);
  return value as GuardConfig;
}

/** The paired config as the database part of the stack outputs: what scripts/postgres/stackDatabases.ts parses (the CLI passes it the real outputs). */
export function guardDatabaseOutputs(config: PairedGuardConfig): Record<string, unknown> {
  return {
    databaseMode: "paired",
    databaseEndpoints: config.databaseEndpoints,
    databaseSecretArns: config.databaseSecretArns,
    replicationSecretArns: config.replicationSecretArns,
    databaseName: config.databaseName,
  };
}

/** The subset of an EventBridge "CloudWatch Alarm State Change" event the guard reads. */
export interface AlarmStateChangeEvent {
  source?: string;
  "detail-type"?: string;
  time?: string;
  resources?: string[];
  detail?: { alarmName?: string; state?: { value?: string; reason?: string; timestamp?: string }; previousState?: { value?: string } };
}

export interface GuardWiring {
  /** The AbortSignal for each AWS call (the deadline's, then the reserve's). */
  signal?: SignalSource;
  /** Paired: the replication port; default the CLI's (lazyReplication over the stack's databases). Tests pass a fake. */
  replication?: (config: PairedGuardConfig) => DataReplication & { close(): Promise<void> };
}

/** The paired rollback's replication port: the same wiring as `npm run rollback` (scripts/postgres/stackReplication.ts). */
export function guardReplication(config: PairedGuardConfig): DataReplication & { close(): Promise<void> } {
  return lazyReplication({ rawOutputs: guardDatabaseOutputs(config), source: `${GUARD_ENV} (stack ${config.stack})`, databaseName: config.databaseName });
}

/**
 * The guard Lambda's composition: a rollback's ports over the same adapters as `npm run rollback`
 * (weights recorded in the stack's SSM parameter); in paired mode also the fence and the
 * replication. Static imports only: this is what esbuild bundles into the function. `close()`
 * releases the database connections the replication kept (call it once the rollback is done).
 */
export function createGuardDeps(
  config: GuardConfig,
  clients: { ssm: SSMClient; elb: ElasticLoadBalancingV2Client },
  wiring: GuardWiring = {},
): GuardDeps & { close(): Promise<void> } {
  const identity = { project: config.project, stack: config.stack };
  const options = wiring.signal ? { signal: wiring.signal } : {};
  let close: () => Promise<void> = async () => undefined;
  const deps: GuardDeps & { close(): Promise<void> } = {
    router: new AlbRouter(
      clients.elb,
      { listenerArns: config.listenerArns, targetGroupArns: config.targetGroupArns, stickinessSeconds: config.stickinessSeconds },
      options,
    ),
    lock: new SsmLock(clients.ssm, identity, options),
    journal: new SsmJournalStore(clients.ssm, identity, undefined, options),
    recorder: new SsmWeightsParameter(clients.ssm, identity, options),
    clock: systemClock,
    close: () => close(),
  };
  if (config.databaseMode === "paired") {
    deps.fence = new AlbFence(clients.elb, config.fenceRuleArns, { drainMs: config.fenceDrainSeconds * 1000, ...options });
    const replication = (wiring.replication ?? guardReplication)(config);
    deps.replication = replication;
    close = () => replication.close();
  }
  return deps;
}

/** Green's composite alarm changed state: while a rollout is active, roll back (core/guard.ts decides). `invocation` names this run in the journal. */
export async function runGuard(
  deps: GuardDeps,
  config: GuardConfig,
  event: AlarmStateChangeEvent,
  invocation: string,
  settings: RunSettings = {},
  deadlineAt?: number,
): Promise<GuardOutcome> {
  const state = event.detail?.state?.value;
  const alarm = event.detail?.alarmName;
  if (state !== "ALARM") return { acted: false, reason: `alarm state is ${state ?? "unknown"}, not ALARM` };
  if (alarm !== config.compositeAlarmName) return { acted: false, reason: `event about ${alarm ?? "an unnamed alarm"}, not ${config.compositeAlarmName}` };
  const detail = event.detail?.state?.reason;
  // When the alarm changed state (CloudWatch's timestamp, else the event's): a retried event may be older than the rollout now running.
  const alarmAt = Date.parse(event.detail?.state?.timestamp ?? event.time ?? "");
  return guardRollback(
    { ...deps, ...settings },
    {
      alarm,
      invocation,
      databaseMode: config.databaseMode,
      stack: config.stack,
      ...(detail ? { detail } : {}),
      ...(Number.isFinite(alarmAt) ? { alarmAt } : {}),
      ...(deadlineAt !== undefined ? { deadlineAt } : {}),
    },
  );
}
