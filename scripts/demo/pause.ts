// Scenario `--pause`: a long rollout that no operator process babysits.
//
//   1. the cutover — its own OS process (scripts/demo/cutoverMain.ts) — runs 5% → 25% and PAUSES
//      there (step `pause: promote`): the engine ends with outcome "paused", the journal in phase
//      "paused", the lock released, and the process exits 0 — the cutover is over;
//   2. the guard — its own OS process since before the cutover (scripts/demo/guardMain.ts: green's
//      5xx-rate alarm over the router's control API → the project's own rollback over the run
//      directory's lock and journal, only while a rollout is active) — watches;
//   3. a fault starts on green (errors; `--fault` chooses another);
//   4. the guard's process rolls back, with no cutover and no operator process running;
//   5. "status": the journal tells the story (paused step, the guard's rollback, who, why).
// Then the data check, as in every scenario: each acknowledged write is in the database.

import { formatEvent } from "../core/events.js";
import { parseJournal, type Journal } from "../core/journal.js";
import type { RolloutConfig } from "../../infra/config.js";
import { describeFault, type FaultSpec } from "../../sample-app/faults.js";
import type { GuardOutcome } from "../core/guard.js";
import { pausesOf } from "../core/engine.js";
import { describeWindow, type GuardWindow } from "./guard.js";
import { verifyAcknowledgedWrites } from "../local/load.js";
import type { ScenarioContext } from "./context.js";
import type { CutoverProcessResult } from "./cutoverProcess.js";
import type { GuardProcess } from "./guardProcess.js";
import { injectedFailure, rollbackFigures } from "./faults.js";
import { finishDemo, scenarioResult } from "./summary.js";
import type { DemoResult } from "./types.js";

/** The fault when `--pause` has no `--fault`: a third of green's requests fail. */
export const PAUSE_DEMO_FAULT: FaultSpec = { errorRate: 0.3, latencyMs: 0 };
/** The guard's alarm in the sandbox: one-second periods, two in a row (the stack's: 60 s, app.alarms.evaluationPeriods). */
const GUARD_WINDOW_MS = 1000;
const GUARD_PERIODS = 2;
/** Green requests a window needs before it can breach (at 25% of 300 req/s a window has ~75). */
const GUARD_MIN_REQUESTS = 20;
/** The guard's alarm threshold, as app.alarms.errorRateThreshold is on AWS: green's 5xx over its requests. */
const GUARD_MAX_ERROR_RATE = 0.01;
/** How long the guard may take to act before the scenario gives up (it normally needs ~3 s). */
const GUARD_BOUND_MS = 20_000;
/** The guard process stops itself after this, should nothing else stop it. */
const GUARD_LIFETIME_MS = 5 * 60_000;

/** The demo's canary with the 25% step pausing for an operator. */
export function pausingRollout(rollout: RolloutConfig): RolloutConfig {
  if (rollout.strategy.type !== "canary") throw new Error("--pause needs the canary strategy (database shared)");
  const steps = rollout.strategy.steps.map((step) => {
    const percent = typeof step === "number" ? step : step.percent;
    if (percent !== 25) return step;
    return { ...(typeof step === "number" ? { percent } : step), pause: "promote" };
  });
  return { ...rollout, strategy: { type: "canary", steps } };
}

export async function runPausedWithGuard(ctx: ScenarioContext): Promise<DemoResult> {
  const fault = ctx.fault ?? PAUSE_DEMO_FAULT;
  const guard = await startWatchingGuard(ctx);
  const cutover = await runCutoverUntilPaused(ctx);
  const guardOutcome = cutover.result.outcome === "paused" ? await breakGreenUnderGuard(ctx, guard, fault) : null;
  const stored = await showJournalStatus(ctx);
  return checkPausedRun(ctx, { cutover, guardOutcome, guardWindows: guard.windows, stored, fault });
}

/** The guard's process, the alarm windows it judged (for the rollback figures), and whether its quiet windows are printed. */
interface WatchingGuard {
  process: GuardProcess;
  windows: GuardWindow[];
  relayWindows(on: boolean): void;
}

/**
 * 0. The guard: always on, in its own process, over the router's control API and the run
 *    directory. It watches from now on and acts only while a rollout is active.
 */
