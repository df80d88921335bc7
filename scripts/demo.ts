#!/usr/bin/env node
// `npm run demo`: see scripts/cli/demoMain.ts and docs/demo.md.
import { type ExitCode, runMain } from "./cli/common.js";
import { demoMain } from "./cli/demoMain.js";

// runMain sets process.exitCode from the outcome. Everything the demo started is stopped by
// then; should anything still hold the event loop, leave after a second anyway.
runMain(async () => {
  try {
    return (await demoMain(process.argv.slice(2))) as ExitCode;
  } finally {
    setTimeout(() => process.exit(), 1000).unref();
  }
});
