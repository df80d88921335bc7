// One decision line per verdict, for logs, the plain-lines view and the report.

import { fmt, pct, rate, times } from "./format.js";
import type { JudgeVerdict, MetricEvidence } from "./types.js";

function metricPart(e: MetricEvidence): string {
  const name = e.metric === "errors" ? "5xx" : "slow";
  const blue = e.comparison === "reference" ? "blue's level" : "blue";
  const head = `${name} green ${e.greenCount}/${e.greenRequests} (${rate(e.greenCount, e.greenRequests)}) ${blue} ${e.blueCount}/${e.blueRequests} (${rate(e.blueCount, e.blueRequests)})`;
  if (e.comparison === "none") {
    const bound = e.ruledOut.greenRateBelow !== null ? `, green < ${pct(e.ruledOut.greenRateBelow)}` : "";
    return `${head} nothing to compare with${bound}`;
  }
  const spread = e.extraVariance > 0 ? ` σ=${fmt(Math.sqrt(e.extraVariance))}` : "";
  const test = `e=${fmt(e.statistic)} ${e.statistic >= e.boundary ? "≥" : "<"} ${fmt(e.boundary)}${spread}`;
  const bounds: string[] = [];
  if (e.status !== "regression") {
    bounds.push(e.ruledOut.ratio !== null ? `rules out ${times(e.ruledOut.ratio)}` : "ratio not bounded yet");
    if (e.ruledOut.greenRateBelow !== null) bounds.push(`green < ${pct(e.ruledOut.greenRateBelow)}`);
  }
  const needed = e.neededGreenRequests !== null ? `, ~${e.neededGreenRequests.toLocaleString("en-US")} more green req` : "";
  return `${head} ${test}${bounds.length > 0 ? ` (${bounds.join(", ")})` : ""}${needed}`;
}

/** What the 100% phase can detect, in words. */
export function describeDetectable(verdict: Pick<JudgeVerdict, "detectable"> & { evidence?: JudgeVerdict["evidence"] }): string | null {
  if (!verdict.detectable) return null;
  const part = (name: string, metric: "errors" | "slow", ratio: number | null) => {
    // A ratio of a level of zero is zero: there green's own rate bound decides, not a ratio.
    if (verdict.evidence && verdict.evidence[metric].blueCount === 0) return `${name}: blue had none, so green's own rate decides`;
    return ratio === null ? `no ${name} regression up to ×1024` : `${name} ${times(ratio)}`;
  };
  return `at 100% this traffic can detect ${part("5xx", "errors", verdict.detectable.errors)} and ${part("slow", "slow", verdict.detectable.slow)} against blue's movement`;
}

/**
 * "step-1 FAIL 2/5 windows: 5xx green 31/1000 (3.1%) blue 190/19000 (1%) e=2.4e4 ≥ 600 σ=0.3; slow ... — summary".
 * σ is the per-window spread beyond binomial noise the evidence was tempered with.
 */
export function describeVerdict(verdict: JudgeVerdict): string {
  const extension = verdict.extensionsUsed > 0 ? `, extension ${verdict.extensionsUsed}/${verdict.maxExtensions}` : "";
  const head = `${verdict.phaseKey} ${verdict.decision.toUpperCase()} ${verdict.windowsJudged}/${verdict.windowsNeeded} window(s)${extension}`;
  const parts = [metricPart(verdict.evidence.errors), metricPart(verdict.evidence.slow)];
  if (verdict.ceiling.breached && verdict.ceiling.streak) {
    parts.unshift(`ceiling ${pct(verdict.ceiling.ceiling)} breached: ${verdict.ceiling.streak.errors}/${verdict.ceiling.streak.requests} over two windows`);
  }
  const detectable = verdict.decision === "continue" ? null : describeDetectable(verdict);
  return `${head}: ${parts.join("; ")}${verdict.decision === "continue" ? "" : ` — ${verdict.summary}`}${detectable ? ` (${detectable})` : ""}`;
}
