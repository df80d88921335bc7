// The guard's decision and action, shared by the AWS guard (a Lambda behind green's composite
// alarm, scripts/aws/guard/) and the sandbox guard (scripts/local/guard.ts over the router's
// metrics): when green's alarm fires, roll back with the project's own rollback — only while a
// rollout is active — and let the journal say who did it.

import type { DatabaseMode } from "../../infra/config.js";
import { runRollback, type GuardDeps, type RollbackResult, type RunSettings } from "./engine.js";
import { parseJournal } from "./journal.js";
import { isTerminal, trafficMayHaveMoved } from "./phases.js";
import { LockHeldError } from "./ports.js";

export type GuardOutcome =
  | { acted: false; reason: string }
  | { acted: true; reason: string; outcome: RollbackResult["outcome"]; runId: string; timeToRollbackMs: number | null; brokeLock: string | null };

/**
 * Green's alarm is in ALARM: roll back if a rollout is active.
 *   - no journal, or a terminal phase: no rollout is active — except failed-rollback, whose
 *     traffic was never verified on blue: the guard rolls back again (Lambda's retry of a failed
 *     invocation, or the sandbox guard's next breach, is then a real second attempt);
 *   - idle / preflight: no weight has moved yet;
 *   - a rollback holds the lock: someone is already sending traffic to blue (the lock itself
 *     says so when the guard tries to take it);
 *   - otherwise (a step, a paused step, a crashed or running cutover): roll back, overriding a
 *     cutover's lock like `rollback --force` (its engine sees the lost lock and stops touching traffic).
 * A corrupt journal with the alarm firing: traffic may be anywhere, and rollback works from any state.
 */
export async function guardRollback(
  deps: GuardDeps & RunSettings,
  request: {
    alarm: string;
    detail?: string;
    invocation: string;
    databaseMode: DatabaseMode;
    stack: string;
    /** When the alarm went to ALARM (epoch ms): an alarm older than the run is an earlier rollout's (a retried, queued event). */
    alarmAt?: number;
    /** When the rollback's work must be done (clock ms): its read-back windows leave room for a rewrite. */
    deadlineAt?: number;
  },
): Promise<GuardOutcome> {
  const raw = await deps.journal.load();
  if (raw === null || raw === undefined) return { acted: false, reason: "no journal: no rollout is active" };
  let phase = "unknown (corrupt journal)";
  let runId = "?";
  try {
    const journal = parseJournal(raw);
    phase = journal.phase;
    runId = journal.runId;
    // failed-rollback ended without blue verified: traffic may still be on green, so it is acted on
    // (a retried invocation, the next breach) like an active rollout.
    if (isTerminal(journal.phase) && journal.phase !== "failed-rollback")
      return { acted: false, reason: `run ${runId} already ended (${phase}): no rollout is active` };
    if (!trafficMayHaveMoved(journal.phase)) return { acted: false, reason: `run ${runId} is in ${phase}: no weight has moved yet` };
    if (request.alarmAt !== undefined && request.alarmAt < journal.createdAt) {
      return {
        acted: false,
        reason: `the alarm (${new Date(request.alarmAt).toISOString()}) is older than run ${runId} (started ${new Date(journal.createdAt).toISOString()}): it was an earlier rollout's`,
      };
    }
  } catch {
    // corrupt: act (see above)
  }
  const reason = `guard: ${request.alarm} in ALARM${request.detail ? ` (${request.detail})` : ""} while run ${runId} was in ${phase}`;
  let result: RollbackResult;
  try {
    // "except-rollback": the lock decides, when the guard takes it (no read of it before, which
    // another rollback could take in between): a cutover's is broken, a rollback's never.
    result = await runRollback(deps, {
      owner: `guard (${request.invocation})`,
      databaseMode: request.databaseMode,
      stack: request.stack,
      reason,
      force: "except-rollback",
      ...(request.deadlineAt !== undefined ? { deadlineAt: request.deadlineAt } : {}),
    });
  } catch (error) {
    if (error instanceof LockHeldError && error.holder.operation === "rollback")
      return { acted: false, reason: `a rollback by ${error.holder.owner} is already running` };
    throw error;
  }
  return {
    acted: true,
    reason,
    outcome: result.outcome,
    runId: result.runId,
    timeToRollbackMs: result.timeToRollbackMs,
    brokeLock: result.brokeLock ? `${result.brokeLock.operation} by ${result.brokeLock.owner}` : null,
  };
}
