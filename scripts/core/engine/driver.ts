// The driver: runs the persisted state machine (core/phases.ts) one phase at a time until a
// terminal phase, turning failures into a rollback (a Breach, an unexpected error), an abort
// (the lock was broken by someone else) or a best-effort rollback (the journal cannot be saved).
// When the caller aborts (the request's signal) it stops between phases or at the next wait,
// saves the journal in its current phase and returns: never a rollback because of an abort.

import { isTerminal, trafficMayHaveMoved } from "../phases.js";
import { bake } from "./bake.js";
import { requireStepCapacity } from "./capacity.js";
import { continueFromPause, enterPause, holdsAtPause, pauseDue } from "./pause.js";
import { runHooks } from "./hooks.js";
import { catchUp, copySequences, fenceOff, fenceOn, proveParity, startReverseReplication } from "./pairedSwitch.js";
import { migrateSchema } from "./migrate.js";
import { preflight } from "./preflight.js";
import { rollbackTraffic } from "./rollback.js";
import { Breach, Interrupted, JournalWriteError, LockLost, abortReason, messageOf, type Run } from "./run.js";
import { StopRequested } from "./requests.js";
import { recordWeights, verifyStep, writeStep } from "./step.js";
import type { RollbackDeps } from "./types.js";

/** Run the state machine until a terminal phase. */
export async function drive(run: Run): Promise<void> {
  return runPhases(run, () => advance(run));
}

/** A rollback's run: its one phase ("rolling-back") until a terminal phase, on a rollback's ports only. */
export async function driveRollback(run: Run<RollbackDeps>): Promise<void> {
  return runPhases(run, () => {
    if (run.journal.phase !== "rolling-back") throw new Error(`internal error: a rollback in phase ${run.journal.phase}`);
    return rollbackTraffic(run);
  });
}

/** Do `advance` until a terminal phase, turning failures into a rollback, an abort or an interrupt (see the top of this file). */
async function runPhases(run: Run<RollbackDeps>, advance: () => Promise<void>): Promise<void> {
  while (!isTerminal(run.journal.phase)) {
    if (holdsAtPause(run)) return; // the cutover exits; `promote` continues
    try {
      run.throwIfAborted();
      await advance();
    } catch (error) {
      if (error instanceof LockLost) return abortForLostLock(run, error);
      if (error instanceof StopRequested) return abortForRequest(run, error);
      // Whatever failed after the abort (an adapter that stopped waiting, say) is not a breach.
      if (error instanceof Interrupted || run.signal?.aborted) return interrupt(run, error);
      if (error instanceof JournalWriteError) return failForJournal(run, error);
      if (run.journal.phase === "rolling-back") throw error; // rollbackTraffic handles its own failures
      const reason = error instanceof Breach ? error.reason : `unexpected error in phase "${run.journal.phase}": ${messageOf(error)}`;
      // Time to rollback runs from the moment the engine read the breach (now: it is thrown as it is
      // read), not from the end of the window it was seen in, which lies a publication delay earlier.
      const observedAt = run.now();
      await run.beginRollback(reason, observedAt);
    }
  }
}

/** Do the current phase's work and move to the next phase. */
async function advance(run: Run): Promise<void> {
  const j = run.journal;
  const plan = run.plan;
  switch (j.phase) {
    case "idle":
      return run.transition("preflight", null);
    case "preflight":
      return preflight(run);
    case "migrating":
      return migrateSchema(run);
    case "fencing":
      await fenceOn(run, "switch");
      return run.transition("catching-up");
    case "catching-up":
      await catchUp(run);
      return run.transition("parity");
    case "parity":
      await proveParity(run);
      return run.transition("sequences");
    case "sequences":
      await copySequences(run);
      return run.transition("reverse-replication");
    case "reverse-replication":
      await startReverseReplication(run);
      return run.transition("writing", 0);
    case "writing":
      await requireStepCapacity(run);
      await writeStep(run);
      return run.transition("verifying");
    case "verifying":
      await verifyStep(run);
      return run.transition(plan.fenced && j.fence.onAt !== null ? "unfencing" : "recording");
    case "unfencing":
      await fenceOff(run);
      return run.transition("recording");
    case "recording": {
      const step = run.currentStep();
      await recordWeights(run, step.weights, step.index);
      return run.transition("baking");
    }
    case "baking": {
      const requested = await bake(run, "baking", run.currentStep().pollsRequired);
      if (requested) return enterPause(run, requested);
      if (pauseDue(run)) return enterPause(run);
      return run.transition("hooks");
    }
    case "paused":
      return continueFromPause(run);
    case "hooks": {
      const step = run.currentStep();
      await runHooks(run, "after-step", step.index);
      const next = step.index + 1;
      if (next < plan.steps.length) return run.transition("writing", next);
      return run.transition("post-switch", null);
    }
    case "post-switch":
      await runHooks(run, "post-switch", null);
      return run.transition("monitoring", null);
    case "monitoring":
      await bake(run, "monitoring", plan.monitorPollsRequired);
      return run.finish("succeeded", null, null);
    case "rolling-back":
      return rollbackTraffic(run);
    default:
      throw new Error(`internal error: no handler for phase ${j.phase}`);
  }
}

