#!/usr/bin/env node
// `npm run abort`: see scripts/cli/abortMain.ts.
import { runMain } from "./cli/common.js";
import { abortMain } from "./cli/abortMain.js";

runMain(() => abortMain(process.argv.slice(2)));
