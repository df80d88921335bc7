#!/usr/bin/env node
// `npm run cutover`: see scripts/cli/cutoverMain.ts.
import { runMain } from "./cli/common.js";
import { cutoverMain } from "./cli/cutoverMain.js";

runMain(() => cutoverMain(process.argv.slice(2)));
