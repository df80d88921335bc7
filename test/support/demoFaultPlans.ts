// Failures the tests inject into the demo (runDemo's faultPlan) to prove its clean-up: the demo's
// own code holds no failure switch.

import type { DemoFaultPlan } from "../../scripts/demo/demo.js";

/** Start-up fails once the sandbox is up (PostgreSQL, apps and router started), before the load. */
export const failAfterStart: DemoFaultPlan = {
  afterStart: () => {
    throw new Error("forced failure after start-up (test)");
  },
};

/** The run is aborted 300 ms after green's first share was verified: mid-cutover, while it bakes. */
export const failMidCutover: DemoFaultPlan = {
  onEngineEvent: (event, fail) => {
    if (event.type === "weights-verified" && event.ok && event.step === 0) fail("forced failure mid-cutover (test)", 300);
  },
};

export const FAULT_PLANS: Record<string, DemoFaultPlan> = { "after-start": failAfterStart, "mid-cutover": failMidCutover };
