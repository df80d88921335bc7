// `npm run release`: one release over many orchestrated stacks in waves, on the release (wave)
// machine of a host stack (`releaseStateMachineArn` in its outputs). Everything is checked before
// anything starts: every stack named once, each one's outputs found and its rollouts on Step
// Functions, the host's release machine there, the waves as deployed; then the plan, PROCEED (or
// --yes), and one execution of the release machine named after the release. The command returns:
// the machine runs the waves (a bake between them, stopping at the first failure).
// `release --status NAME` shows the release's execution and each stack's rollout execution.
//
// Exit codes: 0 started (or, with --status, running or succeeded), 1 the release failed or was
// stopped, 2 bad input (nothing started), 3 AWS unreachable.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, processIo, program, type Io } from "./args.js";
import { ExitCode, outputMode, UsageError } from "./common.js";
import { openStack } from "../app/stack.js";
import { shortStackName } from "../app/stackOutputs.js";
import type { ReleasePlan, ReleaseState } from "../app/executions/release.js";

interface ReleaseOptions {
  wave: string[];
  file?: string;
  host?: string;
  name?: string;
  bake?: string;
  concurrency?: string;
  status?: string;
  outputs?: string;
  yes?: boolean;
  json?: boolean;
}

function flags(io: Io) {
  return program("release", "Roll one release out over many orchestrated stacks in waves, on the host stack's release state machine (Step Functions).", io)
    .option(
      "--wave <stacks>",
      "a wave: stacks rolled out together, comma-separated; repeat for each wave, in order",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option("--file <release.yaml>", "the release from a file: host, waves (lists of stacks), and optionally name, bake, concurrency")
    .option("--host <stack>", "the stack whose outputs carry the release machine (releaseStateMachineArn)")
    .option("--name <release>", "the release's name (its execution's name); default release-<time>")
    .option("--bake <duration>", "the wait between waves, e.g. 30m: must be what the release machine was deployed with")
    .option("--concurrency <n>", "stacks at once within a wave: must be what the release machine was deployed with")
    .option("--status <release>", "show the release's execution and each stack's rollout; start nothing")
    .option("--outputs <file>", "stack outputs JSON keyed by stack name (default: ask the pulumi CLI per stack)")
    .option("--yes", "do not ask for PROCEED (unattended runs)")
    .option("--json", "machine output on stdout");
}

export async function releaseMain(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const parsed = parse<ReleaseOptions & Record<string, unknown>>(flags(io), argv);
  if (!parsed) return ExitCode.ok;
  const options: ReleaseOptions = parsed.options;
  const mode = outputMode({ json: options.json === true }, io.stdout as NodeJS.WriteStream);
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

/** The release as asked, from the flags or the file; nothing read from AWS yet. */
async function planRelease(options: ReleaseOptions, io: Io): Promise<ReleasePlan> {
  const release = await import("../app/executions/release.js");
  if (options.file !== undefined && options.wave.length > 0) throw new UsageError("--file and --wave do not go together: the file lists the waves");
  const fromFile = options.file !== undefined ? release.releaseFromFile(await readReleaseFile(options.file, io.cwd), options.file) : null;
  const host = options.host ?? fromFile?.host;
  if (host === undefined) throw new UsageError("--host <stack> is required: the stack whose outputs carry the release machine");
  return {
    name: release.checkReleaseName(options.name ?? fromFile?.name ?? `release-${new Date().toISOString().replace(/[:.]/g, "-")}`),
    host,
    waves: fromFile?.waves ?? release.wavesFromFlags(options.wave),
    bakeSeconds: options.bake !== undefined ? release.bakeSecondsOf(options.bake) : (fromFile?.bakeSeconds ?? null),
    concurrency: options.concurrency !== undefined ? release.concurrencyOf(options.concurrency) : (fromFile?.concurrency ?? null),
  };
}

async function readReleaseFile(path: string, cwd: string): Promise<string> {
  const [{ readInputFile }, { resolve }] = await Promise.all([import("../app/inputFiles.js"), import("node:path")]);
  return readInputFile(resolve(cwd, path), "--file");
}

async function showRelease(options: ReleaseOptions, name: string, io: Io, json: boolean): Promise<ExitCode> {
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
