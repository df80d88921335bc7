// FSBP RDS.2: database instances are not publicly accessible (no public DNS address).
import { fsbp, isTrue, resourceRule, T } from "../support.js";

export const rdsNotPublic = resourceRule(
  {
    name: "rds-not-publicly-accessible",
    description: "RDS instances are not publicly accessible.",
    enforcementLevel: "mandatory",
    severity: "critical",
    framework: fsbp("RDS.2"),
  },
  [T.dbInstance],
  (props) => (isTrue(props.publiclyAccessible) ? "publiclyAccessible is true" : null),
);
