// Sessions: how a run gets the lock (a stale lock of a finished run is removed; `--force` breaks
// any), starts a new cutover, resumes a crashed one (traffic must be where the journal says), or
// starts a rollback from any state; and how the result is read off the final journal.

import type { DatabaseMode } from "../../../infra/config.js";
import type { Outcome } from "../events.js";
import { createJournal, JournalCorruptError, outcomeOf, parseJournal, type Journal } from "../journal.js";
import { isTerminal } from "../phases.js";
import { describePlan, sameWeights, type Plan } from "../plan.js";
import { LockHeldError, type LockHolder, type RouteWeights } from "../ports.js";
import { drive, driveRollback } from "./driver.js";
import { checkPauseRelease, releasePause } from "./pause.js";
import { describeRoutes, expectedLiveWeights, maxStickiness, planFromLiveWeights } from "./routes.js";
import { Run, abortReason } from "./run.js";
import {
  EngineInputError,
  type CutoverDeps,
  type CutoverRequest,
  type CutoverResult,
  type EngineDeps,
  type RollbackDeps,
  type RollbackRequest,
  type RollbackResult,
  type RunSettings,
} from "./types.js";

/** Dry run: the plan and its description from live weights; no lock, no journal, no writes. */
export async function previewCutover(
  deps: Pick<EngineDeps, "router" | "metrics">,
  request: Pick<CutoverRequest, "rollout" | "databaseMode" | "skipSnapshot" | "catchUpTimeoutMs">,
): Promise<{ plan: Plan; lines: string[]; routes: RouteWeights[] }> {
  const routes = await deps.router.readWeights();
  return { ...planFromLiveWeights(deps, request, routes), routes };
}

/**
 * Run (or resume) a cutover. Resolves with the outcome; throws LockHeldError when another
 * operation holds the lock, EngineInputError / JournalCorruptError on a bad request for the
 * journal's state, and the JournalStore's error when the journal cannot be written (after a
 * best-effort rollback of traffic).
 */
export async function runCutover(ports: CutoverDeps & RunSettings, request: CutoverRequest, settings?: RunSettings): Promise<CutoverResult> {
  const deps = withSettings(ports, settings);
  requirePairedPorts(deps, request.databaseMode, ["fence", "replication", "parity"]);
  return request.resume ? resumeCutover(deps, request) : startCutover(deps, request);
}

/**
 * A run's ports with its settings beside them. Settings given as the argument win over any the
 * ports object carries (a test world hands both in one object).
 */
export function withSettings<D extends RollbackDeps>(ports: D & RunSettings, settings: RunSettings | undefined): D & RunSettings {
  return settings ? { ...ports, ...settings } : ports;
}

/**
 * Send all traffic back to blue, from any state (no journal, a running or crashed cutover, a
 * finished one, a rollback that failed), verified by reading back. Idempotent.
 */
