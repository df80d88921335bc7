// The orchestrator's roles (infra/orchestrator.ts, documents from infra/orchestratorPolicies.ts)
// may do exactly what they are for:
//   - the advance function: one step of a cutover for its stack: the stack's SSM parameters
//     (lock, journal, weights, approval), ModifyListener on the production listeners, the
//     read-backs and target health, the metrics, the stack's alarms, blue's snapshot, Auto
//     Scaling where the stack has groups, and its own logs;
//   - the rollout machine: invoke that function (and its versions), deliver its execution logs;
//   - the release machine: start the listed rollout machines and follow their executions
//     (`startExecution.sync:2`: DescribeExecution, StopExecution and the managed EventBridge rule
//     StepFunctionsGetEventsForStepFunctionsExecutionRule), deliver its execution logs.
//   - paired stacks: the advance function also runs the lossless switch and rollback, so it may
//     also (and then must) hold the paired statements the guard holds: ModifyRule on the fence
//     rules, DescribeRules, GetSecretValue on at most the four database secrets, and Lambda's VPC
//     network interfaces on "*" (infra/lambdaVpc.ts). All of them or none.
// No wildcard action, no NotAction/NotResource, and "*" as a resource only for the actions AWS
// documents as taking no resource ARN: elasticloadbalancing:DescribeListeners and
// DescribeTargetHealth, cloudwatch:GetMetricData, autoscaling:DescribeAutoScalingGroups, and the
// CloudWatch Logs delivery actions a state machine's logging needs.
import { PAIRED_LAMBDA_RESOURCES, PAIRED_SECRET_COUNT } from "../../infra/lambdaVpc.js";
import { STATES_LOG_DELIVERY_ACTIONS, SYNC_EVENTS_RULE } from "../../infra/orchestratorPolicies.js";
import { BLUEGREEN, resourceRule } from "../support.js";

type ResourceCheck = (resource: string) => boolean;
type Role = "advance" | "rollout" | "release";

