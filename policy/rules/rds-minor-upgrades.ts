// FSBP RDS.13: automatic minor version upgrades on (security patches of the engine).
import { fsbp, resourceRule, T } from "../support.js";

export const rdsMinorUpgrades = resourceRule(
  {
    name: "rds-auto-minor-version-upgrade",
    description: "RDS instances take automatic minor version upgrades.",
    enforcementLevel: "mandatory",
    severity: "high",
    framework: fsbp("RDS.13"),
  },
  [T.dbInstance],
  // The provider's default is true: only an explicit false fails.
  (props) => (props.autoMinorVersionUpgrade === false || props.autoMinorVersionUpgrade === "false" ? "autoMinorVersionUpgrade is false" : null),
);
