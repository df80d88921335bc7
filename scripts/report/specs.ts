// The report's charts as declarative Vega-Lite specs, built from the report JSON alone (pure).
// Every chart over time shares one x domain (the run's start to its end, UTC), so a phase in the
// timeline lines up with its windows, its evidence and the fence below it. Data is inline: a spec
// never names a URL, so rendering it reads nothing from disk or network.

import type { TopLevelSpec } from "vega-lite";
import type { CutoverReport } from "../core/report.js";
import type { ReportSeries } from "../core/reportSeries.js";

export interface ChartSpec {
  /** Stable id, used in the page and by the tests. */
  id: "timeline" | "rates" | "evidence" | "paired" | "hooks";
  title: string;
  /** One sentence under the chart: how to read it. */
  caption: string;
  spec: TopLevelSpec;
}

const WIDTH = 640;
const COLORS = { domain: ["blue", "green"], range: ["#1f6fd1", "#1a9a4b"] };
/** Minutes on a long run; seconds as well on a short one (the demo's bakes are seconds long). */
function timeAxis(report: CutoverReport) {
  const short = Date.parse(report.endedAt) - Date.parse(report.startedAt) < 15 * 60_000;
  return { title: "time (UTC)", format: short ? "%H:%M:%S" : "%H:%M", labelOverlap: true } as const;
}
const BASE = {
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  background: "white",
  config: { font: "sans-serif", view: { stroke: "#ddd" }, axisY: { minExtent: 64, maxExtent: 64 } },
} as const;
/** Decisions worth an annotation; "extend" (one more window) would crowd the chart. */
const ANNOTATED = new Set(["proceed", "rollback", "pause", "refuse", "resume", "abort", "interrupt", "scale"]);

const emptySeries = (): ReportSeries => ({ weights: [], phases: [], windows: [], dropped: [], evidence: [], decisions: [], replication: [], lag: [] });

/** The series, or an empty one for a report written before the series existed. */
export function seriesOf(report: CutoverReport): ReportSeries {
  return { ...emptySeries(), ...(report.series ?? {}) };
}

/**
 * The shared time axis. One layer of each chart, one without an x2 channel, names the run's bounds
 * (the layers share the scale; Vega-Lite reads a domain beside an x2 channel twice and warns).
 */
function timeX(report: CutoverReport, field: string, bounds = false) {
  const scale = bounds ? { type: "utc" as const, domain: [Date.parse(report.startedAt), Date.parse(report.endedAt)] } : { type: "utc" as const };
  return { field, type: "temporal" as const, scale, axis: timeAxis(report) };
}

/** Every chart the report has data for, in page order. */
export function buildChartSpecs(report: CutoverReport): ChartSpec[] {
  const series = seriesOf(report);
  const charts: ChartSpec[] = [timelineSpec(report, series)];
  if (series.windows.length > 0 || series.dropped.length > 0) charts.push(ratesSpec(report, series));
  if (series.evidence.length > 0) charts.push(evidenceSpec(report, series));
  if (report.databaseMode === "paired" || series.replication.length > 0) charts.push(pairedSpec(report, series));
  if (report.hooks.length > 0) charts.push(hooksSpec(report));
  return charts;
}

/** Green's weight as steps over the phases, the decisions as annotations. */
export function timelineSpec(report: CutoverReport, series: ReportSeries = seriesOf(report)): ChartSpec {
  // From the first verified weights (nothing is claimed before them) to the end of the run.
  const weights = [...series.weights];
  const last = weights.at(-1);
  if (last && last.at < report.endedAt) weights.push({ ...last, at: report.endedAt });
  const phases = series.phases.filter((p) => p.end > p.start);
  const decisions = series.decisions.filter((d) => ANNOTATED.has(d.decision));
  const layers: object[] = [
    {
      data: { values: phases },
      mark: { type: "rect", opacity: 0.28 },
      encoding: {
        x: timeX(report, "start"),
        x2: { field: "end" },
        color: { field: "phase", type: "nominal", title: "phase", scale: { scheme: "tableau20" }, legend: { orient: "bottom", columns: 4 } },
      },
    },
    {
      data: { values: weights },
      mark: { type: "line", interpolate: "step-after", color: COLORS.range[1], strokeWidth: 3 },
      encoding: {
        x: timeX(report, "at", true),
        y: { field: "green", type: "quantitative", title: "green's weight (%)", scale: { domain: [0, 100] } },
      },
    },
    {
      data: { values: series.weights.filter((w, i, all) => i === 0 || all[i - 1]!.green !== w.green) },
      mark: { type: "text", align: "left", baseline: "bottom", dx: 3, dy: -3, fontSize: 11, fontWeight: "bold", color: COLORS.range[1] },
      encoding: { x: timeX(report, "at"), y: { field: "green", type: "quantitative" }, text: { field: "label" } },
      transform: [{ calculate: "datum.green + '%'", as: "label" }],
    },
  ];
  if (decisions.length > 0) {
    layers.push(
      { data: { values: decisions }, mark: { type: "rule", color: "#555", strokeDash: [4, 3] }, encoding: { x: timeX(report, "at") } },
      {
        data: { values: decisions },
        mark: { type: "text", angle: 270, align: "left", baseline: "bottom", dx: 2, dy: -2, fontSize: 10, color: "#333" },
        encoding: { x: timeX(report, "at"), y: { datum: 2, type: "quantitative", scale: { domain: [0, 100] } }, text: { field: "decision" } },
      },
    );
  }
  return {
    id: "timeline",
    title: "Weights and phases",
    caption: "Green's verified share of traffic as steps; the shaded bands are the engine's phases; dashed lines are its decisions.",
    spec: { ...BASE, width: WIDTH, height: 200, layer: layers, resolve: { scale: { color: "independent" } } } as TopLevelSpec,
  };
}

