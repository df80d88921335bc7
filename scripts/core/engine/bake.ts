// The bake after each step and the monitoring window after the switch. Two jobs:
//
// 1. Read only the windows that belong to the step (rules in ./windows.ts): back-to-back windows
//    of plan.pollMs starting at the bake's start rounded up to the source's resolution, each asked
//    for once the source has published it (end + publicationDelayMs), each checked against the
//    verified weights (a window whose split the weights do not explain is dropped; three in a row
//    fail the step: "weights not in effect"). The bake's clock starts with its first full window.
// 2. Judge the evidence. Sequential mode (default): every counted window goes to the statistical
//    judge (core/judge), which accumulates the whole step green against blue over the same minutes
//    and answers fail / continue / extend / promote with its evidence (counts, statistic, boundary,
//    needed traffic); the judge's state is journaled, so a resume carries the evidence over.
//    Thresholds mode (opt-in, for comparison): each window through the old per-window gates
//    (core/gates.ts), passes counted as before.
//
// Metric-provider errors: the same window is asked again at the next poll, a few in a row fail.

import type { EngineEvent } from "../events.js";
import { evaluateGates, type GateVerdict } from "../gates.js";
import { describeVerdict, judgeStep, newJudgeState, parseJudgeState, resolveJudgeSettings, type JudgeSettings, type JudgeVerdict, type JudgeWindow } from "../judge/index.js";
import type { Plan } from "../plan.js";
import type { ColorMetrics, MetricsSample, MetricsWindow, TargetHealth } from "../ports.js";
import { maxStickiness } from "./routes.js";
import { Breach, messageOf, type Run } from "./run.js";
import {
  INCONSISTENT_WINDOWS_LIMIT,
  alignDown,
  answerableAt,
  checkSplit,
  colorErrors,
  excessElbErrors,
  newBakeWindows,
  nextWindow,
  unattributedElb,
  type BakeWindows,
  type CutoverEvidence,
  type SplitExpectation,
} from "./windows.js";
import { expectedRequests, noteTraffic, readWindowWhenComplete, recentTrafficPerMinute, type WindowCompleteness } from "./windowReader.js";

export type BakePhase = "baking" | "monitoring";

/** How much history before a step is read for its reference levels: ten windows, at most 15 minutes. */
const BEFORE_WINDOWS = 10;
const BEFORE_MAX_MS = 15 * 60_000;

/** The judge's settings for a plan: the budget is split over the phases that are judged. */
export function judgeSettingsOf(plan: Plan): JudgeSettings {
  const judgedPhases = Math.max(1, plan.steps.filter((step) => step.bakeMs > 0).length + (plan.monitorMs > 0 ? 1 : 0));
  return resolveJudgeSettings(plan.gates, { judgedPhases });
}

