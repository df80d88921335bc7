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

import { parse, processIo, type Io } from "./args.js";
import { openStack } from "../app/stack.js";
import { ExitCode, outputMode } from "./common.js";
import { parseDeadlineSeconds } from "../app/policies/deadline.js";
import { startDeadline } from "./status/deadline.js";
import type { StatusHooks } from "./status/report.js";
import type { StatusContext } from "./status/sections.js";
import { DEFAULT_DEADLINE_SECONDS, parseInterval, statusFlags, WATCH_MAX_MS, type StatusOptions } from "./statusOptions.js";

export { replicationView, type ReplicationView, type StatusHooks, type StatusReport } from "./status/report.js";
export { renderStatus } from "./status/render.js";

export async function statusMain(argv: readonly string[], io: Io = processIo(), hooks: StatusHooks = {}): Promise<ExitCode> {
  const began = performance.now();
  const parsed = parse<StatusOptions & Record<string, unknown>>(statusFlags(io), argv);
  if (!parsed) return ExitCode.ok;
  const options: StatusOptions = parsed.options;
  const deadlineMs = parseDeadlineSeconds(options.deadline, DEFAULT_DEADLINE_SECONDS);
  const intervalSeconds = parseInterval(options);
  // Identity before any AWS call (openStack checks it): a typo'd --stack is exit 2, not another stack's status.
  const opened = await openStack(options, io, { quiet: options.json === true });
  const outputs = opened.outputs();
  const { readStatus, readConfigSection } = await import("./status/sections.js");
  const configRead = await readConfigSection(opened.configPath);

  const { awsCutoverDeps } = await import("../app/wiring/aws.js");
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
