// FSBP EC2.9: instances have no public IPv4 address. They sit in private subnets behind the ALB;
// a public address would make them reachable around it.
import { fsbp, isTrue, resourceRule, T } from "../support.js";

export const ec2NoPublicIp = resourceRule(
  {
    name: "ec2-no-public-ip",
    description: "EC2 instances and launch templates do not assign a public IPv4 address.",
    enforcementLevel: "mandatory",
    severity: "high",
    framework: fsbp("EC2.9"),
  },
  [T.launchTemplate, T.instance],
  (props, args) => {
    if (args.type === T.instance) return isTrue(props.associatePublicIpAddress) ? "associatePublicIpAddress is true" : null;
    const interfaces: Array<Record<string, unknown>> = props.networkInterfaces ?? [];
    return interfaces.some((nic) => isTrue(nic.associatePublicIpAddress)) ? "a network interface sets associatePublicIpAddress" : null;
  },
);
