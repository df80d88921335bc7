#!/usr/bin/env node
// `npm run status`: see scripts/cli/statusMain.ts.
import { runMain } from "./cli/common.js";
import { statusMain } from "./cli/statusMain.js";

runMain(() => statusMain(process.argv.slice(2)));
