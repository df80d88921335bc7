// FSBP RDS.3: storage encrypted at rest (and with it snapshots and replicas). Off is the RDS
// default, so an absent value fails too.
import { fsbp, isTrue, resourceRule, T } from "../support.js";

export const rdsEncrypted = resourceRule(
  {
    name: "rds-storage-encrypted",
    description: "RDS instances encrypt their storage (storageEncrypted true).",
    enforcementLevel: "mandatory",
    severity: "high",
    framework: fsbp("RDS.3"),
  },
  [T.dbInstance],
  (props) => (isTrue(props.storageEncrypted) ? null : `storageEncrypted is ${props.storageEncrypted ?? "not set (RDS default: unencrypted)"}`),
);
