// FSBP EC2.2: the VPC's default security group allows no traffic, so nothing attached to it by
// default (a forgotten ENI, a test instance) is reachable or can reach out.
import { fsbp, resourceRule, T } from "../support.js";

export const ec2DefaultSecurityGroupClosed = resourceRule(
  {
    name: "ec2-default-security-group-closed",
    description: "The VPC default security group has no inbound and no outbound rules.",
    enforcementLevel: "mandatory",
    severity: "high",
    framework: fsbp("EC2.2"),
  },
  [T.defaultSecurityGroup],
  (props) => {
    const inbound = (props.ingress ?? []).length;
    const outbound = (props.egress ?? []).length;
    return inbound + outbound === 0 ? null : `has ${inbound} inbound and ${outbound} outbound rule(s); it must have none`;
  },
);
