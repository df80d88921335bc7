// Our own (README "Security", the security-group chain): nothing but the application load
// balancer is reachable from the internet. A security group that accepts 0.0.0.0/0 or ::/0
// inbound may be attached to application load balancers only; instances, launch templates and
// databases reach the internet's traffic through the ALB's group, never directly.
//
// A stack rule: which group a rule opens, and who uses that group, are references between
// resources. They are read from the engine's property dependencies (known at preview, before any
// id exists), so the rule judges a new stack as well as a deployed one.
import type { PolicyResource, ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { BLUEGREEN, isApplicationLoadBalancer, T } from "../support.js";

const ANYWHERE = new Set(["0.0.0.0/0", "::/0"]);
const RULE_TYPES = new Set<string>([T.ingressRule, T.egressRule, T.securityGroupRule]);

const opensToAnywhere = (values: unknown): boolean => Array.isArray(values) && values.some((v) => ANYWHERE.has(String(v)));

/** The security groups that some rule opens to the whole internet, by URN. */
export function openGroups(resources: readonly PolicyResource[]): Map<string, string> {
  const open = new Map<string, string>();
  for (const resource of resources) {
    const p = resource.props;
    let groups: PolicyResource[] = [];
    let why = "";
    if (resource.type === T.ingressRule && (ANYWHERE.has(p.cidrIpv4) || ANYWHERE.has(p.cidrIpv6))) {
      groups = resource.propertyDependencies.securityGroupId ?? [];
      why = `${resource.name} allows ${p.cidrIpv4 ?? p.cidrIpv6} on port ${p.fromPort ?? "all"}`;
    } else if (resource.type === T.securityGroupRule && p.type === "ingress" && (opensToAnywhere(p.cidrBlocks) || opensToAnywhere(p.ipv6CidrBlocks))) {
      groups = resource.propertyDependencies.securityGroupId ?? [];
      why = `${resource.name} allows the internet on port ${p.fromPort ?? "all"}`;
    } else if (
      resource.type === T.securityGroup &&
      (p.ingress ?? []).some((rule: Record<string, unknown>) => opensToAnywhere(rule.cidrBlocks) || opensToAnywhere(rule.ipv6CidrBlocks))
    ) {
      groups = [resource];
      why = `${resource.name} has an inline rule open to the internet`;
    }
    for (const group of groups) if (group.type === T.securityGroup) open.set(group.urn, why);
  }
  return open;
}

export const onlyAlbOpenToInternet: StackValidationPolicy = {
  name: "only-alb-open-to-internet",
  description: "Only application load balancers use a security group that accepts traffic from 0.0.0.0/0 or ::/0.",
  enforcementLevel: "mandatory",
  severity: "critical",
  framework: BLUEGREEN,
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const open = openGroups(args.resources);
    if (open.size === 0) return;
    for (const resource of args.resources) {
      if (RULE_TYPES.has(resource.type)) continue;
      if (resource.type === T.loadBalancer && isApplicationLoadBalancer(resource.props)) continue;
      for (const [property, dependencies] of Object.entries(resource.propertyDependencies)) {
        for (const group of dependencies) {
          const why = open.get(group.urn);
          if (why === undefined || group.urn === resource.urn) continue;
          report(
            `${resource.type} ${resource.name} uses security group ${group.name} (${property}), which is open to the internet (${why}): only the ALB may be`,
            resource.urn,
          );
        }
      }
    }
  },
};
