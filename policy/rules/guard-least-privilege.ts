// The guard's Lambda (infra/guard.ts) may do exactly what its database mode's rollback does, and
// no more. Both modes: flip the production listeners (ModifyListener on their ARNs), read them
// back (DescribeListeners: ELBv2's Describe actions take no resource ARN), the stack's lock,
// journal and weights parameters (ssm Get/Put/DeleteParameter under /bluegreen/<project>/<stack>/),
// and write its own logs. database.mode paired adds the lossless rollback's calls: the fence rules
// (ModifyRule on listener-rule ARNs, DescribeRules), the databases' credentials (GetSecretValue
// on named secrets: at most the two master and two replication secrets, no wildcard) and the
// network-interface actions Lambda needs to run the function in the VPC. No wildcard action, no
// Deny-less "*" resource on a write, no other service.
//
// Which variant a document is: paired when it grants any paired-only action; it must then grant
// all of them (and the shared ones), a shared one none of them.
import { PAIRED_LAMBDA_RESOURCES, PAIRED_SECRET_COUNT } from "../../infra/lambdaVpc.js";
import { BLUEGREEN, resourceRule } from "../support.js";

type ResourceCheck = (resource: string) => boolean;

const SSM_PREFIX: ResourceCheck = (r) => /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/bluegreen\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/\*$/.test(r);
const OWN_LOGS: ResourceCheck = (r) => /^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:\/aws\/lambda\/[^*]+:\*$/.test(r);
const ANY: ResourceCheck = (r) => r === "*";

/** The shared-mode rollback's actions and what each may touch. */
const SHARED: Record<string, ResourceCheck> = {
  "elasticloadbalancing:ModifyListener": (r) => /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\/[^*]+$/.test(r),
  "elasticloadbalancing:DescribeListeners": ANY,
  "ssm:GetParameter": SSM_PREFIX,
  "ssm:PutParameter": SSM_PREFIX,
  "ssm:DeleteParameter": SSM_PREFIX,
  "logs:CreateLogStream": OWN_LOGS,
  "logs:PutLogEvents": OWN_LOGS,
};

/** What the paired rollback adds (the fence rules, the database secrets, Lambda's VPC networking): infra/lambdaVpc.ts. */
const PAIRED_ONLY: Record<string, ResourceCheck> = PAIRED_LAMBDA_RESOURCES;

/** Blue's and green's master secrets and replication secrets. */
const MAX_SECRETS = PAIRED_SECRET_COUNT;

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]);

/** Problems with a guard policy document (none when it is exactly least privilege for its variant). */
export function guardPolicyProblems(document: unknown): string[] {
  const problems: string[] = [];
  const raw = (document as { Statement?: unknown } | null)?.Statement;
  const statements: unknown[] = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (statements.length === 0) return ["the policy has no statements"];
  const allows = statements.map((entry) => entry as Record<string, unknown>).filter((statement) => statement.Effect === "Allow"); // a Deny only narrows
  const paired = allows.some((statement) => list(statement.Action).some((action) => action in PAIRED_ONLY));
  const allowed: Record<string, ResourceCheck> = paired ? { ...SHARED, ...PAIRED_ONLY } : SHARED;
  const granted = new Set<string>();
  const secrets = new Set<string>();
  for (const [i, statement] of allows.entries()) {
    const where = `statement ${typeof statement.Sid === "string" ? statement.Sid : i + 1}`;
    if (statement.NotAction !== undefined || statement.NotResource !== undefined) problems.push(`${where}: NotAction/NotResource grant more than they name`);
    for (const action of list(statement.Action)) {
      const check = allowed[action];
      if (!check) {
        problems.push(`${where}: ${action} is not something the rollback does`);
        continue;
      }
      granted.add(action);
      for (const resource of list(statement.Resource)) {
        if (!check(resource)) problems.push(`${where}: ${action} on ${resource} is wider than the rollback needs`);
        else if (action === "secretsmanager:GetSecretValue") secrets.add(resource);
      }
    }
  }
  if (secrets.size > MAX_SECRETS)
    problems.push(
      `secretsmanager:GetSecretValue on ${secrets.size} secrets: the rollback reads ${MAX_SECRETS} (each database's master and replication secret)`,
    );
  const missing = Object.keys(allowed).filter((action) => !granted.has(action));
  if (missing.length > 0) problems.push(`the ${paired ? "paired " : ""}rollback also needs ${missing.join(", ")}`);
  return problems;
}

export const guardLeastPrivilege = resourceRule(
  {
    name: "guard-least-privilege",
    description:
      "The guard's Lambda role allows exactly what the rollback calls: the listeners, their read-back, the stack's SSM parameters, its own logs; in paired mode also the fence rules, the four database secrets and Lambda's VPC network interfaces.",
    enforcementLevel: "mandatory",
    severity: "high",
    framework: BLUEGREEN,
    remediationSteps: "declare the guard's policy with guardPolicyDocument (infra/guard.ts); do not widen it",
  },
  ["aws:iam/rolePolicy:RolePolicy"],
  (props, args) => {
    // Only the guard's policy (infra/guard.ts names it "<component>-policy", the component "guard").
    if (!/(^|-)guard-policy$/.test(args.name)) return null;
    if (typeof props.policy !== "string") return null; // unknown during preview: checked at update
    let document: unknown;
    try {
      document = JSON.parse(props.policy);
    } catch {
      return "the policy is not JSON";
    }
    const problems = guardPolicyProblems(document);
    return problems.length > 0 ? problems.join("; ") : null;
  },
);