export async function bake(run: Run, phase: BakePhase, required: number): Promise<void> {
  const j = run.journal;
  const plan = run.plan;
  const source = run.deps.metrics;
  if (!j.bake) j.bake = { passes: 0, polls: 0, extensionsUsed: 0, consecutiveMetricErrors: 0, startedAt: run.now() };
  const bake = j.bake;
  const windows = (bake.windows ??= newBakeWindows(bake.startedAt, source.resolutionMs, plan.pollMs));
  const settings = judgeSettingsOf(plan);
  const sequential = settings.mode === "sequential";
  const expectation = await splitExpectation(run, phase, bake.startedAt);
  const delayMs = Math.max(0, source.publicationDelayMs ?? 0);
  const evidence = (j.evidence ??= { slowThresholdMs: null, beforeCutover: null });
  const maxMetricErrors = plan.gates.maxConsecutiveMetricErrors ?? 3;
  let lastVerdict: JudgeVerdict | null = null;
  if (required <= 0) return;

  for (;;) {
    if (!sequential && bake.passes >= required) break;
    const window = nextWindow(windows);
    const remainingWindows = sequential
      ? Math.max(0, (lastVerdict ? lastVerdict.windowsNeeded - lastVerdict.windowsJudged : required) - 1)
      : Math.max(0, required - bake.passes - 1);
    await waitUntil(run, answerableAt(window, delayMs), phase, windows, remainingWindows * windows.lengthMs);
    bake.polls += 1;

    let reading: Reading;
    let seen: WindowCompleteness;
    try {
      if (sequential && settings.slowThreshold && evidence.slowThresholdMs === null) await resolveBeforeCutover(run, settings, evidence);
      // Read when complete (./windowReader.ts): re-read while the load balancer's nodes are still publishing.
      const slowThresholdMs = sequential ? (evidence.slowThresholdMs ?? undefined) : undefined;
      const complete = await readWindowWhenComplete({
        read: () => read(run, window, slowThresholdMs),
        requestsOf: (r) => r.sample.blue.requests + r.sample.green.requests,
        expected: expectedRequests(recentTrafficPerMinute(evidence, window.start), windows.lengthMs),
        publicationDelayMs: delayMs,
        sleep: (ms) => run.sleep(ms),
        now: () => run.now(),
        describe: describeWindow(window),
      });
      reading = complete.value;
      seen = complete.completeness;
      noteTraffic(evidence, seen, window);
      if (reading.excessElbPending) windows.elbBefore ??= await elbBefore(run, bake.startedAt);
    } catch (error) {
      if (error instanceof Breach) throw error;
      run.throwIfAborted();
      bake.consecutiveMetricErrors += 1;
      run.emit({ type: "metric-error", step: j.step, phase, poll: bake.polls, message: messageOf(error), consecutive: bake.consecutiveMetricErrors, limit: maxMetricErrors });
      if (bake.consecutiveMetricErrors >= maxMetricErrors) {
        throw new Breach(`metrics unavailable ${bake.consecutiveMetricErrors} time(s) in a row: ${messageOf(error)}`, run.now());
      }
      run.decide("extend", `metrics error ${bake.consecutiveMetricErrors}/${maxMetricErrors}: the same window again at the next poll`);
      await run.persist();
      continue;
    }
    bake.consecutiveMetricErrors = 0;
    windows.next = window.end;

    const split = checkSplit(reading.sample, window, expectation);
    if (split.consistent === false) {
      windows.dropped += 1;
      windows.inconsistentInARow += 1;
      const observed = `green served ${pct(split.observed ?? 0)} of ${split.requests} request(s) in ${describeWindow(window)}, the weights say ${pct(expectation.share)} (noise explains ${pct(split.low)}–${pct(split.high)})`;
      if (windows.inconsistentInARow >= INCONSISTENT_WINDOWS_LIMIT) {
        throw new Breach(`weights not in effect ${phase === "baking" ? `at step ${(j.step ?? 0) + 1}` : "during monitoring"}: ${windows.inconsistentInARow} windows in a row: ${observed}`, run.now());
      }
      run.emit({ type: "warning", message: `observed split: ${observed}: the window is not evidence (${windows.inconsistentInARow}/${INCONSISTENT_WINDOWS_LIMIT} in a row fail the step)` });
      await run.persist();
      continue;
    }
    windows.inconsistentInARow = 0;
    windows.counted += 1;
    const extraGreenErrors = excessElbErrors(reading.sample, windows.elbBefore);

    if (!sequential) {
      const metrics = {
        blue: { ...reading.sample.blue, errors5xx: colorErrors(reading.sample.blue) },
        green: { ...reading.sample.green, errors5xx: colorErrors(reading.sample.green) + extraGreenErrors },
      };
      const verdict: GateVerdict = evaluateGates(plan.gates, { metrics, health: { green: reading.green, blue: reading.blue } });
      if (verdict.status === "pass") bake.passes += 1;
      run.emit({ type: "gate-reading", step: j.step, phase, poll: bake.polls, passes: bake.passes, passesRequired: required, window, verdict });
      if (verdict.status === "fail") {
        throw new Breach(`gate failed ${phase === "baking" ? `at step ${(j.step ?? 0) + 1}` : "during monitoring"}: ${verdict.reasons.join("; ")}`, window.end);
      }
      if (verdict.status === "inconclusive") {
        if (bake.extensionsUsed >= plan.gates.inconclusiveExtensions) {
          throw new Breach(`inconclusive after ${bake.extensionsUsed} extension(s) (${verdict.reasons.join("; ")}): missing data is never a pass`, window.end);
        }
        bake.extensionsUsed += 1;
        run.decide("extend", `inconclusive: extending by one window (${bake.extensionsUsed}/${plan.gates.inconclusiveExtensions}): ${verdict.reasons.join("; ")}`);
      }
      await run.persist();
      continue;
    }

    if (reading.green.unhealthy > 0) {
      throw new Breach(`green has ${reading.green.unhealthy} unhealthy target(s) ${phase === "baking" ? `at step ${(j.step ?? 0) + 1}` : "during monitoring"}`, run.now());
    }
    const judged: JudgeWindow = {
      start: window.start,
      end: window.end,
      blue: counts(reading.sample.blue, 0),
      green: counts(reading.sample.green, extraGreenErrors),
    };
    const state = j.judge ? parseJudgeState(j.judge) : newJudgeState();
    const verdict = judgeStep(settings, state, [judged], {
      phaseKey: phase === "baking" ? `step-${(j.step ?? 0) + 1}` : "monitoring",
      phase,
      greenShare: expectation.share,
      windowsRequired: required,
      preCutoverBaseline: evidence.beforeCutover,
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
      counts: { blue: judged.blue, green: judged.green },
      attributedElbErrors: extraGreenErrors,
      observedGreenShare: split.observed,
      completeness: seen,
      forecastChanged,
      verdict: shown,
    });
    const line = describeVerdict(verdict);
    switch (verdict.decision) {
      case "fail":
        throw new Breach(`regression ${phase === "baking" ? `at step ${(j.step ?? 0) + 1}` : "during monitoring"}: ${line}`, window.end);
      case "undecided":
        throw new Breach(`${phase === "baking" ? `step ${(j.step ?? 0) + 1}` : "monitoring"} undecided: ${line}`, window.end);
      case "promote":
        run.emit({ type: "decision", decision: "proceed", reason: line, step: j.step, phase: j.phase, evidence: shown });
        await run.persist();
        return;
      case "extend":
        run.emit({ type: "decision", decision: "extend", reason: line, step: j.step, phase: j.phase, evidence: shown });
        break;
      case "continue":
        break;
    }
    await run.persist();
  }
  run.decide("proceed", `${required} passing poll(s) ${phase === "baking" ? "in the bake" : "while monitoring"}`);
}