const ARN = (service: string, rest: string) => new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:${rest}$`);
const matches =
  (...patterns: RegExp[]): ResourceCheck =>
  (r) =>
    patterns.some((pattern) => pattern.test(r));
/** The actions AWS documents as taking no resource ARN: "*" is their only resource. */
const ANY: ResourceCheck = (r) => r === "*";

const SSM_PREFIX = matches(ARN("ssm", "parameter/bluegreen/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/\\*"));
const OWN_LOGS = matches(ARN("logs", "log-group:/aws/lambda/[^*]+:\\*"));
const SNAPSHOTS = ARN("rds", "snapshot:bluegreen-[a-z0-9-]+-\\*");
const BLUE_DB = ARN("rds", "db:[^*]+");
const LOG_DELIVERY = Object.fromEntries(STATES_LOG_DELIVERY_ACTIONS.map((action) => [action, ANY]));

const ALLOWED: Record<Role, Record<string, ResourceCheck>> = {
  advance: {
    "ssm:GetParameter": SSM_PREFIX,
    "ssm:PutParameter": SSM_PREFIX,
    "ssm:DeleteParameter": SSM_PREFIX,
    "elasticloadbalancing:ModifyListener": matches(ARN("elasticloadbalancing", "listener/app/[^*]+")),
    "elasticloadbalancing:DescribeListeners": ANY,
    "elasticloadbalancing:DescribeTargetHealth": ANY,
    "cloudwatch:GetMetricData": ANY,
    "cloudwatch:DescribeAlarms": matches(ARN("cloudwatch", "alarm:[^*?]+")),
    "logs:CreateLogStream": OWN_LOGS,
    "logs:PutLogEvents": OWN_LOGS,
    "rds:CreateDBSnapshot": matches(BLUE_DB, SNAPSHOTS),
    "rds:DescribeDBSnapshots": matches(BLUE_DB, SNAPSHOTS),
    "rds:AddTagsToResource": matches(SNAPSHOTS),
    "autoscaling:DescribeAutoScalingGroups": ANY,
    "autoscaling:SetDesiredCapacity": matches(ARN("autoscaling", "autoScalingGroup:\\*:autoScalingGroupName/[^*?]+")),
    ...PAIRED_LAMBDA_RESOURCES,
  },
  rollout: {
    "lambda:InvokeFunction": matches(ARN("lambda", "function:[A-Za-z0-9_-]+"), ARN("lambda", "function:[A-Za-z0-9_-]+:\\*")),
    ...LOG_DELIVERY,
  },
  release: {
    "states:StartExecution": matches(ARN("states", "stateMachine:[A-Za-z0-9_-]+")),
    "states:DescribeExecution": matches(ARN("states", "execution:[A-Za-z0-9_-]+:\\*")),
    "states:StopExecution": matches(ARN("states", "execution:[A-Za-z0-9_-]+:\\*")),
    "events:PutTargets": matches(ARN("events", `rule/${SYNC_EVENTS_RULE}`)),
    "events:PutRule": matches(ARN("events", `rule/${SYNC_EVENTS_RULE}`)),
    "events:DescribeRule": matches(ARN("events", `rule/${SYNC_EVENTS_RULE}`)),
    ...LOG_DELIVERY,
  },
};

/** What each role cannot work without. */
const REQUIRED: Record<Role, string[]> = {
  advance: [
    "ssm:GetParameter",
    "ssm:PutParameter",
    "ssm:DeleteParameter",
    "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeTargetHealth",
    "cloudwatch:GetMetricData",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
  ],
  rollout: ["lambda:InvokeFunction"],
  release: ["states:StartExecution", "states:DescribeExecution", "states:StopExecution", "events:PutTargets", "events:PutRule", "events:DescribeRule"],
};

const JOB: Record<Role, string> = { advance: "a rollout step", rollout: "the rollout machine", release: "the release machine" };

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]);

/** Problems with one of the orchestrator's policy documents (none when it is exactly least privilege for its role). */
export function orchestratorPolicyProblems(role: Role, document: unknown): string[] {
  const problems: string[] = [];
  const raw = (document as { Statement?: unknown } | null)?.Statement;
  const statements: unknown[] = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (statements.length === 0) return ["the policy has no statements"];
  const allowed = ALLOWED[role];
  const granted = new Set<string>();
  for (const [i, entry] of statements.entries()) {
    const statement = entry as Record<string, unknown>;
    if (statement.Effect !== "Allow") continue; // a Deny only narrows
    const where = `statement ${typeof statement.Sid === "string" ? statement.Sid : i + 1}`;
    if (statement.NotAction !== undefined || statement.NotResource !== undefined) problems.push(`${where}: NotAction/NotResource grant more than they name`);
    for (const action of list(statement.Action)) {
      if (action.includes("*")) {
        problems.push(`${where}: ${action} is a wildcard action`);
        continue;
      }
      const check = allowed[action];
      if (!check) {
        problems.push(`${where}: ${action} is not something ${JOB[role]} does`);
        continue;
      }
      granted.add(action);
      for (const resource of list(statement.Resource)) {
        if (!check(resource)) problems.push(`${where}: ${action} on ${resource} is wider than ${JOB[role]} needs`);
      }
    }
  }
  problems.push(...pairedProblems(role, granted, secretsOf(statements)));
  const missing = REQUIRED[role].filter((action) => !granted.has(action));
  if (missing.length > 0) problems.push(`${JOB[role]} also needs ${missing.join(", ")}`);
  return problems;
}

/** The secrets an advance document names for GetSecretValue. */
function secretsOf(statements: unknown[]): Set<string> {
  const secrets = new Set<string>();
  for (const entry of statements) {
    const statement = entry as Record<string, unknown>;
    if (statement.Effect === "Allow" && list(statement.Action).includes("secretsmanager:GetSecretValue"))
      for (const r of list(statement.Resource)) secrets.add(r);
  }
  return secrets;
}

/** A paired advance function holds every paired action (it fences, reads the secrets, runs in the VPC) and reads at most the four secrets. */
function pairedProblems(role: Role, granted: Set<string>, secrets: Set<string>): string[] {
  if (role !== "advance") return [];
  const paired = Object.keys(PAIRED_LAMBDA_RESOURCES);
  const held = paired.filter((action) => granted.has(action));
  if (held.length === 0) return [];
  const problems: string[] = [];
  const missing = paired.filter((action) => !granted.has(action));
  if (missing.length > 0) problems.push(`a paired rollout step (it holds ${held.join(", ")}) also needs ${missing.join(", ")}`);
  if (secrets.size > PAIRED_SECRET_COUNT)
    problems.push(
      `secretsmanager:GetSecretValue on ${secrets.size} secrets: a paired rollout step reads ${PAIRED_SECRET_COUNT} (each database's master and replication secret)`,
    );
  return problems;
}

export const orchestratorLeastPrivilege = resourceRule(
  {
    name: "orchestrator-least-privilege",
    description:
      "The Step Functions orchestrator's roles allow exactly their job: the advance function one rollout step for its stack (paired: also the fence rules, the four database secrets and Lambda's VPC network interfaces), the rollout machine invoking that function, the release machine starting and following the listed rollout machines; no wildcard action, '*' only where AWS documents no resource ARN.",
    enforcementLevel: "mandatory",
    severity: "high",
    framework: BLUEGREEN,
    remediationSteps: "declare the policies with infra/orchestratorPolicies.ts (advancePolicyDocument and the machines' documents); do not widen them",
  },
  ["aws:iam/rolePolicy:RolePolicy"],
  (props, args) => {
    // infra/orchestrator.ts names them "<component>-<role>-policy", the component "orchestrator".
    const role = /(?:^|-)orchestrator-(advance|rollout|release)-policy$/.exec(args.name)?.[1] as Role | undefined;
    if (!role) return null;
    if (typeof props.policy !== "string") return null; // unknown during preview: checked at update
    let document: unknown;
    try {
      document = JSON.parse(props.policy);
    } catch {
      return "the policy is not JSON";
    }
    const problems = orchestratorPolicyProblems(role, document);
    return problems.length > 0 ? problems.join("; ") : null;
  },
);
