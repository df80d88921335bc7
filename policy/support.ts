// What the rules share: resource type tokens, the compliance framework they cite, and how a
// violation is written. One rule per file in rules/ (the cdk-nag layout); policies.ts lists them.
import type { PolicyComplianceFramework, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";

export const T = {
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  instance: "aws:ec2/instance:Instance",
  subnet: "aws:ec2/subnet:Subnet",
  defaultSecurityGroup: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  dbInstance: "aws:rds/instance:Instance",
  loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
  listener: "aws:lb/listener:Listener",
} as const;

/** AWS Security Hub, AWS Foundational Security Best Practices (FSBP) v1.0.0. */
export function fsbp(control: string): PolicyComplianceFramework {
  return {
    name: "AWS Foundational Security Best Practices",
    version: "1.0.0",
    reference: control,
    specification: `https://docs.aws.amazon.com/securityhub/latest/userguide/`,
  };
}

/** The project's own rules (README "Security"). */
export const BLUEGREEN: PolicyComplianceFramework = { name: "bluegreen", version: "1", reference: "README Security", specification: "README.md" };

/** A rule that looks at one resource type (or a few) and reports what is wrong with it. */
export function resourceRule(
  policy: Omit<ResourceValidationPolicy, "validateResource">,
  types: readonly string[],
  check: (props: Record<string, any>, args: ResourceValidationArgs) => string | null,
): ResourceValidationPolicy {
  return {
    ...policy,
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      if (!types.includes(args.type)) return;
      const problem = check(args.props, args);
      if (problem !== null) report(`${args.name}: ${problem}`);
    },
  };
}

/** An application load balancer (the default type when none is given). */
export function isApplicationLoadBalancer(props: Record<string, any>): boolean {
  return props.loadBalancerType === undefined || props.loadBalancerType === "application";
}

/** Provider inputs arrive as booleans or, in a few nested blocks (launch templates), as "true"/"false" strings. */
export function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}
