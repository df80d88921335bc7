// The bake after each step and the monitoring window after the switch. It reads windows and acts
// on what the judge (core/judge) says about them; it decides nothing itself:
//
// - Windows (rules in ./windows.ts): back-to-back windows of plan.pollMs starting at the bake's
//   start plus the judge's warm-up, rounded up to the source's resolution, each asked for once the
//   source has published it (end + publicationDelayMs). The bake's clock starts with its first
//   full window.
// - Each window read goes to the judge's window rules (core/judge/windowRules.ts: split against the
//   verified weights, ELB attribution, green's health), then its counts to the judge, which weighs
//   the whole step green against blue and answers fail / continue / extend / promote. The judge's
//   state is journaled, so a resume carries the evidence over.
// - Once per cutover, before the first window is judged, blue's history before the first weight
//   moved is read: the slow bound (blue's p95/p99) and blue's own windows, which tell the judge how
//   much blue moves on its own.
// - Metric-provider errors: the same window is asked again at the next poll; the judge's rules fail
//   the step after a few in a row.

import type { EngineEvent } from "../events.js";
import {
  describeVerdict,
  judgeStep,
  newJudgeState,
  parseJudgeState,
  resolveJudgeSettings,
  withBlueHistory,
  type JudgeSettings,
  type JudgeVerdict,
} from "../judge/index.js";
import { assessMetricError, assessWindow, describeWindow, unattributedElb, type SplitExpectation, type WindowReading } from "../judge/windowRules.js";
import type { BakeProgress, CutoverEvidence } from "../journal.js";
import type { Plan } from "../plan.js";
import type { MetricsWindow } from "../ports.js";
import type { OperatorRequest } from "../operatorRequest.js";
import { readBlueHistory } from "./history.js";
import { pendingPause } from "./requests.js";
import { maxStickiness } from "./routes.js";
import { Breach, messageOf, type Run } from "./run.js";
import { alignDown, answerableAt, newBakeWindows, nextWindow, type BakeWindows } from "./windows.js";
import { expectedRequests, noteTraffic, readWindowWhenComplete, recentTrafficPerMinute, type WindowCompleteness } from "../windowReader.js";

export type BakePhase = "baking" | "monitoring";

/** How much history before a step is read for the ELB 5xx level: ten windows, at most 15 minutes. */
const BEFORE_WINDOWS = 10;
const BEFORE_MAX_MS = 15 * 60_000;

/** The judge's settings for a plan: the budget is split over the phases that are judged. */
export function judgeSettingsOf(plan: Plan): JudgeSettings {
  const judgedPhases = Math.max(1, plan.steps.filter((step) => step.bakeMs > 0).length + (plan.monitorMs > 0 ? 1 : 0));
  return resolveJudgeSettings(plan.gates, { judgedPhases, databaseMode: plan.databaseMode });
}

