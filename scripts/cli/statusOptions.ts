// `npm run status`'s option table and the checks of its values, made before anything is read.

import { addStackOptions, program, type Io } from "./args.js";
import { UsageError } from "./common.js";

export interface StatusOptions {
  stack?: string;
  outputs?: string;
  config?: string;
  json?: boolean;
  allowUnverifiedStack?: boolean;
  deadline?: string;
  watch?: boolean;
  interval?: string;
}

/** status answers within this long unless told otherwise: well under the SDK's own retry bound (~31 s). */
export const DEFAULT_DEADLINE_SECONDS = 20;
const DEFAULT_INTERVAL_SECONDS = 10;
/** A watch stops by itself after a day of frames. */
export const WATCH_MAX_MS = 24 * 3_600_000;

/** The command line: the stack options, --deadline, --watch and --interval. */
export function statusFlags(io: Io) {
  return addStackOptions(
    program(
      "status",
      "Live weights beside the weights parameter (what `pulumi up` applies) and the config seed, and which differ; target health, alarms, fence, lock holder, last run; replication in database.mode paired. Read-only.",
      io,
    ),
  )
    .option(
      "--deadline <seconds>",
      `answer within this long: print what was read by then, the rest as not answered, and exit 3 (default ${DEFAULT_DEADLINE_SECONDS}; with --watch, per refresh)`,
    )
    .option("--watch", "redraw until the run ends or Ctrl-C, with each color's recent 5xx rate and slow share and the judge's evidence")
    .option("--interval <seconds>", `with --watch: seconds between refreshes, 1..3600 (default ${DEFAULT_INTERVAL_SECONDS})`);
}

/** --interval's seconds (only with --watch), else the default. */
export function parseInterval(options: StatusOptions): number {
  if (options.interval === undefined) return DEFAULT_INTERVAL_SECONDS;
  if (!options.watch) throw new UsageError("--interval is for --watch (see --help)");
  const seconds = Number(options.interval);
  if (!/^\d+$/.test(options.interval) || seconds < 1 || seconds > 3600)
    throw new UsageError(`--interval ${options.interval}: must be an integer 1..3600 (seconds)`);
  return seconds;
}
