// The judges the bench compares on the same simulated traffic, behind one interface:
// - "current": the product's judge (scripts/core/judge), with blue's hour before the cutover as
//   history and the warm-up skipped at the start of every step, as the bake runs it;
// - "previous": the judge this one replaced (bench/baseline, frozen), binomial counts, a frozen
//   reference at 100%, a one-window ceiling;
// - "mann-whitney": Kayenta's way: per-minute rates of green against blue over a fixed interval
//   per phase (ten minutes), a one-sided Mann–Whitney U test at the end of it (at 100%: green's
//   minutes against blue's last ten).

import { judgeStep as previousJudgeStep } from "./baseline/judge.js";
import { newJudgeState as previousNewState, resolveJudgeSettings as previousSettings } from "./baseline/settings.js";
import { normalCdf } from "./distributions.js";
import { judgeStep, withBlueHistory } from "../scripts/core/judge/judge.js";
import { newJudgeState } from "../scripts/core/judge/settings.js";
import type { JudgeDecision, JudgeSettings, JudgeWindow } from "../scripts/core/judge/types.js";

export interface PhaseSpec {
  key: string;
  share: number;
  windowsRequired: number;
}

/** A judge over one cutover: sees blue's history once, then one window at a time. */
export interface JudgeRun {
  /** Windows at the start of each phase that are not evidence (warm-up). */
  readonly skipWindows: number;
  /** Upper bound of windows a phase may take. */
  readonly maxWindows: number;
  judge(window: JudgeWindow, phase: PhaseSpec): JudgeDecision;
}

export interface Contender {
  name: string;
  start(history: readonly JudgeWindow[]): JudgeRun;
}

export function currentJudge(settings: JudgeSettings): Contender {
  return {
    name: "current",
    start(history) {
      let state = withBlueHistory(
        newJudgeState(),
        history.map((w) => ({ end: w.end, requests: w.blue.requests, errors: w.blue.errors, slow: w.blue.slow })),
      );
      return {
        skipWindows: Math.ceil(settings.warmupMs / 60_000),
        maxWindows: 5 + settings.maxExtensions + 1,
        judge(window, phase) {
          const verdict = judgeStep(settings, state, [window], {
            phaseKey: phase.key,
            phase: phase.share >= 1 ? "monitoring" : "baking",
            greenShare: phase.share,
            windowsRequired: phase.windowsRequired,
          });
          state = verdict.state;
          return verdict.decision;
        },
      };
    },
  };
}

export function previousJudge(judgedPhases: number): Contender {
  const settings = previousSettings({}, { judgedPhases });
  return {
    name: "previous",
    start(history) {
      let state = previousNewState();
      // the engine read the ten windows before the first shift as the pre-cutover reference
      const recent = history.slice(-10);
      const sum = (f: (w: JudgeWindow) => number) => recent.reduce((a, w) => a + f(w), 0);
      const pre = {
        requests: sum((w) => w.blue.requests),
        errors: sum((w) => w.blue.errors),
        slowRequests: sum((w) => w.blue.requests),
        slow: sum((w) => w.blue.slow ?? 0),
      };
      return {
        skipWindows: 0,
        maxWindows: 5 + settings.maxExtensions + 1,
        judge(window, phase) {
          const verdict = previousJudgeStep(settings, state, [window], {
            phaseKey: phase.key,
            phase: phase.share >= 1 ? "monitoring" : "baking",
            greenShare: phase.share,
            windowsRequired: phase.windowsRequired,
            preCutoverBaseline: pre,
          });
          state = verdict.state;
          return verdict.decision;
        },
      };
    },
  };
}

/** One-sided Mann–Whitney U (H1: xs tend to be larger than ys), normal approximation with ties; the p-value. */
export function mannWhitneyGreater(xs: readonly number[], ys: readonly number[]): number {
  const all = [...xs.map((v) => ({ v, x: true })), ...ys.map((v) => ({ v, x: false }))].sort((a, b) => a.v - b.v);
  const n1 = xs.length;
  const n2 = ys.length;
  const n = n1 + n2;
  let rankSum = 0;
  let ties = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j + 2) / 2;
    const t = j - i + 1;
    ties += t * t * t - t;
    for (let k = i; k <= j; k++) if (all[k]!.x) rankSum += rank;
    i = j + 1;
  }
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  if (variance <= 0) return 1;
  return 1 - normalCdf((u - mean - 0.5) / Math.sqrt(variance));
}

/** Kayenta-style: a fixed interval per phase, per-minute rates, a rank test at its end. */
export function mannWhitney(falseRollbackBudget: number, judgedPhases: number, intervalWindows = 10): Contender {
  const alpha = falseRollbackBudget / (judgedPhases * 2);
  return {
    name: "mann-whitney",
    start(history) {
      const blueRecent: { errors: number; slow: number }[] = history.slice(-intervalWindows).map((w) => rates(w, "blue"));
      let phaseKey: string | null = null;
      let green: { errors: number; slow: number }[] = [];
      let blue: { errors: number; slow: number }[] = [];
      return {
        skipWindows: 0,
        maxWindows: intervalWindows,
        judge(window, phase) {
          if (phase.key !== phaseKey) {
            phaseKey = phase.key;
            green = [];
            blue = [];
          }
          green.push(rates(window, "green"));
          if (phase.share < 1) {
            blue.push(rates(window, "blue"));
            blueRecent.push(rates(window, "blue"));
            blueRecent.splice(0, Math.max(0, blueRecent.length - intervalWindows));
          }
          if (green.length < intervalWindows) return "continue";
          const against = phase.share < 1 ? blue : blueRecent;
          const worse = (["errors", "slow"] as const).some(
            (m) =>
              mannWhitneyGreater(
                green.map((r) => r[m]),
                against.map((r) => r[m]),
              ) < alpha,
          );
          return worse ? "fail" : "promote";
        },
      };
    },
  };
}

function rates(w: JudgeWindow, color: "blue" | "green"): { errors: number; slow: number } {
  const c = w[color];
  return c.requests > 0 ? { errors: c.errors / c.requests, slow: (c.slow ?? 0) / c.requests } : { errors: 0, slow: 0 };
}
