// StepFunctionsExecutions: the request shapes of StartExecution, DescribeExecution,
// GetExecutionHistory, SendTaskSuccess and StopExecution, and how their answers and errors come out
// (aws-sdk-client-mock; the behaviour of the machines is proved over the local ASL runner).

import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskTimedOut,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { AwsCallError } from "../../scripts/aws/errors.js";
import { executionArnOf, executionConsoleUrl, ExecutionExistsError, StepFunctionsExecutions } from "../../scripts/aws/stepFunctions.js";
import { UnreachableError } from "../../scripts/core/errors.js";

const sfn = mockClient(SFNClient);
const client = () => new SFNClient({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "x" }, maxAttempts: 1 });
const MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:bluegreen-prod-rollout";
const RUN = "2026-12-06T11-00-00-000Z-abc123";
const EXECUTION = `arn:aws:states:eu-west-1:123456789012:execution:bluegreen-prod-rollout:${RUN}`;
const meta = { $metadata: {} };

beforeEach(() => sfn.reset());

describe("StepFunctionsExecutions", () => {
  it("names executions as AWS does and links the console page", () => {
    expect(executionArnOf(MACHINE, RUN)).toBe(EXECUTION);
    expect(executionConsoleUrl(EXECUTION)).toBe(`https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${EXECUTION}`);
    expect(() => executionArnOf("arn:aws:lambda:eu-west-1:1:function:x", RUN)).toThrow(/not a state machine ARN/);
  });

  it("StartExecution: named after the run id, the input as JSON; a name taken is ExecutionExistsError", async () => {
    sfn.on(StartExecutionCommand).resolvesOnce({ executionArn: EXECUTION, startDate: new Date() });
    const arn = await new StepFunctionsExecutions(client()).start(MACHINE, RUN, { runId: RUN, stack: "prod" });
    expect(arn).toBe(EXECUTION);
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({
      stateMachineArn: MACHINE,
      name: RUN,
      input: JSON.stringify({ runId: RUN, stack: "prod" }),
    });
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: "Execution Already Exists", ...meta }));
    const refused = new StepFunctionsExecutions(client()).start(MACHINE, RUN, { runId: RUN, stack: "prod" });
    await expect(refused).rejects.toBeInstanceOf(ExecutionExistsError);
    await expect(refused).rejects.toThrow(/already exists .*nothing was started/);
  });

  it("DescribeExecution: the status, dates, error and input; a missing execution is null", async () => {
    sfn.on(DescribeExecutionCommand).resolvesOnce({
      executionArn: EXECUTION,
      stateMachineArn: MACHINE,
      name: RUN,
      status: "FAILED",
      startDate: new Date(1_000),
      stopDate: new Date(5_000),
      error: "RolloutRolledBack",
      cause: "the rollout was rolled back",
      input: JSON.stringify({ runId: RUN, stack: "prod" }),
    });
    const described = await new StepFunctionsExecutions(client()).describe(EXECUTION);
    expect(described).toEqual({
      executionArn: EXECUTION,
      name: RUN,
      status: "FAILED",
      startedAt: 1_000,
      stoppedAt: 5_000,
      error: "RolloutRolledBack",
      cause: "the rollout was rolled back",
      input: { runId: RUN, stack: "prod" },
    });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({ executionArn: EXECUTION });
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: "Execution Does Not Exist", ...meta }));
    expect(await new StepFunctionsExecutions(client()).describe(`${EXECUTION}-r1`)).toBeNull();
  });

  it("GetExecutionHistory: the newest events first, with their state and data", async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        {
          id: 9,
          timestamp: new Date(9_000),
          type: "WaitStateEntered",
          stateEnteredEventDetails: { name: "Wait", input: '{"advance":{"outcome":{"wait":"seconds"}}}' },
        },
        { id: 8, timestamp: new Date(8_000), type: "TaskStateExited", stateExitedEventDetails: { name: "Advance", output: "{}" } },
        { id: 7, timestamp: new Date(7_000), type: "LambdaFunctionSucceeded" },
      ],
    });
    const events = await new StepFunctionsExecutions(client()).lastEvents(EXECUTION, 20);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]!.args[0].input).toEqual({
      executionArn: EXECUTION,
      reverseOrder: true,
      maxResults: 20,
      includeExecutionData: true,
    });
    expect(events).toEqual([
      { id: 9, at: 9_000, type: "WaitStateEntered", state: "Wait", data: { advance: { outcome: { wait: "seconds" } } } },
      { id: 8, at: 8_000, type: "TaskStateExited", state: "Advance", data: {} },
      { id: 7, at: 7_000, type: "LambdaFunctionSucceeded", state: null, data: null },
    ]);
  });

  it("SendTaskSuccess sends the output as JSON; a token nobody waits for is named", async () => {
    sfn.on(SendTaskSuccessCommand).resolvesOnce({});
    await new StepFunctionsExecutions(client()).sendTaskSuccess("token-1", { approvedBy: "bob", step: 1 });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input).toEqual({ taskToken: "token-1", output: '{"approvedBy":"bob","step":1}' });
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: "Task Timed Out", ...meta }));
    const late = new StepFunctionsExecutions(client()).sendTaskSuccess("token-1", { approvedBy: "bob", step: 1 });
    await expect(late).rejects.toBeInstanceOf(AwsCallError);
    await expect(late).rejects.toThrow(/TaskTimedOut: no task waits for this approval/);
  });

  it("StopExecution carries the error and cause; an execution already gone is not an error", async () => {
    sfn.on(StopExecutionCommand).resolvesOnce({ stopDate: new Date() });
    await new StepFunctionsExecutions(client()).stop(EXECUTION, "OperatorRollback", "rollback by bob");
    expect(sfn.commandCalls(StopExecutionCommand)[0]!.args[0].input).toEqual({ executionArn: EXECUTION, error: "OperatorRollback", cause: "rollback by bob" });
    sfn.on(StopExecutionCommand).rejects(new ExecutionDoesNotExist({ message: "gone", ...meta }));
    await expect(new StepFunctionsExecutions(client()).stop(EXECUTION, "OperatorRollback", "x")).resolves.toBeUndefined();
  });

  it("an unreachable endpoint is UnreachableError (exit 3); the call's signal is passed to the SDK", async () => {
    sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { name: "Error", code: "ECONNREFUSED" }));
    await expect(new StepFunctionsExecutions(client()).describe(EXECUTION)).rejects.toBeInstanceOf(UnreachableError);
    const controller = new AbortController();
    sfn.on(StopExecutionCommand).resolves({});
    await new StepFunctionsExecutions(client(), { signal: () => controller.signal }).stop(EXECUTION, "E", "c");
    expect((sfn.commandCalls(StopExecutionCommand)[0]!.args as unknown[])[1]).toEqual({ abortSignal: controller.signal });
  });
});
