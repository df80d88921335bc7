// `npm run release`: one release over many orchestrated stacks in waves, on the release (wave)
// machine of a host stack (`releaseStateMachineArn` in its outputs). Everything is checked before
// anything starts: every stack named once, each one's outputs found and its rollouts on Step
// Functions, the host's release machine there, the waves as deployed; then the plan, PROCEED (or
// --yes), and one execution of the release machine named after the release. The command returns:
// the machine runs the waves (a bake between them, stopping at the first failure).
// `release --status NAME` shows the release's execution and each stack's rollout execution;
// `release --rollback-promoted NAME` rolls back what a failed release had promoted (./releaseRollback.ts).
//
// Exit codes: 0 started (or, with --status, running or succeeded), 1 the release failed or was
// stopped, 2 bad input (nothing started), 3 AWS unreachable.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, processIo, type Io } from "./args.js";
import { ExitCode, outputMode, UsageError } from "./common.js";
import { openStack } from "../app/stack.js";
import { shortStackName } from "../app/stackOutputs.js";
import { planRelease, releaseFlags, type ReleaseOptions } from "./releaseOptions.js";
import { showRelease } from "./releaseStatus.js";

export async function releaseMain(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const parsed = parse<ReleaseOptions & Record<string, unknown>>(releaseFlags(io), argv);
  if (!parsed) return ExitCode.ok;
  const options: ReleaseOptions = parsed.options;
  const mode = outputMode({ json: options.json === true }, io.stdout as NodeJS.WriteStream);
  if (options.rollbackPromoted !== undefined) {
    if (options.wave.length > 0 || options.file !== undefined || options.status !== undefined)
      throw new UsageError("--rollback-promoted undoes a release: it takes --host (and --outputs, --yes), no waves and no --status");
    return (await import("./releaseRollback.js")).rollbackPromotedMain(options, options.rollbackPromoted, io, mode);
  }
  if (options.status !== undefined) {
    if (options.wave.length > 0 || options.file !== undefined) throw new UsageError("--status shows a release: it takes --host (and --outputs), no waves");
    return showRelease(options, options.status, io, mode.json);
  }
  const plan = await planRelease(options, io);
  const release = await import("../app/executions/release.js");
  const outputsOf = async (stack: string) => (await openStack({ stack, outputs: options.outputs }, io, { quiet: true })).outputs();
  const machines = new Map<string, string>();
  for (const stack of plan.waves.flat()) {
    const machine = (await outputsOf(stack)).rolloutStateMachineArn;
    if (machine === null)
      throw new UsageError(
        `stack ${stack} is not orchestrated (its outputs name no rolloutStateMachineArn: rollout.orchestrator is "local"); nothing was started`,
      );
    machines.set(stack, machine);
  }
  const host = await openStack({ stack: plan.host, outputs: options.outputs }, io, { quiet: true });
  const releaseArn = host.outputs().releaseStateMachineArn;
  if (releaseArn === null)
    throw new UsageError(`stack ${plan.host} carries no release machine (releaseStateMachineArn is null: set rollout.release and \`pulumi up\`)`);
  const hostConfig = await readFile(join(io.cwd, `Pulumi.${shortStackName(plan.host)}.yaml`), "utf8").catch(() => null);
  release.checkAgainstDeployed(plan, release.deployedReleaseFromConfig(hostConfig));

  const { newRunId } = await import("./orchestrated.js");
  const input = release.releaseInput(
    plan.name,
    plan.waves,
    (stack) => machines.get(stack)!,
    () => newRunId(),
  );
  if (!mode.json)
    io.stdout.write(
      [
        `release ${plan.name} on ${plan.host}:`,
        ...input.waves.map((wave, i) => `  wave ${i + 1}: ${wave.map((item) => `${item.stack} (run ${item.runId})`).join(", ")}`),
        "",
      ].join("\n"),
    );
  const { requireConfirmationChannel, askProceed } = await import("./operator.js");
  requireConfirmationChannel(options.yes === true, io.stdin, "release");
  if (!options.yes && !(await askProceed(io.stdin, io.stderr))) {
    io.stderr.write("cancelled: nothing was started\n");
    return ExitCode.ok;
  }
  const { awsExecutions } = await import("../app/wiring/aws.js");
  const executions = await awsExecutions(releaseArn);
  const { ExecutionExistsError } = await import("../aws/stepFunctions.js");
  const executionArn = await executions.start(plan.name, input).catch((error: unknown) => {
    throw error instanceof ExecutionExistsError
      ? new UsageError(`a release named ${plan.name} already exists: \`npm run release -- --status ${plan.name}\`; nothing was started`)
      : error;
  });
  if (mode.json)
    io.stdout.write(
      `${JSON.stringify({ type: "release-started", release: plan.name, executionArn, consoleUrl: executions.consoleUrl(executionArn), input })}\n`,
    );
  else
    io.stdout.write(
      `release ${plan.name} started: ${executionArn}\n  console: ${executions.consoleUrl(executionArn)}\n  follow it with \`npm run release -- --host ${plan.host} --status ${plan.name}\`\n`,
    );
  return ExitCode.ok;
}
