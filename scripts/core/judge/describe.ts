// One decision line per verdict, for logs, the plain-lines view and the report.

import { fmt } from "./judge.js";
import type { JudgeVerdict, MetricEvidence } from "./types.js";

const pct = (x: number) => `${Number((x * 100).toPrecision(3))}%`;
const rate = (count: number, requests: number) => (requests > 0 ? pct(count / requests) : "n/a");

function metricPart(e: MetricEvidence): string {
  const name = e.metric === "errors" ? "5xx" : "slow";
  const blue = e.comparison === "reference" ? "ref" : "blue";
  const head = `${name} green ${e.greenCount}/${e.greenRequests} (${rate(e.greenCount, e.greenRequests)}) ${blue} ${e.blueCount}/${e.blueRequests} (${rate(e.blueCount, e.blueRequests)})`;
  if (e.comparison === "none") {
    const bound = e.ruledOut.greenRateBelow !== null ? `, green < ${pct(e.ruledOut.greenRateBelow)}` : "";
    return `${head} nothing to compare with${bound}`;
  }
  const test = `e=${fmt(e.statistic)} ${e.statistic >= e.boundary ? "≥" : "<"} ${fmt(e.boundary)}`;
  const bounds: string[] = [];
  if (e.status !== "regression") {
    bounds.push(e.ruledOut.ratio !== null ? `rules out ×${Number(e.ruledOut.ratio.toPrecision(3))}` : "ratio not bounded yet");
    if (e.ruledOut.greenRateBelow !== null) bounds.push(`green < ${pct(e.ruledOut.greenRateBelow)}`);
  }
  const needed = e.neededGreenRequests !== null ? `, ~${e.neededGreenRequests.toLocaleString("en-US")} more green req` : "";
  return `${head} ${test}${bounds.length > 0 ? ` (${bounds.join(", ")})` : ""}${needed}`;
}

/**
 * "step-1 FAIL 2/5 windows [sequential]: 5xx green 31/1000 (3.1%) blue 190/19000 (1%) e=2.4e4 ≥ 600; slow ... — reasons".
 */
export function describeVerdict(verdict: JudgeVerdict): string {
  const extension = verdict.extensionsUsed > 0 ? `, extension ${verdict.extensionsUsed}/${verdict.maxExtensions}` : "";
  const head = `${verdict.phaseKey} ${verdict.decision.toUpperCase()} ${verdict.windowsJudged}/${verdict.windowsNeeded} window(s)${extension} [${verdict.mode}]`;
  const parts = verdict.mode === "sequential" ? [metricPart(verdict.evidence.errors), metricPart(verdict.evidence.slow)] : [];
  if (verdict.ceiling.breached && verdict.ceiling.worst) {
    parts.unshift(`ceiling ${pct(verdict.ceiling.ceiling)} breached: ${verdict.ceiling.worst.errors}/${verdict.ceiling.worst.requests}`);
  }
  if (verdict.mode === "thresholds") return `${head}: ${[...parts, ...verdict.reasons].join("; ") || verdict.summary}`;
  return `${head}: ${parts.join("; ")}${verdict.decision === "continue" ? "" : ` — ${verdict.summary}`}`;
}
