// A simulated canary for the judge's bench and tests: seeded, virtual clock, one-minute windows
// from bench/judgeTraffic.ts (with any of its noises), an hour of blue before the first shift, and
// any judge of bench/judgeContenders.ts driving the phases as the engine's bake does.

import { currentJudge, type Contender, type PhaseSpec } from "./judgeContenders.js";
import { NOISES, SimulatedTraffic, type Noise, type ReleaseSpec } from "./judgeTraffic.js";
import type { JudgeDecision, JudgeSettings, JudgeWindow } from "../scripts/core/judge/types.js";

export { binomial, gaussian, normalCdf, poisson, seededRandom, slowShare } from "./distributions.js";

export type Release = ReleaseSpec;

export const RELEASES: readonly Release[] = [
  { name: "identical", errorFactor: 1, latencyFactor: 1 },
  { name: "errors ×1.5", errorFactor: 1.5, latencyFactor: 1 },
  { name: "errors ×2", errorFactor: 2, latencyFactor: 1 },
  { name: "errors ×5", errorFactor: 5, latencyFactor: 1 },
  { name: "latency +20%", errorFactor: 1, latencyFactor: 1.2 },
  { name: "latency +50%", errorFactor: 1, latencyFactor: 1.5 },
];

export interface Scenario {
  trafficPerMinute: number;
  baselineErrorRate: number;
  release: Release;
  /** Default: binomial counts only. */
  noise?: Noise;
}

export type SimPhase = PhaseSpec;

/** The default canary: 5 → 25 → 100, 5-minute bakes polled every minute, 5 minutes of monitoring at 100%. */
export const DEFAULT_PHASES: readonly SimPhase[] = [
  { key: "step-1", share: 0.05, windowsRequired: 5 },
  { key: "step-2", share: 0.25, windowsRequired: 5 },
  { key: "monitoring", share: 1, windowsRequired: 5 },
];

/** Minutes of blue-only traffic before the first shift (what `cutover` reads as blue's history). */
export const HISTORY_MINUTES = 60;

export interface CutoverResult {
  outcome: "succeeded" | "rolled-back" | "undecided";
  /** The phase that failed or ran out of extensions; null on success. */
  phase: string | null;
  /** Minutes from the first shift to the decision that ended the cutover (success: the whole run). */
  minutes: number;
  /** Windows judged in the phase that ended it (1 = its first window). */
  windowInPhase: number;
}

const ENDS: readonly JudgeDecision[] = ["fail", "undecided", "promote"];

/** One cutover on a virtual clock, judged by `contender` (or the product's judge with `settings`). */
export function simulateCutover(
  judge: Contender | JudgeSettings,
  scenario: Scenario,
  rng: () => number,
  phases: readonly SimPhase[] = DEFAULT_PHASES,
): CutoverResult {
  const contender = "start" in judge ? judge : currentJudge(judge);
  const traffic = new SimulatedTraffic({ ...scenario, noise: scenario.noise ?? NOISES[0]! }, rng);
  traffic.setShare(0, -HISTORY_MINUTES);
  const history: JudgeWindow[] = [];
  for (let minute = -HISTORY_MINUTES; minute < 0; minute++) history.push(traffic.window(minute));
  const run = contender.start(history);
  let minute = 0;
  for (const phase of phases) {
    traffic.setShare(phase.share, minute);
    minute += run.skipWindows;
    let decision: JudgeDecision = "continue";
    let windowInPhase = 0;
    while (!ENDS.includes(decision) && windowInPhase < run.maxWindows) {
      const window = traffic.window(minute);
      minute += 1;
      windowInPhase += 1;
      decision = run.judge(window, phase);
    }
    if (decision === "fail") return { outcome: "rolled-back", phase: phase.key, minutes: minute, windowInPhase };
    if (decision !== "promote") return { outcome: "undecided", phase: phase.key, minutes: minute, windowInPhase };
  }
  return { outcome: "succeeded", phase: null, minutes: minute, windowInPhase: 0 };
}
