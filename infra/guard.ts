// The always-on guard: while a rollout is active and no
// operator process runs (a paused step, a crashed cutover), green's alarms still roll traffic back.
//
//   green's ColorAlarms ──► CompositeAlarm (ALARM if any of them is) ──► EventBridge rule on its
//   "CloudWatch Alarm State Change" to ALARM ──► Lambda (nodejs24.x) running the project's own
//   rollback: scripts/app/guard/handler.ts → core/engine runRollback, the same lock, journal and
//   verification as `npm run rollback`; it acts only when the journal says a rollout is active.
//
// Why a Lambda and not SSM Automation: an Automation runbook runs AWS API steps or Python /
// PowerShell scripts, so the rollback (lock, journal, read-back verification, weight write-back)
// would be written a second time in another language and drift from the one the tests prove.
// A Lambda runs our own TypeScript, bundled by the program.
//
// Packaging: the program bundles the handler with esbuild (a dependency) when it runs — preview
// and up alike, so there is no separate build step and no stale dist/ to forget — into one
// CommonJS index.js with the AWS SDK clients it uses inside it (the Lambda runtime's own SDK
// version is not ours) and, for the paired rollback, node-postgres (its optional native binding
// pg-native stays out: pg loads it only when pg.native is read). The handler's only AWS loader, scripts/aws/sdk.ts (require() for start-up
// speed on the CLI), is replaced in the bundle by static imports so esbuild can see them.
//
// Permissions (guardPolicyDocument, checked by policy/rules/guard-least-privilege.ts): exactly what
// the rollback of the stack's database mode calls. Both modes: elasticloadbalancing:ModifyListener
// on the production listeners; elasticloadbalancing:DescribeListeners for the read-back (Describe
// actions take no resource ARN); ssm:GetParameter/PutParameter/DeleteParameter on
// /bluegreen/<project>/<stack>/* (lock, journal, weights); logs:CreateLogStream/PutLogEvents on its
// own log group. Paired mode adds the lossless rollback's calls: elasticloadbalancing:ModifyRule on
// the fence rules and DescribeRules (their read-back); secretsmanager:GetSecretValue on exactly
// the two master and the two replication secrets (default aws/secretsmanager key: no KMS grant);
// and the five EC2 network-interface actions Lambda needs to place the function in the VPC
// (ec2:CreateNetworkInterface, DescribeNetworkInterfaces, DeleteNetworkInterface,
// AssignPrivateIpAddresses, UnassignPrivateIpAddresses on "*": DescribeNetworkInterfaces works on
// "*" only, and Lambda names the interfaces itself). Nothing else: no cloudwatch:DescribeAlarms
// (the event carries the alarm state), no Auto Scaling, no RDS API.
//
// database.mode paired: the rollback fences writes, waits for green → blue replication and copies
// the sequences, so the function runs in the VPC: the private subnets, its own security group
// (out: 5432 to the databases' group, 443 for the AWS APIs; the databases' group admits it on
// 5432). The AWS APIs (SSM, ELBv2, Secrets Manager) are reached through the private subnets' NAT
// gateway (network.mode create: natGateways single or per-az, always one); with network.mode
// existing the private subnets must route to them (NAT or interface endpoints), which the config
// cannot show. TLS to RDS is verify-full: Lambda's Node.js 20+ runtimes do not load the Amazon CA bundle by
// default, so NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem (the runtime's own copy, RDS roots
// included) is set for the paired function. Timeout 900 s (Lambda's maximum): the paired path's
// bounded waits (fence drain ≤ 120 s, fence read-back ≤ 30 s, catch-up: the plan's, 30 s, database
// connections and the subscription refresh) and one full read-back window (≤ 600 s) fit before the
// handler's deadline (the remaining time less 30 s, scripts/app/guard/handler.ts), which stops
// the rollback and records it as failed instead of Lambda killing it mid-run.

import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { createHash } from "node:crypto";
import { bundleLambdaHandler, handlerPath } from "./lambdaBundle.js";
import { POSTGRES_PORT } from "./securityGroups.js";
import { pairedLambdaStatements } from "./lambdaVpc.js";
import { tags } from "./tags.js";
import type { Color } from "./weights.js";

