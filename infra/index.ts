// The bluegreen Pulumi program: one ALB in front of a blue and a green environment, RDS
// PostgreSQL shared by both colors or paired per color, CloudWatch alarms per color.
//
// Config: Pulumi.<stack>.yaml, keys `aws:region` and `bluegreen:<network|loadBalancer|app|
// database|traffic|rollout>`, validated by infra/config.ts (the same parser the scripts use).
//
// Outputs: a contract with the scripts (scripts/aws reads them with `pulumi stack output --json`).
// Names are camelCase and must not change without changing the scripts.
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, ConfigError, parsePulumiConfigMap, PROJECT, type StackConfig } from "./config.js";
import { ColorAlarms } from "./alarms.js";
import { Guard, type PairedGuardArgs } from "./guard.js";
import { Orchestrator } from "./orchestrator.js";
import { ColorEnvironment } from "./colorEnvironment.js";
import { Database } from "./database.js";
import { LoadBalancer } from "./loadBalancer.js";
import { Network } from "./network.js";
import { readLiveWeights } from "./liveWeights.js";
import { SecurityGroups } from "./securityGroups.js";
import { COLORS, stickinessSeconds as toStickinessSeconds, type Color } from "./weights.js";

/** Collects the stack config map (`aws:region`, `bluegreen:*`) from the Pulumi runtime. */
function readStackConfig(): StackConfig {
  const map: Record<string, unknown> = {};
  const region = new pulumi.Config("aws").get("region");
  if (region !== undefined) map["aws:region"] = region;
  const bluegreen = new pulumi.Config(PROJECT);
  for (const key of CONFIG_KEYS) {
    const text = bluegreen.get(key);
    if (text === undefined) continue;
    // Structured values arrive as JSON text; anything else is passed as it is for the schema to refuse.
    try {
      map[`${PROJECT}:${key}`] = JSON.parse(text);
    } catch {
      map[`${PROJECT}:${key}`] = text;
    }
  }
  // Unknown `bluegreen:` keys (typos) are errors, not silently ignored.
  for (const key of Object.keys(pulumi.runtime.allConfig())) {
    if (key.startsWith(`${PROJECT}:`) && !(key in map)) map[key] = null;
  }
  try {
    return parsePulumiConfigMap(map, `stack config (Pulumi.${pulumi.getStack()}.yaml)`);
  } catch (error) {
    // RunError prints the message without a stack trace: the message names every path and rule.
    if (error instanceof ConfigError) throw new pulumi.RunError(error.message);
    throw error;
  }
}

const config = readStackConfig();
const greenEnabled = config.app.green.enabled;
// Before anything is declared: the live weights (or a refusal while a cutover holds the lock).
const live = await readLiveWeights(pulumi.getProject(), pulumi.getStack(), config.traffic.weights, { greenEnabled });

const network = new Network("network", { network: config.network });

const securityGroups = new SecurityGroups("sg", {
  vpcId: network.vpcId,
  appPort: config.app.port,
  https: config.traffic.https !== undefined,
  databasesReplicate: config.database.mode === "paired",
});

const colors = Object.fromEntries(
  COLORS.map((color) => [
    color,
    new ColorEnvironment(color, {
      color,
      config: config.app[color],
      app: config.app,
      region: config.region,
      vpcId: network.vpcId,
      privateSubnetIds: network.privateSubnetIds,
      appSecurityGroupId: securityGroups.appSecurityGroupId,
    }),
  ]),
) as Record<Color, ColorEnvironment>;

const web = new LoadBalancer("web", {
  loadBalancer: config.loadBalancer,
  traffic: config.traffic,
  publicSubnetIds: network.publicSubnetIds,
  albSecurityGroupId: securityGroups.albSecurityGroupId,
  targetGroupArns: { blue: colors.blue.targetGroup.arn, green: colors.green.targetGroup.arn },
  live,
});

const database = new Database("db", {
  database: config.database,
  privateSubnetIds: network.privateSubnetIds,
  databaseSecurityGroupId: securityGroups.databaseSecurityGroupId,
  instances: config.database.mode === "shared" ? ["shared"] : greenEnabled ? ["blue", "green"] : ["blue"],
  stack: pulumi.getStack(),
});