interface RateRow {
  start: string;
  end: string;
  color: string;
  step: string;
  rate: number;
}

/** Each color's 5xx rate and slow share per window, on the same axes; dropped windows shaded with why. */
export function ratesSpec(report: CutoverReport, series: ReportSeries = seriesOf(report)): ChartSpec {
  const rows = (metric: "errors" | "slow"): RateRow[] =>
    series.windows.flatMap((w) =>
      (["blue", "green"] as const).flatMap((color) => {
        const counts = w[color];
        const count = metric === "errors" ? counts.errors : counts.slow;
        if (count === null || counts.requests <= 0) return [];
        return [{ start: w.start, end: w.end, color, step: w.step === null ? "monitoring" : `step ${w.step}`, rate: count / counts.requests }];
      }),
    );
  const dropped = series.dropped.filter((d) => d.start !== null && d.end !== null).map((d, i) => ({ ...d, label: `dropped ${i + 1}` }));
  const panel = (metric: "errors" | "slow", title: string) => {
    const layers: object[] = [
      {
        data: { values: rows(metric) },
        mark: { type: "point", filled: true, size: 30 },
        encoding: {
          x: timeX(report, "start", true),
          // At least 0–1%: a run without a single error still shows a readable axis.
          y: { field: "rate", type: "quantitative", title, axis: { format: ".1%" }, scale: { domain: { unionWith: [0, 0.01] } } },
          color: { field: "color", type: "nominal", title: "color", scale: COLORS, legend: { orient: "top" } },
        },
      },
      {
        data: { values: rows(metric) },
        mark: { type: "rule", strokeWidth: 3 },
        encoding: {
          x: timeX(report, "start"),
          x2: { field: "end" },
          y: { field: "rate", type: "quantitative" },
          color: { field: "color", type: "nominal", scale: COLORS },
        },
      },
    ];
    if (dropped.length > 0) {
      layers.push(
        { data: { values: dropped }, mark: { type: "rect", color: "#d62728", opacity: 0.15 }, encoding: { x: timeX(report, "start"), x2: { field: "end" } } },
        {
          data: { values: dropped },
          mark: { type: "text", baseline: "top", dy: 3, fontSize: 10, color: "#a01010" },
          encoding: { x: timeX(report, "start"), y: { value: 0 }, text: { field: "label" } },
        },
      );
    }
    return { width: WIDTH, height: 150, layer: layers };
  };
  return {
    id: "rates",
    title: "Per-window 5xx rate and slow share",
    caption:
      "Each bar is one window the judge counted, from its start to its end (blue and green over the same minutes); red bands are windows it did not count, listed with the reason below.",
    spec: { ...BASE, vconcat: [panel("errors", "5xx rate"), panel("slow", "slow share")], resolve: { scale: { x: "shared" } } } as TopLevelSpec,
  };
}

/** The judge's statistic per metric after each window, against its boundary, on a log scale. */
export function evidenceSpec(report: CutoverReport, series: ReportSeries = seriesOf(report)): ChartSpec {
  const floor = 1e-6;
  const points = series.evidence.map((e) => ({
    ...e,
    phaseKey: e.phase === "monitoring" ? "monitoring" : `step ${e.step}`,
    shown: Math.max(floor, e.statistic),
    metricName: e.metric === "errors" ? "5xx" : e.metric,
  }));
  const boundaries = Object.values(
    points.reduce<Record<string, { phaseKey: string; from: string; to: string; boundary: number }>>((acc, p) => {
      const key = p.phaseKey;
      const entry = (acc[key] ??= { phaseKey: key, from: p.at, to: p.at, boundary: p.boundary });
      if (p.at < entry.from) entry.from = p.at;
      if (p.at > entry.to) entry.to = p.at;
      return acc;
    }, {}),
  );
  const y = { field: "shown", type: "quantitative", title: "evidence (e-value)", scale: { type: "log", domainMin: floor } } as const;
  return {
    id: "evidence",
    title: "Evidence per phase against its boundary",
    caption: "The judge's statistic for each metric after each window; it rolls back when a line reaches the dashed boundary (log scale).",
    spec: {
      ...BASE,
      width: WIDTH,
      height: 180,
      layer: [
        {
          data: { values: boundaries },
          mark: { type: "rule", color: "#d62728", strokeDash: [6, 3], strokeWidth: 2 },
          encoding: { x: timeX(report, "from"), x2: { field: "to" }, y: { field: "boundary", type: "quantitative", scale: { type: "log" } } },
        },
        {
          data: { values: points },
          mark: { type: "line", point: true },
          encoding: {
            x: timeX(report, "at", true),
            y,
            color: {
              field: "metricName",
              type: "nominal",
              title: "metric",
              scale: { domain: ["5xx", "slow"], range: ["#9467bd", "#ff7f0e"] },
              legend: { orient: "top" },
            },
            detail: { field: "phaseKey" },
          },
        },
      ],
    } as TopLevelSpec,
  };
}

