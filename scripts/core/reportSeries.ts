// The time series a run report draws, taken from the journal's timeline (pure): the weights as
// they were verified, the phases with their start and end, every metrics window the judge counted
// with both colors' counts, the windows it did not count and why, the evidence per metric against
// its boundary after each window, the decisions, and in paired mode the replication events and lag.
// Fields of the judge's verdict are read defensively: a field the judge no longer writes is
// reported as null rather than breaking the report of a past run.

import type { JournalEvent } from "./events.js";
import type { Journal } from "./journal.js";

export interface SeriesCounts {
  requests: number;
  errors: number;
  /** null: no latency data for this window. */
  slow: number | null;
}

export interface SeriesWindow {
  start: string;
  end: string;
  /** 1-based step, or null for monitoring. */
  step: number | null;
  phase: "baking" | "monitoring";
  poll: number;
  blue: SeriesCounts;
  green: SeriesCounts;
  /** The judge's answer after this window (sequential: fail/continue/extend/promote/undecided; thresholds: pass/fail/inconclusive). */
  decision: string;
}

export interface SeriesDroppedWindow {
  /** null when the source did not say which minutes (a metrics error). */
  start: string | null;
  end: string | null;
  at: string;
  step: number | null;
  why: string;
}

export interface SeriesEvidence {
  at: string;
  step: number | null;
  phase: "baking" | "monitoring";
  metric: string;
  statistic: number;
  boundary: number;
  status: string;
  /** Extra-binomial dispersion the judge estimated, when it reports one. */
  dispersion: number | null;
}

export interface ReportSeries {
  /** Green's verified share over time (a step function), from the first write to the last verification. */
  weights: { at: string; green: number; blue: number; step: number | null }[];
  phases: { phase: string; start: string; end: string; step: number | null }[];
  windows: SeriesWindow[];
  dropped: SeriesDroppedWindow[];
  evidence: SeriesEvidence[];
  decisions: { at: string; decision: string; reason: string; step: number | null }[];
  /** Paired mode: fence, catch-up, parity, sequences, replication start/stop, in order. */
  replication: { at: string; action: string; ok: boolean; detail: string }[];
  /** Replication lag in bytes where a check reported it. */
  lag: { at: string; bytes: number }[];
}

const iso = (ms: number) => new Date(ms).toISOString();
const oneBased = (step: number | null | undefined) => (step === null || step === undefined ? null : step + 1);
const numberOr = <T>(value: unknown, fallback: T): number | T => (typeof value === "number" && Number.isFinite(value) ? value : fallback);

/** "[2026-01-15T09:05:00.000Z, 2026-01-15T09:06:00.000Z)" in a message → the window's bounds. */
const WINDOW_TEXT = /\[(\d{4}-\d\d-\d\dT[\d:.]+Z), (\d{4}-\d\d-\d\dT[\d:.]+Z)\)/;
const LAG_TEXT = /lag (\d+) bytes/;

export function buildSeries(journal: Journal): ReportSeries {
  const series: ReportSeries = { weights: [], phases: [], windows: [], dropped: [], evidence: [], decisions: [], replication: [], lag: [] };
  let currentStep: number | null = null;
  for (const event of journal.timeline) {
    if ("step" in event && typeof event.step === "number") currentStep = event.step;
    addEvent(series, event, currentStep);
  }
  closePhases(series, journal);
  return series;
}

