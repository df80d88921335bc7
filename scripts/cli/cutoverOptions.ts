// `npm run cutover`'s option table and the flag combinations it refuses before anything is read.

import { addStackOptions, program, type Io } from "./args.js";
import { UsageError } from "./common.js";

export interface CutoverOptions {
  stack?: string;
  outputs?: string;
  config?: string;
  json?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  resume?: boolean;
  now?: boolean;
  skipSnapshot?: string;
  webhook?: string;
  allowUnverifiedStack?: boolean;
  writeConfig?: boolean;
  offline?: boolean;
  reports: string;
}

export function cutoverFlags(io: Io) {
  return addStackOptions(program("cutover", "Move production traffic from blue to green in verified, gated steps; roll back by itself on any breach.", io))
    .option("--yes", "do not ask for PROCEED (unattended runs)")
    .option("--dry-run", "print the plan (from live weights) and change nothing")
    .option("--offline", "with --dry-run: the plan from the config alone (no AWS call, no stack outputs, no credentials); says what it could not read")
    .option("--resume", "continue the unfinished cutover in the journal (after a crash, or a paused step: like `npm run promote`)")
    .option("--now", "with --resume: continue a timed pause before its time is up")
    .option("--skip-snapshot <reason>", "skip the snapshot of blue's database; the reason is recorded in the journal and report")
    .option("--webhook <url>", "POST Slack-compatible JSON events here (default: rollout.webhookUrl)")
    .option("--write-config", "also write each weight reached into Pulumi.<stack>.yaml traffic.weights (the stack's SSM weights parameter is their owner)")
    .option("--reports <dir>", "where reports are written", "reports");
}

/** Flags that do not go together, or need a value that says something: exit 2 before any file or AWS call. */
export function checkCutoverFlagCombinations(options: CutoverOptions): void {
  if (options.skipSnapshot !== undefined && options.skipSnapshot.trim() === "")
    throw new UsageError('--skip-snapshot needs a reason, e.g. --skip-snapshot "snapshot taken by hand at 09:12"');
  if (options.dryRun && options.resume)
    throw new UsageError(
      "--dry-run and --resume do not go together: --dry-run previews a new cutover from the live weights; `npm run status` shows the unfinished run",
    );
  if (options.now && !options.resume)
    throw new UsageError("--now goes only with --resume: it continues a timed pause early (or use `npm run promote -- --now`)");
  if (options.offline && !options.dryRun) throw new UsageError("--offline goes only with --dry-run: a cutover cannot run without AWS");
}
