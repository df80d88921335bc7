#!/usr/bin/env node
// `npm run maintenance`: see scripts/cli/maintenanceMain.ts.
import { runMain } from "./cli/common.js";
import { maintenanceMain } from "./cli/maintenanceMain.js";

runMain(() => maintenanceMain(process.argv.slice(2)));