/** Bake until the judge decides; returns the operator's pause request when one stopped it first (baking only). */
export async function bake(run: Run, phase: BakePhase, required: number): Promise<OperatorRequest | null> {
  const j = run.journal;
  const plan = run.plan;
  const source = run.deps.metrics;
  if (!j.bake) j.bake = { passes: 0, polls: 0, extensionsUsed: 0, consecutiveMetricErrors: 0, startedAt: run.now() };
  const bake = j.bake;
  const settings = judgeSettingsOf(plan);
  const windows = (bake.windows ??= newBakeWindows(bake.startedAt + settings.warmupMs, source.resolutionMs, plan.pollMs));
  const expectation = await splitExpectation(run, phase, bake.startedAt);
  const delayMs = Math.max(0, source.publicationDelayMs ?? 0);
  const evidence = (j.evidence ??= { slowThresholdMs: null, beforeCutover: null });
  const where = phase === "baking" ? `at step ${(j.step ?? 0) + 1}` : "during monitoring";
  let lastVerdict: JudgeVerdict | null = null;
  if (required <= 0) return null;

  for (;;) {
    const window = nextWindow(windows);
    const remainingWindows = Math.max(0, (lastVerdict ? lastVerdict.windowsNeeded - lastVerdict.windowsJudged : required) - 1);
    await waitUntil(run, answerableAt(window, delayMs), phase, windows, remainingWindows * windows.lengthMs);
    // `npm run pause` / `npm run abort` from another terminal: seen here, once per poll.
    const requested = await pendingPause(run, phase);
    if (requested) return requested;
    bake.polls += 1;

    let reading: WindowReading;
    let seen: WindowCompleteness;
    try {
      ({ reading, seen } = await readBakeWindow(run, { settings, progress: bake, windows, evidence, delayMs }, window));
    } catch (error) {
      if (error instanceof Breach) throw error;
      run.throwIfAborted();
      bake.consecutiveMetricErrors += 1;
      const limit = plan.gates.maxConsecutiveMetricErrors ?? 3;
      run.emit({ type: "metric-error", step: j.step, phase, poll: bake.polls, message: messageOf(error), consecutive: bake.consecutiveMetricErrors, limit });
      const outcome = assessMetricError(bake.consecutiveMetricErrors, limit, messageOf(error));
      if (outcome.kind === "fail") throw new Breach(outcome.reason, run.now());
      run.decide("extend", outcome.note);
      await run.persist();
      // the window is already published: ask again after a poll interval, not at once
      await run.sleep(plan.pollMs);
      continue;
    }
    bake.consecutiveMetricErrors = 0;
    windows.next = window.end;

    const assessment = assessWindow(reading, window, expectation, windows, where);
    if (assessment.kind === "fail") throw new Breach(assessment.reason, run.now());
    if (assessment.kind === "drop") {
      windows.dropped += 1;
      run.emit({ type: "warning", message: assessment.warning });
      await run.persist();
      continue;
    }
    windows.counted += 1;
    const verdict = judgeStep(settings, j.judge ? parseJudgeState(j.judge) : newJudgeState(), [assessment.window], {
      phaseKey: phase === "baking" ? `step-${(j.step ?? 0) + 1}` : "monitoring",
      phase,
      greenShare: expectation.share,
      windowsRequired: required,
    });
    // A forecast is shown when it is new or changed; one repeated after a window that did not decide says nothing.
    const forecastChanged = forecastChanges(lastVerdict, verdict);
    lastVerdict = verdict;
    j.judge = verdict.state;
    bake.extensionsUsed = verdict.extensionsUsed;
    const { state: _state, ...shown } = verdict;
    run.emit({
      type: "judge-reading",
      step: j.step,
      phase,
      poll: bake.polls,
      window,
      counts: { blue: assessment.window.blue, green: assessment.window.green },
      attributedElbErrors: assessment.attributedElbErrors,
      observedGreenShare: assessment.observedGreenShare,
      completeness: seen,
      forecastChanged,
      verdict: shown,
    });
    if (await act(run, verdict, phase, window)) return null;
  }
}

/** One window of the bake: blue's history first (once per cutover), then the window, read when complete. */
async function readBakeWindow(
  run: Run,
  bake: { settings: JudgeSettings; progress: BakeProgress; windows: BakeWindows; evidence: CutoverEvidence; delayMs: number },
  window: MetricsWindow,
): Promise<{ reading: WindowReading; seen: WindowCompleteness }> {
  const j = run.journal;
  const { settings, windows, evidence, delayMs } = bake;
  if (evidence.slowThresholdMs === null) {
    const history = await readBlueHistory(run, settings, evidence);
    j.judge = withBlueHistory(j.judge ? parseJudgeState(j.judge) : newJudgeState(), history);
    bake.progress.consecutiveMetricErrors = 0;
  }
  // Read when complete (./windowReader.ts): re-read while the load balancer's nodes are still publishing.
  const slowThresholdMs = evidence.slowThresholdMs ?? undefined;
  const complete = await readWindowWhenComplete({
    read: () => read(run, window, slowThresholdMs),
    requestsOf: (r) => r.sample.blue.requests + r.sample.green.requests,
    expected: expectedRequests(recentTrafficPerMinute(evidence, window.start), windows.lengthMs),
    publicationDelayMs: delayMs,
    sleep: (ms) => run.sleep(ms),
    now: () => run.now(),
    describe: describeWindow(window),
  });
  noteTraffic(evidence, complete.completeness, window);
  if (unattributedElb(complete.value.sample) > 0) windows.elbBefore ??= await elbBefore(run, bake.progress.startedAt);
  return { reading: complete.value, seen: complete.completeness };
}

