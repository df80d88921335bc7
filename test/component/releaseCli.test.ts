// `npm run release` in process: the stacks' outputs from one file keyed by stack name, Step
// Functions through aws-sdk-client-mock (the request shapes). Everything wrong with the release is
// exit 2 with no call to Step Functions; a good one starts one execution of the host's release
// machine whose input lists, wave by wave, each stack's rollout machine and a run id of its own;
// --status reads the release's execution and each stack's rollout execution.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { releaseMain } from "../../scripts/cli/releaseMain.js";
import { useCliHarness, type StackOutputs } from "../support/cliHarness.js";

const cli = useCliHarness({ dirPrefix: "bluegreen-release-" });
const { run } = cli;
const sfn = mockClient(SFNClient);
let dir: string;
let outputs: StackOutputs;
const STACKS = ["prod-eu-west-1", "prod-eu-central-1", "prod-us-east-1"];
const machine = (stack: string) => `arn:aws:states:eu-west-1:123456789012:stateMachine:bluegreen-${stack}-rollout`;
const RELEASE_MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:bluegreen-prod-eu-west-1-release";
const releaseExecution = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:bluegreen-prod-eu-west-1-release:${name}`;

beforeEach(async () => {
  ({ dir, outputs } = cli);
  sfn.reset();
  const keyed: Record<string, unknown> = {};
  for (const stack of [...STACKS, "staging"]) {
    keyed[stack] = {
      ...outputs,
      pulumiStack: stack,
      weightsParameterName: `/bluegreen/${outputs.pulumiProject}/${stack}/weights`,
      rolloutStateMachineArn: stack === "staging" ? null : machine(stack),
      releaseStateMachineArn: stack === "prod-eu-west-1" ? RELEASE_MACHINE : null,
    };
  }
  await writeFile(join(dir, "stacks.json"), JSON.stringify(keyed));
  await writeFile(
    join(dir, "Pulumi.prod-eu-west-1.yaml"),
    "config:\n  bluegreen:rollout:\n    orchestrator: stepfunctions\n    release:\n      waves: 2\n      maxConcurrency: 2\n      bakeSeconds: 1800\n",
  );
});

const base = ["--host", "prod-eu-west-1", "--outputs", "stacks.json"];
const twoWaves = ["--wave", "prod-eu-west-1,prod-eu-central-1", "--wave", "prod-us-east-1"];

describe("npm run release", () => {
  it("starts the host's release machine with each stack's rollout machine and a run id per stack, wave by wave", async () => {
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: releaseExecution(input.name), startDate: new Date() }));
    const result = await run(releaseMain, [...base, ...twoWaves, "--bake", "30m", "--concurrency", "2", "--name", "r-42", "--yes"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const starts = sfn.commandCalls(StartExecutionCommand);
    expect(starts).toHaveLength(1);
    const { stateMachineArn, name, input } = starts[0]!.args[0].input;
    expect(stateMachineArn).toBe(RELEASE_MACHINE);
    expect(name).toBe("r-42");
    const parsed = JSON.parse(input!) as { release: string; waves: { stack: string; stateMachineArn: string; runId: string }[][] };
    expect(parsed.release).toBe("r-42");
    expect(parsed.waves.map((wave) => wave.map((item) => item.stack))).toEqual([["prod-eu-west-1", "prod-eu-central-1"], ["prod-us-east-1"]]);
    for (const item of parsed.waves.flat()) expect(item.stateMachineArn).toBe(machine(item.stack));
    expect(new Set(parsed.waves.flat().map((item) => item.runId)).size).toBe(3);
    expect(result.stdout).toContain(`release r-42 started: ${releaseExecution("r-42")}`);
    expect(result.stdout).toContain("https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/");
  });

  it("a release file works like the flags", async () => {
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: releaseExecution(input.name) }));
    await writeFile(join(dir, "release.yaml"), "name: r-file\nhost: prod-eu-west-1\nwaves:\n  - [prod-us-east-1]\n  - [prod-eu-west-1, prod-eu-central-1]\n");
    const result = await run(releaseMain, ["--file", "release.yaml", "--outputs", "stacks.json", "--yes", "--json"]);
    expect(result.code).toBe(0);
    const line = JSON.parse(result.stdout.trim()) as { type: string; input: { waves: { stack: string }[][] } };
    expect(line.type).toBe("release-started");
    expect(line.input.waves.map((w) => w.map((i) => i.stack))).toEqual([["prod-us-east-1"], ["prod-eu-west-1", "prod-eu-central-1"]]);
  });

  it.each([
    [
      "a stack twice",
      [...base, "--wave", "prod-eu-west-1,prod-eu-central-1", "--wave", "prod-eu-west-1"],
      /stack prod-eu-west-1 is in wave 1 and wave 2 twice/,
    ],
    ["an unknown stack", [...base, "--wave", "prod-eu-west-1,prod-ap-south-1", "--wave", "prod-us-east-1"], /prod-ap-south-1/],
    ["a stack not orchestrated", [...base, "--wave", "prod-eu-west-1,staging", "--wave", "prod-us-east-1"], /stack staging is not orchestrated/],
    ["a host without a release machine", ["--host", "prod-us-east-1", "--outputs", "stacks.json", ...twoWaves], /carries no release machine/],
    [
      "more waves than the machine runs",
      [...base, "--wave", "prod-eu-west-1", "--wave", "prod-eu-central-1", "--wave", "prod-us-east-1"],
      /runs 2 wave\(s\), this release has 3/,
    ],
    ["a bake other than deployed", [...base, ...twoWaves, "--bake", "10m"], /--bake 600 s: the release machine of prod-eu-west-1 was deployed with 1800 s/],
    ["a concurrency other than deployed", [...base, ...twoWaves, "--concurrency", "3"], /--concurrency 3: .*deployed with 2/],
    ["no host", twoWaves, /--host <stack> is required/],
    ["an empty stack in a wave", [...base, "--wave", "prod-eu-west-1,", "--wave", "prod-us-east-1"], /empty stack/],
  ])("%s is exit 2 with nothing started", async (_what, argv, message) => {
    const result = await run(releaseMain, [...argv, "--yes"]);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it("--status shows the release and each stack's rollout; a failed release is exit 1", async () => {
    const waves = [
      [
        { stack: "prod-eu-west-1", stateMachineArn: machine("prod-eu-west-1"), runId: "run-a" },
        { stack: "prod-eu-central-1", stateMachineArn: machine("prod-eu-central-1"), runId: "run-b" },
      ],
      [{ stack: "prod-us-east-1", stateMachineArn: machine("prod-us-east-1"), runId: "run-c" }],
    ];
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: "no", $metadata: {} }));
    sfn.on(DescribeExecutionCommand, { executionArn: releaseExecution("r-42") }).resolves({
      executionArn: releaseExecution("r-42"),
      name: "r-42",
      status: "FAILED",
      error: "WaveFailed",
      input: JSON.stringify({ release: "r-42", waves }),
    });
    const arn = (stack: string, run: string) => `arn:aws:states:eu-west-1:123456789012:execution:bluegreen-${stack}-rollout:${run}`;
    sfn
      .on(DescribeExecutionCommand, { executionArn: arn("prod-eu-west-1", "run-a") })
      .resolves({ executionArn: arn("prod-eu-west-1", "run-a"), name: "run-a", status: "SUCCEEDED" });
    sfn
      .on(DescribeExecutionCommand, { executionArn: arn("prod-eu-central-1", "run-b") })
      .resolves({ executionArn: arn("prod-eu-central-1", "run-b"), name: "run-b", status: "FAILED" });
    const result = await run(releaseMain, [...base, "--status", "r-42"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/release r-42: FAILED \(WaveFailed\)/);
    expect(result.stdout).toMatch(/wave 1 {2}prod-eu-west-1 +SUCCEEDED/);
    expect(result.stdout).toMatch(/wave 1 {2}prod-eu-central-1 +FAILED/);
    expect(result.stdout).toMatch(/wave 2 {2}prod-us-east-1 +not started/);
  });
});
