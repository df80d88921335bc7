#!/usr/bin/env node
// The real demo command line (scripts/demo.ts) with a failure injected by the test harness:
//   node --import tsx test/support/demoWithFaultPlan.ts <after-start|mid-cutover> [demo flags…]
// Flags, printer, signals and exit codes are the product's; only the fault plan is the test's.

import { type ExitCode, runMain } from "../../scripts/cli/common.js";
import { demoMain } from "../../scripts/cli/demoMain.js";
import { FAULT_PLANS } from "./demoFaultPlans.js";

const [planName = "", ...argv] = process.argv.slice(2);
const faultPlan = FAULT_PLANS[planName];
if (!faultPlan) {
  process.stderr.write(`unknown fault plan "${planName}" (one of ${Object.keys(FAULT_PLANS).join(", ")})\n`);
  process.exit(2);
}
runMain(async () => {
  try {
    return (await demoMain(argv, { faultPlan })) as ExitCode;
  } finally {
    setTimeout(() => process.exit(), 1000).unref();
  }
});
