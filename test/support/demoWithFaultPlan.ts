#!/usr/bin/env node
// The real demo command line (scripts/demo.ts) with a failure injected by the test harness:
//   node --import tsx test/support/demoWithFaultPlan.ts <after-start|mid-cutover> [demo flags…]
// Flags, printer, signals and exit codes are the product's; only the fault plan is the test's.

import { FAULT_PLANS } from "./demoFaultPlans.js";
import { runDemoWithSeams } from "./demoHarness.js";

const [planName = "", ...argv] = process.argv.slice(2);
const faultPlan = FAULT_PLANS[planName];
if (!faultPlan) {
  process.stderr.write(`unknown fault plan "${planName}" (one of ${Object.keys(FAULT_PLANS).join(", ")})\n`);
  process.exit(2);
}
runDemoWithSeams(argv, { faultPlan });
