// The cutover report as Markdown: one section per part of the report (scripts/core/report.ts builds it).

import { formatStatistic } from "./events.js";
import { formatPercent } from "./format.js";
import { formatDuration } from "./plan.js";
import type { CutoverReport, JudgedPhaseSummary } from "./report.js";

const iso = (ms: number) => new Date(ms).toISOString();
const pct = (x: number | null) => formatPercent(x, { decimals: 2, fixed: true });
const msText = (x: number | null) => (x === null ? "n/a" : `${Math.round(x)} ms`);
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** A Markdown section holding one table: the separator row always has as many cells as the header. */
function tableSection(title: string, columns: readonly string[], rows: readonly string[]): string[] {
  return [`## ${title}`, "", `| ${columns.join(" | ")} |`, `| ${columns.map(() => "---").join(" | ")} |`, ...rows, ""];
}

export function renderMarkdown(report: CutoverReport): string {
  return [
    ...summarySection(report),
    ...stepsSection(report),
    ...gateReadingsSection(report),
    ...judgeSection(report),
    ...hooksSection(report),
    ...rollbackWarningsAndTimeline(report),
  ].join("\n");
}

/** The title, the decision and the run's figures. */
function summarySection(report: CutoverReport): string[] {
  const lines: string[] = [];
  lines.push(`# ${report.operation === "cutover" ? "Cutover" : "Rollback"} report: ${report.runId}`);
  lines.push("");
  lines.push(`**${report.decision}**`);
  lines.push("");
  lines.push("| | |");
  lines.push("| --- | --- |");
  lines.push(`| Outcome | ${report.outcome ?? "unfinished"} |`);
  if (report.stack) lines.push(`| Stack | ${cell(report.stack)} |`);
  lines.push(`| Database mode | ${report.databaseMode} |`);
  lines.push(`| Started | ${report.startedAt} |`);
  lines.push(`| Ended | ${report.endedAt} |`);
  lines.push(`| Duration | ${formatDuration(report.durationMs)} |`);
  if (report.resumes > 0) lines.push(`| Resumed after a crash | ${report.resumes} time(s) |`);
  if (report.rollback) {
    // A `rollback` command starts from the operator's request, not from a breach.
    const from = report.operation === "rollback" ? "requested" : "breach observed";
    lines.push(
      `| Time to rollback | ${report.rollback.timeToRollbackMs === null ? "not verified" : `${report.rollback.timeToRollbackMs} ms`} (${from} → blue verified) |`,
    );
  }
  if (report.fence.switchMs !== null) lines.push(`| Write fence, switch | ${report.fence.switchMs} ms |`);
  if (report.fence.rollbackMs !== null) lines.push(`| Write fence, rollback | ${report.fence.rollbackMs} ms |`);
  if (report.fence.stillOnSince) lines.push(`| Write fence | STILL ON since ${report.fence.stillOnSince} |`);
  if (report.compacted) {
    const c = report.compacted;
    const byType = Object.entries(c.byType)
      .map(([type, n]) => `${type} ${n}`)
      .join(", ");
    lines.push(`| Timeline compacted | ${c.events} descriptive event(s) dropped from the stored journal (${byType}) between ${iso(c.from)} and ${iso(c.to)} |`);
  }
  if (report.snapshot) {
    lines.push(`| Snapshot | ${report.snapshot.taken ? report.snapshot.id : `skipped: ${cell(report.snapshot.reason)}`} |`);
  }
  lines.push("");

  return lines;
}

/** The Steps table: the judge's view per step in sequential mode, else the gate's polls. */
function stepsSection(report: CutoverReport): string[] {
  const lines: string[] = [];
  if (report.steps.length > 0 && report.steps.some((step) => step.judged)) {
    lines.push(...judgedStepsTable(report));
  } else if (report.steps.length > 0) {
    const rows = report.steps.map(
      (step) =>
        `| ${step.step} | ${step.weights.blue} / ${step.weights.green} | ${formatDuration(step.bakeMs)} | ${step.reached ? "yes" : "no"} | ` +
        `${step.verifyWaitedMs === null ? "" : `${step.verifyWaitedMs} ms`} | ${step.polls} | ${step.passes} | ${step.inconclusive} | ${step.metricErrors} |`,
    );
    if (report.monitoring) {
      const m = report.monitoring;
      rows.push(
        `| monitoring | 0 / 100 | ${formatDuration(report.plan?.monitorMs ?? 0)} | | | ${m.polls} | ${m.passes} | ${m.inconclusive} | ${m.metricErrors} |`,
      );
    }
    lines.push(
      ...tableSection("Steps", ["Step", "Weights (blue / green)", "Bake", "Reached", "Verified after", "Polls", "Pass", "Inconclusive", "Metric errors"], rows),
    );
  }

  return lines;
}

/** Every gate reading, one row each. */
function gateReadingsSection(report: CutoverReport): string[] {
  const lines: string[] = [];
  if (report.gateReadings.length > 0) {
    const rows = report.gateReadings.map(
      (g) =>
        `| ${g.at} | ${g.phase === "monitoring" ? "monitoring" : (g.step ?? "")} | ${g.poll} | ${g.status} | ${g.green?.requests ?? ""} | ${g.green ? pct(g.green.errorRate) : ""} | ` +
        `${g.green ? msText(g.green.p95Ms) : ""} | ${g.blue?.requests ?? ""} | ${g.blue ? pct(g.blue.errorRate) : ""} | ${g.blue ? msText(g.blue.p95Ms) : ""} | ` +
        `${g.green?.unhealthy ?? ""} | ${cell(g.reasons.join("; "))} |`,
    );
    const columns = [
      "Time",
      "Step",
      "Poll",
      "Verdict",
      "Green req",
      "Green 5xx",
      "Green p95",
      "Blue req",
      "Blue 5xx",
      "Blue p95",
      "Green unhealthy",
      "Reasons",
    ];
    lines.push(...tableSection("Gate readings", columns, rows));
  }

  return lines;
}

