#!/usr/bin/env node
// `npm run docs:examples` (`-- --check`): see scripts/cli/docsExamples.ts.
import { runMain, type ExitCode } from "./cli/common.js";
import { docsExamplesMain } from "./cli/docsExamples.js";

runMain(async () => (await docsExamplesMain(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() })) as ExitCode);
