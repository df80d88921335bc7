// The commands on a stack whose rollouts run on Step Functions (`rolloutStateMachineArn` in its
// outputs), in process: SSM, the ALB and CloudWatch through the local mock AWS endpoint (as in
// pauseCli.test.ts), Step Functions through aws-sdk-client-mock (the request shapes). cutover
// starts one execution named after a new run id and returns; a retried name is refused; --resume
// starts `<runId>-r<n>`; status shows the execution; promote sends the approval's token with the
// operator and deletes it; rollback stops the execution, then rolls back as on any stack. A local
// stack makes no Step Functions call at all.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import type { MockAws } from "../../bench/rollbackStartup.js";
import { decodeJournal } from "../../scripts/aws/ssmJournal.js";
import { cutoverMain } from "../../scripts/cli/cutoverMain.js";
import { promoteMain } from "../../scripts/cli/promoteMain.js";
import { rollbackMain } from "../../scripts/cli/rollbackMain.js";
import { statusMain } from "../../scripts/cli/statusMain.js";
import { prodConfigWithRollout, useCliHarness, type StackOutputs } from "../support/cliHarness.js";

const cli = useCliHarness({ dirPrefix: "bluegreen-orchestrated-", weights: { blue: 100, green: 0 } });
const { run } = cli;
const sfn = mockClient(SFNClient);
let mock: MockAws;
let dir: string;
let outputs: StackOutputs;
beforeEach(() => {
  ({ mock, dir, outputs } = cli);
  sfn.reset();
});
const base = ["--stack", "prod", "--outputs", "outputs.json"];
const JOURNAL = "/bluegreen/bluegreen/prod/journal";
const APPROVAL = "/bluegreen/bluegreen/prod/approval";
const MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:bluegreen-prod-rollout";
const executionArn = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:bluegreen-prod-rollout:${name}`;
const meta = { $metadata: {} };
const notFound = () => new ExecutionDoesNotExist({ message: "Execution Does Not Exist", ...meta });

async function writeConfig(): Promise<void> {
  const rollout = [
    "    strategy:",
    "      type: canary",
    '      steps: [{ percent: 10, pause: "promote" }, 100]',
    "    bakeSeconds: 0",
    "    monitorSeconds: 0",
    "    verifyTimeoutSeconds: 5",
  ];
  await writeFile(join(dir, "Pulumi.prod.yaml"), await prodConfigWithRollout(rollout));
}
async function orchestrate(): Promise<void> {
  await writeFile(join(dir, "outputs.json"), JSON.stringify({ ...outputs, rolloutStateMachineArn: MACHINE }));
}
const listenerWeights = () => mock.state.listeners.get(outputs.listenerArns[0]!)!.weights;
const trafficWrites = () => mock.calls.filter((c) => /^Modify(Listener|Rule)$/.test(c.action));
/** A run paused at step 1 (10%) by the local orchestrator, then the stack made orchestrated: the journal the machine would leave. */
async function pausedRun(): Promise<string> {
  expect((await run(cutoverMain, [...base, "--yes", "--skip-snapshot", "test stack"])).code).toBe(0);
  await orchestrate();
  return (decodeJournal(mock.state.parameters.get(JOURNAL)!) as { runId: string }).runId;
}

describe("cutover on an orchestrated stack", () => {
  it("prints the plan, starts one execution named after a new run id, prints its ARN and console link, and returns; nothing moves here", async () => {
    await writeConfig();
    await orchestrate();
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: executionArn(input.name), startDate: new Date() }));
    const result = await run(cutoverMain, [...base, "--yes"]);
    expect(result.stderr).not.toMatch(/error/);
    expect(result.code).toBe(0);
    const starts = sfn.commandCalls(StartExecutionCommand);
    expect(starts).toHaveLength(1);
    const { name, stateMachineArn, input } = starts[0]!.args[0].input;
    expect(stateMachineArn).toBe(MACHINE);
    expect(name).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[a-z0-9]+$/);
    expect(JSON.parse(input!)).toEqual({ runId: name, stack: "prod" });
    expect(result.stdout).toMatch(/^Plan: canary/m);
    expect(result.stdout).toContain(`execution: ${executionArn(name!)}`);
    expect(result.stdout).toContain(`https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${executionArn(name!)}`);
    expect(trafficWrites()).toEqual([]);
    expect(listenerWeights()).toEqual({ blue: 100, green: 0 });
    expect(mock.state.parameters.has(JOURNAL)).toBe(false);
  });

  it("a start the machine refuses (ExecutionAlreadyExists) is exit 2 with what to do; an unfinished run is refused before any start", async () => {
    await writeConfig();
    await orchestrate();
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: "Execution Already Exists", ...meta }));
    const retried = await run(cutoverMain, [...base, "--yes", "--json"]);
    expect(retried.code).toBe(2);
    expect(retried.stderr).toMatch(/already exists .*nothing was started.*--resume/);

    await writeFile(join(dir, "outputs.json"), JSON.stringify(outputs));
    const runId = await pausedRun();
    sfn.reset();
    const unfinished = await run(cutoverMain, [...base, "--yes"]);
    expect(unfinished.code).toBe(2);
    expect(unfinished.stderr).toContain(`run ${runId} is unfinished (phase "paused")`);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect((await run(cutoverMain, [...base, "--yes", "--skip-snapshot", "x"])).code).toBe(2);
  });

  it("--resume after a failed execution starts <runId>-r1 with the same run id; a running one is refused", async () => {
    await writeConfig();
    const runId = await pausedRun();
    sfn.on(DescribeExecutionCommand).rejects(notFound());
    sfn
      .on(DescribeExecutionCommand, { executionArn: executionArn(runId) })
      .resolves({ executionArn: executionArn(runId), name: runId, status: "FAILED", startDate: new Date() });
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: executionArn(input.name), startDate: new Date() }));
    const resumed = await run(cutoverMain, [...base, "--resume", "--yes", "--json"]);
    expect(resumed.code).toBe(0);
    const start = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(start.name).toBe(`${runId}-r1`);
    expect(JSON.parse(start.input!)).toEqual({ runId, stack: "prod" });
    expect(JSON.parse(resumed.stdout.trim().split("\n").at(-1)!)).toMatchObject({ type: "execution-started", runId, name: `${runId}-r1` });

    sfn.reset();
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: executionArn(runId), name: runId, status: "RUNNING", startDate: new Date() });
    const running = await run(cutoverMain, [...base, "--resume", "--yes"]);
    expect(running.code).toBe(2);
    expect(running.stderr).toMatch(/is running .*nothing to resume/);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe("status, promote and rollback on an orchestrated stack", () => {
  it("status shows the execution's state, the step it waits at and the console link", async () => {
    await writeConfig();
    const runId = await pausedRun();
    sfn.on(DescribeExecutionCommand).rejects(notFound());
    sfn
      .on(DescribeExecutionCommand, { executionArn: executionArn(runId) })
      .resolves({ executionArn: executionArn(runId), name: runId, status: "RUNNING", startDate: new Date(0) });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 12, timestamp: new Date(), type: "TaskStateEntered", stateEnteredEventDetails: { name: "AwaitApproval", input: "{}" } },
        {
          id: 11,
          timestamp: new Date(),
          type: "TaskStateExited",
          stateExitedEventDetails: {
            name: "Advance",
            output: JSON.stringify({ runId, advance: { outcome: { wait: "approval", runId, step: 0, reason: "paused" } } }),
          },
        },
      ],
    });
    const json = await run(statusMain, [...base, "--json"]);
    expect(JSON.parse(json.stdout).execution).toEqual({
      ok: true,
      value: expect.objectContaining({ runId, name: runId, status: "RUNNING", state: "AwaitApproval", step: 1, attempts: 1 }),
    });
    const text = await run(statusMain, base);
    expect(text.stdout).toMatch(/execution .*: RUNNING/);
    expect(text.stdout).toMatch(/state: AwaitApproval · step 1 · waits for an operator's `npm run promote`/);
    expect(text.stdout).toContain(
      `console: https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${executionArn(runId)}`,
    );
  });

  it("promote sends the pending approval's token with the operator and the step, then deletes it; a token of another step is refused", async () => {
    await writeConfig();
    const runId = await pausedRun();
    mock.state.parameters.set(APPROVAL, JSON.stringify({ runId, step: 1, taskToken: "stale", recordedAt: Date.now() }));
    const stale = await run(promoteMain, base);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toMatch(/pending approval is for run .* step 2, the journal is paused at run .* step 1: nothing was sent/);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);

    mock.state.parameters.set(APPROVAL, JSON.stringify({ runId, step: 0, taskToken: "token-42", recordedAt: Date.now() }));
    sfn.on(SendTaskSuccessCommand).resolves({});
    const promoted = await run(promoteMain, base);
    expect(promoted.code).toBe(0);
    const sent = sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input;
    expect(sent.taskToken).toBe("token-42");
    expect(JSON.parse(sent.output!)).toEqual({ approvedBy: expect.stringMatching(/@.* pid \d+$/), step: 0 });
    expect(mock.state.parameters.has(APPROVAL)).toBe(false);
    expect(promoted.stderr).toMatch(/step 1 approved by .*; the state machine continues the rollout/);
    // Nothing moved here: the execution's next Advance continues the run.
    expect(listenerWeights()).toEqual({ blue: 90, green: 10 });
    const none = await run(promoteMain, base);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no approval is pending/);
  });

  it("rollback stops the run's running execution with a cause, then rolls back through the lock as on any stack", async () => {
    await writeConfig();
    const runId = await pausedRun();
    sfn.on(DescribeExecutionCommand).rejects(notFound());
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(runId) }).resolves({ executionArn: executionArn(runId), name: runId, status: "FAILED" });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(`${runId}-r1`) }).resolves({
      executionArn: executionArn(`${runId}-r1`),
      name: `${runId}-r1`,
      status: "RUNNING",
    });
    sfn.on(StopExecutionCommand).resolves({});
    const result = await run(rollbackMain, [...base, "--reason", "bad canary"]);
    expect(result.code).toBe(0);
    expect(sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { executionArn: executionArn(`${runId}-r1`), error: "OperatorRollback", cause: "bad canary" },
    ]);
    expect(result.stderr).toContain(`stopped execution ${runId}-r1 of run ${runId}`);
    expect(listenerWeights()).toEqual({ blue: 100, green: 0 });
    expect(decodeJournal(mock.state.parameters.get(JOURNAL)!)).toMatchObject({ phase: "rolled-back" });
  });

  it("Step Functions unreachable never stands in a rollback's way; a local stack makes no Step Functions call", async () => {
    await writeConfig();
    await pausedRun();
    sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
    const result = await run(rollbackMain, base);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: could not stop the execution .*rolling back anyway/);
    expect(listenerWeights()).toEqual({ blue: 100, green: 0 });

    await writeFile(join(dir, "outputs.json"), JSON.stringify(outputs));
    sfn.reset();
    await run(cutoverMain, [...base, "--yes", "--skip-snapshot", "test stack"]);
    await run(statusMain, base);
    await run(rollbackMain, base);
    expect(sfn.calls()).toHaveLength(0);
  });
});
