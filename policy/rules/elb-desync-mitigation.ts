// FSBP ELB.12: HTTP desync mitigation in defensive or strictest mode; "monitor" lets desync
// (request smuggling) attempts through. Absent means the AWS default, defensive.
import { fsbp, isApplicationLoadBalancer, resourceRule, T } from "../support.js";

export const elbDesyncMitigation = resourceRule(
  {
    name: "elb-desync-mitigation",
    description: "Application load balancers use desync mitigation mode defensive or strictest.",
    enforcementLevel: "mandatory",
    severity: "medium",
    framework: fsbp("ELB.12"),
  },
  [T.loadBalancer],
  (props) => {
    const mode = props.desyncMitigationMode;
    if (!isApplicationLoadBalancer(props) || mode === undefined || mode === "defensive" || mode === "strictest") return null;
    return `desyncMitigationMode is "${mode}"; it must be "defensive" or "strictest"`;
  },
);
