// Scenario `--orchestrated`: the rollout driven by a state machine instead of a cutover process.
// The sandbox's stand-in for Step Functions is the local ASL runner executing the generated
// rollout machine (scripts/app/wiring/sandbox.ts sandboxOrchestrator): each `Advance` is a fresh
// engine over the sandbox's ports that runs one poll and returns; the machine's `Wait` holds the
// time; nothing of ours runs in between (the scenario counts engine events outside invocations
// and checks the lock at every Wait).
//
//   1. a canary with a timed pause at 5% (a `Wait` state) and `pause: promote` at 25% (a task
//      token): the operator's promote goes through the same code as `npm run promote` on AWS
//      (approvePause: the pending approval checked against the journal, the token sent back);
//   2. traffic back on blue (a rollback), then a second run whose 25% step pauses for a while: a
//      fault starts on green during that Wait, and the guard (its own process) rolls back while
//      no engine runs; the next Advance finds the run ended and the execution fails RolloutRolledBack.
// The counts of state transitions and invocations are printed (docs/orchestrated.md says what they cost).

import type { RolloutConfig } from "../../infra/config.js";
import { approvePause, startRollout } from "../app/executions/rollout.js";
import { demoClock, sandboxDemoDeps, sandboxOrchestrator } from "../app/wiring/sandbox.js";
import { currentPause, pausesOf, runRollback } from "../core/engine.js";
import { parseJournal, type Journal } from "../core/journal.js";
import type { EngineEvent } from "../core/events.js";
import type { GuardOutcome } from "../core/guard.js";
import { verifyAcknowledgedWrites } from "../local/load.js";
import { demoOwner, type ScenarioContext } from "./context.js";
import { PAUSE_DEMO_FAULT } from "./pause.js";
import { finishDemo, scenarioResult } from "./summary.js";
import type { DemoExecution, DemoResult } from "./types.js";

/** The sandbox's timed pause (a day on a real stack): long enough to see, short enough for a demo. */
const TIMED_PAUSE = "3s";
/** The second run's pause at 25%: the guard needs a few one-second windows to act within it. */
const GUARDED_PAUSE = "15s";
/** A poll's wait ends an invocation when it is at least this long (the sandbox polls every second). */
const STOP_AT_WAIT_MS = 500;
const GUARD_BOUND_MS = 30_000;

/** The demo's canary with a pause at 25% and, when `at5` is null, without its 5% step (the second run starts at 25%). */
function withPauses(rollout: RolloutConfig, at5: string | null, at25: string): RolloutConfig {
  if (rollout.strategy.type !== "canary") throw new Error("--orchestrated runs the canary (database shared)");
  const steps = rollout.strategy.steps.flatMap((step) => {
    const entry = typeof step === "number" ? { percent: step } : step;
    if (entry.percent === 5) return at5 ? [{ ...entry, pause: at5 }] : [];
    if (entry.percent === 25) return [{ ...entry, pause: at25 }];
    return [step];
  });
  return { ...rollout, strategy: { type: "canary", steps } };
}

/** One execution of the rollout machine in the sandbox, watched: invocations, waits, the lock at each wait. */
async function orchestratedRun(ctx: ScenarioContext, rollout: RolloutConfig, runId: string, onWait?: (seconds: number) => Promise<void>) {
  const watch = { active: 0, outside: 0, waits: [] as number[], lockHeld: 0 };
  const orchestrator = await sandboxOrchestrator({
    stack: "demo",
    rollout,
    deps: () => ({
      ...sandboxDemoDeps(ctx.sandbox, ctx.signal),
      events: (event: EngineEvent) => {
        if (watch.active === 0) watch.outside += 1;
        ctx.settings.events?.(event);
      },
    }),
    clock: demoClock(ctx.signal),
    stopAtWaitMs: STOP_AT_WAIT_MS,
    onInvocation: (edge) => (watch.active += edge === "start" ? 1 : -1),
    onWait: async (_state, seconds) => {
      watch.waits.push(seconds);
      if ((await ctx.deps.lock.current()) !== null) watch.lockHeld += 1;
      await onWait?.(seconds);
    },
  });
  const started = await startRollout(orchestrator.executions, { runId, stack: "demo" });
  ctx.say(`>>> execution ${started.name} started on the rollout state machine (local ASL runner); each Advance is one poll of a fresh engine`);
  const execution = orchestrator.sfn.executions.at(-1)!;
  const figures = async (): Promise<DemoExecution> => {
    const journal = parseJournal(await ctx.deps.journal.load());
    return {
      runId,
      status: execution.status,
      error: execution.error?.error ?? null,
      transitions: execution.transitions,
      invocations: orchestrator.sfn.invocationCount(),
      waits: watch.waits,
      waitsWithLockHeld: watch.lockHeld,
      journalPhase: journal.phase,
      promotedBy: pausesOf(journal).map((pause) => pause.promotedBy ?? null),
    };
  };
  return { orchestrator, execution, watch, figures };
}

const describeRun = (run: DemoExecution) =>
  `${run.status}${run.error ? ` (${run.error})` : ""}: ${run.transitions} state transitions, ${run.invocations} invocations, ${run.waits.length} waits`;