export interface GuardArgs {
  /** "bluegreen-prod": alarm, rule, function and role names start with it. */
  namePrefix: string;
  /** Names the SSM parameters the rollback uses: /bluegreen/<project>/<stack>/. */
  project: string;
  stack: string;
  region: string;
  /** Green's alarms (ColorAlarms.alarmNames): any of them in ALARM triggers the guard. */
  greenAlarmNames: pulumi.Input<pulumi.Input<string>[]>;
  /** The production listeners the rollback writes blue 100 / green 0 to. */
  listenerArns: pulumi.Input<pulumi.Input<string>[]>;
  targetGroupArns: Record<Color, pulumi.Input<string>>;
  stickinessSeconds: number | null;
  /** Any ARN of the stack in its account (the ALB's): partition and account id come from it, no extra API call. */
  accountArn: pulumi.Input<string>;
  /** The Lambda code; default: the handler bundled with esbuild (bundleGuardHandler). Tests may pass their own. */
  code?: pulumi.Input<pulumi.asset.Archive>;
  /** database.mode paired: the lossless rollback's inputs, and the VPC the function runs in. Absent: shared mode. */
  paired?: PairedGuardArgs;
}

export interface PairedGuardArgs {
  vpcId: pulumi.Input<string>;
  /** Where the function's network interfaces go (routed to the AWS APIs: see the file comment). */
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The databases' group: it admits the guard's on 5432. */
  databaseSecurityGroupId: pulumi.Input<string>;
  fenceRuleArns: pulumi.Input<pulumi.Input<string>[]>;
  /** rollout.fenceDrainSeconds. */
  fenceDrainSeconds: number;
  /** host:port per color. */
  databaseEndpoints: Record<Color, pulumi.Input<string>>;
  databaseSecretArns: Record<Color, pulumi.Input<string>>;
  replicationSecretArns: Record<Color, pulumi.Input<string>>;
  databaseName: string;
}

/**
 * The function's runtime. Lambda blocked creating nodejs20.x functions on 2026-08-31 and updating
 * them on 2026-09-30 (its deprecation was 2026-04-30); nodejs24.x is supported until 2028-04-30
 * (creation blocked from 2028-06-01). The handler is async, as Node.js 24 on Lambda requires.
 */
export const GUARD_RUNTIME = aws.lambda.Runtime.NodeJS24dX;

/**
 * A Lambda function name for `wanted`: Lambda allows 1–64 of [A-Za-z0-9_-], while Pulumi project
 * and stack names may hold periods and be longer. Other characters become "-"; a name still too
 * long keeps its first 55 characters and a hash of the whole, so two long stack names never meet.
 */
export function lambdaFunctionName(wanted: string): string {
  const clean = wanted.replace(/[^A-Za-z0-9_-]/g, "-");
  if (clean.length <= 64) return clean;
  return `${clean.slice(0, 55)}-${createHash("sha256").update(wanted).digest("hex").slice(0, 8)}`;
}

/** The function's timeout per database mode (s): see the file comment for what the paired one covers. */
export const GUARD_TIMEOUT_SECONDS = { shared: 300, paired: 900 } as const;

/**
 * How long an alarm event may wait to be (re)tried, in seconds. Lambda counts an asynchronous
 * event's age from when it was queued, so this must outlast the first run and both retries at
 * their longest (3 × the paired timeout, plus Lambda's 1 and 2 minute back-offs): 900 would drop
 * the very retries a paired rollback that met its deadline needs. An event of an earlier rollout
 * that is still queued is not acted on anyway (core/guard.ts compares it with the run's start).
 */
const GUARD_MAX_EVENT_AGE_SECONDS = 3 * GUARD_TIMEOUT_SECONDS.paired + 3 * 60 + 120;
/** The runtime's Amazon CA bundle (RDS roots included); Node.js 20+ runtimes do not load it unless told to. */
export const LAMBDA_AMAZON_CA_BUNDLE = "/var/runtime/ca-cert.pem";

export { LAMBDA_VPC_ACTIONS } from "./lambdaVpc.js";

type Statement = { Sid: string; Effect: "Allow"; Action: string[]; Resource: string | string[] };