/** Per metric: is the verdict's forecast (green requests still needed) new or different from the previous reading's? */
function forecastChanges(previous: JudgeVerdict | null, verdict: JudgeVerdict): { errors: boolean; slow: boolean } {
  const changed = (metric: "errors" | "slow") =>
    previous === null || previous.evidence[metric].neededGreenRequests !== verdict.evidence[metric].neededGreenRequests;
  return { errors: changed("errors"), slow: changed("slow") };
}

/** Act on the judge's decision; true when the bake is over. */
async function act(run: Run, verdict: JudgeVerdict, phase: BakePhase, window: MetricsWindow): Promise<boolean> {
  const j = run.journal;
  const line = describeVerdict(verdict);
  const { state: _state, ...shown } = verdict;
  const label = phase === "baking" ? `step ${(j.step ?? 0) + 1}` : "monitoring";
  switch (verdict.decision) {
    case "fail":
      throw new Breach(`regression ${phase === "baking" ? `at ${label}` : "during monitoring"}: ${line}`, window.end);
    case "undecided":
      throw new Breach(`${label} undecided: ${line}`, window.end);
    case "promote":
      run.emit({ type: "decision", decision: "proceed", reason: line, step: j.step, phase: j.phase, evidence: shown });
      await run.persist();
      return true;
    case "extend":
      run.emit({ type: "decision", decision: "extend", reason: line, step: j.step, phase: j.phase, evidence: shown });
      break;
    case "continue":
      break;
  }
  await run.persist();
  return false;
}

async function read(run: Run, window: MetricsWindow, slowThresholdMs: number | undefined): Promise<WindowReading> {
  const [sample, green, blue] = await Promise.all([
    run.deps.metrics.sample(window, slowThresholdMs !== undefined ? { slowThresholdMs } : {}),
    run.deps.health.health("green"),
    run.deps.health.health("blue"),
  ]);
  return { sample, green, blue };
}

/** The window before a moment, for the ELB 5xx level: ten windows (at most 15 minutes), aligned. */
function beforeWindow(run: Run, moment: number): MetricsWindow {
  const resolution = Math.max(1, run.deps.metrics.resolutionMs);
  const end = alignDown(moment, resolution);
  const length = Math.max(run.plan.pollMs, alignDown(Math.min(BEFORE_WINDOWS * run.plan.pollMs, BEFORE_MAX_MS), resolution));
  return { start: end - length, end };
}

/** The load balancer's unattributed ELB 5xx over the time before this step's bake. */
async function elbBefore(run: Run, startedAt: number): Promise<BakeWindows["elbBefore"]> {
  const sample = await run.deps.metrics.sample(beforeWindow(run, startedAt));
  return { requests: sample.blue.requests + sample.green.requests, unattributed: unattributedElb(sample) };
}

/** What the split should look like in this phase: the verified weights, and (with stickiness) the ones before. */
async function splitExpectation(run: Run, phase: BakePhase, startedAt: number): Promise<SplitExpectation> {
  const plan = run.plan;
  if (phase === "monitoring") return { share: 1, previousShare: 1, stickyUntil: null };
  const step = run.currentStep();
  const previous = step.index > 0 ? plan.steps[step.index - 1]!.weights.green : plan.startWeights.green;
  let routes = run.lastRoutes;
  if (routes.length === 0) routes = await run.deps.router.readWeights().catch(() => []);
  const sticky = maxStickiness(routes);
  return { share: step.weights.green / 100, previousShare: previous / 100, stickyUntil: sticky ? startedAt + sticky * 1000 : null };
}

/** Sleep until `at`, sending a live-view tick every tickMs. */
async function waitUntil(run: Run, at: number, phase: BakePhase, windows: BakeWindows, afterMs: number): Promise<void> {
  const tick = run.deps.tickMs ?? 1000;
  for (;;) {
    const left = at - run.now();
    if (left <= 0) return;
    if (tick <= 0) {
      await run.sleep(left);
      continue;
    }
    await run.sleep(Math.min(tick, left));
    if (run.deps.events) {
      // The bake's clock starts with its first full window.
      const elapsedMs = Math.max(0, run.now() - windows.from);
      const remainingMs = Math.max(0, at - run.now()) + afterMs;
      run.deliver({
        type: "tick",
        at: run.now(),
        runId: run.journal.runId,
        phase,
        step: run.journal.step,
        elapsedMs,
        totalMs: elapsedMs + remainingMs,
        remainingMs,
        nextPollInMs: Math.max(0, at - run.now()),
      } as EngineEvent);
    }
  }
}

export { describeWindow };