export async function runRollback(ports: RollbackDeps & RunSettings, request: RollbackRequest, settings?: RunSettings): Promise<RollbackResult> {
  const deps = withSettings(ports, settings);
  requirePairedPorts(deps, request.databaseMode, ["fence", "replication"]);
  const started = deps.clock.now();
  const runId = request.runId ?? newRunId(deps);
  let brokeLock: LockHolder | null = null;
  const holder: LockHolder = { owner: request.owner, since: started, operation: "rollback", runId };
  let staleLock: LockHolder | null = null;
  let deadHolder: LockHolder | null = null;
  try {
    await deps.lock.acquire(holder);
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    if (await isStaleLock(deps, error.holder)) {
      staleLock = await deps.lock.breakLock();
    } else if (request.holderIsDead?.(error.holder) === true) {
      // Its process is gone (same host, pid not running): no one else will ever release it.
      deadHolder = await deps.lock.breakLock();
    } else if (request.force === true || (request.force === "except-rollback" && error.holder.operation !== "rollback")) {
      brokeLock = await deps.lock.breakLock();
    } else {
      throw error;
    }
    await deps.lock.acquire(holder);
  }

  const warnings: string[] = [];
  let journal: Journal;
  try {
    journal = (await loadJournalForRollback(deps, warnings)) ?? newRollbackJournal(request, runId, started);
  } catch (error) {
    await deps.lock.release(request.owner).catch(() => undefined);
    throw error;
  }
  journal.owner = request.owner;

  const run = new Run<RollbackDeps>(deps, journal, { operation: "rollback", owner: request.owner, hookEnv: {}, checkLock: false, signal: request.signal });
  if (brokeLock) {
    run.emit({ type: "lock", action: "broken", holder: brokeLock, detail: `broke the lock held by ${brokeLock.owner} (${brokeLock.operation}) with --force` });
  }
  if (staleLock) {
    run.emit({
      type: "lock",
      action: "taken-over",
      holder: staleLock,
      detail: `removed the stale lock of finished run ${staleLock.runId} (${staleLock.owner})`,
    });
  }
  if (deadHolder) {
    run.emit({
      type: "lock",
      action: "taken-over",
      holder: deadHolder,
      detail: `took over the lock of ${deadHolder.owner} (${deadHolder.operation}${deadHolder.runId ? `, run ${deadHolder.runId}` : ""}): that process is no longer running on this host`,
    });
  }
  run.emit({ type: "lock", action: "acquired", holder, detail: `rollback by ${request.owner}` });
  for (const message of warnings) run.emit({ type: "warning", message });

  const reason = request.reason ?? "operator requested rollback";
  try {
    await run.beginRollback(reason, started, {
      databaseMode: request.databaseMode,
      verifyTimeoutMs: request.verifyTimeoutMs,
      verifyIntervalMs: request.verifyIntervalMs,
      catchUpTimeoutMs: request.catchUpTimeoutMs,
      stopReverseReplication: request.stopReverseReplication ?? false,
      deadlineAt: request.deadlineAt,
    });
    await driveRollback(run);
  } finally {
    await deps.lock.release(request.owner).catch(() => undefined);
  }
  const j = run.journal;
  const routes = run.lastRoutes;
  return {
    operation: "rollback",
    outcome: run.interrupted !== null ? "interrupted" : j.phase === "rolled-back" ? "rolled-back" : "failed-rollback",
    reason: run.interrupted ?? reason,
    runId: j.runId,
    journal: j,
    timeToRollbackMs: j.rollback?.timeToRollbackMs ?? null,
    wallMs: deps.clock.now() - started,
    brokeLock,
    routes,
    stickinessSeconds: maxStickiness(routes),
    fenceMs: j.rollback?.fenceMs ?? null,
    onlyOnGreen: j.rollback?.onlyOnGreen ?? null,
  };
}

/** The journal a rollback continues; null (with a warning) when it is corrupt: rollback must work from any state. */
async function loadJournalForRollback(deps: RollbackDeps, warnings: string[]): Promise<Journal | null> {
  try {
    const raw = await deps.journal.load();
    return raw !== null && raw !== undefined ? parseJournal(raw) : null;
  } catch (error) {
    if (!(error instanceof JournalCorruptError) && !(error instanceof SyntaxError)) throw error;
    // A corrupt journal does not stop traffic going back to blue.
    warnings.push(`${(error as Error).message} — starting a new journal for this rollback`);
    return null;
  }
}

function newRollbackJournal(request: RollbackRequest, runId: string, now: number): Journal {
  return createJournal({
    runId,
    operation: "rollback",
    owner: request.owner,
    stack: request.stack ?? null,
    databaseMode: request.databaseMode,
    plan: null,
    now,
  });
}