/** Someone broke our lock (`rollback --force`): stop without touching traffic; that operation owns it. */
function abortForLostLock(run: Run<RollbackDeps>, error: LockLost): void {
  run.aborted = true;
  run.journal.phase = "aborted";
  run.decide("abort", `${error.message}: stopping without touching traffic (that operation owns it now)`);
  run.emit({ type: "lock", action: "lost", holder: error.holder, detail: error.message });
  run.emit({ type: "done", operation: run.options.operation, outcome: "aborted", reason: error.message });
  // the journal now belongs to the other operation: not saved
}

/**
 * `npm run abort` asked this run to stop: as with a broken lock, traffic is left untouched and the
 * journal is not saved: the abort's rollback continues from this run's last saved phase.
 */
function abortForRequest(run: Run<RollbackDeps>, error: StopRequested): void {
  const j = run.journal;
  j.failure = { reason: error.message, breachObservedAt: run.now(), phase: j.phase, step: j.step };
  // The lock is still this run's (unlike a broken one): released by the session, so the abort's rollback takes it without breaking it.
  run.journal.phase = "aborted";
  run.decide("abort", `${error.message}: stopping without touching traffic; the abort's rollback sends it back to blue`);
  run.emit({ type: "done", operation: run.options.operation, outcome: "aborted", reason: error.message });
}

/**
 * The caller aborted: save the journal where it stands (a resumable, non-terminal phase), say so,
 * and touch nothing more. What happens to traffic is the caller's policy.
 */
async function interrupt(run: Run<RollbackDeps>, error: unknown): Promise<void> {
  if (error instanceof JournalWriteError) throw error.original;
  const reason = error instanceof Interrupted ? error.reason : abortReason(run.signal);
  const j = run.journal;
  // The lock is checked before either event, so a lost lock never follows a "done".
  const lockChecked = !run.journalBroken && run.options.checkLock && j.phase !== "rolling-back";
  try {
    if (lockChecked) await run.checkLock();
  } catch (lost) {
    if (lost instanceof LockLost) return abortForLostLock(run, lost);
    throw lost;
  }
  run.interrupted = reason;
  const next = run.options.operation === "rollback" || j.phase === "rolling-back" ? "`rollback`" : "`cutover --resume`";
  run.decide(
    "interrupt",
    `${reason}: stopped in phase "${j.phase}"${j.step !== null ? ` at step ${j.step + 1}` : ""}, traffic and fence left as they are; ${next} continues`,
  );
  run.emit({ type: "done", operation: run.options.operation, outcome: "interrupted", reason });
  try {
    await run.persist(lockChecked);
  } catch (failed) {
    throw failed instanceof JournalWriteError ? failed.original : failed;
  }
}

/** The journal cannot be saved: roll traffic back (best effort), then surface the store's error. */
async function failForJournal(run: Run<RollbackDeps>, error: JournalWriteError): Promise<never> {
  if (run.journalBroken) throw error.original;
  run.journalBroken = true;
  run.emit({ type: "warning", message: `${error.message}; the journal can no longer be trusted` });
  if (trafficMayHaveMoved(run.journal.phase) && !isTerminal(run.journal.phase)) {
    // Best effort: the default action of anything that fails is rollback.
    try {
      if (run.journal.phase !== "rolling-back") await run.beginRollback(error.message, run.now());
      await rollbackTraffic(run);
    } catch {
      // the original error is what the caller needs to see
    }
  }
  throw error.original;
}
