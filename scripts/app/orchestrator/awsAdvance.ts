// The advance Lambda's composition on AWS: what the program deployed it with, and a cutover's
// ports over the same adapters as `npm run cutover` (scripts/app/wiring/aws.ts awsCutoverDeps:
// ALB router and target health, CloudWatch metrics and alarms, SSM lock, journal and weights
// parameter, the RDS snapshot, Auto Scaling when the stack has groups), plus the approval
// parameter (scripts/aws/approvalParameter.ts).
//
// Two inputs, both written by the program (infra/orchestrator.ts) at deploy time:
//   - BLUEGREEN_ORCHESTRATOR (environment, JSON): project, stack, database mode and the stack
//     outputs the ports are built from (ARNs and names only), checked here by the stack-outputs
//     contract's own rules (infra/vocabulary/stackOutputs.ts);
//   - rollout.json next to index.js (in the code archive, LAMBDA_TASK_ROOT): the stack's
//     `rollout` config, parsed again by the config schema. In the archive, not the environment
//     (Lambda caps all variables at 4 KB together; the outputs already take over 1 KB) nor an
//     SSM parameter (it could change without a deployment): a config change is a change of the
//     function that `pulumi preview` shows. The execution input stays `{ runId, stack }`.
//
// No webhook from here (the Lambda's log lines and the journal tell the story), no hooks (the
// config refuses them with this orchestrator) and no migrations (`npm run cutover` refuses to
// start while an expand migration is pending: they live in the operator's checkout).
//
// database.mode paired: the lossless switch runs here. BLUEGREEN_ORCHESTRATOR then also carries
// the fence rules (among the outputs) and the databases' part of the stack outputs (`paired`:
// endpoints, secret ARNs, name; never a credential). The fence is the cutover's (AlbFence over
// the fence rules, rollout.fenceDrainSeconds); the replication both ways is the paired guard's
// and the CLI's (wiring/aws.ts awsPairedReplication → scripts/postgres/stackReplication.ts),
// credentials read from Secrets Manager on first use. The parity result the preflight needs comes
// from the execution input (scripts/core/orchestrator/checkout.ts), recorded there by the operator's `cutover`.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { rollout as rolloutSchema } from "../../../infra/rolloutConfig.js";
import type { RolloutConfig } from "../../../infra/config.js";
import { COLORS, type Color } from "../../../infra/vocabulary/colors.js";
import { AWS_REGION, isSecretArn, outputProblems } from "../../../infra/vocabulary/stackOutputs.js";
import type { EngineDeps } from "../../core/engine.js";
import type { EngineEvent } from "../../core/events.js";
import type { ApprovalStore } from "../../aws/approvalParameter.js";
import { awsCutoverDeps, type CutoverOutputs } from "../wiring/aws.js";

export const ORCHESTRATOR_ENV = "BLUEGREEN_ORCHESTRATOR";
/** The rollout config's file in the code archive, beside index.js. */
export const ROLLOUT_FILE = "rollout.json";

/** The databases' part of the stack outputs, as scripts/postgres/stackDatabases.ts reads it: ARNs, endpoints and a name. */
export interface PairedDatabaseOutputs {
  databaseEndpoints: Record<Color, string>;
  databaseSecretArns: Record<Color, string>;
  replicationSecretArns: Record<Color, string>;
  databaseName: string;
}

/** BLUEGREEN_ORCHESTRATOR: which stack, and the outputs its ports need. */
export type OrchestratorConfig =
  | { project: string; stack: string; databaseMode: "shared"; outputs: CutoverOutputs }
  | { project: string; stack: string; databaseMode: "paired"; outputs: CutoverOutputs; paired: PairedDatabaseOutputs };

const OUTPUT_KEYS = [
  "region",
  "listenerArns",
  "targetGroupArns",
  "stickinessSeconds",
  "albArnSuffix",
  "targetGroupArnSuffixes",
  "alarmNames",
  "databaseInstanceIds",
  "fenceRuleArns",
  "asgNames",
] as const satisfies readonly (keyof CutoverOutputs)[];

/** Validate BLUEGREEN_ORCHESTRATOR; the program wrote it, but a broken one must fail loudly, not guess. */
export function parseOrchestratorConfig(text: string | undefined): OrchestratorConfig {
  if (!text) throw new Error(`${ORCHESTRATOR_ENV} is not set: the function was not deployed by the bluegreen program`);
  const value = JSON.parse(text) as Partial<Record<"project" | "stack" | "databaseMode" | "outputs" | "paired", unknown>>;
  const problems: string[] = [];
  for (const key of ["project", "stack"] as const) if (typeof value[key] !== "string" || value[key].length === 0) problems.push(key);
  if (value.databaseMode !== "shared" && value.databaseMode !== "paired") problems.push('databaseMode (must be "shared" or "paired")');
  problems.push(...outputProblems(value.outputs, OUTPUT_KEYS).map((problem) => `outputs.${problem}`));
  const outputs = value.outputs as CutoverOutputs | undefined;
  if (outputs && Array.isArray(outputs.listenerArns) && outputs.listenerArns.length === 0) problems.push("outputs.listenerArns: empty");
  if (outputs && typeof outputs.region === "string" && !AWS_REGION.test(outputs.region)) problems.push("outputs.region");
  if (value.databaseMode === "paired") problems.push(...pairedProblems(value.paired, outputs));
  else if (value.paired !== undefined) problems.push("paired (only with databaseMode paired)");
  if (problems.length > 0) throw new Error(`${ORCHESTRATOR_ENV} is malformed: ${problems.join(", ")}`);
  return value as OrchestratorConfig;
}

