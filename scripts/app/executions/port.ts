// The orchestrator of a stack, as the commands see it: "local" (the cutover process drives the
// rollout, today's behaviour) or a state machine that drives it between invocations of the
// advance function (Step Functions on AWS; the local ASL runner in the sandbox). The commands
// start, describe, approve and stop executions through this port; wiring/aws.ts and
// wiring/sandbox.ts implement it.

import type { PendingApproval } from "../../aws/approvalParameter.js";

import type { ExecutionDescription, ExecutionEvent } from "../../aws/stepFunctions.js";

export type { ExecutionDescription, ExecutionEvent, ExecutionStatus } from "../../aws/stepFunctions.js";

/** The executions of one state machine. */
export interface Executions {
  readonly machineArn: string;
  /** The ARN an execution of this name has (or would have). */
  executionArn(name: string): string;
  /** Start an execution named `name`; refuses a name the machine already has (ExecutionExistsError). */
  start(name: string, input: unknown): Promise<string>;
  /** null when there is no such execution. */
  describe(executionArn: string): Promise<ExecutionDescription | null>;
  /** The newest `count` history events, newest first. */
  lastEvents(executionArn: string, count: number): Promise<ExecutionEvent[]>;
  stop(executionArn: string, error: string, cause: string): Promise<void>;
  /** Where an operator sees the execution (the Step Functions console; a file in the sandbox). */
  consoleUrl(executionArn: string): string;
}

/** The task token of a pending `pause: promote`, and how it is sent back. */
export interface Approvals {
  read(): Promise<PendingApproval | null>;
  delete(): Promise<void>;
  sendTaskSuccess(taskToken: string, output: unknown): Promise<void>;
}

export type StackOrchestrator =
  | { kind: "local" }
  | {
      kind: "stepfunctions";
      /** The stack's short name (the execution input's `stack`). */
      stack: string;
      rollout: Executions;
      approvals: Approvals;
    };

/** The release (waves) machine a host stack carries. */
export interface ReleaseOrchestrator {
  release: Executions;
}
