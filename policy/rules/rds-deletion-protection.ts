// FSBP RDS.8: deletion protection on, so neither a console click nor a `pulumi destroy` deletes a
// database holding production data.
import { fsbp, isTrue, resourceRule, T } from "../support.js";

export const rdsDeletionProtection = resourceRule(
  {
    name: "rds-deletion-protection",
    description: "RDS instances have deletion protection enabled.",
    enforcementLevel: "mandatory",
    severity: "low",
    framework: fsbp("RDS.8"),
  },
  [T.dbInstance],
  (props) => (isTrue(props.deletionProtection) ? null : `deletionProtection is ${props.deletionProtection ?? "not set (default false)"}`),
);
