// The run report, built from the journal alone (pure): timeline, weights, gate readings,
// decision, measured time-to-rollback and fence time. The CLI writes both forms under reports/.

import { formatEvent, formatStatistic, type JournalEvent, type Outcome } from "./events.js";
import { formatPercent } from "./format.js";
import { outcomeOf, type Journal } from "./journal.js";
import { formatDuration } from "./plan.js";
import type { Weights } from "./ports.js";
import { buildSeries, type ReportSeries } from "./reportSeries.js";

export interface ReportGateReading {
  at: string;
  step: number | null;
  phase: "baking" | "monitoring";
  poll: number;
  status: "pass" | "fail" | "inconclusive" | "error";
  green: { requests: number; errorRate: number | null; p95Ms: number | null; unhealthy: number | null } | null;
  blue: { requests: number; errorRate: number | null; p95Ms: number | null; unhealthy: number | null } | null;
  observedGreenShare: number | null;
  reasons: string[];
}

export interface ReportStep {
  /** 1-based, as operators count. */
  step: number;
  weights: Weights;
  bakeMs: number;
  reached: boolean;
  verifiedAt: string | null;
  verifyWaitedMs: number | null;
  polls: number;
  passes: number;
  inconclusive: number;
  metricErrors: number;
  /** Sequential judge: the windows judged, its last decision, the extensions used, and the least of a window seen (0..1; null: unknown). */
  judged?: JudgedPhaseSummary;
}

export interface JudgedPhaseSummary {
  windows: number;
  decision: string | null;
  extensionsUsed: number;
  leastSeen: number | null;
}

/** The statistical judge's verdict at the end of one phase (the last judge-reading of that phase). */
export interface ReportJudgePhase {
  /** 1-based step, or null for monitoring. */
  step: number | null;
  phase: "baking" | "monitoring";
  at: string;
  decision: string;
  windowsJudged: number;
  windowsNeeded: number;
  extensionsUsed: number;
  metrics: {
    metric: string;
    comparison: string;
    green: { count: number; requests: number };
    blue: { count: number; requests: number };
    statistic: number;
    boundary: number;
    status: string;
    ruledOutRatio: number | null;
    greenRateBelow: number | null;
    neededGreenRequests: number | null;
  }[];
  reasons: string[];
}

