// `npm run demo`'s flags: the option table (one entry per flag, in --help's order) and their
// checks, turned into runDemo's options before anything starts (a bad flag is exit 2).

import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { Option, type Command } from "commander";
import { UsageError } from "./common.js";
import { processIo, program } from "./args.js";
import { parseDuration, parseFault, parseShare, type FaultSpec } from "../../sample-app/faults.js";
import type { DemoOptions } from "../demo/demo.js";

export interface DemoFlags {
  database: "shared" | "paired";
  fault?: FaultSpec;
  faultAfter: string;
  backgroundErrorRate?: string;
  timings: "demo" | "ci";
  rate?: string;
  reports?: string;
  reportsDir?: string;
  json: boolean;
  runId?: string;
  dataChecksOnly?: boolean;
  migration?: boolean;
  pause?: boolean;
  orchestrated?: boolean;
  blueInstances?: string;
  greenInstances?: string;
  capacity: "check" | "match";
}

const asUsageError = <T>(read: () => T): T => {
  try {
    return read();
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)} (see --help)`);
  }
};

// ---- the option table: every flag of `npm run demo`, in --help's order ----
function demoOptionTable(): Option[] {
  return [
    new Option(
      "--database <mode>",
      "shared: one database, canary steps 5% → 25% → 100%; paired: one per color, replicated both ways, cutover → rollback → cutover behind the write fence",
    )
      .choices(["shared", "paired"])
      .default("shared"),
    new Option(
      "--fault <name=value>",
      "make green misbehave once it takes traffic: error-rate=<share> (e.g. 0.2), error-rate=<n>x (n times the background rate, e.g. 10x), latency=<duration> (e.g. 800ms), or crash (green's process killed); repeatable",
    ).argParser((value: string, previous: FaultSpec | undefined) => asUsageError(() => parseFault(value, previous))),
    new Option("--fault-after <duration>", "delay from green's first verified step to the fault's onset").default("1s"),
    new Option(
      "--migration",
      "green v2 needs a new column: lint, expand in the cutover's migrating phase, a cutover with a fault (default error-rate=0.2) rolled back while blue serves on the expanded schema, a clean cutover, contract (docs/migrations.md); with --database paired, on two replicated databases, with lost writes counted on both sides",
    ),
    new Option(
      "--pause",
      "shared: the cutover pauses at 25% and exits; then a fault on green (--fault, default error-rate=0.3) and the guard rolls back with no operator process",
    ).default(false),
    new Option(
      "--orchestrated",
      "shared: the rollout driven by the sandbox's stand-in for Step Functions (a timed pause, a promote, the guard during a wait)",
    ).default(false),
    new Option("--blue-instances <n>", "app processes for blue behind the router, 1..4 (default 1; 2 when only --green-instances is given)"),
    new Option(
      "--green-instances <n>",
      "app processes for green, 1..4 (default 1; 2 when only --blue-instances is given); fewer than blue's: the capacity check stops the cutover before green gets more than it can carry",
    ),
    new Option("--capacity <mode>", "check: stop a green too small for its next share; match: first start green processes up to blue's")
      .choices(["check", "match"])
      .default("check"),
    new Option("--background-error-rate <share>", "both colors answer this share of requests 500 all along, as a real service does (e.g. 0.005 or 0.5%)"),
    new Option(
      "--timings <profile>",
      "demo: the 5% step bakes 12 s (30 s with --background-error-rate), later steps 5 s, monitoring 5 s; ci: the same, monitoring 3 s",
    )
      .choices(["demo", "ci"])
      .default("demo"),
    new Option("--rate <n>", "requests per second of steady load (default 300; paired: 450, 55% writes)"),
    new Option("--reports <dir>", "where the report goes (default: reports)"),
    new Option("--reports-dir <dir>", "the same as --reports").hideHelp(),
    new Option("--json", "print the result as one JSON document on stdout (engine events as JSON lines before it)").default(false),
    new Option("--run-id <id>", "name of this run (tests)").hideHelp(),
    new Option("--data-checks-only", "paired: stop after the sync and parity checks").hideHelp(),
  ];
}
// ---- end of the option table ----

export function demoProgram(): Command {
  const command = program(
    "demo",
    "Blue/green on one machine: real PostgreSQL, two app versions, a weighted router, real load, the production cutover engine.",
    processIo(),
  );
  for (const option of demoOptionTable()) command.addOption(option);
  return command.addHelpText(
    "after",
    "\nExit codes: 0 the scenario behaved as expected, 1 it did not, 2 bad input, 3 something could not start, 130 interrupted.",
  );
}

/** The run's options from checked flags (everything but the printer, the signal and the test seams); throws UsageError. */
export async function demoRunOptions(flags: DemoFlags): Promise<DemoOptions> {
  const rate = flags.rate === undefined ? undefined : Number(flags.rate);
  if (rate !== undefined && (!Number.isInteger(rate) || rate < 50 || rate > 5000))
    throw new UsageError(`--rate must be an integer between 50 and 5000, got "${flags.rate}" (see --help)`);
  const faultAfterMs = asUsageError(() => parseDuration(flags.faultAfter));
  const backgroundErrorRate = asUsageError(() =>
    flags.backgroundErrorRate === undefined ? 0 : parseShare(flags.backgroundErrorRate, "--background-error-rate"),
  );
  if (backgroundErrorRate >= 0.5)
    throw new UsageError(
      `--background-error-rate must be below 0.5 (a service failing half its requests has no normal to compare with), got ${flags.backgroundErrorRate} (see --help)`,
    );
  if (flags.fault?.errorRateFactor !== undefined && backgroundErrorRate === 0) {
    throw new UsageError(
      `--fault error-rate=${flags.fault.errorRateFactor}x is relative to the background error rate: add --background-error-rate, e.g. 0.005 (see --help)`,
    );
  }
  if (flags.orchestrated && (flags.database === "paired" || flags.pause || flags.migration))
    throw new UsageError("--orchestrated runs its own scenario on the shared database: drop --database paired, --pause and --migration (see --help)");
  if (flags.pause && flags.database === "paired")
    throw new UsageError(
      "--pause runs the shared database's canary (a paired switch is all at once, with nothing to pause at); drop --database paired (see --help)",
    );
  const instances = demoInstances(flags.blueInstances, flags.greenInstances);
  const reportsDir = await checkReportsDir(flags.reports ?? flags.reportsDir ?? "reports");
  return {
    database: flags.database,
    fault: flags.fault ?? null,
    faultAfterMs,
    backgroundErrorRate,
    timings: flags.timings,
    ...(rate !== undefined ? { ratePerSecond: rate } : {}),
    reportsDir,
    ...(flags.runId ? { runId: flags.runId } : {}),
    ...(flags.dataChecksOnly ? { pairedDataChecksOnly: true } : {}),
    ...(flags.migration ? { migration: true } : {}),
    ...(flags.pause ? { pause: true } : {}),
    ...(flags.orchestrated ? { orchestrated: true } : {}),
    ...(instances.blue !== 1 || instances.green !== 1 ? { instances } : {}),
    ...(flags.capacity === "match" ? { capacityMode: "match" as const } : {}),
  };
}

/** The reports directory must be a directory we can write, or creatable: checked before anything starts. */
async function checkReportsDir(dir: string): Promise<string> {
  const path = resolve(dir);
  let probe = path;
  for (let i = 0; i < 64; i++) {
    try {
      const info = await stat(probe);
      if (!info.isDirectory()) throw new UsageError(`--reports ${dir}: ${probe} is not a directory`);
      await access(probe, constants.W_OK).catch(() => {
        throw new UsageError(`--reports ${dir}: ${probe} is not writable`);
      });
      return path;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new UsageError(`--reports ${dir}: ${(error as Error).message}`);
      const parent = dirname(probe);
      if (parent === probe) break;
      probe = parent; // created by the demo with its missing parents
    }
  }
  throw new UsageError(`--reports ${dir}: no existing parent directory`);
}

/**
 * App processes per color. Neither flag: one each (the quickest sandbox). One flag alone sizes
 * that color against a pool of 2 for the other, like an Auto Scaling group of two: so
 * `--green-instances 1` alone is the capacity refusal, and with `--capacity match` the scale-up.
 */
export function demoInstances(blue: string | undefined, green: string | undefined): { blue: number; green: number } {
  const given = (value: string, flag: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 4) throw new UsageError(`${flag} must be an integer between 1 and 4, got "${value}" (see --help)`);
    return n;
  };
  if (blue === undefined && green === undefined) return { blue: 1, green: 1 };
  return { blue: blue === undefined ? 2 : given(blue, "--blue-instances"), green: green === undefined ? 2 : given(green, "--green-instances") };
}