/** The judge's evidence per step and metric, and its reasons. */
function judgeSection(report: CutoverReport): string[] {
  const lines: string[] = [];
  if (report.judge.length > 0) {
    const rows = report.judge.flatMap((j) =>
      j.metrics.map(
        (m) =>
          `| ${j.phase === "monitoring" ? "monitoring" : j.step} | ${j.decision} | ${j.windowsJudged}/${j.windowsNeeded} | ${m.metric === "errors" ? "5xx" : "slow"} | ` +
          `${m.green.count}/${m.green.requests} | ${m.comparison === "reference" ? "ref " : ""}${m.blue.count}/${m.blue.requests} | ${formatStatistic(m.statistic)} / ${formatStatistic(m.boundary)} | ` +
          `${m.status} | ${m.ruledOutRatio !== null ? `×${m.ruledOutRatio.toFixed(2)}` : ""}${m.greenRateBelow !== null ? ` (green < ${pct(m.greenRateBelow)})` : ""} | ${m.neededGreenRequests ?? ""} |`,
      ),
    );
    const columns = ["Step", "Decision", "Windows", "Metric", "Green", "Blue", "Statistic / boundary", "Status", "Rules out", "More green requests needed"];
    lines.push(...tableSection("Judge (sequential): evidence per step", columns, rows));
    for (const j of report.judge.filter((entry) => entry.reasons.length > 0)) {
      lines.push(`- ${j.phase === "monitoring" ? "monitoring" : `step ${j.step}`}: ${cell(j.reasons.join("; "))}`);
    }
    lines.push("");
  }

  return lines;
}

/** Every hook that ran. */
function hooksSection(report: CutoverReport): string[] {
  const lines: string[] = [];
  if (report.hooks.length > 0) {
    const rows = report.hooks.map((h) => {
      const result = h.ok ? "ok" : h.timedOut ? "timed out" : `exit ${h.exitCode ?? "?"}`;
      return `| ${h.at} | ${cell(h.name)} | ${h.when} | ${h.step ?? ""} | ${result} | ${h.durationMs} ms |`;
    });
    lines.push(...tableSection("Hooks", ["Time", "Hook", "When", "Step", "Result", "Duration"], rows));
  }

  return lines;
}

/** The rollback's figures, the warnings and the whole timeline. */
function rollbackWarningsAndTimeline(report: CutoverReport): string[] {
  const lines: string[] = [];
  if (report.rollback) {
    const r = report.rollback;
    lines.push("## Rollback");
    lines.push("");
    lines.push(`- Reason: ${r.reason}`);
    lines.push(`- ${report.operation === "rollback" ? "Requested" : "Breach observed"}: ${r.breachObservedAt}`);
    lines.push(`- Traffic verified on blue: ${r.verifiedAt ?? "NOT VERIFIED"}`);
    lines.push(`- Time to rollback: ${r.timeToRollbackMs === null ? "n/a" : `${r.timeToRollbackMs} ms`}`);
    lines.push(`- Write attempts: ${r.attempts}`);
    if (r.fenceMs !== null) lines.push(`- Writes fenced: ${r.fenceMs} ms`);
    if (r.onlyOnGreen !== null) {
      lines.push(`- Keys only on green: ${r.onlyOnGreen.length === 0 ? "none" : r.onlyOnGreen.map((k) => `\`${k}\``).join(", ")}`);
    }
    lines.push(`- ${r.detail}`);
    lines.push("");
  }

  if (report.warnings.length > 0) {
    lines.push("## Warnings");
    lines.push("");
    for (const w of report.warnings) lines.push(`- ${w}`);
    lines.push("");
  }

  lines.push("## Timeline");
  lines.push("");
  for (const t of report.timeline) lines.push(`- \`${t.at}\` ${t.text}`);
  lines.push("");
  return lines;
}

/** The Steps table in sequential mode: what the judge did per step (windows, decision, extensions, the least share of the expected requests a judged window held). */
function judgedStepsTable(report: CutoverReport): string[] {
  const seen = (j: JudgedPhaseSummary | undefined) => (j?.leastSeen === null || j?.leastSeen === undefined ? "" : `${Math.round(j.leastSeen * 100)}%`);
  const judged = (j: JudgedPhaseSummary | undefined, metricErrors: number) =>
    `${j?.windows ?? 0} | ${j?.decision ?? ""} | ${j?.extensionsUsed ?? 0} | ${metricErrors} | ${seen(j)} |`;
  const rows = report.steps.map(
    (step) =>
      `| ${step.step} | ${step.weights.blue} / ${step.weights.green} | ${formatDuration(step.bakeMs)} | ${step.reached ? "yes" : "no"} | ` +
      `${step.verifyWaitedMs === null ? "" : `${step.verifyWaitedMs} ms`} | ${judged(step.judged, step.metricErrors)}`,
  );
  if (report.monitoring)
    rows.push(
      `| monitoring | 0 / 100 | ${formatDuration(report.plan?.monitorMs ?? 0)} | | | ${judged(report.monitoring.judged, report.monitoring.metricErrors)}`,
    );
  return tableSection(
    "Steps",
    [
      "Step",
      "Weights (blue / green)",
      "Bake",
      "Reached",
      "Verified after",
      "Windows judged",
      "Decision",
      "Extensions",
      "Metric errors",
      "Least seen of the expected req",
    ],
    rows,
  );
}
