#!/usr/bin/env node
// `npm run migrate`: see scripts/cli/migrateMain.ts and docs/migrations.md.
import { runMain } from "./cli/common.js";
import { migrateMain } from "./cli/migrateMain.js";

runMain(() => migrateMain(process.argv.slice(2)));
