// `npm run rollback`'s option table and its values read: the deadline and the read-back timeout.

import { parseDeadlineSeconds } from "../app/policies/deadline.js";
import { addStackOptions, program, type Io } from "./args.js";
import { UsageError } from "./common.js";

/** The runbook promises traffic back on blue in under two minutes; the default leaves room to act on the answer. */
const DEFAULT_DEADLINE_SECONDS = 60;

/** Parse --deadline: seconds, a number 1..3600 (fractions allowed for tests and scripts). */
export function parseDeadline(value: string | undefined): number {
  return parseDeadlineSeconds(value, DEFAULT_DEADLINE_SECONDS);
}

export interface RollbackOptions {
  stack?: string;
  outputs?: string;
  config?: string;
  json?: boolean;
  force?: boolean;
  reason?: string;
  webhook?: string;
  verifyTimeout?: string;
  deadline?: string;
  allowUnverifiedStack?: boolean;
  plainFlip?: boolean;
  dryRun?: boolean;
  writeConfig?: boolean;
  reports: string;
}

export function rollbackFlags(io: Io) {
  return addStackOptions(program("rollback", "Send all traffic back to blue, from any state, verified by reading back. Idempotent.", io))
    .option(
      "--force",
      "break a lock held by another operation (recorded); that operation stops touching traffic (a dead process on this host is taken over without it)",
    )
    .option("--reason <text>", "why (recorded in the journal and report)")
    .option("--webhook <url>", "POST Slack-compatible JSON events here (default: rollout.webhookUrl)")
    .option("--verify-timeout <seconds>", "how long the read-back may take when the journal holds no plan (default 60; a run's plan carries its own)")
    .option("--deadline <seconds>", `stop after this long whatever happens, report the live weights last read (default ${DEFAULT_DEADLINE_SECONDS})`)
    .option("--plain-flip", "database.mode paired: flip without the fence and the green → blue catch-up (writes made on green since the switch stay there)")
    .option("--dry-run", "read the live weights and print the calls a rollback would make; change nothing")
    .option("--write-config", "also write the weights reached into Pulumi.<stack>.yaml traffic.weights (the stack's SSM weights parameter is their owner)")
    .option("--reports <dir>", "where reports are written", "reports");
}

/** --verify-timeout in milliseconds: an integer 1..600 seconds. */
export function verifyTimeoutMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 600) throw new UsageError(`--verify-timeout ${value}: must be an integer 1..600 (seconds)`);
  return seconds * 1000;
}
