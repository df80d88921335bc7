// `release --rollback-promoted NAME`: a release that failed in a later wave leaves the stacks of
// its earlier waves promoted (green at 100%). This rolls those back, each through `npm run
// rollback`'s own command (the same flags, lock, journal, fence and verification as when an
// operator types it for that stack), latest wave first. Which stacks: the release machine's
// execution names each stack's rollout run (its input), and each run's execution says whether
// it succeeded (app/executions/release.ts promotedStacks). A running or succeeded release is
// refused; one stack's rollback failing never skips the others.
//
// Exit codes: 0 every promoted stack rolled back (or none to roll back), 1 one or more did not,
// 2 bad input, 3 AWS unreachable before any rollback.

import { openStack } from "../app/stack.js";
import type { Io } from "./args.js";
import { ExitCode, exitCodeFor, UsageError, type OutputMode } from "./common.js";
import type { ReleaseOptions } from "./releaseOptions.js";

export async function rollbackPromotedMain(options: ReleaseOptions, name: string, io: Io, mode: OutputMode): Promise<ExitCode> {
  if (options.host === undefined) throw new UsageError("--host <stack> is required: the stack whose outputs carry the release machine");
  const host = await openStack({ stack: options.host, outputs: options.outputs }, io, { quiet: true });
  const releaseArn = host.outputs().releaseStateMachineArn;
  if (releaseArn === null) throw new UsageError(`stack ${options.host} carries no release machine (releaseStateMachineArn is null)`);
  const [{ awsExecutions }, release] = await Promise.all([import("../app/wiring/aws.js"), import("../app/executions/release.js")]);
  const state = await release.releaseState(await awsExecutions(releaseArn), name, (item) => awsExecutions(item.stateMachineArn));
  if (state === null) throw new UsageError(`no release named ${name} on ${options.host}'s release machine`);
  const promoted = release.promotedStacks(state);
  const say = (line: string) => (mode.json ? undefined : io.stderr.write(`${line}\n`));
  if (promoted.length === 0) {
    say(`release ${name} ended ${state.release.status}: no stack had been promoted, nothing to roll back`);
    return ExitCode.ok;
  }
  say(`release ${name} ended ${state.release.status}; rolling back the stacks it promoted, latest wave first: ${promoted.map((s) => s.stack).join(", ")}`);
  const { requireConfirmationChannel, askProceed } = await import("./operator.js");
  requireConfirmationChannel(options.yes === true, io.stdin, "release --rollback-promoted");
  if (!options.yes && !(await askProceed(io.stdin, io.stderr))) {
    io.stderr.write("cancelled: nothing was rolled back\n");
    return ExitCode.ok;
  }
  const { rollbackMain } = await import("./rollbackMain.js");
  const reason = `release ${name} failed (${state.release.error ?? state.release.status}): rolling back the stacks it promoted`;
  const results = await release.rollBackPromoted(promoted, async (stack) => {
    say(`--- ${stack.stack} (wave ${stack.wave}, run ${stack.runId})`);
    const argv = ["--stack", stack.stack, ...(options.outputs ? ["--outputs", options.outputs] : []), "--reason", reason, ...(mode.json ? ["--json"] : [])];
    return rollbackMain(argv, io);
  });
  const codes = results.map((r) => (r.result.ok ? r.result.value : exitCodeFor(r.result.error)));
  for (const [i, r] of results.entries()) {
    const line = r.result.ok ? `exit ${r.result.value}` : `error: ${r.result.error.message}`;
    if (mode.json) io.stdout.write(`${JSON.stringify({ type: "stack-rolled-back", release: name, stack: r.stack, exitCode: codes[i] })}\n`);
    else io.stderr.write(`${r.stack}: ${line}\n`);
  }
  return codes.every((code) => code === ExitCode.ok) ? ExitCode.ok : ExitCode.failed;
}
