// `cutover --dry-run --offline`: the plan from the stack config alone. No AWS call and no stack
// outputs (so no credentials and no Pulumi backend): the live weights are taken to be the config's
// `traffic.weights`, and the plan says what it could not read and what a run reads instead.

import type { StackConfig } from "../../infra/config.js";
import { buildPlan, describePlan, type Plan } from "../core/plan.js";

/** CloudWatch's `AWS/ApplicationELB` resolution, as the AWS metrics adapter declares it (scripts/aws/cloudwatchMetrics.ts). */
const ALB_METRICS_RESOLUTION_MS = 60_000;

export interface OfflinePlan {
  plan: Plan;
  lines: string[];
  /** What the plan needs from AWS and could not read offline, each with what was assumed instead. */
  unread: string[];
}

export function offlinePlan(config: StackConfig, options: { skipSnapshot?: string | undefined }): OfflinePlan {
  const assumed = config.traffic.weights;
  const plan = buildPlan(config.rollout, { databaseMode: config.database.mode, startWeights: assumed, resolutionMs: ALB_METRICS_RESOLUTION_MS });
  const writes = ["ModifyListener / ModifyRule on each production listener and rule the stack outputs name (not read offline)"];
  const lines = describePlan(plan, writes, options.skipSnapshot !== undefined ? { snapshotSkipped: options.skipSnapshot || true } : {});
  const unread = [
    `the live weights of each listener and rule (ALB): assumed blue ${assumed.blue} / green ${assumed.green}, the config's traffic.weights; a run starts from the live ones`,
    "the listener and rule ARNs the weights are written to (stack outputs): the calls are not listed",
    "the target groups' stickiness (ALB): how long clients may stay on green after a rollback is not said",
    "the last hour of traffic per color (CloudWatch): no time to a decision per step; `cutover --dry-run` online estimates it",
    "blue's p95/p99 before the first shift (CloudWatch), the slow threshold's reference: read at the first bake",
    "target health, alarms, the lock and the journal (ALB, CloudWatch, SSM): checked in preflight",
    ...(config.database.mode === "paired" ? ["replication state and the newest parity result (the databases): checked in preflight"] : []),
  ];
  return { plan, lines, unread };
}
