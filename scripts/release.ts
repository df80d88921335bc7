#!/usr/bin/env node
// `npm run release`: see scripts/cli/releaseMain.ts.
import { runMain } from "./cli/common.js";
import { releaseMain } from "./cli/releaseMain.js";

runMain(() => releaseMain(process.argv.slice(2)));
