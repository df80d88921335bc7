// `npm run promote`'s option table and the flag combinations it refuses before anything is read.

import { addStackOptions, program, type Io } from "./args.js";
import { UsageError } from "./common.js";

export interface PromoteOptions {
  stack?: string;
  outputs?: string;
  config?: string;
  json?: boolean;
  now?: boolean;
  whenDue?: boolean;
  scaleDownBlue?: boolean;
  webhook?: string;
  allowUnverifiedStack?: boolean;
  reports: string;
}

export function promoteFlags(io: Io) {
  return addStackOptions(
    program("promote", "Continue a rollout paused at a step (same judge, evidence carried over); or scale blue down after a successful cutover.", io),
  )
    .option("--now", "continue a timed pause before its time is up (or scale blue down before blueKeepSeconds)")
    .option(
      "--when-due",
      "for a schedule (cron, a CI job every 15 minutes): continue a timed pause once its time is up; otherwise say why not and exit 0 with nothing changed (a `pause: promote` step still waits for an operator)",
    )
    .option(
      "--scale-down-blue",
      "after a successful cutover and rollout.blueKeepSeconds: set blue's desired capacity to its minimum (rollout.capacity.scaleDownBlue)",
    )
    .option("--webhook <url>", "POST Slack-compatible JSON events here (default: rollout.webhookUrl)")
    .option("--reports <dir>", "where reports are written", "reports");
}

/** --when-due is for a schedule: it never continues early nor scales blue down. */
export function checkPromoteFlagCombinations(options: PromoteOptions): void {
  if (options.whenDue && (options.now || options.scaleDownBlue))
    throw new UsageError("--when-due continues a timed pause only once it is due: it cannot be combined with --now or --scale-down-blue (see --help)");
}