/** The guard's IAM policy: exactly the rollback's calls (see the file comment). Pure, for the policy pack and the tests. */
export function guardPolicyDocument(input: {
  partition: string;
  region: string;
  account: string;
  project: string;
  stack: string;
  listenerArns: string[];
  logGroupArn: string;
  /** database.mode paired: the fence rules and the four secrets (blue's and green's master and replication secrets). */
  paired?: { fenceRuleArns: string[]; secretArns: string[] };
}): { Version: "2012-10-17"; Statement: Statement[] } {
  const statements: Statement[] = [
    { Sid: "FlipProductionListeners", Effect: "Allow", Action: ["elasticloadbalancing:ModifyListener"], Resource: [...input.listenerArns] },
    // Describe* actions of ELBv2 do not support resource-level permissions.
    { Sid: "ReadBackListeners", Effect: "Allow", Action: ["elasticloadbalancing:DescribeListeners"], Resource: "*" },
    {
      Sid: "LockJournalWeights",
      Effect: "Allow",
      Action: ["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
      Resource: `arn:${input.partition}:ssm:${input.region}:${input.account}:parameter/bluegreen/${input.project}/${input.stack}/*`,
    },
    { Sid: "OwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${input.logGroupArn}:*` },
  ];
  if (input.paired) statements.push(...pairedLambdaStatements(input.paired, "guard"));
  return { Version: "2012-10-17", Statement: statements };
}

/** `ALARM("a") OR ALARM("b")`: CloudWatch's composite alarm rule syntax. */
export function compositeAlarmRule(names: string[]): string {
  if (names.length === 0) throw new Error("the guard needs at least one green alarm");
  for (const name of names) if (name.includes('"')) throw new Error(`alarm name ${name} contains a double quote`);
  return names.map((name) => `ALARM("${name}")`).join(" OR ");
}

/** The handler source: infra/ runs from source (tsx), so the .ts file is there. */
function guardHandlerPath(): string {
  return handlerPath("../scripts/app/guard/handler.ts", "the guard");
}

/** Bundle the handler (and the SDK clients it uses) into one CommonJS file for the function's runtime (GUARD_RUNTIME): see infra/lambdaBundle.ts. */
export async function bundleGuardHandler(entry = guardHandlerPath()): Promise<string> {
  return bundleLambdaHandler(entry, { what: "the guard", sdk: ["elbSdk", "ssmSdk"] });
}

export interface PairedValues {
  fenceRuleArns: string[];
  databaseEndpoints: Record<Color, string>;
  databaseSecretArns: Record<Color, string>;
  replicationSecretArns: Record<Color, string>;
}

export class Guard extends pulumi.ComponentResource {
  readonly compositeAlarm: aws.cloudwatch.CompositeAlarm;
  readonly function: aws.lambda.Function;
  readonly rule: aws.cloudwatch.EventRule;
  readonly role: aws.iam.Role;
  readonly policy: aws.iam.RolePolicy;

  constructor(name: string, args: GuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bluegreen:guard:Guard", name, {}, opts);
    const parent = { parent: this };
    const prefix = args.namePrefix;

    this.compositeAlarm = new aws.cloudwatch.CompositeAlarm(
      `${name}-green`,
      {
        alarmName: `${prefix}-green-guard`,
        alarmDescription: "green: any of its alarms in ALARM; the guard rolls traffic back to blue while a rollout is active",
        alarmRule: pulumi.output(args.greenAlarmNames).apply((names) => compositeAlarmRule(names)),
        actionsEnabled: true,
        tags: tags(`${name}-green`, { "bluegreen:color": "green" }),
      },
      parent,
    );

    const functionName = lambdaFunctionName(`${prefix}-guard`);
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/lambda/${functionName}`, retentionInDays: 30, tags: tags(`${name}-logs`) },
      parent,
    );
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
        tags: tags(`${name}-role`),
      },
      parent,
    );
    const paired = args.paired;
    const pairedOutputs = pairedValuesOf(paired);
    this.policy = this.rolePolicy(name, args, logGroup.arn, pairedOutputs);
    const vpcConfig = paired
      ? pairedLambdaNetwork(name, paired, this, {
          group: "bluegreen guard Lambda: out to PostgreSQL and the AWS APIs only, nothing in",
          toDatabase: "to PostgreSQL (catch-up, sequences)",
          fromFunction: "from the guard Lambda (lossless rollback)",
        })
      : undefined;

    const code = args.code ?? new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundleGuardHandler()) });
    this.function = new aws.lambda.Function(
      `${name}-fn`,
      {
        name: functionName,
        description: "bluegreen guard: rolls traffic back to blue when green's alarms fire during a rollout",
        runtime: GUARD_RUNTIME,
        handler: "index.handler",
        code,
        role: this.role.arn,
        // Shared: a rollback verifies within its plan's verify timeout (≤ 60 s by default), three
        // attempts at most. Paired: the fence, the catch-up and the flip (see the file comment).
        // Either way the handler's deadline ends the rollback 30 s before this, journaled.
        timeout: GUARD_TIMEOUT_SECONDS[paired ? "paired" : "shared"],
        memorySize: 256,
        // Never two guards at once: the lock would refuse the second anyway.
        reservedConcurrentExecutions: 1,
        environment: {
          variables: {
            // ARNs, names and endpoints only: the function reads the credentials from Secrets Manager when it runs.
            BLUEGREEN_GUARD: guardEnvironment(args, this.compositeAlarm.alarmName, pairedOutputs),
            // Paired: verify-full to RDS needs the Amazon roots, which the Node.js 20+ runtimes leave out unless told (cold-start cost, so only here).
            ...(paired ? { NODE_EXTRA_CA_CERTS: LAMBDA_AMAZON_CA_BUNDLE } : {}),
          },
        },
        ...(vpcConfig ? { vpcConfig } : {}),
        tags: tags(`${name}-fn`),
      },
      { ...parent, dependsOn: [logGroup, this.policy] },
    );
    this.rule = this.alarmTrigger(name);
    this.registerOutputs({ compositeAlarmName: this.compositeAlarm.alarmName, functionName: this.function.name });
  }

  /** The role's policy: guardPolicyDocument over the stack's account, listeners, log group and (paired) fence rules and secrets. */
  private rolePolicy(name: string, args: GuardArgs, logGroupArn: pulumi.Output<string>, pairedOutputs: pulumi.Output<PairedValues | null>): aws.iam.RolePolicy {
    const accountParts = pulumi.output(args.accountArn).apply((arn) => {
      const [, partition, , , account] = arn.split(":");
      if (!partition || !account) throw new Error(`cannot read partition and account from ${arn}`);
      return { partition, account };
    });
    return new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.name,
        policy: pulumi
          .all([accountParts, pulumi.output(args.listenerArns), logGroupArn, pairedOutputs])
          .apply(([parts, listenerArns, logGroupArn, pairedValues]) =>
            JSON.stringify(
              guardPolicyDocument({
                ...parts,
                region: args.region,
                project: args.project,
                stack: args.stack,
                listenerArns,
                logGroupArn,
                ...(pairedValues
                  ? {
                      paired: {
                        fenceRuleArns: pairedValues.fenceRuleArns,
                        secretArns: [
                          pairedValues.databaseSecretArns.blue,
                          pairedValues.databaseSecretArns.green,
                          pairedValues.replicationSecretArns.blue,
                          pairedValues.replicationSecretArns.green,
                        ],
                      },
                    }
                  : {}),
              }),
            ),
          ),
      },
      { parent: this },
    );
  }

  /** The EventBridge rule on the composite alarm going to ALARM, its permission to invoke the function, and the retries. */
  private alarmTrigger(name: string): aws.cloudwatch.EventRule {
    const parent = { parent: this };
    const rule = new aws.cloudwatch.EventRule(
      `${name}-alarm`,
      {
        description: "green's composite alarm went to ALARM: run the guard",
        eventPattern: this.compositeAlarm.arn.apply((arn) =>
          JSON.stringify({
            source: ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            resources: [arn],
            detail: { state: { value: ["ALARM"] } },
          }),
        ),
        tags: tags(`${name}-alarm`),
      },
      parent,
    );
    new aws.lambda.Permission(
      `${name}-invoke`,
      { action: "lambda:InvokeFunction", function: this.function.name, principal: "events.amazonaws.com", sourceArn: rule.arn },
      parent,
    );
    // EventBridge hands the event to Lambda's asynchronous queue (its retry policy covers only
    // that hand-over). Lambda queues throttled events itself (one execution at a time) and
    // retries an invocation that failed: declared here, two retries (the handler acts again on
    // failed-rollback, so they are real further attempts), for events up to the age above.
    new aws.cloudwatch.EventTarget(
      `${name}-target`,
      { rule: rule.name, arn: this.function.arn, retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: GUARD_MAX_EVENT_AGE_SECONDS } },
      parent,
    );
    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-retries`,
      { functionName: this.function.name, maximumRetryAttempts: 2, maximumEventAgeInSeconds: GUARD_MAX_EVENT_AGE_SECONDS },
      parent,
    );
    return rule;
  }
}

/** What the security group rules say (their descriptions; changing one replaces the rule). */
export interface PairedNetworkLabels {
  group: string;
  toDatabase: string;
  fromFunction: string;
}

/**
 * Paired: a function of ours runs in the VPC with a group of its own (out: 5432 to the databases'
 * group, 443 for the AWS APIs through the NAT; nothing in), admitted by the databases' group on
 * 5432. The guard's and the advance Lambda's.
 */
export function pairedLambdaNetwork(
  name: string,
  paired: Pick<PairedGuardArgs, "vpcId" | "privateSubnetIds" | "databaseSecurityGroupId">,
  parentResource: pulumi.Resource,
  labels: PairedNetworkLabels,
): aws.types.input.lambda.FunctionVpcConfig {
  const parent = { parent: parentResource };
  const group = new aws.ec2.SecurityGroup(`${name}-sg`, { vpcId: paired.vpcId, description: labels.group, tags: tags(`${name}-sg`) }, parent);
  const tcp = { ipProtocol: "tcp", securityGroupId: group.id } as const;
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-out-db`,
    { ...tcp, fromPort: POSTGRES_PORT, toPort: POSTGRES_PORT, referencedSecurityGroupId: paired.databaseSecurityGroupId, description: labels.toDatabase },
    parent,
  );
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-out-https`,
    { ...tcp, fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "HTTPS out through NAT: SSM, ELBv2, Secrets Manager" },
    parent,
  );
  new aws.vpc.SecurityGroupIngressRule(
    `${name}-db-in`,
    {
      ipProtocol: "tcp",
      securityGroupId: paired.databaseSecurityGroupId,
      fromPort: POSTGRES_PORT,
      toPort: POSTGRES_PORT,
      referencedSecurityGroupId: group.id,
      description: labels.fromFunction,
    },
    parent,
  );
  return { subnetIds: paired.privateSubnetIds, securityGroupIds: [group.id] };
}

