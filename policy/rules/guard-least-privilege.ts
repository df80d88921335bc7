// The guard's Lambda (infra/guard.ts) may do exactly what a shared-mode rollback does, and no
// more: flip the production listeners (ModifyListener on their ARNs), read them back
// (DescribeListeners: ELBv2's Describe actions take no resource ARN), the stack's lock, journal
// and weights parameters (ssm Get/Put/DeleteParameter under /bluegreen/<project>/<stack>/), and
// write its own logs. No wildcard action, no Deny-less "*" resource on a write, no other service.
import { BLUEGREEN, resourceRule } from "../support.js";

/** The actions and what each may touch. */
const ALLOWED: Record<string, (resource: string) => boolean> = {
  "elasticloadbalancing:ModifyListener": (r) => /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\//.test(r),
  "elasticloadbalancing:DescribeListeners": (r) => r === "*",
  "ssm:GetParameter": (r) => /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/bluegreen\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/\*$/.test(r),
  "ssm:PutParameter": (r) => /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/bluegreen\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/\*$/.test(r),
  "ssm:DeleteParameter": (r) => /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/bluegreen\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/\*$/.test(r),
  "logs:CreateLogStream": (r) => /^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:\/aws\/lambda\/[^*]+:\*$/.test(r),
  "logs:PutLogEvents": (r) => /^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:\/aws\/lambda\/[^*]+:\*$/.test(r),
};

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]);

/** Problems with a guard policy document (none when it is exactly least privilege). */
export function guardPolicyProblems(document: unknown): string[] {
  const problems: string[] = [];
  const raw = (document as { Statement?: unknown } | null)?.Statement;
  const statements: unknown[] = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (statements.length === 0) return ["the policy has no statements"];
  const granted = new Set<string>();
  for (const [i, entry] of statements.entries()) {
    const statement = entry as Record<string, unknown>;
    const where = `statement ${typeof statement.Sid === "string" ? statement.Sid : i + 1}`;
    if (statement.Effect !== "Allow") continue; // a Deny only narrows
    if (statement.NotAction !== undefined || statement.NotResource !== undefined) problems.push(`${where}: NotAction/NotResource grant more than they name`);
    for (const action of list(statement.Action)) {
      const allowed = ALLOWED[action];
      if (!allowed) {
        problems.push(`${where}: ${action} is not something the rollback does`);
        continue;
      }
      granted.add(action);
      for (const resource of list(statement.Resource)) if (!allowed(resource)) problems.push(`${where}: ${action} on ${resource} is wider than the rollback needs`);
    }
  }
  const missing = Object.keys(ALLOWED).filter((action) => !granted.has(action));
  if (missing.length > 0) problems.push(`the rollback also needs ${missing.join(", ")}`);
  return problems;
}

export const guardLeastPrivilege = resourceRule(
  {
    name: "guard-least-privilege",
    description: "The guard's Lambda role allows exactly what the rollback calls: the listeners, their read-back, the stack's SSM parameters, its own logs.",
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