/** Per metric: is the verdict's forecast (green requests still needed) new or different from the previous reading's? */
function forecastChanges(previous: JudgeVerdict | null, verdict: JudgeVerdict): { errors: boolean; slow: boolean } {
  const changed = (metric: "errors" | "slow") => previous === null || previous.evidence[metric].neededGreenRequests !== verdict.evidence[metric].neededGreenRequests;
  return { errors: changed("errors"), slow: changed("slow") };
}

interface Reading {
  sample: MetricsSample;
  green: TargetHealth;
  blue: TargetHealth;
  /** The load balancer reported 5xx no color is named for: the level before the step is needed. */
  excessElbPending: boolean;
}

async function read(run: Run, window: MetricsWindow, slowThresholdMs: number | undefined): Promise<Reading> {
  const [sample, green, blue] = await Promise.all([
    run.deps.metrics.sample(window, slowThresholdMs !== undefined ? { slowThresholdMs } : {}),
    run.deps.health.health("green"),
    run.deps.health.health("blue"),
  ]);
  return { sample, green, blue, excessElbPending: unattributedElb(sample) > 0 };
}

/** The window before a moment, for reference levels: ten windows (at most 15 minutes), aligned. */
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

/**
 * Once per cutover, before the first weight moved: blue's latency there gives the slow bound
 * (rollout.gates.slowThreshold from blue-p95 / blue-p99), and blue's counts there are the judge's
 * pre-cutover reference (used at 100% when the cutover had no concurrent windows).
 */
async function resolveBeforeCutover(run: Run, settings: JudgeSettings, evidence: CutoverEvidence): Promise<void> {
  const threshold = settings.slowThreshold;
  const firstWrite = run.journal.timeline.find((event) => event.type === "weights-written")?.at ?? run.journal.bake?.startedAt ?? run.now();
  const window = beforeWindow(run, firstWrite);
  let bound: number | null = "ms" in threshold ? threshold.ms : null;
  if (bound === null) {
    const from = "from" in threshold ? threshold.from : "blue-p95";
    const plain = await run.deps.metrics.sample(window);
    const blueLatency = from === "blue-p99" ? plain.blue.p99Ms : plain.blue.p95Ms;
    bound = blueLatency !== null && blueLatency > 0 ? blueLatency : null;
    if (bound === null) {
      throw new Breach(
        `no latency data for blue in ${describeWindow(window)} before the first weight moved: the slow-request bound (${from}) cannot be derived; ` +
          "set rollout.gates.slowThreshold to a fixed number of milliseconds",
        run.now(),
      );
    }
  }
  const withBound = await run.deps.metrics.sample(window, { slowThresholdMs: bound });
  evidence.slowThresholdMs = bound;
  evidence.beforeCutover = {
    requests: withBound.blue.requests,
    errors: colorErrors(withBound.blue),
    slowRequests: withBound.blue.slow !== undefined ? withBound.blue.requests : 0,
    slow: withBound.blue.slow ?? 0,
  };
  run.emit({
    type: "warning",
    message:
      `judge reference from ${describeWindow(window)} before the first weight moved: slow means slower than ${Math.round(bound * 10) / 10} ms` +
      ("from" in threshold ? ` (blue's ${threshold.from === "blue-p99" ? "p99" : "p95"})` : "") +
      `; blue served ${withBound.blue.requests} request(s), ${colorErrors(withBound.blue)} error(s)`,
  });
}

function counts(metrics: ColorMetrics, extraErrors: number): JudgeWindow["blue"] {
  return {
    requests: metrics.requests,
    errors: colorErrors(metrics) + extraErrors,
    slow: metrics.slow === undefined || (metrics.requests > 0 && metrics.p95Ms === null && metrics.slow === 0) ? null : metrics.slow,
    p95Ms: metrics.p95Ms,
    p99Ms: metrics.p99Ms,
  };
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

const pct = (x: number) => `${Number((x * 100).toFixed(1))}%`;

function describeWindow(window: MetricsWindow): string {
  return `[${new Date(window.start).toISOString()}, ${new Date(window.end).toISOString()})`;
}