/** Paired: the fence rules, endpoints and secrets, resolved together; null in shared mode (the guard's and the advance Lambda's). */
export function pairedValuesOf(paired: PairedGuardArgs | undefined): pulumi.Output<PairedValues | null> {
  if (!paired) return pulumi.output(null);
  const perColor = (values: Record<Color, pulumi.Input<string>>) => pulumi.all([values.blue, values.green]).apply(([blue, green]) => ({ blue, green }));
  return pulumi
    .all([pulumi.output(paired.fenceRuleArns), perColor(paired.databaseEndpoints), perColor(paired.databaseSecretArns), perColor(paired.replicationSecretArns)])
    .apply(([fenceRuleArns, databaseEndpoints, databaseSecretArns, replicationSecretArns]) => ({
      fenceRuleArns: [...fenceRuleArns],
      databaseEndpoints,
      databaseSecretArns,
      replicationSecretArns,
    }));
}

/** BLUEGREEN_GUARD: what the handler needs, as JSON (ARNs, names and endpoints; never a credential). */
function guardEnvironment(
  args: GuardArgs,
  compositeAlarmName: pulumi.Output<string>,
  pairedOutputs: pulumi.Output<PairedValues | null>,
): pulumi.Output<string> {
  const paired = args.paired;
  return pulumi
    .all([
      pulumi.output(args.listenerArns),
      pulumi.output(args.targetGroupArns.blue),
      pulumi.output(args.targetGroupArns.green),
      compositeAlarmName,
      pairedOutputs,
    ])
    .apply(([listenerArns, blue, green, alarmName, pairedValues]) =>
      JSON.stringify({
        region: args.region,
        project: args.project,
        stack: args.stack,
        databaseMode: paired ? "paired" : "shared",
        listenerArns,
        targetGroupArns: { blue, green },
        stickinessSeconds: args.stickinessSeconds,
        compositeAlarmName: alarmName,
        ...(paired && pairedValues
          ? {
              fenceRuleArns: pairedValues.fenceRuleArns,
              fenceDrainSeconds: paired.fenceDrainSeconds,
              databaseEndpoints: pairedValues.databaseEndpoints,
              databaseSecretArns: pairedValues.databaseSecretArns,
              replicationSecretArns: pairedValues.replicationSecretArns,
              databaseName: paired.databaseName,
            }
          : {}),
      }),
    );
}
