// FSBP ELB.5: access logging. Advisory, not mandatory: the logs need an S3 bucket whose policy lets
// the regional ELB account write to it, which this stack does not create (loadBalancer.accessLogs
// names an existing one), so a stack without one is reported but not stopped.
import { fsbp, isApplicationLoadBalancer, isTrue, resourceRule, T } from "../support.js";

export const elbAccessLogs = resourceRule(
  {
    name: "elb-access-logs",
    description: "Application load balancers write access logs to S3 (config loadBalancer.accessLogs).",
    enforcementLevel: "advisory",
    severity: "medium",
    framework: fsbp("ELB.5"),
    remediationSteps: "set bluegreen:loadBalancer.accessLogs.bucket to a bucket the ELB service may write to",
  },
  [T.loadBalancer],
  (props) => (!isApplicationLoadBalancer(props) || (isTrue(props.accessLogs?.enabled) && props.accessLogs?.bucket) ? null : "writes no access logs"),
);
