// The Amazon States Language definitions, generated from code (dependency-free: the Pulumi program
// declares the machines from them, scripts/core/orchestrator/ runs and tests them).
//
// The rollout machine is a loop that knows nothing of phases: `Advance` (the advance Lambda, see
// scripts/core/orchestrator/advance.ts) says what to wait for, `Route` chooses, `Wait` holds the seconds (SecondsPath) or
// `AwaitApproval` holds a task token until `promote` sends it back, then `Advance` again; the end
// is `Succeeded`, `RolledBack` or `Failed`. Execution input: `{ "runId": "...", "stack": "..." }`.
//
// The wave machine runs one release over many stacks: one `Map` per wave (MaxConcurrency), each
// item starting the stack's rollout machine and waiting for it (startExecution.sync:2, execution
// named after the item's run id), a `Wait` (the bake) between waves. A failed item fails its
// wave's Map, and the wave's Catch ends the release: later waves are never started.

/** A state machine definition (ASL JSON). */
export interface AslDefinition {
  Comment?: string;
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
}
export type AslState = Record<string, unknown> & { Type: "Task" | "Choice" | "Wait" | "Succeed" | "Fail" | "Map" | "Pass" };

/** Errors of the Lambda service itself (throttling, a failed start): always safe to retry. */
export const LAMBDA_SERVICE_ERRORS = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"];

export const LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";
export const LAMBDA_INVOKE_WAIT_FOR_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken";
export const START_EXECUTION_SYNC = "arn:aws:states:::states:startExecution.sync:2";

export interface RolloutMachineOptions {
  /** The advance Lambda's ARN (the same function also records an approval's task token). */
  advanceFunctionArn: string;
  /** Retries of a failed invocation (our handler threw: an unreachable SSM, say); default 3. */
  invocationRetries?: number;
  /** Longest an execution may run; default one year less a day (the Standard workflow limit is a year). */
  timeoutSeconds?: number;
}

/** The end a Fail state reports, by the advance outcome that led to it. */
export const ROLLOUT_ERRORS = { rolledBack: "RolloutRolledBack", failed: "RolloutFailed", unexpected: "AdvanceUnexpectedResult" } as const;

export function rolloutStateMachine(options: RolloutMachineOptions): AslDefinition {
  const outcome = "$.advance.outcome";
  const isEnd = (end: string) => ({
    And: [
      { Variable: `${outcome}.end`, IsPresent: true },
      { Variable: `${outcome}.end`, StringEquals: end },
    ],
  });
  const isWait = (wait: string) => ({
    And: [
      { Variable: `${outcome}.wait`, IsPresent: true },
      { Variable: `${outcome}.wait`, StringEquals: wait },
    ],
  });
  return {
    Comment: "A blue/green rollout: the advance Lambda runs the engine until it must wait; this loop only waits",
    StartAt: "Advance",
    TimeoutSeconds: options.timeoutSeconds ?? 364 * 86_400,
    States: {
      Advance: {
        Type: "Task",
        Resource: LAMBDA_INVOKE,
        Parameters: { FunctionName: options.advanceFunctionArn, "Payload.$": "$" },
        ResultSelector: { "outcome.$": "$.Payload" },
        ResultPath: "$.advance",
        Retry: [
          { ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2 },
          { ErrorEquals: ["States.TaskFailed"], IntervalSeconds: 30, MaxAttempts: options.invocationRetries ?? 3, BackoffRate: 2 },
        ],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Failed" }],
        Next: "Route",
      },
      Route: {
        Type: "Choice",
        Choices: [
          { ...isWait("seconds"), Next: "Wait" },
          { ...isWait("approval"), Next: "AwaitApproval" },
          { ...isEnd("succeeded"), Next: "Succeeded" },
          { ...isEnd("rolled-back"), Next: "RolledBack" },
          { ...isEnd("failed"), Next: "Failed" },
        ],
        Default: "Unexpected",
      },
      Wait: { Type: "Wait", SecondsPath: `${outcome}.seconds`, Next: "Advance" },
      AwaitApproval: {
        Type: "Task",
        Resource: LAMBDA_INVOKE_WAIT_FOR_TOKEN,
        Parameters: {
          FunctionName: options.advanceFunctionArn,
          Payload: { action: "await-approval", "taskToken.$": "$$.Task.Token", "runId.$": "$.runId", "step.$": `${outcome}.step` },
        },
        ResultPath: "$.approval",
        Retry: [{ ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2 }],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Failed" }],
        Next: "Advance",
      },
      Succeeded: { Type: "Succeed" },
      RolledBack: { Type: "Fail", Error: ROLLOUT_ERRORS.rolledBack, Cause: "the rollout was rolled back: see `npm run status` and the run report" },
      Failed: { Type: "Fail", Error: ROLLOUT_ERRORS.failed, Cause: "the rollout failed: see `npm run status` and the run report" },
      Unexpected: { Type: "Fail", Error: ROLLOUT_ERRORS.unexpected, Cause: "the advance Lambda returned neither a wait nor an end" },
    },
  };
}

export interface WaveMachineOptions {
  /** How many waves the release has (each wave's stacks are in the execution input: `waves[i]`). */
  waves: number;
  /** Stacks rolled out at once within a wave. */
  maxConcurrency: number;
  /** Bake between two waves. */
  bakeSeconds: number;
}

export const WAVE_ERRORS = { failed: "WaveFailed" } as const;

/**
 * Execution input: `{ "release": "...", "waves": [[{ "stack", "stateMachineArn", "runId" }, ...], ...] }`.
 * Each wave's results land in `$.results.waveN`.
 */
export function waveStateMachine(options: WaveMachineOptions): AslDefinition {
  if (!Number.isInteger(options.waves) || options.waves < 1) throw new Error("a release has at least one wave");
  if (!Number.isInteger(options.maxConcurrency) || options.maxConcurrency < 1) throw new Error("maxConcurrency must be a positive integer");
  const states: Record<string, AslState> = {};
  for (let i = 0; i < options.waves; i++) {
    const last = i === options.waves - 1;
    states[waveName(i)] = {
      Type: "Map",
      ItemsPath: `$.waves[${i}]`,
      MaxConcurrency: options.maxConcurrency,
      ItemProcessor: {
        ProcessorConfig: { Mode: "INLINE" },
        StartAt: `RolloutStackWave${i + 1}`,
        States: {
          [`RolloutStackWave${i + 1}`]: {
            Type: "Task",
            Resource: START_EXECUTION_SYNC,
            Parameters: { "StateMachineArn.$": "$.stateMachineArn", "Name.$": "$.runId", Input: { "runId.$": "$.runId", "stack.$": "$.stack" } },
            End: true,
          },
        },
      },
      ResultPath: `$.results.wave${i + 1}`,
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "ReleaseFailed" }],
      Next: last ? "Released" : bakeName(i),
    };
    if (!last) states[bakeName(i)] = { Type: "Wait", Seconds: options.bakeSeconds, Next: waveName(i + 1) };
  }
  states.Released = { Type: "Succeed" };
  states.ReleaseFailed = { Type: "Fail", Error: WAVE_ERRORS.failed, Cause: "a stack's rollout failed or rolled back: later waves were not started" };
  return { Comment: "A release in waves across stacks and regions", StartAt: waveName(0), States: states };
}

const waveName = (i: number) => `Wave${i + 1}`;
const bakeName = (i: number) => `BakeAfterWave${i + 1}`;
