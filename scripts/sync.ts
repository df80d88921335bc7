#!/usr/bin/env node
// `npm run sync`: see scripts/cli/syncMain.ts.
import { runMain } from "./cli/common.js";
import { syncMain } from "./cli/syncMain.js";

runMain(() => syncMain(process.argv.slice(2)));
