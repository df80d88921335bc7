// The fault scenario's parts: when and how the fault hits green (an error rate, added latency,
// or green's process killed), which failed requests were injected on purpose, and how the
// rollback is measured — in the engine's own event order and poll counts, plus the wall-clock
// figures that the summary prints (and the tests never assert).

import type { EngineEvent } from "../core/events.js";
import { WINDOW_SHARE } from "../core/judge/settings.js";
import type { Color } from "../core/ports.js";
import { describeFault, type FaultSpec } from "../../sample-app/faults.js";
import type { LoadFailure, LoadResult } from "../local/load.js";
import type { AppProcess } from "../local/processes.js";
import type { DemoRollback } from "./types.js";
import type { Sandbox } from "./sandbox.js";

/** Arms the fault once green's weights of step `atStep` are verified; fires `afterMs` later. */
export class FaultInjector {
  private timer: NodeJS.Timeout | null = null;
  private injection: Promise<number> | null = null;
  private armed = false;

  constructor(
    private readonly sandbox: Sandbox,
    private readonly fault: FaultSpec,
    private readonly atStep: number,
    private readonly afterMs: number,
    private readonly say: (text: string) => void,
  ) {
    sandbox.onRelease("fault timer", () => {
      if (this.timer) clearTimeout(this.timer);
    });
  }

  /** Feed every engine event through this. */
  observe(event: EngineEvent): void {
    if (this.armed || event.type !== "weights-verified" || !event.ok || event.step !== this.atStep) return;
    this.armed = true;
    this.timer = setTimeout(() => {
      if (this.sandbox.isSealed) return;
      const green = this.sandbox.apps!.green;
      this.say(`>>> fault injected on green now: ${describeFault(this.fault)}`);
      this.injection = this.fault.crash ? green.crash() : green.injectFault({ errorRate: this.fault.errorRate, latencyMs: this.fault.latencyMs });
      this.injection.catch(() => undefined);
    }, this.afterMs);
  }

  /** Wait for an injection in progress (its admin call, or the kill) to finish. */
  async settled(): Promise<void> {
    if (this.injection) await this.injection.catch(() => undefined);
  }
}

/**
 * Was this failure injected on purpose? Background and fault errors say so themselves (the
 * app marks them); after a crash, the router's 502s for green (connection refused or reset)
 * and requests cut off at the moment of the kill are the crash.
 */
export function injectedFailure(failure: LoadFailure, fault: FaultSpec | null, green: AppProcess): boolean {
  if (failure.injected === "background") return true;
  const onset = green.faultOnset();
  if (onset === null || failure.at < onset || !fault) return false;
  if (failure.injected === "fault") return true;
  if (fault.crash) return failure.unreachable === "green" || (failure.status === null && failure.at < onset + 1000);
  return false;
}

type Reading = Extract<EngineEvent, { type: "gate-reading" | "judge-reading" }>;
const isReading = (event: EngineEvent): event is Reading => event.type === "gate-reading" || event.type === "judge-reading";
const readingWindowEnd = (event: Reading) => event.window.end;
const readingFailed = (event: EngineEvent) =>
  (event.type === "gate-reading" && event.verdict.status === "fail") || (event.type === "judge-reading" && event.verdict.decision === "fail");

/** Figures of the rollback the fault provoked: event order and poll counts, then wall-clock times. */
export function rollbackFigures(
  events: EngineEvent[],
  load: LoadResult,
  onset: number | null,
  engineTimeToRollbackMs: number | null,
  reason: string | null,
): DemoRollback {
  const startedIndex = events.findIndex((event) => event.type === "rollback-started");
  const completeIndex = events.findIndex((event) => event.type === "rollback-complete");
  const started = startedIndex >= 0 ? events[startedIndex]! : null;
  const complete = completeIndex >= 0 ? events[completeIndex]! : null;
  const breach = started && started.type === "rollback-started" ? started.breachObservedAt : null;
  const verifiedAt = complete && complete.type === "rollback-complete" && complete.ok ? complete.at : null;

  // Poll counts: the readings (the sequential judge's, or the threshold gates') whose window
  // reached past the onset, up to the breach.
  let pollsSeeingFault: number | null = null;
  let pollsWhollyAfterOnset: number | null = null;
  let firstFailingPoll: number | null = null;
  let pollsTheRulesNeed: number | null = null;
  if (onset !== null) {
    const until = startedIndex >= 0 ? startedIndex : events.length;
    const seeing = events.slice(0, until).filter((event): event is Reading => isReading(event) && readingWindowEnd(event) > onset);
    pollsSeeingFault = seeing.length;
    pollsWhollyAfterOnset = seeing.filter((event) => event.window.start >= onset).length;
    const failing = seeing.findIndex(readingFailed);
    firstFailingPoll = failing >= 0 ? failing + 1 : null;
    pollsTheRulesNeed = wholeWindowsTheRulesNeed(
      events,
      seeing.filter((event) => event.window.start >= onset),
    );
  }
  const pollsDuringRollback = startedIndex >= 0 && completeIndex > startedIndex ? events.slice(startedIndex, completeIndex).filter(isReading).length : null;

  const after: Record<Color, number> = { blue: 0, green: 0 };
  if (verifiedAt !== null) for (const entry of load.timeline) if (entry.sentAt > verifiedAt && entry.color) after[entry.color]++;
  return {
    faultOnsetAt: onset,
    breachObservedAt: breach,
    verifiedOnBlueAt: verifiedAt,
    detectionMs: onset !== null && breach !== null ? breach - onset : null,
    timeToRollbackMs: onset !== null && verifiedAt !== null ? verifiedAt - onset : null,
    engineTimeToRollbackMs,
    reason,
    pollsSeeingFault,
    pollsWhollyAfterOnset,
    firstFailingPoll,
    pollsTheRulesNeed,
    pollsDuringRollback,
    afterRollback: after,
  };
}

/**
 * The fewest whole windows of the fault after which the judge's rules can fail the step, at the
 * traffic the fault met: two when the first two carry enough green 5xx for the hard ceiling (above
 * its rate in both, at least its minimum count between them); otherwise the e-value's minimum (no
 * window may carry more than WINDOW_SHARE of what a rollback needs). A busy machine sends green
 * fewer requests, so the same fault can need the e-value's windows instead of the ceiling's two.
 */
function wholeWindowsTheRulesNeed(events: EngineEvent[], whole: Reading[]): number {
  const evidenceMinimum = Math.ceil(1 / WINDOW_SHARE);
  const plan = events.find((event): event is Extract<EngineEvent, { type: "plan" }> => event.type === "plan");
  if (!plan) return evidenceMinimum;
  const { errorRateCeiling, ceilingMinErrors } = plan.plan.gates;
  const firstTwo = whole.slice(0, 2).map((event) => (event.type === "judge-reading" ? event.counts.green : null));
  const aboveCeiling = firstTwo.every((green) => green !== null && green.requests > 0 && green.errors / green.requests > errorRateCeiling);
  const errors = firstTwo.reduce((sum, green) => sum + (green?.errors ?? 0), 0);
  return firstTwo.length === 2 && aboveCeiling && errors >= ceilingMinErrors ? 2 : evidenceMinimum;
}
