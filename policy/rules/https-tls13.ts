// Our own (README "Security"): every HTTPS listener negotiates with a TLS 1.3 policy whose
// minimum is TLS 1.2 (infra/config.ts TLS13_POLICY, the rule the config schema applies too).
import { TLS13_POLICY } from "../../infra/config.js";
import { BLUEGREEN, resourceRule, T } from "../support.js";

export const httpsTls13 = resourceRule(
  {
    name: "https-listener-tls13-policy",
    description: "HTTPS listeners use an ELBSecurityPolicy-TLS13-1-2-* (or -1-3-*) policy.",
    enforcementLevel: "mandatory",
    severity: "high",
    framework: BLUEGREEN,
  },
  [T.listener],
  (props) => {
    if (props.protocol !== "HTTPS" && props.protocol !== "TLS") return null;
    const policy = props.sslPolicy;
    return typeof policy === "string" && TLS13_POLICY.test(policy)
      ? null
      : `${props.protocol} listener with sslPolicy ${policy === undefined ? "not set (the ALB default allows TLS 1.0)" : `"${policy}"`}; use ELBSecurityPolicy-TLS13-1-2-2021-06 or newer`;
  },
);
