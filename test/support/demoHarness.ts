// The real demo command line (scripts/demo.ts's runMain over demoMain) with what a test harness
// injects through demoMain's seams: the product's flags, printer, signals and exit codes.

import { type ExitCode, runMain } from "../../scripts/cli/common.js";
import { demoMain, type DemoSeams } from "../../scripts/cli/demoMain.js";

/** Runs the demo with `argv` and `seams` as scripts/demo.ts runs it with none. */
export function runDemoWithSeams(argv: readonly string[], seams: DemoSeams): void {
  runMain(async () => {
    try {
      return (await demoMain(argv, seams)) as ExitCode;
    } finally {
      setTimeout(() => process.exit(), 1000).unref();
    }
  });
}