export interface CutoverReport {
  format: "bluegreen-cutover-report";
  version: 1;
  runId: string;
  operation: Journal["operation"];
  stack: string | null;
  databaseMode: Journal["databaseMode"];
  outcome: Outcome | null;
  /** The decision in one sentence. */
  decision: string;
  reason: string | null;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  resumes: number;
  plan: { strategy: string; steps: { weights: Weights; bakeMs: number }[]; monitorMs: number; pollMs: number } | null;
  snapshot: Journal["snapshot"];
  /** What the stored journal's compaction dropped from the timeline (absent: nothing). */
  compacted?: NonNullable<Journal["compacted"]>;
  steps: ReportStep[];
  monitoring: { polls: number; passes: number; inconclusive: number; metricErrors: number; judged?: JudgedPhaseSummary } | null;
  gateReadings: ReportGateReading[];
  /** Sequential mode: the judge's last verdict in each judged phase, with its evidence. */
  judge: ReportJudgePhase[];
  hooks: { at: string; name: string; when: string; step: number | null; ok: boolean; exitCode: number | null; timedOut: boolean; durationMs: number }[];
  decisions: { at: string; decision: string; reason: string }[];
  rollback: {
    reason: string;
    breachObservedAt: string;
    verifiedAt: string | null;
    timeToRollbackMs: number | null;
    attempts: number;
    fenceMs: number | null;
    onlyOnGreen: string[] | null;
    detail: string;
  } | null;
  fence: { switchMs: number | null; rollbackMs: number | null; periods: Journal["fence"]["periods"]; stillOnSince: string | null };
  warnings: string[];
  timeline: { at: string; type: string; text: string }[];
  /** What the HTML report draws (absent from reports written before it existed). */
  series?: ReportSeries;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function buildReport(journal: Journal): { json: CutoverReport; markdown: string } {
  const timeline = journal.timeline;
  const of = <T extends JournalEvent["type"]>(type: T) => timeline.filter((e): e is Extract<JournalEvent, { type: T }> => e.type === type);

  const gateReadings: ReportGateReading[] = [];
  for (const event of timeline) {
    if (event.type === "gate-reading") {
      const r = event.verdict.readings;
      const color = (c: typeof r.green) => ({ requests: c.requests, errorRate: c.errorRate, p95Ms: c.p95Ms, unhealthy: c.unhealthy });
      gateReadings.push({
        at: iso(event.at),
        step: event.step === null ? null : event.step + 1,
        phase: event.phase,
        poll: event.poll,
        status: event.verdict.status,
        green: color(r.green),
        blue: color(r.blue),
        observedGreenShare: event.verdict.observedGreenShare,
        reasons: event.verdict.reasons,
      });
    } else if (event.type === "metric-error") {
      gateReadings.push({
        at: iso(event.at),
        step: event.step === null ? null : event.step + 1,
        phase: event.phase,
        poll: event.poll,
        status: "error",
        green: null,
        blue: null,
        observedGreenShare: null,
        reasons: [event.message],
      });
    }
  }

  const judge: ReportJudgePhase[] = [];
  for (const event of timeline) {
    if (event.type !== "judge-reading") continue;
    const v = event.verdict;
    const entry: ReportJudgePhase = {
      step: event.step === null ? null : event.step + 1,
      phase: event.phase,
      at: iso(event.at),
      decision: v.decision,
      windowsJudged: v.windowsJudged,
      windowsNeeded: v.windowsNeeded,
      extensionsUsed: v.extensionsUsed,
      metrics: (["errors", "slow"] as const).map((metric) => {
        const e = v.evidence[metric];
        return {
          metric,
          comparison: e.comparison,
          green: { count: e.greenCount, requests: e.greenRequests },
          blue: { count: e.blueCount, requests: e.blueRequests },
          statistic: e.statistic,
          boundary: e.boundary,
          status: e.status,
          ruledOutRatio: e.ruledOut.ratio,
          greenRateBelow: e.ruledOut.greenRateBelow,
          neededGreenRequests: e.neededGreenRequests,
        };
      }),
      reasons: v.reasons,
    };
    const previous = judge.at(-1);
    // One row per phase: its newest reading (the one that decided, or the last before a crash or rollback).
    if (previous && previous.phase === entry.phase && previous.step === entry.step) judge[judge.length - 1] = entry;
    else judge.push(entry);
  }

  const judgeReadings = of("judge-reading");
  /** The judge's readings of one phase, summed up (undefined in thresholds mode). */
  const judgedOf = (phase: "baking" | "monitoring", step: number | null): JudgedPhaseSummary | undefined => {
    if (judgeReadings.length === 0) return undefined;
    const readings = judgeReadings.filter((e) => e.phase === phase && (phase === "monitoring" || e.step === step));
    const seen = readings.map((e) => e.completeness?.seenShare).filter((x): x is number => typeof x === "number");
    const last = readings.at(-1);
    return {
      windows: readings.length,
      decision: last?.verdict.decision ?? null,
      extensionsUsed: last?.verdict.extensionsUsed ?? 0,
      leastSeen: seen.length > 0 ? Math.min(...seen) : null,
    };
  };

  const plan = journal.plan;
  const steps: ReportStep[] = (plan?.steps ?? []).map((step) => {
    const verified = of("weights-verified").filter((e) => e.step === step.index && e.ok);
    const readings = gateReadings.filter((g) => g.phase === "baking" && g.step === step.index + 1);
    const last = verified.at(-1);
    return {
      step: step.index + 1,
      weights: step.weights,
      bakeMs: step.bakeMs,
      reached: last !== undefined,
      verifiedAt: last ? iso(last.at) : null,
      verifyWaitedMs: last ? last.waitedMs : null,
      polls: readings.length,
      passes: readings.filter((g) => g.status === "pass").length,
      inconclusive: readings.filter((g) => g.status === "inconclusive").length,
      metricErrors: readings.filter((g) => g.status === "error").length,
      ...withJudged(judgedOf("baking", step.index)),
    };
  });
  const monitoringReadings = gateReadings.filter((g) => g.phase === "monitoring");
  const monitoring =
    plan && plan.monitorMs > 0
      ? {
          polls: monitoringReadings.length,
          passes: monitoringReadings.filter((g) => g.status === "pass").length,
          inconclusive: monitoringReadings.filter((g) => g.status === "inconclusive").length,
          metricErrors: monitoringReadings.filter((g) => g.status === "error").length,
          ...withJudged(judgedOf("monitoring", null)),
        }
      : null;

  const switchPeriods = journal.fence.periods.filter((p) => p.purpose === "switch");
  const rollbackPeriods = journal.fence.periods.filter((p) => p.purpose === "rollback");
  const sum = (periods: typeof switchPeriods) => (periods.length > 0 ? periods.reduce((total, p) => total + p.durationMs, 0) : null);

  const startedAt = journal.createdAt;
  const endedAt = Math.max(journal.updatedAt, timeline.at(-1)?.at ?? startedAt);
  const reason = outcomeOf(journal) === "succeeded" ? null : (journal.failure?.reason ?? null);
  const decision = decisionSentence(journal);

  const json: CutoverReport = {
    format: "bluegreen-cutover-report",
    version: 1,
    runId: journal.runId,
    operation: journal.operation,
    stack: journal.stack,
    databaseMode: journal.databaseMode,
    outcome: outcomeOf(journal),
    decision,
    reason,
    startedAt: iso(startedAt),
    endedAt: iso(endedAt),
    durationMs: endedAt - startedAt,
    resumes: journal.resumes,
    plan: plan
      ? { strategy: plan.strategy, steps: plan.steps.map((s) => ({ weights: s.weights, bakeMs: s.bakeMs })), monitorMs: plan.monitorMs, pollMs: plan.pollMs }
      : null,
    snapshot: journal.snapshot,
    ...(journal.compacted ? { compacted: journal.compacted } : {}),
    steps,
    monitoring,
    gateReadings,
    judge,
    hooks: of("hook-result").map((e) => ({
      at: iso(e.at),
      name: e.name,
      when: e.when,
      step: e.step === null ? null : e.step + 1,
      ok: e.ok,
      exitCode: e.result.exitCode,
      timedOut: e.result.timedOut,
      durationMs: e.result.durationMs,
    })),
    decisions: of("decision").map((e) => ({ at: iso(e.at), decision: e.decision, reason: e.reason })),
    rollback:
      journal.rollback && journal.failure
        ? {
            reason: journal.failure.reason,
            breachObservedAt: iso(journal.failure.breachObservedAt),
            verifiedAt: journal.rollback.verifiedAt === null ? null : iso(journal.rollback.verifiedAt),
            timeToRollbackMs: journal.rollback.timeToRollbackMs,
            attempts: journal.rollback.attempts,
            fenceMs: journal.rollback.fenceMs,
            onlyOnGreen: journal.rollback.onlyOnGreen,
            detail: journal.rollback.detail,
          }
        : null,
    fence: {
      switchMs: sum(switchPeriods),
      rollbackMs: sum(rollbackPeriods),
      periods: journal.fence.periods,
      stillOnSince: journal.fence.onAt === null ? null : iso(journal.fence.onAt),
    },
    warnings: of("warning").map((e) => e.message),
    timeline: timeline.map((e) => ({ at: iso(e.at), type: e.type, text: formatEvent(e).replace(/^\S+ /, "") })),
    series: buildSeries(journal),
  };
  return { json, markdown: renderMarkdown(json) };
}

function decisionSentence(journal: Journal): string {
  switch (outcomeOf(journal)) {
    case "succeeded":
      return "Cutover succeeded: green serves 100% of traffic and passed monitoring.";
    case "rolled-back":
      return `Rolled back to blue: ${journal.failure?.reason ?? "operator request"}.`;
    case "failed-rollback":
      return `ROLLBACK FAILED: traffic is not verified on blue. ${journal.rollback?.detail ?? ""}`.trim();
    case "preflight-failed":
      return `Refused before moving any traffic: ${journal.failure?.reason ?? "preflight failed"}.`;
    case "aborted":
      return "Aborted: another operator broke the lock (rollback --force) and owns traffic now.";
    default:
      return `Unfinished: the run stopped in phase "${journal.phase}"${journal.step !== null ? ` at step ${journal.step + 1}` : ""}; resume it or roll back.`;
  }
}

const pct = (x: number | null) => formatPercent(x, { decimals: 2, fixed: true });
const msText = (x: number | null) => (x === null ? "n/a" : `${Math.round(x)} ms`);
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** A Markdown section holding one table: the separator row always has as many cells as the header. */
function tableSection(title: string, columns: readonly string[], rows: readonly string[]): string[] {
  return [`## ${title}`, "", `| ${columns.join(" | ")} |`, `| ${columns.map(() => "---").join(" | ")} |`, ...rows, ""];
}

function renderMarkdown(report: CutoverReport): string {
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

  if (report.hooks.length > 0) {
    const rows = report.hooks.map((h) => {
      const result = h.ok ? "ok" : h.timedOut ? "timed out" : `exit ${h.exitCode ?? "?"}`;
      return `| ${h.at} | ${cell(h.name)} | ${h.when} | ${h.step ?? ""} | ${result} | ${h.durationMs} ms |`;
    });
    lines.push(...tableSection("Hooks", ["Time", "Hook", "When", "Step", "Result", "Duration"], rows));
  }

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
  return lines.join("\n");
}

const withJudged = (judged: JudgedPhaseSummary | undefined) => (judged ? { judged } : {});

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
