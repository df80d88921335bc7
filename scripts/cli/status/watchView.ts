// `status --watch`'s picture of the run, pure: per color a sparkline of the 5xx rate and of the
// slow share over the recent windows the judge counted (both colors on the same scale, so the
// lines compare), and the judge's latest evidence per metric against its boundary. From the
// journal's series (core/reportSeries.ts), the same numbers the HTML report draws.

import type { ReportSeries, SeriesEvidence, SeriesWindow } from "../../core/reportSeries.js";
import type { Palette } from "../plainPrinter.js";

const BLOCKS = "▁▂▃▄▅▆▇█";

/** One character per value, scaled to `max` (0 → the lowest block); null → a gap. */
export function sparkline(values: readonly (number | null)[], max: number): string {
  return values
    .map((value) => {
      if (value === null || !Number.isFinite(value)) return " ";
      if (max <= 0) return BLOCKS[0];
      const level = Math.round((Math.min(value, max) / max) * (BLOCKS.length - 1));
      return BLOCKS[Math.max(0, level)];
    })
    .join("");
}

const rate = (part: number | null, whole: number) => (part === null || whole <= 0 ? null : part / whole);
const percent = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(2)}%`);

/** Per color, a metric's per-window rate over the windows given. */
function rates(windows: readonly SeriesWindow[], metric: "errors" | "slow"): Record<"blue" | "green", (number | null)[]> {
  return {
    blue: windows.map((w) => rate(w.blue[metric], w.blue.requests)),
    green: windows.map((w) => rate(w.green[metric], w.green.requests)),
  };
}

function metricLines(label: string, windows: readonly SeriesWindow[], metric: "errors" | "slow", p: Palette): string[] {
  const series = rates(windows, metric);
  const all = [...series.blue, ...series.green].filter((x): x is number => x !== null);
  if (all.length === 0) return [`  ${label.padEnd(11)} no data`];
  const max = Math.max(...all);
  const last = (xs: (number | null)[]) => xs.at(-1) ?? null;
  return [
    `  ${label.padEnd(11)} ${p.blue("blue ")} ${sparkline(series.blue, max)}  ${percent(last(series.blue))}`,
    `  ${"".padEnd(11)} ${p.green("green")} ${sparkline(series.green, max)}  ${percent(last(series.green))}`,
  ];
}

/** "statistic 2.31 of boundary 100 (open)": how far the evidence has come towards its boundary, on the log scale the judge works on. */
export function evidenceLine(e: SeriesEvidence, width = 20): string {
  const share = e.boundary > 1 && e.statistic > 0 ? Math.log(Math.max(1, e.statistic)) / Math.log(e.boundary) : e.statistic >= e.boundary ? 1 : 0;
  const filled = Math.max(0, Math.min(width, Math.round(share * width)));
  const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
  return `  ${e.metric.padEnd(11)} ${bar} statistic ${formatNumber(e.statistic)} of boundary ${formatNumber(e.boundary)} (${e.status})`;
}

function formatNumber(x: number): string {
  if (x === 0) return "0";
  if (Math.abs(x) >= 1000 || Math.abs(x) < 0.01) return x.toExponential(1);
  return x.toFixed(2);
}

export interface WatchFrameOptions {
  /** How many recent windows the sparklines show. */
  windows: number;
}

/** The run's recent windows and evidence, as lines (none when the run has no judged window yet). */
export function renderRunPicture(series: ReportSeries | null, p: Palette, options: WatchFrameOptions = { windows: 20 }): string[] {
  if (!series || series.windows.length === 0) return [p.bold("recent windows"), "  no window judged yet"];
  const recent = series.windows.slice(-options.windows);
  const last = recent.at(-1)!;
  const where = last.step === null ? "monitoring" : `step ${last.step}`;
  const out = [p.bold(`recent windows (${recent.length}, now ${where}, last ends ${last.end.slice(11, 19)}Z)`)];
  out.push(...metricLines("5xx rate", recent, "errors", p), ...metricLines("slow share", recent, "slow", p));
  const latest = latestEvidence(series.evidence);
  if (latest.length > 0) {
    const head = latest[0]!;
    out.push("", p.bold(`evidence against its boundary (${head.step === null ? "monitoring" : `step ${head.step}`})`));
    out.push(...latest.map((e) => evidenceLine(e)));
  }
  return out;
}

/** The newest evidence of each metric (from the newest window that has any). */
function latestEvidence(evidence: readonly SeriesEvidence[]): SeriesEvidence[] {
  const newest = evidence.at(-1);
  if (!newest) return [];
  return evidence.filter((e) => e.at === newest.at);
}
