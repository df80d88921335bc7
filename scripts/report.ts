#!/usr/bin/env node
// `npm run report`: see scripts/cli/reportMain.ts.
import { runMain } from "./cli/common.js";
import { reportMain } from "./cli/reportMain.js";

runMain(() => reportMain(process.argv.slice(2)));
