#!/usr/bin/env node
// `npm run promote`: see scripts/cli/promoteMain.ts.
import { runMain } from "./cli/common.js";
import { promoteMain } from "./cli/promoteMain.js";

runMain(() => promoteMain(process.argv.slice(2)));
