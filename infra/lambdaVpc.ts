// What a Lambda function of ours needs to run the lossless paired switch or rollback: the EC2
// actions for running in a VPC, and the paired statements of its role (the write fence, the
// databases' secrets, those network interfaces). Dependency-free: the program grants them
// (infra/guard.ts, infra/orchestratorPolicies.ts) and the policy pack checks them
// (policy/rules/guard-least-privilege.ts, policy/rules/orchestrator-least-privilege.ts) from
// this one place.
//
// LAMBDA_VPC_ACTIONS: those of the AWS managed policy AWSLambdaVPCAccessExecutionRole (v3,
// 2024-01-05), less its logs actions (each function's own log permissions are narrower).
// DescribeNetworkInterfaces and DescribeSubnets work on "*" only.
export const LAMBDA_VPC_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
] as const;

/** Blue's and green's master secrets and replication secrets: all a paired function reads. */
export const PAIRED_SECRET_COUNT = 4;

type Statement = { Sid: string; Effect: "Allow"; Action: string[]; Resource: string | string[] };

/**
 * The statements a paired function adds to its role: ModifyRule on the fence rules and
 * DescribeRules (their read-back; ELBv2 Describe* take no resource ARN), GetSecretValue on exactly
 * the four database secrets (default aws/secretsmanager key: no KMS grant), and the VPC's network
 * interfaces on "*" (Lambda creates and names them itself).
 */
export function pairedLambdaStatements(input: { fenceRuleArns: string[]; secretArns: string[] }, who: string): Statement[] {
  if (input.fenceRuleArns.length === 0) throw new Error(`the paired ${who} needs the stack's fence rules`);
  if (input.secretArns.length !== PAIRED_SECRET_COUNT)
    throw new Error(`the paired ${who} reads ${PAIRED_SECRET_COUNT} secrets, not ${input.secretArns.length}`);
  return [
    { Sid: "WriteFence", Effect: "Allow", Action: ["elasticloadbalancing:ModifyRule"], Resource: [...input.fenceRuleArns] },
    { Sid: "ReadBackFence", Effect: "Allow", Action: ["elasticloadbalancing:DescribeRules"], Resource: "*" },
    { Sid: "DatabaseCredentials", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [...input.secretArns] },
    // DescribeNetworkInterfaces works on "*" only; Lambda creates and names the interfaces itself.
    { Sid: "LambdaVpcNetworkInterfaces", Effect: "Allow", Action: [...LAMBDA_VPC_ACTIONS], Resource: "*" },
  ];
}

/** The paired actions and the resources each may name, for the policy pack's rules. */
export const PAIRED_LAMBDA_RESOURCES: Record<string, (resource: string) => boolean> = {
  "elasticloadbalancing:ModifyRule": (r) => /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener-rule\/app\/[^*]+$/.test(r),
  "elasticloadbalancing:DescribeRules": (r) => r === "*",
  "secretsmanager:GetSecretValue": (r) => /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^*?]+$/.test(r),
  ...Object.fromEntries(LAMBDA_VPC_ACTIONS.map((action) => [action, (r: string) => r === "*"])),
};
