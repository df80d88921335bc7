// FSBP ELB.13: the load balancer spans at least two availability zones. The AZ of a subnet id is
// not known at preview, so the rule counts subnets: two or more (the config schema already
// requires them in different zones). An ALB cannot be created with fewer, a network LB can.
import { fsbp, resourceRule, T } from "../support.js";

export const elbMultiAz = resourceRule(
  {
    name: "elb-multi-az",
    description: "Load balancers are placed in at least two subnets (availability zones).",
    enforcementLevel: "mandatory",
    severity: "medium",
    framework: fsbp("ELB.13"),
  },
  [T.loadBalancer],
  (props) => {
    const count = Math.max((props.subnets ?? []).length, (props.subnetMappings ?? []).length);
    return count >= 2 ? null : `is placed in ${count} subnet(s); it needs at least 2 in different availability zones`;
  },
);
