// Requests from another terminal to the cutover that is running (`npm run pause`, `npm run abort`):
// a small record the running engine reads at each poll of a bake (the OperatorRequestChannel port;
// on AWS an SSM parameter beside the lock and the journal, in the sandbox a file in the run
// directory). A request names the session it is for: the run id and the moment its lock was taken
// (the lock holder's `since`), so a request left behind by a session that has ended is never
// honoured by a later one (a `cutover --resume` of the same run takes a new lock).
//
// Pure: what a request looks like, how one read back is checked, and whether a journal and a lock
// holder describe a cutover that `pause` can hold.

import type { Journal } from "./journal.js";
import { PHASES } from "./phases.js";
import type { LockHolder } from "./ports.js";

export type OperatorRequestKind = "pause" | "abort";

export interface OperatorRequest {
  kind: OperatorRequestKind;
  /** The run the request is for. */
  runId: string;
  /** The lock holder's `since` of the session the request is for. */
  holderSince: number;
  /** Who asked ("user@host pid 1234"). */
  by: string;
  /** When (epoch ms). */
  at: number;
  /** Why, when the operator said (`--reason`). */
  reason: string | null;
}

/** A request as read back from the channel; null when it is not one (a foreign or damaged value is ignored, never obeyed). */
export function parseOperatorRequest(value: unknown): OperatorRequest | null {
  if (typeof value !== "object" || value === null) return null;
  const record = value as Record<string, unknown>;
  const { kind, runId, holderSince, by, at, reason } = record;
  if (kind !== "pause" && kind !== "abort") return null;
  if (typeof runId !== "string" || runId.length === 0 || typeof by !== "string") return null;
  if (typeof holderSince !== "number" || !Number.isFinite(holderSince) || typeof at !== "number" || !Number.isFinite(at)) return null;
  if (reason !== null && typeof reason !== "string") return null;
  return { kind, runId, holderSince, by, at, reason };
}

/** Whether a request is for the session of this run whose lock was taken at `holderSince`. */
export function requestIsFor(request: OperatorRequest, runId: string, holderSince: number | undefined): boolean {
  return request.runId === runId && holderSince !== undefined && request.holderSince === holderSince;
}

/** "alice@ops-1 pid 42 (reason: smoke tests flaky)" */
export function describeRequester(request: OperatorRequest): string {
  return `${request.by}${request.reason ? ` (reason: ${request.reason})` : ""}`;
}

/** The running cutover a request can be addressed to: its lock holder is a cutover of this journal's run. */
export interface RunningCutover {
  runId: string;
  holderSince: number;
  owner: string;
  phase: Journal["phase"];
  /** 0-based. */
  step: number | null;
}

/** The cutover that holds the lock and drives the journal's run; null when no cutover process holds it. */
export function runningCutover(journal: Journal | null, holder: LockHolder | null): RunningCutover | null {
  if (!journal || !holder || holder.operation !== "cutover" || holder.runId === undefined || holder.runId !== journal.runId) return null;
  return { runId: journal.runId, holderSince: holder.since, owner: holder.owner, phase: journal.phase, step: journal.step };
}

/**
 * Phases in which a pause request is held at the next poll of a step's bake (before that, the
 * step's weights are still being written): every phase of a running cutover before it pauses —
 * from preflight to the step's hooks, in the state machine's order.
 */
const HOLDABLE: ReadonlySet<Journal["phase"]> = new Set(PHASES.slice(PHASES.indexOf("preflight"), PHASES.indexOf("paused")));

/** What `pause` answers: a request to write, nothing to do (already paused), or a refusal naming what to do instead. */
export type PauseAnswer = { kind: "request"; target: RunningCutover } | { kind: "already-paused"; step: number } | { kind: "refused"; reason: string };

export function answerPause(journal: Journal | null, holder: LockHolder | null): PauseAnswer {
  if (journal?.phase === "paused") return { kind: "already-paused", step: (journal.step ?? 0) + 1 };
  const target = runningCutover(journal, holder);
  if (!target) {
    if (journal && journal.plan !== null && !["succeeded", "preflight-failed", "rolled-back", "failed-rollback", "aborted", "idle"].includes(journal.phase))
      return {
        kind: "refused",
        reason: `run ${journal.runId} is in phase "${journal.phase}" but no cutover process holds the lock${holder ? ` (${holder.operation} by ${holder.owner} does)` : ""}: nothing is running to hold; continue it with \`cutover --resume\` or send traffic back with \`rollback\``,
      };
    return { kind: "refused", reason: "no cutover is running on this stack: nothing to pause" };
  }
  if (target.phase === "post-switch" || target.phase === "monitoring")
    return {
      kind: "refused",
      reason: `run ${target.runId} has moved all traffic to green and is in phase "${target.phase}": there is no step to hold; \`npm run abort\` sends traffic back to blue`,
    };
  if (!HOLDABLE.has(target.phase)) return { kind: "refused", reason: `run ${target.runId} is in phase "${target.phase}": nothing to pause` };
  return { kind: "request", target };
}
