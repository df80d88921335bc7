// `npm run pause`: from another terminal, ask the running cutover to hold at its current step.
// The request is a record beside the stack's lock and journal (an SSM parameter); the cutover
// reads it at its next poll, enters "paused" exactly like a step with `pause: promote`, releases
// the lock and exits 0. `npm run promote` continues it; `npm run rollback` / `abort` go back.
//
// Exit codes: 0 requested (or already paused), 2 nothing running that can hold (no cutover, a
// crashed one, all traffic already on green), 3 AWS unreachable.

import { addStackOptions, parse, processIo, program, type Io } from "./args.js";
import { ExitCode, outputMode, UsageError } from "./common.js";
import { openStack } from "../app/stack.js";

interface PauseOptions {
  stack?: string;
  outputs?: string;
  config?: string;
  json?: boolean;
  reason?: string;
  allowUnverifiedStack?: boolean;
}

export async function pauseMain(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const command = addStackOptions(
    program("pause", "Ask the running cutover to hold at its current step at its next poll (as `pause: promote`); `npm run promote` continues it.", io),
    { config: false },
  ).option("--reason <text>", "why (recorded in the journal and report)");
  const parsed = parse<PauseOptions & Record<string, unknown>>(command, argv);
  if (!parsed) return ExitCode.ok;
  const options: PauseOptions = parsed.options;
  const opened = await openStack(options, io, { preferCache: true });
  const outputs = opened.rollbackOutputs();
  const mode = outputMode({ json: options.json === true }, io.stdout as NodeJS.WriteStream);

  const [{ awsOperatorRequestDeps }, { requestPause }, { lockOwner }] = await Promise.all([
    import("../app/wiring/aws.js"),
    import("../app/operatorRequests.js"),
    import("./operator.js"),
  ]);
  const ports = await awsOperatorRequestDeps(opened, outputs);
  const answer = await requestPause(ports, { by: lockOwner(), reason: options.reason ?? null, now: Date.now() });
  if (answer.kind === "refused") throw new UsageError(`${answer.reason}; nothing was written`);
  if (answer.kind === "already-paused") {
    if (mode.json) io.stdout.write(`${JSON.stringify({ type: "pause", state: "already-paused", step: answer.step })}\n`);
    else io.stderr.write(`the cutover is already paused at step ${answer.step}: \`npm run promote\` continues it; nothing was written\n`);
    return ExitCode.ok;
  }
  const { target } = answer;
  const where = target.step !== null ? ` (now at step ${target.step + 1}, phase "${target.phase}")` : ` (phase "${target.phase}")`;
  if (mode.json)
    io.stdout.write(
      `${JSON.stringify({ type: "pause", state: "requested", runId: target.runId, phase: target.phase, step: target.step === null ? null : target.step + 1 })}\n`,
    );
  else
    io.stderr.write(
      `pause requested: run ${target.runId} by ${target.owner}${where} holds at its step's next poll and exits; ` +
        "`npm run status` shows it paused, `npm run promote` continues it\n",
    );
  return ExitCode.ok;
}
