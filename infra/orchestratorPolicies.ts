// The orchestrator's IAM policies, pure: the program grants them (infra/orchestrator.ts) and the
// policy pack checks them (policy/rules/orchestrator-least-privilege.ts).
//
// "*" appears only where AWS documents that the action takes no resource ARN:
//   - elasticloadbalancing:DescribeListeners / DescribeTargetHealth (ELBv2 Describe* actions do
//     not support resource-level permissions);
//   - cloudwatch:GetMetricData (no resource type in the CloudWatch service authorization reference);
//   - autoscaling:DescribeAutoScalingGroups (Describe* of Auto Scaling take no resource);
//   - the CloudWatch Logs delivery actions a state machine's role needs to log to a log group
//     (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery,
//     ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups: the Step
//     Functions developer guide, "IAM policies for logging to CloudWatch Logs", grants them on "*").
// database.mode paired adds what the lossless switch and rollback call, the guard's paired
// statements (infra/lambdaVpc.ts): ModifyRule on the fence rules and DescribeRules, GetSecretValue
// on the four database secrets, and the VPC's network interfaces ("*": Lambda names them).
// cloudwatch:DescribeAlarms is scoped to the stack's alarms (metric alarms: a narrower scope is
// allowed; only composite alarms need "*", and the advance reads none).

import { pairedLambdaStatements } from "./lambdaVpc.js";

export type Statement = { Sid: string; Effect: "Allow"; Action: string[]; Resource: string | string[] };
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Statement[];
}

/** What a state machine's role needs to deliver its execution logs to CloudWatch Logs (Resource "*", as documented). */
export const STATES_LOG_DELIVERY_ACTIONS = [
  "logs:CreateLogDelivery",
  "logs:GetLogDelivery",
  "logs:UpdateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:DescribeResourcePolicies",
  "logs:DescribeLogGroups",
] as const;

/** The managed rule Step Functions creates for `.sync` integrations with its own executions. */
export const SYNC_EVENTS_RULE = "StepFunctionsGetEventsForStepFunctionsExecutionRule";

export interface AccountScope {
  partition: string;
  region: string;
  account: string;
}

/** A state machine or Lambda name: 1–`max` of [A-Za-z0-9_-]; other characters become "-". */
export function awsResourceName(wanted: string, max: number): string {
  const clean = wanted.replace(/[^A-Za-z0-9_-]/g, "-");
  if (clean.length > max) throw new Error(`${clean} is longer than ${max} characters`);
  return clean;
}

/** The rollout machine of a stack: `<project>-<stack>-rollout`, the name the release machine's role is scoped to. */
export function rolloutMachineName(project: string, stack: string): string {
  return awsResourceName(`${project}-${stack}-rollout`, 80);
}

export function rolloutMachineArn(scope: AccountScope, project: string, stack: string): string {
  return `arn:${scope.partition}:states:${scope.region}:${scope.account}:stateMachine:${rolloutMachineName(project, stack)}`;
}

