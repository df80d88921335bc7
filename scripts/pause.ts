#!/usr/bin/env node
// `npm run pause`: see scripts/cli/pauseMain.ts.
import { runMain } from "./cli/common.js";
import { pauseMain } from "./cli/pauseMain.js";

runMain(() => pauseMain(process.argv.slice(2)));