function addEvent(series: ReportSeries, event: JournalEvent, currentStep: number | null): void {
  switch (event.type) {
    case "phase-changed": {
      const open = series.phases.at(-1);
      if (open && open.end === "") open.end = iso(event.at);
      series.phases.push({ phase: event.to, start: iso(event.at), end: "", step: oneBased(event.step) });
      return;
    }
    case "weights-verified":
      if (event.ok) series.weights.push({ at: iso(event.at), green: event.weights.green, blue: event.weights.blue, step: oneBased(event.step) });
      return;
    case "rollback-complete":
      if (event.ok) series.weights.push({ at: iso(event.at), green: event.weights.green, blue: event.weights.blue, step: null });
      return;
    case "judge-reading":
      addJudgeReading(series, event);
      return;
    case "gate-reading": {
      const r = event.verdict.readings;
      const counts = (c: typeof r.green): SeriesCounts => ({ requests: c.requests, errors: Math.round((c.errorRate ?? 0) * c.requests), slow: null });
      series.windows.push({
        start: iso(event.window.start),
        end: iso(event.window.end),
        step: oneBased(event.step),
        phase: event.phase,
        poll: event.poll,
        blue: counts(r.blue),
        green: counts(r.green),
        decision: event.verdict.status,
      });
      return;
    }
    case "metric-error":
      series.dropped.push({ start: null, end: null, at: iso(event.at), step: oneBased(event.step), why: `metrics error: ${event.message}` });
      return;
    case "warning": {
      const window = WINDOW_TEXT.exec(event.message);
      if (window && event.message.startsWith("observed split")) {
        series.dropped.push({ start: window[1]!, end: window[2]!, at: iso(event.at), step: oneBased(currentStep), why: event.message });
      }
      return;
    }
    case "decision":
      series.decisions.push({ at: iso(event.at), decision: event.decision, reason: event.reason, step: oneBased(event.step) });
      return;
    case "rollback-started":
      series.decisions.push({ at: iso(event.at), decision: "rollback", reason: event.reason, step: oneBased(event.step) });
      return;
    case "fence":
      series.replication.push({ at: iso(event.at), action: event.mode === "off" ? "fence off" : "fence on", ok: event.ok, detail: event.detail });
      return;
    case "replication":
      series.replication.push({ at: iso(event.at), action: event.action, ok: event.ok, detail: event.detail });
      addLag(series, event.at, event.detail);
      return;
    case "preflight-check":
      if (event.check === "replication") addLag(series, event.at, event.detail);
      return;
    default:
      return;
  }
}

function addJudgeReading(series: ReportSeries, event: Extract<JournalEvent, { type: "judge-reading" }>): void {
  const counts = (c: { requests: number; errors: number; slow: number | null } | undefined): SeriesCounts => ({
    requests: numberOr(c?.requests, 0),
    errors: numberOr(c?.errors, 0),
    slow: numberOr(c?.slow, null),
  });
  const verdict = event.verdict as Partial<typeof event.verdict> | undefined;
  series.windows.push({
    start: iso(event.window.start),
    end: iso(event.window.end),
    step: oneBased(event.step),
    phase: event.phase,
    poll: event.poll,
    blue: counts(event.counts?.blue),
    green: counts(event.counts?.green),
    decision: typeof verdict?.decision === "string" ? verdict.decision : "unknown",
  });
  for (const ignored of Array.isArray(verdict?.ignoredWindows) ? verdict.ignoredWindows : []) {
    series.dropped.push({ start: iso(ignored.start), end: iso(ignored.end), at: iso(event.at), step: oneBased(event.step), why: `not judged: ${ignored.why}` });
  }
  const evidence = (verdict?.evidence ?? {}) as Record<string, Record<string, unknown> | undefined>;
  for (const [metric, e] of Object.entries(evidence)) {
    if (!e) continue;
    const statistic = numberOr(e.statistic, null);
    const boundary = numberOr(e.boundary, null);
    if (statistic === null || boundary === null) continue;
    series.evidence.push({
      at: iso(event.window.end),
      step: oneBased(event.step),
      phase: event.phase,
      metric,
      statistic,
      boundary,
      status: typeof e.status === "string" ? e.status : "unknown",
      dispersion: numberOr(e.dispersion, null),
    });
  }
}

function addLag(series: ReportSeries, at: number, detail: string): void {
  const lag = LAG_TEXT.exec(detail);
  if (lag) series.lag.push({ at: iso(at), bytes: Number(lag[1]) });
}

/** The last phase runs to the journal's last update. */
function closePhases(series: ReportSeries, journal: Journal): void {
  const end = Math.max(journal.updatedAt, journal.timeline.at(-1)?.at ?? journal.createdAt);
  for (const phase of series.phases) if (phase.end === "") phase.end = iso(end);
}
