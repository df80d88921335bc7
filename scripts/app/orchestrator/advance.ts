// What the advance Lambda does with one event of the rollout state machine, over ports: the
// engine's deps and the store an approval's task token goes to. The AWS composition is
// ./awsAdvance.ts, the Lambda entry point ./handler.ts; tests run this over the fakes.
//
// Two actions (scripts/core/orchestrator/stateMachine.ts):
//   - advance (the `Advance` task's Payload is the whole state: `{ runId, stack }` as the
//     execution started, plus `advance` and `approval` once the loop has been round): run the
//     engine until it must wait (advanceRollout) and return its outcome, which the `Route` Choice
//     reads as `$.advance.outcome`; a paired stack's preflight judges the parity result the
//     execution input's checkout record carries (scripts/core/orchestrator/checkout.ts);
//   - await-approval (`{ action, taskToken, runId, step }`): record the token for `promote`.
//
// Errors: a failure of ours (SSM or the load balancer unreachable) throws, so the state
// machine's Retry applies and the journal stays where it was. An input that can never work (no
// run id, another stack's execution) answers `{ end: "failed" }`: retrying would not mend it.

import type { DatabaseMode, RolloutConfig } from "../../../infra/config.js";
import type { EngineDeps } from "../../core/engine.js";
import { advanceRollout, type AdvanceOutcome, type Approval } from "../../core/orchestrator/advance.js";
import { recordedParity } from "../../core/orchestrator/checkout.js";
import type { ApprovalStore } from "../../aws/approvalParameter.js";

/** The state the `Advance` task passes (the execution's input and what the loop added). */
export interface AdvanceEvent {
  action?: "advance";
  runId?: unknown;
  stack?: unknown;
  /** The last approval `promote` sent back with the task token (SendTaskSuccess output). */
  approval?: unknown;
  /** What the operator's `cutover` proved before starting (CheckoutRecord): the paired preflight's parity result. */
  checkout?: unknown;
  [key: string]: unknown;
}

/** The `AwaitApproval` task's Payload. */
export interface AwaitApprovalEvent {
  action: "await-approval";
  taskToken?: unknown;
  runId?: unknown;
  step?: unknown;
}

export type OrchestratorEvent = AdvanceEvent | AwaitApprovalEvent;

export interface AwaitApprovalResult {
  recorded: true;
  runId: string;
  step: number;
}

/** What the deployment fixed: the stack this function serves, its rollout policy and database mode. */
export interface OrchestratorSettings {
  stack: string;
  rollout: RolloutConfig;
  databaseMode: DatabaseMode;
}

export interface OrchestratorPorts {
  /** A fresh engine's deps for this invocation. */
  deps: EngineDeps;
  approvals: ApprovalStore;
  /** The invocation's deadline: the engine stops at its next safe point and the invocation fails (retried). */
  signal?: AbortSignal;
}

/** Run ids name executions and journal entries: Step Functions allows 1–80 of these characters in an execution name. */
const RUN_ID = /^[A-Za-z0-9_.:-]{1,80}$/;

export function isAwaitApproval(event: OrchestratorEvent): event is AwaitApprovalEvent {
  return event.action === "await-approval";
}

export async function handleOrchestratorEvent(
  event: OrchestratorEvent,
  settings: OrchestratorSettings,
  ports: OrchestratorPorts,
): Promise<AdvanceOutcome | AwaitApprovalResult> {
  if (isAwaitApproval(event)) return recordApproval(event, ports);
  return advance(event, settings, ports);
}

async function advance(event: AdvanceEvent, settings: OrchestratorSettings, ports: OrchestratorPorts): Promise<AdvanceOutcome> {
  const runId = typeof event.runId === "string" ? event.runId : "";
  if (event.action !== undefined && event.action !== "advance") return refused(runId, `unknown action ${JSON.stringify(event.action)}`);
  if (!RUN_ID.test(runId)) return refused(runId, 'the execution input needs "runId": 1–80 letters, digits and _ . : -');
  if (event.stack !== settings.stack) {
    return refused(runId, `this function rolls out stack "${settings.stack}", the execution input names ${JSON.stringify(event.stack ?? null)}`);
  }
  // Paired: the preflight's parity is the one the operator's checkout recorded, never a file here.
  const deps = settings.databaseMode === "paired" ? { ...ports.deps, parity: recordedParity(event.checkout) } : ports.deps;
  return advanceRollout(deps, {
    runId,
    rollout: settings.rollout,
    databaseMode: settings.databaseMode,
    stack: settings.stack,
    owner: `stepfunctions:${settings.stack}/${runId}`,
    approval: approvalOf(event.approval),
    ...(ports.signal ? { signal: ports.signal } : {}),
  });
}

/** SendTaskSuccess's output as `promote` sends it; anything else is no approval (the pause keeps waiting). */
function approvalOf(value: unknown): Approval | null {
  if (!value || typeof value !== "object") return null;
  const { approvedBy, step } = value as Record<string, unknown>;
  if (typeof approvedBy !== "string" || approvedBy.length === 0) return null;
  if (typeof step !== "number" || !Number.isInteger(step) || step < 0) return null;
  return { approvedBy, step };
}

/**
 * Keep the task token where `promote` finds it. A malformed payload throws: the state machine
 * built it, so it is a bug, and an answer would leave the task waiting for a token nobody has.
 */
async function recordApproval(event: AwaitApprovalEvent, ports: OrchestratorPorts): Promise<AwaitApprovalResult> {
  const { taskToken, runId, step } = event;
  if (typeof taskToken !== "string" || taskToken.length === 0) throw new Error("await-approval without a task token");
  if (typeof runId !== "string" || !RUN_ID.test(runId)) throw new Error("await-approval without a valid run id");
  if (typeof step !== "number" || !Number.isInteger(step) || step < 0) throw new Error("await-approval without a 0-based step");
  await ports.approvals.record({ runId, step, taskToken, recordedAt: ports.deps.clock.now() });
  return { recorded: true, runId, step };
}

function refused(runId: string, reason: string): AdvanceOutcome {
  return { end: "failed", runId, reason };
}
