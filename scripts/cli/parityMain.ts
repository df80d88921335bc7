// `npm run parity`: proves green's database holds the same data as blue's, or names the
// exact keys where it does not. A thin command line over scripts/postgres/parity/; see docs/parity.md.
// Ctrl-C (or SIGTERM) cancels the queries running on both servers, says how many, and exits 130;
// a second one exits at once.

import { ExitCode, UnreachableError, UsageError, outputMode } from "./common.js";
import { checkCommandLine } from "./flagValues.js";
import { buildProgram, parityOptions, type ParityFlags } from "./parityProgram.js";
import { progressPrinter } from "./parityProgress.js";
import { DEFAULT_REPORT_PATH, formatReport, ParityInterruptedError, runParity, writeReport, type ParityReport } from "../postgres/parity/index.js";

export { buildProgram } from "./parityProgram.js";

/** Flags parsed, or the exit code of --help / --version. */
function parseFlags(args: string[]): ParityFlags | ExitCode {
  const program = buildProgram();
  checkCommandLine(program, args);
  try {
    program.parse(args, { from: "user" });
  } catch (error) {
    const e = error as { code?: string; exitCode?: number };
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return ExitCode.ok;
    throw new UsageError((error as Error).message.replace(/^error: /, ""));
  }
  return program.opts<ParityFlags>();
}

/**
 * SIGINT and SIGTERM abort the returned signal (the run cancels its queries); a second one exits
 * at once with 130. `dispose()` restores the default handling.
 */
function abortOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`\n${name} again: exiting now; queries not yet cancelled may run on until they finish\n`);
      process.exit(ExitCode.interrupted);
    }
    process.stderr.write(`\n${name}: cancelling parity's queries on blue and green\n`);
    controller.abort(new Error(`interrupted by ${name}`));
  };
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const name of signals) process.on(name, onSignal);
  return { signal: controller.signal, dispose: () => signals.forEach((name) => process.removeListener(name, onSignal)) };
}

/** Runs parity and writes its report files; every failure mapped to its exit code. */
async function compare(flags: ParityFlags): Promise<ParityReport | ExitCode> {
  const options = await parityOptions(flags, process.env);
  const progress = progressPrinter();
  const interrupts = abortOnSignals();
  try {
    const report = await runParity({ ...options, onProgress: progress.onProgress, signal: interrupts.signal });
    if (flags.report) await writeReport(report, flags.report);
    if (flags.save) await writeReport(report, DEFAULT_REPORT_PATH);
    return report;
  } catch (error) {
    // Bad input (2) and an unreachable database (3) keep their codes; anything else leaves no
    // verdict and must never read as "different" (1).
    if (error instanceof UsageError || error instanceof UnreachableError) throw error;
    progress.close();
    if (error instanceof ParityInterruptedError) {
      process.stderr.write(`${error.message}\n`);
      return ExitCode.interrupted;
    }
    process.stderr.write(`error: cannot compare: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.cannotCompare;
  } finally {
    progress.close();
    interrupts.dispose();
  }
}

/** `args`: the command line after the script name (process.argv.slice(2)). */
export async function parityMain(args: string[]): Promise<ExitCode> {
  const flags = parseFlags(args);
  if (typeof flags === "number") return flags;
  const mode = outputMode({ json: flags.json });
  const report = await compare(flags);
  if (typeof report === "number") return report;
  if (mode.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(formatReport(report, { color: mode.color }));
  return report.identical ? ExitCode.ok : ExitCode.failed;
}
