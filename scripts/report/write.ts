// Writes a run's HTML page (<base>.html) and its main chart as an SVG file (<base>.svg, the one the
// Markdown report embeds), from the report JSON: the engine's (cutover, rollback, promote) or the
// demo's, which wraps the engine's. `npm run report -- reports/x.json` goes through here too.

import { writeFile } from "node:fs/promises";
import { basename } from "node:path";
import type { CutoverReport } from "../core/report.js";
import { renderPage, type DemoPart, type RenderedChart } from "./page.js";
import { renderSvg } from "./render.js";
import { buildChartSpecs } from "./specs.js";

export interface ReportInput {
  report: CutoverReport | null;
  demo: DemoPart | null;
}

export interface WrittenHtml {
  htmlPath: string;
  /** The main chart as its own file; null when the run has no engine report (a demo cancelled before it started). */
  svgPath: string | null;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function asCutoverReport(value: unknown, where: string): CutoverReport {
  if (!isRecord(value) || value.format !== "bluegreen-cutover-report")
    throw new Error(`${where}: not a bluegreen cutover report (format "bluegreen-cutover-report")`);
  for (const field of ["runId", "startedAt", "endedAt", "decision"] as const) {
    if (typeof value[field] !== "string") throw new Error(`${where}: field "${field}" must be a string`);
  }
  for (const field of ["hooks", "decisions", "timeline", "warnings"] as const) {
    if (!Array.isArray(value[field])) throw new Error(`${where}: field "${field}" must be an array`);
  }
  return value as unknown as CutoverReport;
}

/** A parsed report file → what the page shows; throws naming the problem when it is neither report format. */
export function readReportInput(value: unknown): ReportInput {
  if (isRecord(value) && value.format === "bluegreen-demo-report") {
    const demo = isRecord(value.demo) ? value.demo : {};
    const summary = Array.isArray(value.summary) ? value.summary.filter((line): line is string => typeof line === "string") : [];
    const outcome = typeof demo.asExpected === "boolean" ? (demo.asExpected ? "as expected" : "NOT as expected") : String(demo.outcome ?? "unknown");
    return {
      demo: {
        runId: String(demo.runId ?? "unknown"),
        outcome,
        summary: summary.length > 0 ? summary : [`outcome: ${String(demo.outcome ?? "unknown")}`, `reason: ${String(demo.reason ?? "none")}`],
      },
      report: value.cutover === null || value.cutover === undefined ? null : asCutoverReport(value.cutover, "cutover"),
    };
  }
  return { report: asCutoverReport(value, "report"), demo: null };
}

export async function renderCharts(report: CutoverReport): Promise<RenderedChart[]> {
  const charts: RenderedChart[] = [];
  for (const chart of buildChartSpecs(report)) charts.push({ chart, svg: await renderSvg(chart.spec) });
  return charts;
}

/** Writes <base>.html and <base>.svg. */
export async function writeHtmlReport(input: ReportInput, base: string): Promise<WrittenHtml> {
  const charts = input.report ? await renderCharts(input.report) : [];
  const htmlPath = `${base}.html`;
  await writeFile(htmlPath, renderPage(input.report, charts, input.demo), "utf8");
  const main = charts[0];
  if (!main) return { htmlPath, svgPath: null };
  const svgPath = `${base}.svg`;
  await writeFile(svgPath, `<?xml version="1.0" encoding="UTF-8"?>\n${main.svg}\n`, "utf8");
  return { htmlPath, svgPath };
}

/** The Markdown report with the main chart embedded under its decision line (the first bold line). */
export function embedChart(markdown: string, svgPath: string): string {
  const image = `![${"Weights and phases"}](${encodeURI(basename(svgPath))})`;
  const lines = markdown.split("\n");
  const at = lines.findIndex((line) => line.startsWith("**"));
  if (at < 0) return `${markdown.trimEnd()}\n\n${image}\n`;
  lines.splice(at + 1, 0, "", image);
  return lines.join("\n");
}
