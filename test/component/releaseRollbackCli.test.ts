// `npm run release -- --rollback-promoted NAME` in process: the release's and the stacks' rollout
// executions through aws-sdk-client-mock, each promoted stack's rollback through `npm run
// rollback`'s own command against the local mock AWS endpoint (SSM, the ALB). Only the stacks
// whose rollout succeeded are rolled back; a running release is refused with nothing touched.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { decodeJournal } from "../../scripts/aws/ssmJournal.js";
import { releaseMain } from "../../scripts/cli/releaseMain.js";
import { useCliHarness } from "../support/cliHarness.js";

// Green at 100% on the (shared) listener: what a promoted stack looks like.
const cli = useCliHarness({ dirPrefix: "bluegreen-release-rollback-", weights: { blue: 0, green: 100 } });
const sfn = mockClient(SFNClient);
const STACKS = ["prod-eu-west-1", "prod-eu-central-1", "prod-us-east-1"];
const machine = (stack: string) => `arn:aws:states:eu-west-1:123456789012:stateMachine:bluegreen-${stack}-rollout`;
const execution = (machineArn: string, name: string) => `${machineArn.replace(":stateMachine:", ":execution:")}:${name}`;
const RELEASE_MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:bluegreen-prod-eu-west-1-release";
const meta = { $metadata: {} };
const base = ["--host", "prod-eu-west-1", "--outputs", "stacks.json"];
const runId = (stack: string) => `r-9-${stack}`;

beforeEach(async () => {
  sfn.reset();
  const outputs = cli.outputs;
  const keyed: Record<string, unknown> = {};
  for (const stack of STACKS)
    keyed[stack] = {
      ...outputs,
      pulumiStack: stack,
      weightsParameterName: `/bluegreen/${outputs.pulumiProject}/${stack}/weights`,
      rolloutStateMachineArn: machine(stack),
      releaseStateMachineArn: stack === "prod-eu-west-1" ? RELEASE_MACHINE : null,
    };
  await writeFile(join(cli.dir, "stacks.json"), JSON.stringify(keyed));
});

/** The release r-9 (wave 1: eu-west-1, eu-central-1; wave 2: us-east-1) in `status`, each stack's rollout in its own. */
function releaseHistory(status: "FAILED" | "RUNNING", rollouts: Record<string, "SUCCEEDED" | "FAILED" | "ABORTED">) {
  const item = (stack: string) => ({ stack, stateMachineArn: machine(stack), runId: runId(stack) });
  const input = { release: "r-9", waves: [[item("prod-eu-west-1"), item("prod-eu-central-1")], [item("prod-us-east-1")]] };
  sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: "Execution Does Not Exist", ...meta }));
  sfn.on(DescribeExecutionCommand, { executionArn: execution(RELEASE_MACHINE, "r-9") }).resolves({
    executionArn: execution(RELEASE_MACHINE, "r-9"),
    name: "r-9",
    status,
    startDate: new Date(),
    input: JSON.stringify(input),
    ...(status === "FAILED" ? { error: "WaveFailed" } : {}),
  });
  for (const [stack, rollout] of Object.entries(rollouts))
    sfn
      .on(DescribeExecutionCommand, { executionArn: execution(machine(stack), runId(stack)) })
      .resolves({ executionArn: execution(machine(stack), runId(stack)), name: runId(stack), status: rollout, startDate: new Date() });
}

const listenerWrites = () => cli.mock.calls.filter((c) => c.action === "ModifyListener");

describe("release --rollback-promoted", () => {
  it("rolls back exactly the stacks whose rollout succeeded, each through npm run rollback, and records why", async () => {
    releaseHistory("FAILED", { "prod-eu-west-1": "SUCCEEDED", "prod-eu-central-1": "ABORTED", "prod-us-east-1": "FAILED" });
    const result = await cli.run(releaseMain, [...base, "--rollback-promoted", "r-9", "--yes"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("rolling back the stacks it promoted, latest wave first: prod-eu-west-1");
    expect(result.stderr).toContain("prod-eu-west-1: exit 0");
    expect(result.stderr).not.toMatch(/prod-eu-central-1: exit|prod-us-east-1: exit/);
    expect(listenerWrites().length).toBeGreaterThan(0);
    expect(cli.mock.state.listeners.get(cli.outputs.listenerArns[0]!)!.weights).toEqual({ blue: 100, green: 0 });
    // The rollback is the stack's own: its SSM parameters, not another stack's.
    const puts = cli.mock.calls.filter((c) => c.action === "PutParameter").map((c) => String(c.params.Name));
    expect(puts.length).toBeGreaterThan(0);
    expect(puts.every((name) => name.startsWith("/bluegreen/bluegreen/prod-eu-west-1/"))).toBe(true);
    const journal = decodeJournal(cli.mock.state.parameters.get("/bluegreen/bluegreen/prod-eu-west-1/journal")!, (name) => cli.mock.state.parameters.get(name));
    expect(JSON.stringify(journal)).toContain("release r-9 failed (WaveFailed): rolling back the stacks it promoted");
  });

  it("a running release is refused (exit 2): nothing is rolled back; --rollback-promoted takes no waves", async () => {
    releaseHistory("RUNNING", { "prod-eu-west-1": "SUCCEEDED" });
    const running = await cli.run(releaseMain, [...base, "--rollback-promoted", "r-9", "--yes"]);
    expect(running.code).toBe(2);
    expect(running.stderr).toMatch(/release r-9 is still running.*nothing was rolled back/);
    expect(listenerWrites()).toEqual([]);
    const withWaves = await cli.run(releaseMain, [...base, "--rollback-promoted", "r-9", "--wave", "prod-us-east-1"]);
    expect(withWaves.code).toBe(2);
  });
});