/** A color's database: the shared one in shared mode, its own (or none when green is off) in paired mode. */
function databaseOf(color: Color) {
  return config.database.mode === "shared" ? database.instances.shared! : (database.instances[color] ?? null);
}

const alarms = Object.fromEntries(
  COLORS.map((color) => [
    color,
    config.app[color].enabled
      ? new ColorAlarms(`alarms-${color}`, {
          color,
          namePrefix: `${pulumi.getProject()}-${pulumi.getStack()}`,
          albArnSuffix: web.alb.arnSuffix,
          targetGroupArnSuffix: colors[color].targetGroup.arnSuffix,
          alarms: config.app.alarms,
        })
      : null,
  ]),
) as Record<Color, ColorAlarms | null>;
const alarmNamesOf = (color: Color) => alarms[color]?.alarmNames ?? [];

// The always-on guard (infra/guard.ts): green's alarms roll back while a rollout is active and no
// operator process runs. Both database modes, green enabled; in paired mode the function runs in
// the VPC and does the lossless rollback (fence, green → blue catch-up) over the two databases.
const pairedDatabases =
  config.database.mode === "paired" && database.instances.blue && database.instances.green
    ? { blue: database.instances.blue, green: database.instances.green }
    : null;
const replicationSecretOf = (color: Color) => {
  const arn = pairedDatabases?.[color].replicationSecretArn;
  if (!arn) throw new Error(`paired mode: the ${color} database declares no replication secret`);
  return arn;
};
/** Paired: what a Lambda of ours needs for the lossless switch or rollback (the guard's and the advance function's). */
const pairedLambda: PairedGuardArgs | null = pairedDatabases
  ? {
      vpcId: network.vpcId,
      privateSubnetIds: network.privateSubnetIds,
      databaseSecurityGroupId: securityGroups.databaseSecurityGroupId,
      fenceRuleArns: web.fenceRules.map((rule) => rule.arn),
      fenceDrainSeconds: config.rollout.fenceDrainSeconds,
      databaseEndpoints: { blue: pairedDatabases.blue.endpoint, green: pairedDatabases.green.endpoint },
      databaseSecretArns: { blue: pairedDatabases.blue.secretArn, green: pairedDatabases.green.secretArn },
      replicationSecretArns: { blue: replicationSecretOf("blue"), green: replicationSecretOf("green") },
      databaseName: config.database.databaseName,
    }
  : null;
const guard =
  alarms.green && (config.database.mode === "shared" || pairedDatabases)
    ? new Guard("guard", {
        namePrefix: `${pulumi.getProject()}-${pulumi.getStack()}`,
        project: pulumi.getProject(),
        stack: pulumi.getStack(),
        region: config.region,
        greenAlarmNames: alarms.green.alarmNames,
        listenerArns: web.productionListeners.map((listener) => listener.arn),
        targetGroupArns: { blue: colors.blue.targetGroup.arn, green: colors.green.targetGroup.arn },
        stickinessSeconds: toStickinessSeconds(config.traffic.stickiness),
        accountArn: web.alb.arn,
        ...(pairedLambda ? { paired: pairedLambda } : {}),
      })
    : null;

const perColor = <T>(value: (color: Color) => T) => ({ blue: value("blue"), green: value("green") });

// rollout.orchestrator stepfunctions (infra/orchestrator.ts): the advance Lambda and the rollout
// state machine (and the release machine with rollout.release). Paired: the function runs in the
// VPC with the guard's paired inputs. Without green there is nothing to roll out.
const orchestrator =
  config.rollout.orchestrator === "stepfunctions" && greenEnabled && (config.database.mode === "shared" || pairedLambda)
    ? new Orchestrator("orchestrator", {
        namePrefix: `${pulumi.getProject()}-${pulumi.getStack()}`,
        project: pulumi.getProject(),
        stack: pulumi.getStack(),
        region: config.region,
        accountArn: web.alb.arn,
        rollout: config.rollout,
        outputs: {
          listenerArns: web.productionListeners.map((listener) => listener.arn),
          targetGroupArns: perColor((color) => colors[color].targetGroup.arn),
          targetGroupArnSuffixes: perColor((color) => colors[color].targetGroup.arnSuffix),
          albArnSuffix: web.alb.arnSuffix,
          stickinessSeconds: toStickinessSeconds(config.traffic.stickiness),
          alarmNames: COLORS.flatMap(alarmNamesOf),
          databaseInstanceIds: perColor((color) => databaseOf(color)?.instanceId ?? null),
          asgNames: perColor((color) => colors[color].autoScalingGroup?.name ?? null),
        },
        ...(pairedLambda ? { paired: pairedLambda } : {}),
      })
    : null;

