// The advance Lambda's entry point (infra/orchestrator.ts bundles this file with esbuild into
// index.js, handler "index.handler"). Each invocation builds a fresh engine over the stack's AWS
// ports (./awsAdvance.ts) and hands the event to ./advance.ts; nothing outlives it
// but the journal and the lock's absence.
//
// The deadline: the function's remaining time less ORCHESTRATOR_RESERVE_MS stops the engine at
// its next safe point (journal saved, lock released, as on Ctrl-C) and the invocation fails, so
// the state machine's Retry runs it again and the engine resumes from the journal. Without it a
// long wait inside an invocation (a snapshot) would be killed by Lambda with the lock still held.

import type { AdvanceOutcome } from "../../core/orchestrator/advance.js";
import { handleOrchestratorEvent, isAwaitApproval, type AwaitApprovalResult, type OrchestratorEvent } from "./advance.js";
import { createOrchestratorPorts, logEvents, ORCHESTRATOR_ENV, parseOrchestratorConfig, readRolloutConfig } from "./awsAdvance.js";

export interface LambdaContext {
  functionName?: string;
  awsRequestId?: string;
  /** Lambda's: milliseconds left before the function's timeout. */
  getRemainingTimeInMillis?: () => number;
}

/** Kept from the remaining time for the engine to save the journal and release the lock (a few SSM calls, each retried by the SDK). */
export const ORCHESTRATOR_RESERVE_MS = 60_000;

export async function handler(event: OrchestratorEvent, context: LambdaContext = {}): Promise<AdvanceOutcome | AwaitApprovalResult> {
  const config = parseOrchestratorConfig(process.env[ORCHESTRATOR_ENV]);
  const rollout = await readRolloutConfig(process.env.LAMBDA_TASK_ROOT);
  const runId = typeof event.runId === "string" ? event.runId : "";
  const deadline = new AbortController();
  const remainingMs = context.getRemainingTimeInMillis?.();
  const timer =
    remainingMs === undefined
      ? undefined
      : setTimeout(
          () => deadline.abort(new Error(`the invocation's deadline (its timeout less ${ORCHESTRATOR_RESERVE_MS / 1000} s) has passed`)),
          Math.max(0, remainingMs - ORCHESTRATOR_RESERVE_MS),
        );
  let close = async (): Promise<void> => undefined;
  try {
    const ports = await createOrchestratorPorts(config, rollout, logEvents(config, runId));
    close = ports.close;
    const result = await handleOrchestratorEvent(
      event,
      { stack: config.stack, rollout, databaseMode: config.databaseMode },
      { ...ports, signal: deadline.signal },
    );
    // The token itself never reaches the log: whoever holds it can release the pause.
    console.log(JSON.stringify({ orchestrator: config.stack, action: isAwaitApproval(event) ? "await-approval" : "advance", runId, result }));
    return result;
  } catch (error) {
    console.error(JSON.stringify({ orchestrator: config.stack, runId, error: (error as Error).message }));
    throw error;
  } finally {
    if (timer) clearTimeout(timer);
    // Paired: the database connections the replication kept; a frozen execution environment must not hold them.
    await close().catch((error: unknown) => console.error(JSON.stringify({ orchestrator: config.stack, runId, closeError: (error as Error).message })));
  }
}
