// The bluegreen CrossGuard policy pack: `pulumi preview --policy-pack policy` (README "Security").
// Mandatory by default: a violation stops the preview/update. One rule (elb-access-logs) is
// advisory by its own default; any rule's level can be changed with --policy-pack-config.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies.js";

new PolicyPack("bluegreen", { enforcementLevel: "mandatory", policies });