async function startWatchingGuard(ctx: ScenarioContext): Promise<WatchingGuard> {
  let relay = false;
  const windows: GuardWindow[] = [];
  const guardSays = (text: string) => ctx.say(`[guard pid ${guard.pid}] ${text.replace(/^guard: /, "")}`);
  const guard = await ctx.sandbox.startGuard({
    stack: "demo",
    maxErrorRate: GUARD_MAX_ERROR_RATE,
    minRequests: GUARD_MIN_REQUESTS,
    evaluationPeriods: GUARD_PERIODS,
    windowMs: GUARD_WINDOW_MS,
    lifetimeMs: GUARD_LIFETIME_MS,
    onSay: guardSays,
    // Its quiet windows are shown once no cutover runs (during the cutover the engine's own lines tell the story).
    onWindow: (window) => {
      windows.push(window);
      if (relay || window.breaching) guardSays(describeWindow(window));
    },
    // The rollback it runs is the engine's: its events go where the cutover's went (printed, kept for the figures).
    onEngineEvent: (event) => ctx.settings.events?.(event),
  });
  ctx.say(
    `>>> the guard runs in its own process (pid ${guard.pid}): green's 5xx rate over the router's metrics, ${GUARD_PERIODS} × ${GUARD_WINDOW_MS / 1000} s windows above ${GUARD_MAX_ERROR_RATE}; it acts only while a rollout is active`,
  );
  return { process: guard, windows, relayWindows: (on) => (relay = on) };
}

/**
 * 1. The cutover, in its own process, until it pauses and that process exits. Ctrl-C reaches
 *    the demo, which interrupts it like `npm run cutover` (it stops at its next safe point).
 */
async function runCutoverUntilPaused(ctx: ScenarioContext): Promise<{ result: CutoverProcessResult; ms: number }> {
  const { sandbox, say } = ctx;
  const started = Date.now();
  const cutoverProcess = await sandbox.startCutover({ rollout: pausingRollout(ctx.policy.rollout), stack: "demo", runId: ctx.runId }, (event) =>
    ctx.settings.events?.(event),
  );
  const pid = cutoverProcess.child.pid;
  say(`>>> the cutover runs in its own process (pid ${pid}) over the router's control API and the run directory`);
  const interrupt = () => cutoverProcess.child.kill("SIGINT");
  ctx.signal.addEventListener("abort", interrupt, { once: true });
  const result = await sandbox.step(cutoverProcess.result).finally(() => ctx.signal.removeEventListener("abort", interrupt));
  const ms = Date.now() - started;
  if (result.outcome === "paused" && result.exitCode === 0)
    say(`>>> the cutover process (pid ${pid}) exited ${result.exitCode}: paused at 25% (\`npm run promote\` would continue it); no operator process runs now`);
  else
    say(`>>> the cutover process (pid ${pid}) ended ${result.outcome} (exit ${result.exitCode}) before its pause${result.reason ? `: ${result.reason}` : ""}`);
  return { result, ms };
}

/** 2–4. The guard watches; a moment later green breaks; the guard's process rolls back. */
async function breakGreenUnderGuard(ctx: ScenarioContext, guard: WatchingGuard, fault: FaultSpec): Promise<GuardOutcome | null> {
  const { sandbox, say } = ctx;
  const green = sandbox.apps!.green;
  ctx.phase("guard");
  guard.relayWindows(true);
  await sandbox.sleep(1500);
  say(`>>> fault injected on green now: ${describeFault(fault)}`);
  await (fault.crash ? green.crash() : green.injectFault({ errorRate: fault.errorRate, latencyMs: fault.latencyMs }));
  const outcome = await sandbox.step(guard.process.firstAction(GUARD_BOUND_MS));
  guard.relayWindows(false);
  if (outcome) {
    say(`>>> the guard (pid ${guard.process.pid}) ${outcome.acted ? `rolled back: ${outcome.outcome}` : `did nothing: ${outcome.reason}`}`);
    ctx.phase("after-rollback");
    await sandbox.sleep(1500); // every new request lands on blue
  } else
    say(
      `>>> the guard did not act within ${GUARD_BOUND_MS / 1000} s${guard.process.exited() ? ` (its process exited: ${guard.process.logTail().slice(-3).join(" | ")})` : ""}`,
    );
  return outcome;
}

