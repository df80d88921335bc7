// The Step Functions calls the commands make on an orchestrated stack: StartExecution (cutover,
// release), DescribeExecution and the newest events of GetExecutionHistory (status), SendTaskSuccess
// (promote's approval), StopExecution (rollback). One call per method, each with the command's
// AbortSignal and the error classification of ./errors.ts (unreachable → exit 3).
//
// Executions are named after the run id. StartExecution refuses a second execution of a name the
// machine already has (ExecutionAlreadyExists; for 90 days after it ended), so a retried start can
// never run a rollout twice: that answer comes out as ExecutionExistsError, saying what to do.

import type { HistoryEvent, SFNClient } from "@aws-sdk/client-sfn";
import { createRequire } from "node:module";
import { AwsCallError, awsErrorCode, classifyAwsError, sendOptions, type SignalSource } from "./errors.js";

// require(), not import: the SDK ships CommonJS and the ESM scan of it is slow (see aws/sdk.ts).
export type SfnSdk = typeof import("@aws-sdk/client-sfn");
export const sfnSdk = (): SfnSdk => createRequire(import.meta.url)("@aws-sdk/client-sfn") as SfnSdk;

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED" | "PENDING_REDRIVE";

export interface ExecutionDescription {
  executionArn: string;
  name: string;
  status: ExecutionStatus;
  startedAt: number | null;
  stoppedAt: number | null;
  /** The Fail state's error and cause (RolloutRolledBack, RolloutFailed, States.Aborted ...). */
  error: string | null;
  cause: string | null;
  input: unknown;
}

/** One history event, reduced to what status shows. */
export interface ExecutionEvent {
  id: number;
  at: number;
  type: string;
  /** The state entered or exited, for state events. */
  state: string | null;
  /** The state's input (entered) or output (exited), parsed; null otherwise. */
  data: unknown;
}

/** StartExecution was refused: the machine already has an execution of that name. */
export class ExecutionExistsError extends AwsCallError {
  override name = "ExecutionExistsError";
  constructor(
    readonly executionName: string,
    readonly executionArn: string,
  ) {
    super(
      `an execution named ${executionName} already exists (${executionArn}): a run id starts one execution only, so nothing was started; \`npm run status\` shows it, and \`npm run cutover -- --resume\` continues a failed one`,
      "ExecutionAlreadyExists",
    );
  }
}

/** `arn:aws:states:R:A:stateMachine:M` + name → `arn:aws:states:R:A:execution:M:name` (how AWS names an execution). */
export function executionArnOf(stateMachineArn: string, name: string): string {
  const match = /^(arn:[^:]+:states:[^:]+:[^:]+):stateMachine:([^:]+)$/.exec(stateMachineArn);
  if (!match) throw new Error(`${stateMachineArn} is not a state machine ARN`);
  return `${match[1]}:execution:${match[2]}:${name}`;
}

/** The region an ARN lives in (its fourth field). */
export const regionOfArn = (arn: string): string => arn.split(":")[3] ?? "";

/** The execution's page in the Step Functions console. */
export function executionConsoleUrl(executionArn: string): string {
  const region = regionOfArn(executionArn);
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

export class StepFunctionsExecutions {
  private readonly sdk = sfnSdk();

  constructor(
    private readonly client: SFNClient,
    private readonly options: { signal?: SignalSource } = {},
  ) {}

  /** StartExecution named `name` with `input` as JSON; returns the execution's ARN. */
  async start(stateMachineArn: string, name: string, input: unknown): Promise<string> {
    const abort = this.options.signal?.();
    try {
      const out = await this.client.send(new this.sdk.StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }), sendOptions(abort));
      if (!out.executionArn) throw new AwsCallError(`StartExecution ${name}: the answer carried no executionArn`, "NoExecutionArn");
      return out.executionArn;
    } catch (error) {
      if (awsErrorCode(error) === "ExecutionAlreadyExists") throw new ExecutionExistsError(name, executionArnOf(stateMachineArn, name));
      throw classifyAwsError(error, `StartExecution ${name} on ${stateMachineArn}`, abort);
    }
  }

  /** DescribeExecution; null when there is no such execution. */
  async describe(executionArn: string): Promise<ExecutionDescription | null> {
    const abort = this.options.signal?.();
    try {
      const out = await this.client.send(new this.sdk.DescribeExecutionCommand({ executionArn }), sendOptions(abort));
      return {
        executionArn: out.executionArn ?? executionArn,
        name: out.name ?? executionArn.split(":").at(-1) ?? "",
        status: (out.status ?? "RUNNING") as ExecutionStatus,
        startedAt: out.startDate ? out.startDate.getTime() : null,
        stoppedAt: out.stopDate ? out.stopDate.getTime() : null,
        error: out.error ?? null,
        cause: out.cause ?? null,
        input: parseJson(out.input),
      };
    } catch (error) {
      if (awsErrorCode(error) === "ExecutionDoesNotExist") return null;
      throw classifyAwsError(error, `DescribeExecution ${executionArn}`, abort);
    }
  }

  /** The newest `count` events of the execution's history, newest first. */
  async lastEvents(executionArn: string, count: number): Promise<ExecutionEvent[]> {
    const abort = this.options.signal?.();
    try {
      const out = await this.client.send(
        new this.sdk.GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: count, includeExecutionData: true }),
        sendOptions(abort),
      );
      return (out.events ?? []).map(eventOf);
    } catch (error) {
      throw classifyAwsError(error, `GetExecutionHistory ${executionArn}`, abort);
    }
  }

  /** SendTaskSuccess: the waiting task continues with `output`. */
  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    const abort = this.options.signal?.();
    try {
      await this.client.send(new this.sdk.SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }), sendOptions(abort));
    } catch (error) {
      const code = awsErrorCode(error);
      if (code === "TaskDoesNotExist" || code === "TaskTimedOut" || code === "InvalidToken")
        throw new AwsCallError(
          `SendTaskSuccess: Step Functions answered ${code}: no task waits for this approval any more (the execution ended or was stopped); \`npm run status\` shows where the rollout stands`,
          code,
        );
      throw classifyAwsError(error, "SendTaskSuccess", abort);
    }
  }

  /** StopExecution with an error name and a cause (shown in the console). An execution already ended is not an error. */
  async stop(executionArn: string, error: string, cause: string): Promise<void> {
    const abort = this.options.signal?.();
    try {
      await this.client.send(new this.sdk.StopExecutionCommand({ executionArn, error, cause: cause.slice(0, 32_768) }), sendOptions(abort));
    } catch (thrown) {
      if (awsErrorCode(thrown) === "ExecutionDoesNotExist") return;
      throw classifyAwsError(thrown, `StopExecution ${executionArn}`, abort);
    }
  }
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function eventOf(event: HistoryEvent): ExecutionEvent {
  const entered = event.stateEnteredEventDetails;
  const exited = event.stateExitedEventDetails;
  return {
    id: event.id ?? 0,
    at: event.timestamp ? event.timestamp.getTime() : 0,
    type: event.type ?? "Unknown",
    state: entered?.name ?? exited?.name ?? null,
    data: entered ? parseJson(entered.input) : exited ? parseJson(exited.output) : null,
  };
}