const ENDPOINT = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/** Paired: the fence rules among the outputs and the databases' part, each per color (the guard's rules). */
function pairedProblems(raw: unknown, outputs: CutoverOutputs | undefined): string[] {
  const problems: string[] = [];
  if (!outputs || !Array.isArray(outputs.fenceRuleArns) || outputs.fenceRuleArns.length === 0)
    problems.push("outputs.fenceRuleArns (paired needs the write fence)");
  const paired = (raw && typeof raw === "object" ? raw : {}) as Partial<Record<keyof PairedDatabaseOutputs, unknown>>;
  const perColor = (key: "databaseEndpoints" | "databaseSecretArns" | "replicationSecretArns", valid: (v: unknown) => boolean) => {
    const group = paired[key] as Record<string, unknown> | undefined;
    if (!group || typeof group !== "object" || !COLORS.every((color) => valid(group[color]))) problems.push(`paired.${key}`);
  };
  perColor("databaseEndpoints", (v) => typeof v === "string" && ENDPOINT.test(v));
  perColor("databaseSecretArns", (v) => isSecretArn(v) && v.includes(":secret:"));
  perColor("replicationSecretArns", (v) => isSecretArn(v) && v.includes(":secret:"));
  if (typeof paired.databaseName !== "string" || paired.databaseName.length === 0) problems.push("paired.databaseName");
  return problems;
}

/** The rollout policy the program packaged, parsed by the same schema as the stack config. */
export async function readRolloutConfig(dir: string | undefined): Promise<RolloutConfig> {
  if (!dir) throw new Error(`LAMBDA_TASK_ROOT is not set: cannot find ${ROLLOUT_FILE}`);
  const path = join(dir, ROLLOUT_FILE);
  const result = rolloutSchema.safeParse(JSON.parse(await readFile(path, "utf8")));
  if (!result.success)
    throw new Error(`${path} is not a valid rollout config: ${result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return result.data;
}

/** One JSON line per engine event: the function's log group holds the invocation's story. */
export function logEvents(config: Pick<OrchestratorConfig, "stack">, runId: string): (event: EngineEvent) => void {
  return (event) => console.log(JSON.stringify({ orchestrator: config.stack, runId, event }));
}

/** A cutover's ports on AWS for this invocation, and the approval parameter; paired: also the fence and the replication both ways. */
export async function createOrchestratorPorts(
  config: OrchestratorConfig,
  rollout: Pick<RolloutConfig, "fenceDrainSeconds">,
  events: (event: EngineEvent) => void,
): Promise<{ deps: EngineDeps; approvals: ApprovalStore; close(): Promise<void> }> {
  const identity = { project: config.project, stack: config.stack };
  // The program wrote project and stack from its own runtime, as it writes the stack outputs.
  const stack = {
    name: config.stack,
    identity: { ...identity, verifiedBy: "outputs" as const },
    configPath: `(the advance Lambda of ${config.project}/${config.stack} has no config file)`,
  };
  const [cutover, { SsmApprovalParameter }, { ssmSdk }, { clientConfig }, { awsPairedReplication }] = await Promise.all([
    awsCutoverDeps(stack, config.outputs, { cwd: "/tmp", writeConfig: false, fenceDrainMs: rollout.fenceDrainSeconds * 1000 }),
    import("../../aws/approvalParameter.js"),
    import("../../aws/sdk.js"),
    import("../../aws/errors.js"),
    import("../wiring/aws.js"),
  ]);
  const approvals = new SsmApprovalParameter(new (ssmSdk().SSMClient)(clientConfig(config.outputs.region)), identity);
  const { fence, ...deps } = cutover;
  if (config.databaseMode !== "paired") return { deps: { ...deps, events }, approvals, close: async () => undefined };
  if (!fence) throw new Error(`${ORCHESTRATOR_ENV}: a paired stack without fence rules`);
  const replication = await awsPairedReplication(
    { databaseMode: "paired", ...config.paired },
    `${ORCHESTRATOR_ENV} (stack ${config.stack})`,
    config.paired.databaseName,
  );
  return { deps: { ...deps, fence, replication, events }, approvals, close: () => replication.close() };
}
