// What the commands do with an orchestrated stack's rollout executions, over the port
// (./port.ts): start one named after the run id (cutover), start the next attempt of a run that
// failed (`cutover --resume`: names cannot be reused, so `<runId>-r<n>`), find a run's executions
// (status, rollback), send an approval's task token (promote) and stop a run's execution (rollback).
//
// A run's executions are found by name, in order: `<runId>`, `<runId>-r1`, `<runId>-r2`, … up to
// the first name the machine does not have (DescribeExecution; bounded).

import { ExecutionExistsError } from "../../aws/stepFunctions.js";
import { UsageError } from "../../core/errors.js";
import { isTerminal } from "../../core/phases.js";
import type { Journal } from "../../core/journal.js";
import type { CheckoutRecord } from "../../core/orchestrator/checkout.js";
import type { Approvals, ExecutionDescription, Executions } from "./port.js";

/** More attempts than anyone resumes by hand: the search stops there. */
const MAX_ATTEMPTS = 50;

/** The execution input of the rollout machine; paired stacks add what the operator's checkout proved. */
export interface RolloutInput {
  runId: string;
  stack: string;
  checkout?: CheckoutRecord;
}

/** The name of a run's attempt: the run id, then `<runId>-r1`, `<runId>-r2`, …. */
export const attemptName = (runId: string, attempt: number): string => (attempt === 0 ? runId : `${runId}-r${attempt}`);

/** Every execution of the run, oldest first (an empty list when it never started on the machine). */
export async function runExecutions(executions: Executions, runId: string): Promise<ExecutionDescription[]> {
  const found: ExecutionDescription[] = [];
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const described = await executions.describe(executions.executionArn(attemptName(runId, attempt)));
    if (described === null) break;
    found.push(described);
  }
  return found;
}

export interface Started {
  executionArn: string;
  name: string;
  consoleUrl: string;
}

/** Start the run's first execution; a name already taken (a retried start) is refused, nothing started. */
export async function startRollout(executions: Executions, input: RolloutInput): Promise<Started> {
  return startNamed(executions, input.runId, input);
}

/**
 * `cutover --resume` on an orchestrated stack: the journal holds an unfinished run; when none of
 * its executions runs, start the next attempt, which resumes the run from the journal.
 */
export async function resumeRollout(
  executions: Executions,
  journal: Journal,
  stack: string,
  checkout?: CheckoutRecord,
): Promise<Started & { attempt: number }> {
  if (isTerminal(journal.phase))
    throw new UsageError(`run ${journal.runId} already ended (${journal.phase}): nothing to resume; start a new rollout without --resume`);
  const previous = await runExecutions(executions, journal.runId);
  const running = previous.find((e) => e.status === "RUNNING");
  if (running)
    throw new UsageError(
      `execution ${running.name} of run ${journal.runId} is running (${executions.consoleUrl(running.executionArn)}): it drives the run, nothing to resume`,
    );
  const attempt = previous.length;
  const started = await startNamed(executions, attemptName(journal.runId, attempt), { runId: journal.runId, stack, ...(checkout ? { checkout } : {}) });
  return { ...started, attempt };
}

async function startNamed(executions: Executions, name: string, input: RolloutInput): Promise<Started> {
  try {
    const executionArn = await executions.start(name, input);
    return { executionArn, name, consoleUrl: executions.consoleUrl(executionArn) };
  } catch (error) {
    // A retried start: the machine already has this run's execution. Nothing was started.
    if (error instanceof ExecutionExistsError) throw new UsageError(error.message);
    throw error;
  }
}

/** Stop every running execution of the run (rollback), each with the cause; the names of those stopped. */
export async function stopRun(executions: Executions, runId: string, cause: string): Promise<string[]> {
  const stopped: string[] = [];
  for (const execution of await runExecutions(executions, runId)) {
    if (execution.status !== "RUNNING") continue;
    await executions.stop(execution.executionArn, "OperatorRollback", cause);
    stopped.push(execution.name);
  }
  return stopped;
}

/** What `promote` sends with the task token: the operator and the 0-based step approved. */
export interface ApprovalOutput {
  approvedBy: string;
  step: number;
}

/**
 * Release a `pause: promote` of an orchestrated run: the pending approval must be this run's, for
 * this step (never a stale token of an earlier pause); the token is sent, then the parameter deleted.
 */
export async function approvePause(approvals: Approvals, journal: Journal, step: number, operator: string): Promise<ApprovalOutput> {
  const pending = await approvals.read();
  if (pending === null)
    throw new UsageError(
      `run ${journal.runId} is paused at step ${step + 1}, and no approval is pending: the state machine has not reached its approval task yet (or it was already sent); see \`npm run status\``,
    );
  if (pending.runId !== journal.runId || pending.step !== step)
    throw new UsageError(
      `the pending approval is for run ${pending.runId} step ${pending.step + 1}, the journal is paused at run ${journal.runId} step ${step + 1}: nothing was sent; see \`npm run status\``,
    );
  const output: ApprovalOutput = { approvedBy: operator, step };
  await approvals.sendTaskSuccess(pending.taskToken, output);
  await approvals.delete();
  return output;
}
