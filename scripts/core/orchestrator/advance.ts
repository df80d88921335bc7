// One step of an orchestrated rollout (the `advance` task of the rollout state machine): run the
// same engine over the same lock and journal until it must wait, and say what to wait for.
//
// No phase logic lives here. The engine runs through its own entry point (`runCutover`, a fresh
// start or `resume: true`); this module only
//   - decides from the journal whether to start, continue, or just report (a run that ended, a
//     pause whose time is not up, a `pause: promote` that nobody approved yet, another run's journal);
//   - gives the engine a clock whose first long sleep in a bake stops the run there: the clock
//     aborts the request's signal, so the engine saves its journal in the current phase and
//     releases the lock exactly as for Ctrl-C ("interrupted"); the next invocation resumes it.
//
// Each invocation is therefore one poll long (plus the writes and verifications between polls),
// and nothing of ours stays alive between invocations: the state machine's `Wait` holds the time.

import type { DatabaseMode, RolloutConfig } from "../../../infra/config.js";
import { currentPause, EngineInputError, runCutover, type CutoverResult, type EngineDeps } from "../engine.js";
import type { EngineEvent } from "../events.js";
import { parseJournal, type Journal } from "../journal.js";
import { isTerminal, type Phase } from "../phases.js";
import { LockHeldError, type Clock } from "../ports.js";

/** What the state machine does next. */
export type AdvanceOutcome =
  | { wait: "seconds"; seconds: number; runId: string; phase: Phase; step: number | null; reason: string }
  | { wait: "approval"; runId: string; step: number; reason: string }
  | { end: "succeeded" | "rolled-back" | "failed"; runId: string; reason: string | null };

/** The operator's approval of a `pause: promote`, as `promote` sends it with the task token. */
export interface Approval {
  approvedBy: string;
  /** 0-based step of the pause approved: an approval never releases a later pause. */
  step: number;
}

export interface AdvanceRequest {
  /** The rollout's run id (the execution is named after it). */
  runId: string;
  rollout: RolloutConfig;
  databaseMode: DatabaseMode;
  stack?: string;
  /** Lock owner while this invocation runs, e.g. "stepfunctions:prod/<run id>". */
  owner: string;
  /** The last approval the execution received, if any. */
  approval?: Approval | null;
  /** A bake's sleep at least this long ends the invocation; default 10 s. Shorter waits (verification, capacity polls) happen in-process. */
  stopAtWaitMs?: number;
  hookEnv?: Record<string, string>;
  /** The invocation's own deadline (the Lambda's remaining time): stops the engine at its next safe point; the outcome is then an error, so the state machine retries. */
  signal?: AbortSignal;
}

export const DEFAULT_STOP_AT_WAIT_MS = 10_000;

/** Phases whose waits may end an invocation: resuming them continues the bake from its next window. */
const STOPPABLE: ReadonlySet<Phase> = new Set<Phase>(["baking", "monitoring"]);

export async function advanceRollout(deps: EngineDeps, request: AdvanceRequest): Promise<AdvanceOutcome> {
  const journal = await loadJournal(deps);
  const runId = request.runId;
  if (journal === null || (journal.runId !== runId && isTerminal(journal.phase))) return runEngine(deps, request, null);
  if (journal.runId !== runId) {
    return {
      end: "failed",
      runId,
      reason: `another rollout (run ${journal.runId}, ${journal.operation}) is in phase "${journal.phase}": this execution touches nothing; finish or roll back that run first`,
    };
  }
  if (isTerminal(journal.phase)) return endOf(journal);
  if (journal.phase === "paused") {
    const waiting = pauseWait(journal, deps.clock.now(), request.approval ?? null);
    if (waiting) return waiting;
  }
  return runEngine(deps, request, journal);
}

/** A paused run that must keep waiting (its time is not up, or nobody approved it); null when it may continue. */
function pauseWait(journal: Journal, now: number, approval: Approval | null): AdvanceOutcome | null {
  const pause = currentPause(journal);
  if (!pause) return null; // the engine refuses a paused journal without a pause record: it says why
  if (pause.kind === "promote") {
    if (approval && approval.step === pause.step) return null;
    return { wait: "approval", runId: journal.runId, step: pause.step, reason: `paused at step ${pause.step + 1} until an operator runs \`npm run promote\`` };
  }
  if (pause.until !== null && now < pause.until) {
    return {
      wait: "seconds",
      seconds: Math.max(1, Math.ceil((pause.until - now) / 1000)),
      runId: journal.runId,
      phase: journal.phase,
      step: journal.step,
      reason: `timed pause at step ${pause.step + 1} until ${new Date(pause.until).toISOString()}`,
    };
  }
  return null;
}

