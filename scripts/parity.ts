#!/usr/bin/env node
// `npm run parity`: see scripts/cli/parityMain.ts.
import { runMain } from "./cli/common.js";
import { parityMain } from "./cli/parityMain.js";

runMain(() => parityMain(process.argv.slice(2)));
