// The policy pack's rules, one per file in rules/ (the cdk-nag layout). index.ts builds the pack
// from this list; the tests run each rule against the Pulumi program under mocks.
import type { Policies } from "@pulumi/policy";
import { ec2DefaultSecurityGroupClosed } from "./rules/ec2-default-sg-closed.js";
import { ec2Imdsv2 } from "./rules/ec2-imdsv2.js";
import { ec2NoPublicIp } from "./rules/ec2-no-public-ip.js";
import { ec2SubnetNoAutoPublicIp } from "./rules/ec2-subnet-no-auto-public-ip.js";
import { elbAccessLogs } from "./rules/elb-access-logs.js";
import { elbDesyncMitigation } from "./rules/elb-desync-mitigation.js";
import { elbDropInvalidHeaders } from "./rules/elb-drop-invalid-headers.js";
import { elbMultiAz } from "./rules/elb-multi-az.js";
import { guardLeastPrivilege } from "./rules/guard-least-privilege.js";
import { httpsTls13 } from "./rules/https-tls13.js";
import { orchestratorLeastPrivilege } from "./rules/orchestrator-least-privilege.js";
import { onlyAlbOpenToInternet } from "./rules/only-alb-open-to-internet.js";
import { rdsBackups } from "./rules/rds-backups.js";
import { rdsDeletionProtection } from "./rules/rds-deletion-protection.js";
import { rdsEncrypted } from "./rules/rds-encrypted.js";
import { rdsMinorUpgrades } from "./rules/rds-minor-upgrades.js";
import { rdsNotPublic } from "./rules/rds-not-public.js";

export const policies: Policies = [
  ec2Imdsv2,
  ec2NoPublicIp,
  ec2SubnetNoAutoPublicIp,
  ec2DefaultSecurityGroupClosed,
  rdsNotPublic,
  rdsEncrypted,
  rdsDeletionProtection,
  rdsBackups,
  rdsMinorUpgrades,
  elbDropInvalidHeaders,
  elbDesyncMitigation,
  elbMultiAz,
  elbAccessLogs,
  onlyAlbOpenToInternet,
  httpsTls13,
  guardLeastPrivilege,
  orchestratorLeastPrivilege,
];