async function startCutover(deps: EngineDeps, request: CutoverRequest): Promise<CutoverResult> {
  const runId = request.runId ?? newRunId(deps);
  const holder: LockHolder = { owner: request.owner, since: deps.clock.now(), operation: "cutover", runId };
  let staleLock: LockHolder | null = null;
  try {
    await deps.lock.acquire(holder);
  } catch (error) {
    // LockHeldError names the holder; only the leftover lock of a run that already ended is removed.
    if (!(error instanceof LockHeldError) || !(await isStaleLock(deps, error.holder))) throw error;
    staleLock = await deps.lock.breakLock();
    await deps.lock.acquire(holder);
  }
  let keepLock = false;
  try {
    const raw = await deps.journal.load();
    if (raw !== null && raw !== undefined) {
      const previous = parseJournal(raw);
      if (!isTerminal(previous.phase)) {
        throw new EngineInputError(
          `an unfinished ${previous.operation} (run ${previous.runId}) is in phase "${previous.phase}": ` +
            `continue it with \`cutover --resume\` or send traffic back with \`rollback\``,
        );
      }
    }
    const routes = await deps.router.readWeights();
    const { plan, lines } = planFromLiveWeights(deps, request, routes);
    const journal = createJournal({
      runId,
      operation: "cutover",
      owner: request.owner,
      stack: request.stack ?? null,
      databaseMode: request.databaseMode,
      plan,
      now: deps.clock.now(),
    });
    const run = new Run(deps, journal, {
      operation: "cutover",
      owner: request.owner,
      hookEnv: request.hookEnv ?? {},
      checkLock: true,
      signal: request.signal,
      holderSince: holder.since,
    });
    run.skipSnapshotReason = request.skipSnapshot;
    run.emit({ type: "plan", operation: "cutover", plan, lines });
    if (request.confirm && !(await request.confirm(plan, lines))) {
      return resultOf(run, "cancelled", "the operator did not confirm the plan");
    }
    // Aborted before anything was saved (at the prompt, say): nothing to resume, nothing written.
    if (request.signal?.aborted) return resultOf(run, "interrupted", abortReason(request.signal));
    if (staleLock) {
      run.emit({
        type: "lock",
        action: "taken-over",
        holder: staleLock,
        detail: `removed the stale lock of finished run ${staleLock.runId} (${staleLock.owner})`,
      });
    }
    run.emit({ type: "lock", action: "acquired", holder, detail: `cutover by ${request.owner}` });
    await run.persist();
    await drive(run);
    keepLock = run.aborted;
    return resultOf(run);
  } finally {
    if (!keepLock) await deps.lock.release(request.owner).catch(() => undefined);
  }
}

async function resumeCutover(deps: EngineDeps, request: CutoverRequest): Promise<CutoverResult> {
  const raw = await deps.journal.load();
  if (raw === null || raw === undefined) throw new EngineInputError("there is no cutover journal to resume: start a new cutover without --resume");
  const journal = parseJournal(raw);
  if (journal.plan === null) throw new EngineInputError(`the journal holds a ${journal.operation} (run ${journal.runId}), not a cutover to resume`);
  if (isTerminal(journal.phase)) {
    throw new EngineInputError(`run ${journal.runId} already ended (${journal.phase}); start a new cutover without --resume`);
  }
  if (journal.databaseMode !== request.databaseMode) {
    throw new EngineInputError(`the run was started with database mode "${journal.databaseMode}", the stack now says "${request.databaseMode}"`);
  }

  // A timed pause not over yet is refused before the lock is touched (promote --now overrides).
  if (journal.phase === "paused") checkPauseRelease(journal, { now: deps.clock.now(), early: request.pauseNow === true });

  const holder: LockHolder = { owner: request.owner, since: deps.clock.now(), operation: "cutover", runId: journal.runId };
  const current = await deps.lock.current();
  let takenOverFrom: LockHolder | null = null;
  if (current !== null && current.runId === journal.runId) {
    // The crashed run's lock: this process continues that run.
    takenOverFrom = await deps.lock.breakLock();
  } else if (current !== null) {
    throw new LockHeldError(current);
  }
  await deps.lock.acquire(holder);

  let keepLock = false;
  try {
    journal.owner = request.owner;
    journal.resumes += 1;
    const run = new Run(deps, journal, {
      operation: "cutover",
      owner: request.owner,
      hookEnv: request.hookEnv ?? {},
      checkLock: true,
      signal: request.signal,
      holderSince: holder.since,
    });
    run.skipSnapshotReason = request.skipSnapshot;
    run.emit({
      type: "lock",
      action: takenOverFrom ? "taken-over" : "acquired",
      holder,
      detail: takenOverFrom ? `took over the lock of the crashed run (held by ${takenOverFrom.owner})` : `cutover resumed by ${request.owner}`,
    });
    const plan = journal.plan!;
    run.emit({
      type: "plan",
      operation: "cutover",
      plan,
      lines: describePlan(plan, deps.router.describeWrites(), journal.snapshot && !journal.snapshot.taken ? { snapshotSkipped: journal.snapshot.reason } : {}),
    });
    await requireJournaledWeights(deps, journal);
    prepareResume(run);
    await run.persist();
    await drive(run);
    keepLock = run.aborted;
    return resultOf(run);
  } finally {
    if (!keepLock) await deps.lock.release(request.owner).catch(() => undefined);
  }
}

/**
 * Traffic must be where the journal says it is; if someone moved it since (or this run's
 * best-effort rollback did after the journal failed), continuing would bake the wrong split.
 */