export async function runOrchestrated(ctx: ScenarioContext): Promise<DemoResult> {
  const { sandbox, say } = ctx;
  const load = sandbox.load!;
  const green = sandbox.apps!.green;
  const fault = ctx.fault ?? PAUSE_DEMO_FAULT;
  const begun = Date.now();

  // 1. Timed pause at 5%, `pause: promote` at 25%, released by the operator's promote.
  const first = await orchestratedRun(ctx, withPauses(ctx.policy.rollout, TIMED_PAUSE, "promote"), `${ctx.runId}-a`);
  const token = await sandbox.step(Promise.race([first.orchestrator.waitForApproval(), first.execution.result.then(() => null)]));
  if (token) {
    const paused: Journal = parseJournal(await ctx.deps.journal.load());
    const pause = currentPause(paused);
    say(
      `>>> paused at step ${(pause?.step ?? 0) + 1}: the execution waits on its approval task; the lock is ${(await ctx.deps.lock.current()) ? "HELD" : "free"}, no engine runs`,
    );
    await sandbox.sleep(1000);
    const sent = await approvePause(first.orchestrator.approvals, paused, pause?.step ?? -1, demoOwner());
    say(`>>> promote: approval for step ${sent.step + 1} sent by ${sent.approvedBy} (the task token, as \`npm run promote\` sends it)`);
  }
  await sandbox.step(first.execution.result);
  const promoted = await first.figures();
  say(`>>> run ${promoted.runId}: ${describeRun(promoted)}`);

  // 2. Back on blue, then a run whose 25% step pauses; the guard rolls back during that Wait.
  await sandbox.step(
    runRollback(ctx.deps, { owner: demoOwner(), databaseMode: "shared", stack: "demo", reason: "the demo's second run starts from blue" }, ctx.settings),
  );
  const guard = await sandbox.startGuard({
    stack: "demo",
    maxErrorRate: 0.01,
    minRequests: 20,
    evaluationPeriods: 2,
    windowMs: 1000,
    lifetimeMs: 5 * 60_000,
    onSay: (text) => say(`[guard pid ${guard.pid}] ${text.replace(/^guard: /, "")}`),
    onEngineEvent: (event) => ctx.settings.events?.(event),
  });
  let guardAction: Promise<GuardOutcome | null> | null = null;
  const second = await orchestratedRun(ctx, withPauses(ctx.policy.rollout, null, GUARDED_PAUSE), `${ctx.runId}-b`, async (seconds) => {
    if (guardAction !== null || seconds < 10) return;
    guardAction = guard.firstAction(GUARD_BOUND_MS);
    say(`>>> the execution waits ${seconds} s at 25% (no engine runs); fault injected on green now: error rate ${fault.errorRate}`);
    await green.injectFault({ errorRate: fault.errorRate, latencyMs: fault.latencyMs });
  });
  await sandbox.step(second.execution.result);
  const guardOutcome: GuardOutcome | null = guardAction ? await sandbox.step(guardAction) : null;
  if (guardOutcome)
    say(`>>> the guard (pid ${guard.pid}) ${guardOutcome.acted ? `rolled back: ${guardOutcome.outcome}` : `did nothing: ${guardOutcome.reason}`}`);
  const guarded = await second.figures();
  say(`>>> run ${guarded.runId}: ${describeRun(guarded)}`);
  const cutoverMs = Date.now() - begun;

  ctx.phase("checks");
  const loadResult = await load.stop();
  const checksStarted = Date.now();
  const dataCheck = { ...(await sandbox.step(verifyAcknowledgedWrites(sandbox.blueUrl, loadResult.acknowledged))), database: "shared" };
  const stored = parseJournal(await ctx.deps.journal.load());
  const between = first.watch.outside + second.watch.outside;
  const asExpected =
    promoted.status === "SUCCEEDED" &&
    promoted.journalPhase === "succeeded" &&
    guarded.status === "FAILED" &&
    guarded.error === "RolloutRolledBack" &&
    stored.phase === "rolled-back" &&
    stored.owner.startsWith("guard (") &&
    between === 0 &&
    promoted.waitsWithLockHeld + guarded.waitsWithLockHeld === 0 &&
    dataCheck.missing.length === 0 &&
    dataCheck.mismatched.length === 0;
  const demo = await scenarioResult(ctx, loadResult, {
    database: "shared",
    outcome: stored.phase === "rolled-back" ? "rolled-back" : "aborted",
    asExpected,
    reason: stored.failure?.reason ?? null,
    cutoverMs,
    pollMs: 1000,
    unexpectedFailures: 0,
    injectedFailures: loadResult.failures.length,
    dataCheck,
    rollback: null,
    fault,
    paired: null,
  });
  demo.orchestrated = {
    promoted,
    guarded,
    engineEventsBetweenInvocations: between,
    guard: guardOutcome ? (guardOutcome.acted ? `rolled back: ${guardOutcome.outcome}` : `did nothing: ${guardOutcome.reason}`) : null,
  };
  say(
    `orchestrated: engine events between invocations: ${between}; waits that began with the lock held: ${promoted.waitsWithLockHeld + guarded.waitsWithLockHeld}`,
  );
  return finishDemo(ctx, demo, stored, checksStarted);
}
