#!/usr/bin/env node
// `npm run rollback`: see scripts/cli/rollbackMain.ts.
import { runMain } from "./cli/common.js";
import { rollbackMain } from "./cli/rollbackMain.js";

runMain(() => rollbackMain(process.argv.slice(2)));
