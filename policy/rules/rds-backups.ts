// FSBP RDS.11: automatic backups, kept at least 7 days (the control's default parameter
// minimumBackupRetentionPeriod; config database.backupRetentionDays allows 7..35).
import { fsbp, resourceRule, T } from "../support.js";

export const MIN_BACKUP_RETENTION_DAYS = 7;

export const rdsBackups = resourceRule(
  {
    name: "rds-automatic-backups",
    description: `RDS instances keep automatic backups for at least ${MIN_BACKUP_RETENTION_DAYS} days.`,
    enforcementLevel: "mandatory",
    severity: "medium",
    framework: fsbp("RDS.11"),
  },
  [T.dbInstance],
  (props) => {
    const days = Number(props.backupRetentionPeriod);
    return Number.isFinite(days) && days >= MIN_BACKUP_RETENTION_DAYS
      ? null
      : `backupRetentionPeriod is ${props.backupRetentionPeriod ?? "not set"}; it must be at least ${MIN_BACKUP_RETENTION_DAYS}`;
  },
);
