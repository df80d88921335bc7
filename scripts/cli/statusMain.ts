// `npm run status`: live weights per listener/rule beside the stack's weights parameter (their
// owner, what `pulumi up` applies) and the config's seed, and which differ; target health per
// color, alarm states, the write fence, the lock holder, the last journal entry and, in
// database.mode paired, logical replication per direction (running, lag, tables ready).
// Read-only. Each section is read independently (status/sections.ts: the list of sections): one
// that fails is shown as an error and the others still print. Exit 0 when everything was read, 3
// when AWS could not be reached at all.
// A bound on time to an answer (--deadline, default 20 s, counted from the command's start; the
// parser and the timer are rollback's, app/policies/deadline.ts): every AWS call carries the
// deadline's AbortSignal, and each section is raced against it, so at the deadline status prints
// what it has read, shows each section still waiting as "not answered before the deadline", says
// so on stderr and exits 3.
// --watch: the same reading redrawn every --interval seconds (default 10) with the run's recent
// windows as sparklines and the judge's evidence against its boundary (status/watch.ts), until
// the run ends or Ctrl-C (exit 0: the operator stopped watching; nothing else stopped).

import { setMaxListeners } from "node:events";
import { addStackOptions, parse, processIo, program, type Io } from "./args.js";
import { openStack } from "../app/stack.js";
import { ExitCode, outputMode, UsageError } from "./common.js";
import { abortAfter, parseDeadlineSeconds } from "../app/policies/deadline.js";
import type { Weights } from "../core/ports.js";
import type { Deadline, Section, StatusHooks } from "./status/report.js";
import type { StatusContext } from "./status/sections.js";

export { replicationView, type ReplicationView, type StatusHooks, type StatusReport } from "./status/report.js";
export { renderStatus } from "./status/render.js";

interface StatusOptions {
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
const DEFAULT_DEADLINE_SECONDS = 20;
const DEFAULT_INTERVAL_SECONDS = 10;
/** A watch stops by itself after a day of frames. */
const WATCH_MAX_MS = 24 * 3_600_000;

function flags(io: Io) {
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

function parseInterval(options: StatusOptions): number {
  if (options.interval === undefined) return DEFAULT_INTERVAL_SECONDS;
  if (!options.watch) throw new UsageError("--interval is for --watch (see --help)");
  const seconds = Number(options.interval);
  if (!/^\d+$/.test(options.interval) || seconds < 1 || seconds > 3600)
    throw new UsageError(`--interval ${options.interval}: must be an integer 1..3600 (seconds)`);
  return seconds;
}

/** A config file that is there but broken is bad input (exit 2, before any AWS call); a missing one is only a section error. */
async function readConfigSection(configPath: string): Promise<Section<Weights | null>> {
  const { readConfigWeights } = await import("../app/pulumiConfigFile.js");
  return readConfigWeights(configPath).then(
    (weights) => ({ ok: true as const, value: weights }),
    (error: Error) => {
      if (/ does not exist /.test(error.message)) return { ok: false as const, error: error.message.split("\n")[0] ?? String(error), unreachable: false };
      throw error;
    },
  );
}

/** A deadline counted from `startedAt` (performance.now()): its signal, its message, and the timer's stop. */
function startDeadline(deadlineMs: number, startedAt: number, hooks: StatusHooks): Deadline & { text: string; stop: () => void } {
  const timer = new AbortController();
  const text = `--deadline ${deadlineMs / 1000} s`;
  const stop = hooks.deadline ? () => undefined : abortAfter(timer, deadlineMs, new Error(`the status deadline (${text}) has passed`), startedAt);
  const signal = hooks.deadline ?? timer.signal;
  // Each section's race and each SDK call listen on it (about 16 at once): not the leak Node warns of past 10.
  setMaxListeners(64, signal);
  return { signal, message: `not answered before the deadline (${text})`, text, stop };
}

export async function statusMain(argv: readonly string[], io: Io = processIo(), hooks: StatusHooks = {}): Promise<ExitCode> {
  const began = performance.now();
  const parsed = parse<StatusOptions & Record<string, unknown>>(flags(io), argv);
  if (!parsed) return ExitCode.ok;
  const options: StatusOptions = parsed.options;
  const deadlineMs = parseDeadlineSeconds(options.deadline, DEFAULT_DEADLINE_SECONDS);
  const intervalSeconds = parseInterval(options);
  // Identity before any AWS call (openStack checks it): a typo'd --stack is exit 2, not another stack's status.
  const opened = await openStack(options, io, { quiet: options.json === true });
  const outputs = opened.outputs();
  const configRead = await readConfigSection(opened.configPath);

  const [{ awsCutoverDeps }, { readStatus }] = await Promise.all([import("../app/wiring/aws.js"), import("./status/sections.js")]);
  let deadline = startDeadline(deadlineMs, began, hooks);
  const deps = await awsCutoverDeps(opened, outputs, { cwd: io.cwd, signal: () => deadline.signal });
  const ctx: StatusContext = {
    stack: opened.name,
    outputs,
    raw: opened.raw,
    configPath: opened.configPath,
    configRead,
    deps,
    hooks,
    deadlineSeconds: deadlineMs / 1000,
  };
  const mode = outputMode({ json: options.json === true }, io.stdout as NodeJS.WriteStream);
  const { palette } = await import("./plainPrinter.js");

  /** One reading under a fresh deadline (the first one counted from the command's start), and its exit code. */
  const readOnce = async (startedAt: number) => {
    deadline = startedAt === began ? deadline : startDeadline(deadlineMs, startedAt, hooks);
    const reading = await readStatus(ctx, deadline);
    deadline.stop();
    const unanswered = reading.report.deadline.unanswered;
    const code = unanswered.length > 0 || reading.allUnreachable ? ExitCode.unreachable : reading.failed > 0 ? ExitCode.failed : ExitCode.ok;
    return { ...reading, code, unanswered };
  };

  if (options.watch) {
    const { watchMain } = await import("./status/watchMain.js");
    return watchMain({
      io,
      mode,
      palette: palette(mode.color),
      intervalSeconds,
      maxFrames: Math.ceil(WATCH_MAX_MS / (intervalSeconds * 1000)),
      readOnce,
      began,
    });
  }
  const reading = await readOnce(began);
  if (mode.json) io.stdout.write(`${JSON.stringify(reading.report, null, 2)}\n`);
  else io.stdout.write((await import("./status/render.js")).renderStatus(reading.report, palette(mode.color)));
  if (reading.unanswered.length > 0)
    io.stderr.write(
      `status stopped at the deadline (${deadline.text}): ${reading.unanswered.join(", ")} not answered by AWS in time; what was read is shown above\n`,
    );
  return reading.code;
}