/** 5. "status": the journal, as `npm run status` reads it. */
async function showJournalStatus(ctx: ScenarioContext): Promise<Journal> {
  const { say } = ctx;
  const stored = parseJournal(await ctx.deps.journal.load());
  say(`status: run ${stored.runId} phase ${stored.phase}; last operator ${stored.owner}`);
  for (const pause of pausesOf(stored)) say(`status: paused at step ${pause.step + 1} since ${new Date(pause.since).toISOString()}`);
  if (stored.failure) say(`status: rollback reason: ${stored.failure.reason} (from phase ${stored.failure.phase})`);
  const last = stored.timeline.filter((event) => event.type === "rollback-complete" || (event.type === "lock" && event.action === "acquired")).slice(-2);
  for (const event of last) say(`status: ${formatEvent(event)}`);
  return stored;
}

interface PausedRun {
  cutover: { result: CutoverProcessResult; ms: number };
  guardOutcome: GuardOutcome | null;
  guardWindows: GuardWindow[];
  stored: Journal;
  fault: FaultSpec;
}

/**
 * The checks: every acknowledged write is in the database, the rollback's figures (the polls that
 * saw the fault are the guard's alarm windows: the cutover, paused, polled nothing then), and
 * whether the story went as promised — paused, the guard rolled back, nothing else failed.
 */
async function checkPausedRun(ctx: ScenarioContext, run: PausedRun): Promise<DemoResult> {
  const { sandbox } = ctx;
  const { stored, fault, guardWindows } = run;
  const cutover = run.cutover.result;
  const green = sandbox.apps!.green;
  ctx.phase("checks");
  const loadResult = await sandbox.load!.stop();
  const checksStarted = Date.now();
  const dataCheck = { ...(await sandbox.step(verifyAcknowledgedWrites(sandbox.blueUrl, loadResult.acknowledged))), database: "shared" };
  const rolledBack = stored.phase === "rolled-back";
  const onset = green.faultOnset();
  const figures = ctx.events.some((event) => event.type === "rollback-started")
    ? rollbackFigures(ctx.events, loadResult, onset, stored.rollback?.timeToRollbackMs ?? null, stored.failure?.reason ?? null)
    : null;
  const seeing = onset === null ? [] : guardWindows.filter((window) => window.start + GUARD_WINDOW_MS > onset);
  const firstBreach = seeing.findIndex((window) => window.breaching);
  const rollback = figures && {
    ...figures,
    pollsSeeingFault: seeing.length,
    pollsWhollyAfterOnset: seeing.filter((window) => window.start >= onset!).length,
    firstFailingPoll: firstBreach >= 0 ? firstBreach + 1 : null,
    // the guard's alarms rolled back, not the judge's windows
    pollsTheRulesNeed: null,
  };
  const injected = loadResult.failures.filter((failure) => injectedFailure(failure, fault, green)).length;
  const unexpectedFailures = loadResult.failures.length - injected;
  const asExpected =
    cutover.outcome === "paused" &&
    cutover.exitCode === 0 &&
    run.guardOutcome?.acted === true &&
    rolledBack &&
    stored.owner.startsWith("guard (") &&
    dataCheck.missing.length === 0 &&
    dataCheck.mismatched.length === 0 &&
    unexpectedFailures === 0 &&
    rollback !== null &&
    rollback.afterRollback.green === 0;

  const demo = await scenarioResult(ctx, loadResult, {
    database: "shared",
    // A cutover process that ended without an engine result (it crashed): the run was cut short.
    outcome: rolledBack ? "rolled-back" : cutover.outcome === "error" ? "aborted" : cutover.outcome,
    asExpected,
    reason: stored.failure?.reason ?? cutover.reason,
    cutoverMs: run.cutover.ms,
    pollMs: GUARD_WINDOW_MS, // the poller that caught the fault: the guard
    unexpectedFailures,
    injectedFailures: injected,
    dataCheck,
    rollback,
    fault,
    paired: null,
  });
  return finishDemo(ctx, demo, stored, checksStarted);
}
