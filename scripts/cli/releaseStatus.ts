// `release --status NAME`: the release's execution and each stack's rollout execution, printed
// (JSON or lines); exit 0 while running or succeeded, 1 failed or stopped.

import type { ReleaseState } from "../app/executions/release.js";
import { openStack } from "../app/stack.js";
import type { Io } from "./args.js";
import { ExitCode, UsageError } from "./common.js";
import type { ReleaseOptions } from "./releaseOptions.js";

export async function showRelease(options: ReleaseOptions, name: string, io: Io, json: boolean): Promise<ExitCode> {
  if (options.host === undefined) throw new UsageError("--host <stack> is required: the stack whose outputs carry the release machine");
  const host = await openStack({ stack: options.host, outputs: options.outputs }, io, { quiet: true });
  const releaseArn = host.outputs().releaseStateMachineArn;
  if (releaseArn === null) throw new UsageError(`stack ${options.host} carries no release machine (releaseStateMachineArn is null)`);
  const [{ awsExecutions }, { releaseState }] = await Promise.all([import("../app/wiring/aws.js"), import("../app/executions/release.js")]);
  const state = await releaseState(await awsExecutions(releaseArn), name, (item) => awsExecutions(item.stateMachineArn));
  if (state === null) throw new UsageError(`no release named ${name} on ${options.host}'s release machine`);
  if (json) io.stdout.write(`${JSON.stringify(state)}\n`);
  else io.stdout.write(renderRelease(name, state));
  return ["RUNNING", "SUCCEEDED"].includes(state.release.status) ? ExitCode.ok : ExitCode.failed;
}

export function renderRelease(name: string, state: ReleaseState): string {
  const lines = [`release ${name}: ${state.release.status}${state.release.error ? ` (${state.release.error})` : ""}`];
  for (const stack of state.stacks)
    lines.push(`  wave ${stack.wave}  ${stack.stack.padEnd(24)} ${stack.execution ? stack.execution.status : "not started"}  run ${stack.runId}`);
  return `${lines.join("\n")}\n`;
}