/** Start or resume the engine with a clock that stops it at its first long wait in a bake. */
async function runEngine(deps: EngineDeps, request: AdvanceRequest, journal: Journal | null): Promise<AdvanceOutcome> {
  const runId = request.runId;
  const resume = journal !== null;
  const controller = new AbortController();
  const deadline = request.signal;
  if (deadline?.aborted) controller.abort(deadline.reason);
  else deadline?.addEventListener("abort", () => controller.abort(deadline.reason), { once: true });
  const stopper = new WaitStopper(deps, request, journal?.phase ?? "idle", controller);
  const approval = journal?.phase === "paused" ? (request.approval ?? null) : null;
  let result: CutoverResult;
  try {
    result = await runCutover(
      { ...deps, clock: stopper.clock, events: stopper.events, tickMs: 0 },
      {
        rollout: request.rollout,
        databaseMode: request.databaseMode,
        ...(request.stack !== undefined ? { stack: request.stack } : {}),
        owner: approval ? approval.approvedBy : request.owner,
        runId,
        resume,
        signal: controller.signal,
        ...(request.hookEnv ? { hookEnv: request.hookEnv } : {}),
      },
    );
  } catch (error) {
    if (error instanceof LockHeldError) {
      if (!resume) return { end: "failed", runId, reason: `refused: ${error.message}` };
      // Someone else acts on this run now (an operator's rollback, say): look again at the next poll.
      return { wait: "seconds", seconds: pollSeconds(request), runId, phase: journal.phase, step: journal.step, reason: `the lock is held: ${error.message}` };
    }
    if (error instanceof EngineInputError) return { end: "failed", runId, reason: error.message };
    throw error; // infrastructure: the state machine retries the invocation
  }
  if (result.outcome === "paused") {
    // The engine's result carries no journal for a pause: the store holds it.
    const paused = await loadJournal(deps);
    if (!paused || paused.runId !== runId)
      throw new Error(`the engine paused run ${runId} but the journal holds ${paused ? `run ${paused.runId}` : "nothing"}`);
    return (
      pauseWait(paused, deps.clock.now(), null) ?? { wait: "seconds", seconds: 1, runId, phase: paused.phase, step: paused.step, reason: "the pause is over" }
    );
  }
  return outcomeOf(result, stopper, request);
}

function outcomeOf(result: CutoverResult, stopper: WaitStopper, request: AdvanceRequest): AdvanceOutcome {
  const runId = result.runId;
  const journal = result.journal;
  switch (result.outcome) {
    case "interrupted":
      if (request.signal?.aborted)
        throw new Error(`the invocation's deadline stopped the engine in phase "${journal?.phase ?? "unknown"}": the next invocation resumes it`);
      if (stopper.stoppedForMs === null || !journal) throw new Error(`the engine stopped unexpectedly: ${result.reason ?? "interrupted"}`);
      return {
        wait: "seconds",
        seconds: Math.max(1, Math.ceil(stopper.stoppedForMs / 1000)),
        runId,
        phase: journal.phase,
        step: journal.step,
        reason: `next window of the ${journal.phase === "monitoring" ? "monitoring" : "bake"} is answerable in ${Math.ceil(stopper.stoppedForMs / 1000)} s`,
      };
    case "aborted":
      // The lock was broken by another operation (`rollback --force`): it owns the run; look again later.
      return {
        wait: "seconds",
        seconds: pollSeconds(request),
        runId,
        phase: "aborted",
        step: journal?.step ?? null,
        reason: result.reason ?? "the lock was taken over",
      };
    case "cancelled":
      return { end: "failed", runId, reason: result.reason };
    default:
      return journal ? endOf(journal) : { end: "failed", runId, reason: result.reason };
  }
}

function endOf(journal: Journal): AdvanceOutcome {
  const reason = journal.failure?.reason ?? null;
  if (journal.phase === "succeeded") return { end: "succeeded", runId: journal.runId, reason: null };
  if (journal.phase === "rolled-back") return { end: "rolled-back", runId: journal.runId, reason };
  return { end: "failed", runId: journal.runId, reason: reason ?? `the run ended in phase "${journal.phase}"` };
}

function pollSeconds(request: AdvanceRequest): number {
  return Math.max(1, request.rollout.pollIntervalSeconds);
}

async function loadJournal(deps: EngineDeps): Promise<Journal | null> {
  const raw = await deps.journal.load();
  return raw === null || raw === undefined ? null : parseJournal(raw);
}

/**
 * The clock and event sink given to the engine: it follows the phase through the engine's own
 * "phase-changed" events, and the first sleep of at least `stopAtWaitMs` in a bake (sequential
 * judge: its evidence is journaled, so a resume goes on from the next window) aborts the run
 * instead of sleeping. Thresholds mode restarts a resumed bake, so its bakes run in-process.
 */
class WaitStopper {
  stoppedForMs: number | null = null;
  readonly clock: Clock;
  readonly events: (event: EngineEvent) => void;
  private phase: Phase;

  constructor(deps: EngineDeps, request: AdvanceRequest, phase: Phase, controller: AbortController) {
    this.phase = phase;
    const threshold = request.stopAtWaitMs ?? DEFAULT_STOP_AT_WAIT_MS;
    const inner = deps.clock;
    this.clock = {
      now: () => inner.now(),
      sleep: async (ms, signal) => {
        if (ms >= threshold && STOPPABLE.has(this.phase) && this.stoppedForMs === null && !signal?.aborted) {
          this.stoppedForMs = ms;
          controller.abort(`waiting ${Math.ceil(ms / 1000)} s for the next window: the state machine holds the wait`);
          return;
        }
        await inner.sleep(ms, signal);
      },
    };
    this.events = (event) => {
      if (event.type === "phase-changed") this.phase = event.to;
      deps.events?.(event);
    };
  }
}
