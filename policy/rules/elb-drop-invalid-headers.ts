// FSBP ELB.4: the ALB drops HTTP headers that are not valid, instead of passing them to the app
// (request smuggling and header-injection vectors).
import { fsbp, isApplicationLoadBalancer, isTrue, resourceRule, T } from "../support.js";

export const elbDropInvalidHeaders = resourceRule(
  {
    name: "elb-drop-invalid-header-fields",
    description: "Application load balancers drop invalid HTTP headers (dropInvalidHeaderFields true).",
    enforcementLevel: "mandatory",
    severity: "medium",
    framework: fsbp("ELB.4"),
  },
  [T.loadBalancer],
  (props) =>
    !isApplicationLoadBalancer(props) || isTrue(props.dropInvalidHeaderFields)
      ? null
      : `dropInvalidHeaderFields is ${props.dropInvalidHeaderFields ?? "not set (default false)"}`,
);
