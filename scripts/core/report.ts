// The run report, built from the journal alone (pure): timeline, weights, gate readings,
// decision, measured time-to-rollback and fence time. The CLI writes both forms under reports/.

import { formatEvent, type JournalEvent, type Outcome } from "./events.js";
import { renderMarkdown } from "./markdown.js";
import { outcomeOf, type Journal } from "./journal.js";
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

  const gateReadings = gateReadingsOf(timeline);
  const judge = judgePhasesOf(timeline);

  const plan = journal.plan;
  const { steps, monitoring } = stepsOf(journal, gateReadings);

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
    rollback: rollbackOf(journal),
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

/** Every gate reading and metrics error, in order, one row each. */
function gateReadingsOf(timeline: readonly JournalEvent[]): ReportGateReading[] {
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
  return gateReadings;
}

/** The judge's verdicts: one row per phase, its newest reading. */
function judgePhasesOf(timeline: readonly JournalEvent[]): ReportJudgePhase[] {
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
  return judge;
}

/** Each planned step (reached, verified, its polls and the judge's summary) and the monitoring phase. */
function stepsOf(journal: Journal, gateReadings: readonly ReportGateReading[]): { steps: ReportStep[]; monitoring: CutoverReport["monitoring"] } {
  const timeline = journal.timeline;
  const of = <T extends JournalEvent["type"]>(type: T) => timeline.filter((e): e is Extract<JournalEvent, { type: T }> => e.type === type);
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
  return { steps, monitoring };
}

/** The rollback's figures, when the run rolled back. */
function rollbackOf(journal: Journal): CutoverReport["rollback"] {
  return journal.rollback && journal.failure
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
    : null;
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

const withJudged = (judged: JudgedPhaseSummary | undefined) => (judged ? { judged } : {});