/** Paired mode: the fence's periods, catch-up, parity, sequences and replication lag on the run's time axis. */
export function pairedSpec(report: CutoverReport, series: ReportSeries = seriesOf(report)): ChartSpec {
  const fence = (report.fence?.periods ?? []).map((p) => ({
    purpose: `fence (${p.purpose})`,
    on: new Date(p.onAt).toISOString(),
    off: new Date(p.offAt).toISOString(),
  }));
  const events = series.replication.map((r) => ({ ...r, label: `${r.action}${r.ok ? "" : " FAILED"}` }));
  const layers: object[] = [];
  if (fence.length > 0) {
    layers.push({
      data: { values: fence },
      mark: { type: "rect", color: "#d62728", opacity: 0.25 },
      encoding: { x: timeX(report, "on"), x2: { field: "off" } },
    });
  }
  layers.push(
    { data: { values: events }, mark: { type: "rule", color: "#555" }, encoding: { x: timeX(report, "at", true) } },
    {
      data: { values: events },
      mark: { type: "text", angle: 270, align: "right", baseline: "middle", dx: -4, fontSize: 10 },
      encoding: {
        x: timeX(report, "at"),
        y: { value: 0 },
        text: { field: "label" },
        color: { field: "ok", type: "nominal", legend: null, scale: { domain: [true, false], range: ["#333", "#d62728"] } },
      },
    },
  );
  if (series.lag.length > 0) {
    layers.push({
      data: { values: series.lag },
      mark: { type: "line", point: { filled: true, size: 60 }, color: "#8c564b" },
      encoding: { x: timeX(report, "at"), y: { field: "bytes", type: "quantitative", title: "replication lag (bytes)" } },
    });
  }
  return {
    id: "paired",
    title: "Write fence and replication",
    caption: "Red bands: writes fenced (answered 503); lines: catch-up, parity, sequences and replication changes; points: replication lag where measured.",
    spec: { ...BASE, width: WIDTH, height: 160, layer: layers } as TopLevelSpec,
  };
}

/** Hooks as bars from start to end, with exit code and duration. */
export function hooksSpec(report: CutoverReport): ChartSpec {
  const rows = report.hooks.map((h) => {
    const end = Date.parse(h.at);
    return {
      name: `${h.name}${h.step !== null ? ` · ${h.step}` : ""}`,
      start: new Date(end - h.durationMs).toISOString(),
      end: h.at,
      result: h.ok ? "ok" : "failed",
      label: `${h.when}: ${h.timedOut ? "timed out" : `exit ${h.exitCode ?? "?"}`} · ${h.durationMs} ms`,
    };
  });
  return {
    id: "hooks",
    title: "Hooks",
    caption: "Each hook (name · step) from its start to its end, with when it ran, its exit code and its duration.",
    spec: {
      ...BASE,
      width: WIDTH,
      height: { step: 22 },
      layer: [
        {
          mark: { type: "bar", minBandSize: 3, cornerRadius: 2 },
          encoding: {
            x: timeX(report, "start"),
            x2: { field: "end" },
            y: { field: "name", type: "nominal", title: null },
            color: {
              field: "result",
              type: "nominal",
              title: "result",
              scale: { domain: ["ok", "failed"], range: ["#1a9a4b", "#d62728"] },
              legend: { orient: "top" },
            },
          },
        },
        {
          mark: { type: "point", shape: "diamond", filled: true, size: 70 },
          encoding: {
            x: timeX(report, "end"),
            y: { field: "name", type: "nominal" },
            color: { field: "result", type: "nominal", scale: { domain: ["ok", "failed"], range: ["#1a9a4b", "#d62728"] } },
          },
        },
        {
          mark: { type: "text", align: "left", dx: 6, fontSize: 10 },
          encoding: { x: timeX(report, "end", true), y: { field: "name", type: "nominal" }, text: { field: "label" } },
        },
      ],
      data: { values: rows },
    } as TopLevelSpec,
  };
}