// ---------------------------------------------------------------------------------------------
// stack outputs (contract with scripts/)

/** Which stack these outputs describe (the scripts check it against the stack they were told). */
export const pulumiProject = pulumi.getProject();
export const pulumiStack = pulumi.getStack();
export const region = config.region;
export const databaseMode = config.database.mode;
export const albArn = web.alb.arn;
export const albDnsName = web.alb.dnsName;
/** `app/<name>/<id>`: the LoadBalancer dimension of AWS/ApplicationELB metrics. */
export const albArnSuffix = web.alb.arnSuffix;
/** Production listeners (default action = weighted forward to both colors). With HTTPS: the HTTPS listener only. */
export const listenerArns = pulumi.all(web.productionListeners.map((listener) => listener.arn));
/** Rules that send `<testHeader>: blue|green` straight to that color. */
export const testRuleArns = perColor((color) => web.testRules[color].arn);
/** Write-fence rules (priority 1, declared inert; the scripts own their conditions). */
export const fenceRuleArns = pulumi.all(web.fenceRules.map((rule) => rule.arn));
export const targetGroupArns = perColor((color) => colors[color].targetGroup.arn);
/** `targetgroup/<name>/<id>`: the TargetGroup dimension of AWS/ApplicationELB metrics. */
export const targetGroupArnSuffixes = perColor((color) => colors[color].targetGroup.arnSuffix);
export const targetGroupNames = perColor((color) => colors[color].targetGroup.name);
/** null for a disabled color. */
export const asgNames = perColor((color) => colors[color].autoScalingGroup?.name ?? null);
/** `host:port`; the same for both colors in shared mode; null for a disabled green in paired mode. */
export const databaseEndpoints = perColor((color) => databaseOf(color)?.endpoint ?? null);
/** Secrets Manager secrets RDS keeps the master credentials in (ARNs only, never the password). */
export const databaseSecretArns = perColor((color) => databaseOf(color)?.secretArn ?? null);
/** The database every color's application connects to (one name, per color the same: config database.databaseName). */
export const databaseName = config.database.databaseName;
export const databaseInstanceIds = perColor((color) => databaseOf(color)?.instanceId ?? null);
/** paired mode: each database's replication-role secret (infra/database.ts); null in shared mode or for a disabled green. */
export const replicationSecretArns = perColor((color) => databaseOf(color)?.replicationSecretArn ?? null);
export const alarmNamesByColor = perColor((color) => pulumi.all(alarmNamesOf(color)));
export const alarmNames = pulumi.all(COLORS.flatMap(alarmNamesOf));
export const stickinessSeconds = toStickinessSeconds(config.traffic.stickiness);
/** The SSM parameter that owns the live weights (infra/liveWeights.ts). */
export const weightsParameterName = web.weightsParameter.name;
export const testHeader = config.traffic.testHeader;
/** The guard's Lambda function and the composite alarm it answers to; null when there is no guard (green disabled). */
export const guardFunctionName = guard?.function.name ?? null;
export const guardAlarmName = guard?.compositeAlarm.alarmName ?? null;
/** rollout.orchestrator stepfunctions: the rollout state machine (executions named after the run id); null for the local orchestrator. */
export const rolloutStateMachineArn = orchestrator?.rolloutMachine.arn ?? null;
/** With rollout.release: the release (wave) machine; null otherwise. */
export const releaseStateMachineArn = orchestrator?.releaseMachine?.arn ?? null;