/** The snapshot identifiers scripts/aws/rdsSnapshot.ts gives a stack's snapshots: `bluegreen-<stack>-…`. */
export function snapshotArnPattern(scope: AccountScope, stack: string): string {
  const prefix = `bluegreen-${stack}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-");
  return `arn:${scope.partition}:rds:${scope.region}:${scope.account}:snapshot:${prefix}-*`;
}

export interface AdvancePolicyInput extends AccountScope {
  project: string;
  stack: string;
  listenerArns: string[];
  alarmNames: string[];
  logGroupArn: string;
  /** Blue's database instance (the preflight snapshot); null when snapshots are off. */
  snapshotInstanceId: string | null;
  /** The colors' Auto Scaling group names (capacity checks); empty when the stack has none. */
  asgNames: string[];
  /** rollout.capacity.mode "match": the advance scales green to blue (SetDesiredCapacity). */
  scalesGroups: boolean;
  /** database.mode paired: the fence rules and the four database secrets (blue's and green's master and replication secrets). */
  paired?: { fenceRuleArns: string[]; secretArns: string[] };
}

/** The advance function's policy: what one step of `npm run cutover` calls for this stack, and the approval parameter. */
export function advancePolicyDocument(input: AdvancePolicyInput): PolicyDocument {
  const arn = (service: string, rest: string) => `arn:${input.partition}:${service}:${input.region}:${input.account}:${rest}`;
  if (input.listenerArns.length === 0) throw new Error("the advance function needs the stack's production listeners");
  const statements: Statement[] = [
    {
      Sid: "LockJournalWeightsApproval",
      Effect: "Allow",
      Action: ["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
      Resource: arn("ssm", `parameter/bluegreen/${input.project}/${input.stack}/*`),
    },
    { Sid: "ShiftProductionListeners", Effect: "Allow", Action: ["elasticloadbalancing:ModifyListener"], Resource: [...input.listenerArns] },
    // Describe* actions of ELBv2 do not support resource-level permissions.
    {
      Sid: "ReadBackListenersAndTargets",
      Effect: "Allow",
      Action: ["elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeTargetHealth"],
      Resource: "*",
    },
    // GetMetricData takes no resource ARN.
    { Sid: "ReadMetrics", Effect: "Allow", Action: ["cloudwatch:GetMetricData"], Resource: "*" },
    { Sid: "OwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${input.logGroupArn}:*` },
  ];
  if (input.alarmNames.length > 0) {
    statements.push({
      Sid: "ReadAlarms",
      Effect: "Allow",
      Action: ["cloudwatch:DescribeAlarms"],
      Resource: input.alarmNames.map((name) => arn("cloudwatch", `alarm:${name}`)),
    });
  }
  if (input.snapshotInstanceId !== null) {
    const snapshots = snapshotArnPattern(input, input.stack);
    statements.push(
      { Sid: "SnapshotBlue", Effect: "Allow", Action: ["rds:CreateDBSnapshot"], Resource: [arn("rds", `db:${input.snapshotInstanceId}`), snapshots] },
      // CreateDBSnapshot with Tags also authorizes AddTagsToResource on the new snapshot.
      { Sid: "TagSnapshot", Effect: "Allow", Action: ["rds:AddTagsToResource"], Resource: snapshots },
      { Sid: "WatchSnapshot", Effect: "Allow", Action: ["rds:DescribeDBSnapshots"], Resource: [arn("rds", `db:${input.snapshotInstanceId}`), snapshots] },
    );
  }
  if (input.asgNames.length > 0) {
    // Describe* of Auto Scaling takes no resource ARN.
    statements.push({ Sid: "ReadCapacity", Effect: "Allow", Action: ["autoscaling:DescribeAutoScalingGroups"], Resource: "*" });
    if (input.scalesGroups) {
      statements.push({
        Sid: "MatchCapacity",
        Effect: "Allow",
        Action: ["autoscaling:SetDesiredCapacity"],
        Resource: input.asgNames.map((name) => arn("autoscaling", `autoScalingGroup:*:autoScalingGroupName/${name}`)),
      });
    }
  }
  if (input.paired) statements.push(...pairedLambdaStatements(input.paired, "advance function"));
  return { Version: "2012-10-17", Statement: statements };
}

/** The rollout machine's role: invoke the advance function (and its versions), deliver its logs. */
export function rolloutMachinePolicyDocument(input: { functionArn: string }): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "InvokeAdvance", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [input.functionArn, `${input.functionArn}:*`] },
      { Sid: "DeliverExecutionLogs", Effect: "Allow", Action: [...STATES_LOG_DELIVERY_ACTIONS], Resource: "*" },
    ],
  };
}

/**
 * The release machine's role: start the listed stacks' rollout machines and follow their
 * executions with `startExecution.sync:2`. What `.sync` needs beyond StartExecution (Step
 * Functions developer guide, "IAM policies for AWS Step Functions" → "StartExecution",
 * https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html, synchronous):
 * states:DescribeExecution and states:StopExecution on the child machine's executions, and
 * events:PutTargets, events:PutRule, events:DescribeRule on the managed rule
 * StepFunctionsGetEventsForStepFunctionsExecutionRule, through which Step Functions learns that
 * a child ended.
 */
export function releaseMachinePolicyDocument(input: AccountScope & { project: string; stacks: { stack: string; region: string }[] }): PolicyDocument {
  if (input.stacks.length === 0) throw new Error("a release machine needs at least one stack");
  const machines = input.stacks.map(({ stack, region }) => ({ region, name: rolloutMachineName(input.project, stack) }));
  const states = (region: string, rest: string) => `arn:${input.partition}:states:${region}:${input.account}:${rest}`;
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "StartRollouts", Effect: "Allow", Action: ["states:StartExecution"], Resource: machines.map((m) => states(m.region, `stateMachine:${m.name}`)) },
      {
        Sid: "FollowRollouts",
        Effect: "Allow",
        Action: ["states:DescribeExecution", "states:StopExecution"],
        Resource: machines.map((m) => states(m.region, `execution:${m.name}:*`)),
      },
      {
        Sid: "SyncEventsRule",
        Effect: "Allow",
        Action: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
        Resource: `arn:${input.partition}:events:${input.region}:${input.account}:rule/${SYNC_EVENTS_RULE}`,
      },
      { Sid: "DeliverExecutionLogs", Effect: "Allow", Action: [...STATES_LOG_DELIVERY_ACTIONS], Resource: "*" },
    ],
  };
}
