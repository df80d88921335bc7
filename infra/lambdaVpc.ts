// The EC2 actions a Lambda function's execution role needs for the function to run in a VPC:
// those of the AWS managed policy AWSLambdaVPCAccessExecutionRole (v3, 2024-01-05), less its
// logs actions (the guard's own log permissions are narrower). Dependency-free: the program
// grants them (infra/guard.ts) and the policy pack checks them (policy/rules/guard-least-privilege.ts)
// from this one list. DescribeNetworkInterfaces and DescribeSubnets work on "*" only.
export const LAMBDA_VPC_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
] as const;
