// The phase's decision from its evidence: the one place that turns statistics into fail /
// continue / extend / promote / undecided, with the reasons an operator reads.

import { fmt, pct, rate, times } from "./format.js";
import type { CeilingCheck, JudgeContext, JudgeDecision, JudgeMetric, JudgeSettings, JudgeState, MetricEvidence } from "./types.js";
import { JUDGE_METRICS } from "./types.js";

const noun = (metric: JudgeMetric) => (metric === "errors" ? "5xx rate" : "slow share");

export interface Outcome {
  decision: JudgeDecision;
  reasons: string[];
  summary: string;
}

/**
 * What a phase must rule out to promote at the end of its bake. Concurrent phases: the smallest
 * regression worth catching. At 100% green is compared with a level that moves: the smallest
 * regression is out of reach at most traffic, so the large one is the bar (and the verdict says
 * what the phase could detect).
 */
function promotes(evidence: MetricEvidence): boolean {
  if (evidence.comparison === "reference") return evidence.status === "ruled-out-minimal" || evidence.status === "ruled-out-large";
  return evidence.status === "ruled-out-minimal";
}

export function decide(
  settings: JudgeSettings,
  state: JudgeState,
  context: JudgeContext,
  evidence: Record<JudgeMetric, MetricEvidence>,
  ceiling: CeilingCheck,
): Outcome {
  const reasons: string[] = [];
  if (ceiling.breached && ceiling.streak) {
    const s = ceiling.streak;
    const summary = `green 5xx ${s.errors}/${s.requests} (${pct(s.errors / Math.max(1, s.requests))}) over two windows in a row is above the ceiling ${pct(settings.errorRateCeiling)} (≥ ${settings.ceilingMinErrors} errors)`;
    return { decision: "fail", reasons: [summary], summary };
  }
  const regressions = JUDGE_METRICS.filter((m) => evidence[m].status === "regression");
  if (regressions.length > 0) {
    for (const m of regressions) reasons.push(regressionReason(settings, evidence[m]));
    return { decision: "fail", reasons, summary: regressions.map((m) => `green's ${noun(m)} is worse by at least ${times(settings[m].minRatio)}`).join("; ") };
  }
  const windowsNeeded = context.windowsRequired + state.extensionsUsed;
  if (state.windowsJudged < windowsNeeded) {
    return { decision: "continue", reasons, summary: `watching: ${state.windowsJudged}/${windowsNeeded} window(s)` };
  }
  if (JUDGE_METRICS.every((m) => promotes(evidence[m]))) {
    for (const m of JUDGE_METRICS) reasons.push(ruledOutReason(evidence[m]));
    const atReference = JUDGE_METRICS.some((m) => evidence[m].comparison === "reference" && evidence[m].status === "ruled-out-large");
    const summary = atReference
      ? `green at 100% rules out ${times(settings.largestRegression)} against blue's level and its movement`
      : `the smallest regressions worth catching are ruled out (${JUDGE_METRICS.map((m) => `${noun(m)} ${times(settings[m].minRatio)}`).join(", ")})`;
    return { decision: "promote", reasons, summary };
  }
  if (state.extensionsUsed < settings.maxExtensions) {
    state.extensionsUsed += 1;
    const summary = `not decided after ${state.windowsJudged} window(s): extending (${state.extensionsUsed}/${settings.maxExtensions})`;
    reasons.push(summary);
    for (const m of JUDGE_METRICS) if (!promotes(evidence[m])) reasons.push(openReason(settings, evidence[m]));
    return { decision: "extend", reasons, summary };
  }
  if (JUDGE_METRICS.every((m) => evidence[m].status !== "open")) {
    for (const m of JUDGE_METRICS) reasons.push(ruledOutReason(evidence[m]));
    const summary = `the smallest regression is not ruled out at this traffic after ${settings.maxExtensions} extension(s); the large one (${times(settings.largestRegression)}) is`;
    reasons.push(summary);
    return { decision: "promote", reasons, summary };
  }
  return undecided(settings, state, evidence, reasons);
}

function undecided(settings: JudgeSettings, state: JudgeState, evidence: Record<JudgeMetric, MetricEvidence>, reasons: string[]): Outcome {
  const needed = JUDGE_METRICS.map((m) => evidence[m].neededGreenRequests).filter((n): n is number => n !== null);
  const more = needed.length > 0 ? `about ${Math.max(...needed).toLocaleString("en-US")} more green requests needed` : "no estimate of the traffic needed";
  let decision: JudgeDecision = "undecided";
  let summary: string;
  if (evidence.errors.greenRequests <= 0) {
    summary = `no green requests in ${state.windowsJudged} window(s): missing data is never a pass`;
  } else if (settings.onUndecided === "promote") {
    decision = "promote";
    summary = `not enough traffic to decide: ${more}; promoted because onUndecided is "promote"`;
  } else {
    summary = `not enough traffic to decide: ${more}`;
  }
  reasons.push(summary);
  for (const m of JUDGE_METRICS) if (evidence[m].status === "open") reasons.push(openReason(settings, evidence[m]));
  return { decision, reasons, summary };
}

function counts(e: MetricEvidence): string {
  const blueLabel = e.comparison === "reference" ? "blue's level" : "blue";
  return `green ${e.greenCount}/${e.greenRequests} (${rate(e.greenCount, e.greenRequests)}) vs ${blueLabel} ${e.blueCount}/${e.blueRequests} (${rate(e.blueCount, e.blueRequests)})`;
}

function regressionReason(settings: JudgeSettings, e: MetricEvidence): string {
  return `green's ${noun(e.metric)} is worse by at least ${times(settings[e.metric].minRatio)}: ${counts(e)}, e-value ${fmt(e.statistic)} ≥ ${fmt(e.boundary)}`;
}

function ruledOutReason(e: MetricEvidence): string {
  const parts: string[] = [];
  if (e.ruledOut.ratio !== null) parts.push(`rules out ${times(e.ruledOut.ratio)}`);
  if (e.ruledOut.greenRateBelow !== null) parts.push(`green's rate < ${pct(e.ruledOut.greenRateBelow)}`);
  return `${noun(e.metric)}: ${counts(e)}, e-value ${fmt(e.statistic)} < ${fmt(e.boundary)}, ${parts.join(", ")}`;
}

function openReason(settings: JudgeSettings, e: MetricEvidence): string {
  const target = e.status === "open" ? settings.largestRegression : settings[e.metric].minRatio;
  const more =
    e.neededGreenRequests !== null
      ? `about ${e.neededGreenRequests.toLocaleString("en-US")} more green requests to rule out ${times(target)}`
      : `no estimate of the traffic needed to rule out ${times(target)}`;
  return `${noun(e.metric)} undecided (${counts(e)}): ${more}`;
}
