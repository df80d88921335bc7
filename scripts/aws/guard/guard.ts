// The always-on guard on AWS (DESIGN.md "Long rollouts and the guard"): a composite CloudWatch
// alarm over green's alarms → an EventBridge rule → this code in a Lambda function. It runs the
// project's own rollback (core/engine runRollback: the same lock, journal and verification as
// `npm run rollback`) over the same AWS adapters, and only while a rollout is active (the
// decision is core/guard.ts, shared with the sandbox guard): a step, a paused step, a crashed or
// running cutover; never for no journal, a finished run, a run still in preflight, or while a
// rollback holds the lock. A cutover process that still holds the lock is overridden
// (`rollback --force` semantics): its engine sees the lost lock and stops without touching traffic.
//
// What it did goes into the journal as the rollback's own entries, with operator "guard (...)",
// so `status` and the next report tell the story. Shared database mode only: a paired rollback
// fences writes and waits for replication inside the VPC, which is the operator's `rollback`.

import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { EngineDeps } from "../../core/engine.js";
import { guardRollback, type GuardOutcome } from "../../core/guard.js";
import { systemClock, type AlarmSource, type Color, type HealthProbe, type HookRunner, type MetricsSource, type Snapshotter } from "../../core/ports.js";
import { AlbRouter } from "../albRouter.js";
import { SsmJournalStore } from "../ssmJournal.js";
import { SsmLock } from "../ssmLock.js";
import { SsmWeightsParameter } from "../weightsParameter.js";

/** What the program puts in the function's environment (BLUEGREEN_GUARD, JSON): the stack outputs rollback needs. */
export interface GuardConfig {
  region: string;
  project: string;
  stack: string;
  databaseMode: "shared";
  listenerArns: string[];
  targetGroupArns: Record<Color, string>;
  stickinessSeconds: number | null;
  /** The composite alarm this guard answers to (events about other alarms are ignored). */
  compositeAlarmName: string;
}

export const GUARD_ENV = "BLUEGREEN_GUARD";
export type { GuardOutcome };

/** Validate BLUEGREEN_GUARD; the program wrote it, but a broken one must fail loudly, not guess. */
export function parseGuardConfig(text: string | undefined): GuardConfig {
  if (!text) throw new Error(`${GUARD_ENV} is not set: the function was not deployed by the bluegreen program`);
  const value = JSON.parse(text) as Partial<GuardConfig>;
  const problems: string[] = [];
  const isArn = (arn: unknown) => typeof arn === "string" && /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:.+/.test(arn);
  if (typeof value.region !== "string" || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(value.region)) problems.push("region");
  for (const key of ["project", "stack", "compositeAlarmName"] as const) if (typeof value[key] !== "string" || value[key]!.length === 0) problems.push(key);
  if (value.databaseMode !== "shared") problems.push('databaseMode (the guard runs in database.mode "shared" only)');
  if (!Array.isArray(value.listenerArns) || value.listenerArns.length === 0 || !value.listenerArns.every(isArn)) problems.push("listenerArns");
  if (!value.targetGroupArns || !isArn(value.targetGroupArns.blue) || !isArn(value.targetGroupArns.green)) problems.push("targetGroupArns");
  if (value.stickinessSeconds !== null && !(Number.isInteger(value.stickinessSeconds) && (value.stickinessSeconds as number) > 0)) problems.push("stickinessSeconds");
  if (problems.length > 0) throw new Error(`${GUARD_ENV} is malformed: ${problems.join(", ")}`);
  return value as GuardConfig;
}

/** The subset of an EventBridge "CloudWatch Alarm State Change" event the guard reads. */
export interface AlarmStateChangeEvent {
  source?: string;
  "detail-type"?: string;
  time?: string;
  resources?: string[];
  detail?: { alarmName?: string; state?: { value?: string; reason?: string; timestamp?: string }; previousState?: { value?: string } };
}

function unused<T extends object>(port: string): T {
  return new Proxy({} as T, {
    get(_target, property) {
      if (property === "resolutionMs") return 60_000;
      if (property === "publicationDelayMs") return 0;
      if (property === "then") return undefined;
      return () => Promise.reject(new Error(`internal error: the guard's rollback does not use the ${port} port`));
    },
  });
}

/** The ports rollback uses, over the same adapters as `npm run rollback` (weights recorded in the stack's SSM parameter). */
export function createGuardDeps(config: GuardConfig, clients: { ssm: SSMClient; elb: ElasticLoadBalancingV2Client }): EngineDeps {
  const identity = { project: config.project, stack: config.stack };
  return {
    router: new AlbRouter(clients.elb, { listenerArns: config.listenerArns, targetGroupArns: config.targetGroupArns, stickinessSeconds: config.stickinessSeconds }),
    health: unused<HealthProbe>("health"),
    metrics: unused<MetricsSource>("metrics"),
    alarms: unused<AlarmSource>("alarms"),
    lock: new SsmLock(clients.ssm, identity),
    journal: new SsmJournalStore(clients.ssm, identity),
    snapshotter: unused<Snapshotter>("snapshotter"),
    hooks: unused<HookRunner>("hooks"),
    recorder: new SsmWeightsParameter(clients.ssm, identity),
    clock: systemClock,
  };
}

/** Green's composite alarm changed state: while a rollout is active, roll back (core/guard.ts decides). `invocation` names this run in the journal. */
export async function runGuard(deps: EngineDeps, config: GuardConfig, event: AlarmStateChangeEvent, invocation: string): Promise<GuardOutcome> {
  const state = event.detail?.state?.value;
  const alarm = event.detail?.alarmName;
  if (state !== "ALARM") return { acted: false, reason: `alarm state is ${state ?? "unknown"}, not ALARM` };
  if (alarm !== config.compositeAlarmName) return { acted: false, reason: `event about ${alarm ?? "an unnamed alarm"}, not ${config.compositeAlarmName}` };
  const detail = event.detail?.state?.reason;
  return guardRollback(deps, { alarm, invocation, databaseMode: config.databaseMode, stack: config.stack, ...(detail ? { detail } : {}) });
}