async function requireJournaledWeights(deps: EngineDeps, journal: Journal): Promise<void> {
  const expected = expectedLiveWeights(journal);
  if (expected === null) return;
  const routes = await deps.router.readWeights();
  if (routes.length === 0 || !routes.every((r) => sameWeights(r.weights, expected))) {
    throw new EngineInputError(
      `cannot resume run ${journal.runId} in phase "${journal.phase}": live weights (${describeRoutes(routes)}) are not ` +
        `blue ${expected.blue} / green ${expected.green} as the journal expects; traffic was moved outside this run. ` +
        "Run `rollback`, then start a new cutover",
    );
  }
}

/** Decide how the resumed phase restarts, and say so. */
function prepareResume(run: Run): void {
  const journal = run.journal;
  let how = "continuing";
  if ((journal.phase === "baking" || journal.phase === "monitoring") && journal.bake) {
    // The time the process was dead was not watched: restart the bake from its beginning.
    journal.bake.passes = 0;
    journal.bake.polls = 0;
    journal.bake.startedAt = run.now();
    how = journal.judge
      ? // Sequential judge (bake.ts): the metrics source kept the minutes the process missed; the evidence is journaled.
        `going on with the ${journal.phase === "baking" ? "bake" : "monitoring window"} from its next window, with the judge's evidence so far (${journal.judge.windowsJudged} window(s))`
      : `restarting the ${journal.phase === "baking" ? "bake" : "monitoring window"} from its beginning`;
  } else if (journal.phase === "paused") {
    releasePause(run, run.options.owner);
    how = "promoted: back to the step's bake with its evidence, then on";
  } else if (journal.phase === "writing" || journal.phase === "verifying") {
    how = "writing and verifying the step's weights again";
    run.rewriteBeforeVerify = journal.phase === "verifying";
  }
  run.decide("resume", `resuming run ${journal.runId} in phase "${journal.phase}"${journal.step !== null ? ` at step ${journal.step + 1}` : ""}: ${how}`);
}

function resultOf(run: Run, outcome?: Outcome | "cancelled" | "paused", reason?: string): CutoverResult {
  const j = run.journal;
  if (outcome === undefined && j.phase === "paused") outcome = "paused"; // `promote` continues it
  const switchPeriods = j.fence.periods.filter((p) => p.purpose === "switch");
  return {
    operation: "cutover",
    outcome: outcome ?? (run.interrupted !== null ? "interrupted" : (outcomeOf(j) ?? "failed-rollback")),
    reason: reason ?? run.interrupted ?? j.failure?.reason ?? null,
    runId: j.runId,
    journal: outcome === undefined ? j : null, // an explicit outcome: ended before the journal was saved
    plan: j.plan!,
    timeToRollbackMs: j.rollback?.timeToRollbackMs ?? null,
    switchFenceMs: switchPeriods.length > 0 ? switchPeriods.reduce((sum, p) => sum + p.durationMs, 0) : null,
    rollbackFenceMs: j.rollback?.fenceMs ?? null,
    onlyOnGreen: j.rollback?.onlyOnGreen ?? null,
  };
}

/** A lock left behind by a run whose journal already reached a terminal phase (its process died before releasing it). */
async function isStaleLock(deps: RollbackDeps, holder: LockHolder): Promise<boolean> {
  if (holder.runId === undefined) return false;
  try {
    const raw = await deps.journal.load();
    if (raw === null || raw === undefined) return false;
    const journal = parseJournal(raw);
    return journal.runId === holder.runId && isTerminal(journal.phase);
  } catch {
    return false;
  }
}

/** Paired mode: the ports the operation needs beyond traffic (a cutover also reads the stored parity result). */
function requirePairedPorts(deps: Partial<CutoverDeps>, mode: DatabaseMode, needed: readonly ("fence" | "replication" | "parity")[]): void {
  if (mode !== "paired") return;
  const missing = needed.filter((name) => deps[name] === undefined);
  if (missing.length > 0) throw new EngineInputError(`paired database mode needs the ${missing.join(", ")} port(s)`);
}

function newRunId(deps: RollbackDeps & RunSettings): string {
  if (deps.newRunId) return deps.newRunId();
  const time = new Date(deps.clock.now()).toISOString().replace(/[:.]/g, "-");
  const random = Math.random().toString(36).slice(2, 8);
  return `${time}-${random}`;
}
