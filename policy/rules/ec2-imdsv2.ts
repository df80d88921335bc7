// FSBP EC2.8 (instances) / EC2.170 (launch templates): instances use IMDSv2 only. A session token
// is required for every metadata request, so an SSRF in the app cannot read the instance role's
// credentials with a plain GET.
import { fsbp, resourceRule, T } from "../support.js";

export const ec2Imdsv2 = resourceRule(
  {
    name: "ec2-imdsv2-required",
    description: "EC2 instances and launch templates require IMDSv2 (metadataOptions.httpTokens = required).",
    enforcementLevel: "mandatory",
    severity: "high",
    framework: fsbp("EC2.8"),
    remediationSteps: 'set metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 }',
  },
  [T.launchTemplate, T.instance],
  (props) => {
    const tokens = props.metadataOptions?.httpTokens;
    if (props.metadataOptions?.httpEndpoint === "disabled") return null;
    return tokens === "required"
      ? null
      : `metadataOptions.httpTokens is ${tokens === undefined ? "not set (IMDSv1 allowed)" : `"${tokens}"`}; it must be "required"`;
  },
);
