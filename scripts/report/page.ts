// The HTML page of a run report (pure): one self-contained file — inline CSS, the charts as inline
// SVG, no script, no font, no image to fetch, and a Content-Security-Policy that forbids loading
// anything — readable on a phone (the charts scale to the screen's width, tables scroll sideways).

import { formatStatistic } from "../core/events.js";
import type { CutoverReport } from "../core/report.js";
import { seriesOf, type ChartSpec } from "./specs.js";

export interface RenderedChart {
  chart: ChartSpec;
  svg: string;
}

/** A demo report's own part: its summary lines (the engine's report is a CutoverReport). */
export interface DemoPart {
  runId: string;
  outcome: string;
  summary: string[];
}

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

export const escapeHtml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

const STYLE = `
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:960px;padding:12px;color:#222;background:#fafafa}
h1{font-size:1.35rem;margin:.4rem 0}
h2{font-size:1.1rem;margin:1.6rem 0 .4rem;border-bottom:1px solid #ddd}
.outcome{padding:.7rem 1rem;border-radius:6px;font-weight:600;margin:.6rem 0;border-left:6px solid}
.outcome.ok{background:#e6f6ec;border-color:#1a9a4b}
.outcome.bad{background:#fdeaea;border-color:#d62728}
.outcome.open{background:#fff6e0;border-color:#e0a000}
figure{margin:0 0 1rem;background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:6px}
figure svg{display:block;max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#555;padding:4px 2px}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.85rem;background:#fff;min-width:100%}
th,td{border:1px solid #e0e0e0;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f0f0f0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8rem}
pre{white-space:pre-wrap;background:#fff;border:1px solid #e3e3e3;padding:6px;border-radius:6px}
details summary{cursor:pointer;font-weight:600}
`;

function outcomeClass(outcome: string | null): "ok" | "bad" | "open" {
  if (outcome === "succeeded" || outcome === "as expected") return "ok";
  if (outcome === null || outcome === "interrupted") return "open";
  return "bad";
}

/** A table; no columns: a table of label/value rows without a header. */
function table(columns: readonly string[], rows: readonly (readonly string[])[], numeric: ReadonlySet<number> = new Set()): string {
  const head = columns.length === 0 ? "" : `<tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr>`;
  const body = rows.map((row) => `<tr>${row.map((c, i) => `<td${numeric.has(i) ? ' class="num"' : ""}>${escapeHtml(c)}</td>`).join("")}</tr>`).join("\n");
  return `<div class="scroll"><table>${head}\n${body}</table></div>`;
}

function facts(report: CutoverReport): string {
  const rows: [string, string][] = [
    ["Outcome", report.outcome ?? "unfinished"],
    ["Operation", report.operation],
    ["Stack", report.stack ?? "(not named)"],
    ["Database mode", report.databaseMode],
    ["Started", report.startedAt],
    ["Ended", report.endedAt],
    ["Duration", `${Math.round(report.durationMs / 1000)} s`],
  ];
  if (report.rollback) rows.push(["Time to rollback", report.rollback.timeToRollbackMs === null ? "not verified" : `${report.rollback.timeToRollbackMs} ms`]);
  if (report.fence?.switchMs !== null && report.fence?.switchMs !== undefined) rows.push(["Write fence, switch", `${report.fence.switchMs} ms`]);
  if (report.fence?.rollbackMs !== null && report.fence?.rollbackMs !== undefined) rows.push(["Write fence, rollback", `${report.fence.rollbackMs} ms`]);
  if (report.fence?.stillOnSince) rows.push(["Write fence", `STILL ON since ${report.fence.stillOnSince}`]);
  if (report.snapshot) rows.push(["Snapshot", report.snapshot.taken ? report.snapshot.id : `skipped: ${report.snapshot.reason}`]);
  return table([], rows);
}

function judgeTable(report: CutoverReport): string {
  const rows = (report.judge ?? []).flatMap((j) =>
    (j.metrics ?? []).map((m) => [
      j.phase === "monitoring" ? "monitoring" : `step ${j.step}`,
      j.decision,
      `${j.windowsJudged}/${j.windowsNeeded}`,
      m.metric === "errors" ? "5xx" : m.metric,
      `${m.green.count}/${m.green.requests}`,
      `${m.comparison === "reference" ? "ref " : ""}${m.blue.count}/${m.blue.requests}`,
      `${formatStatistic(m.statistic)} / ${formatStatistic(m.boundary)}`,
      m.status,
      m.ruledOutRatio !== null && m.ruledOutRatio !== undefined ? `×${m.ruledOutRatio.toFixed(2)}` : "",
    ]),
  );
  if (rows.length === 0) return "";
  return `<h2>Evidence per phase</h2>${table(["Phase", "Decision", "Windows", "Metric", "Green", "Blue", "Statistic / boundary", "Status", "Rules out"], rows)}`;
}

function droppedTable(report: CutoverReport): string {
  const dropped = seriesOf(report).dropped;
  if (dropped.length === 0) return "";
  let label = 0;
  const rows = dropped.map((d) => [
    d.start !== null ? `dropped ${++label}` : "",
    d.start && d.end ? `${d.start.slice(11, 19)}–${d.end.slice(11, 19)}` : d.at,
    d.step === null ? "monitoring" : `step ${d.step}`,
    d.why,
  ]);
  return `<h2>Windows not counted</h2>${table(["Mark", "Window (UTC)", "Phase", "Why"], rows)}`;
}

function hooksTable(report: CutoverReport): string {
  if (report.hooks.length === 0) return "";
  const rows = report.hooks.map((h) => [
    h.at,
    h.name,
    h.when,
    h.step === null ? "" : String(h.step),
    h.ok ? "ok" : h.timedOut ? "timed out" : "failed",
    h.exitCode === null ? "" : String(h.exitCode),
    `${h.durationMs} ms`,
  ]);
  return `<h2>Hooks</h2>${table(["Time", "Hook", "When", "Step", "Result", "Exit code", "Duration"], rows, new Set([5, 6]))}`;
}

function decisionsTable(report: CutoverReport): string {
  if (report.decisions.length === 0) return "";
  return `<h2>Decisions</h2>${table(
    ["Time", "Decision", "Reason"],
    report.decisions.map((d) => [d.at, d.decision, d.reason]),
  )}`;
}

function rollbackSection(report: CutoverReport): string {
  const r = report.rollback;
  if (!r) return "";
  const items = [
    `Reason: ${r.reason}`,
    `${report.operation === "rollback" ? "Requested" : "Breach observed"}: ${r.breachObservedAt}`,
    `Traffic verified on blue: ${r.verifiedAt ?? "NOT VERIFIED"}`,
    `Write attempts: ${r.attempts}`,
    r.detail,
  ];
  return `<h2>Rollback</h2><ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join("")}</ul>`;
}

function listSection(title: string, items: readonly string[]): string {
  return items.length === 0 ? "" : `<h2>${escapeHtml(title)}</h2><ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join("")}</ul>`;
}

function figures(charts: readonly RenderedChart[]): string {
  return charts
    .map(
      ({ chart, svg }) =>
        `<h2>${escapeHtml(chart.title)}</h2>\n<figure data-chart="${chart.id}" role="img" aria-label="${escapeHtml(chart.title)}">${svg}<figcaption>${escapeHtml(chart.caption)}</figcaption></figure>`,
    )
    .join("\n");
}

/** The page for one run; `demo` adds a demo's own summary above the engine's report. */
export function renderPage(report: CutoverReport | null, charts: readonly RenderedChart[], demo: DemoPart | null = null): string {
  const title = demo
    ? `Demo ${demo.runId}: ${demo.outcome}`
    : `${report?.operation === "rollback" ? "Rollback" : "Cutover"} report: ${report?.runId ?? "unknown run"}`;
  const outcome = demo ? demo.outcome : (report?.outcome ?? null);
  const statement = report ? report.decision : `Demo ${demo?.outcome ?? "unfinished"}: the engine did not start.`;
  const sections = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="outcome ${outcomeClass(outcome)}" id="outcome">${escapeHtml(statement)}</p>`,
    demo ? `<h2>Demo</h2><pre>${escapeHtml(demo.summary.join("\n"))}</pre>` : "",
    report ? `<h2>Summary</h2>${facts(report)}` : "",
    figures(charts),
    report ? judgeTable(report) : "",
    report ? droppedTable(report) : "",
    report ? decisionsTable(report) : "",
    report ? hooksTable(report) : "",
    report ? rollbackSection(report) : "",
    report ? listSection("Warnings", report.warnings) : "",
    report
      ? `<details><summary>Timeline (${report.timeline.length} events)</summary><pre>${escapeHtml(report.timeline.map((t) => `${t.at} ${t.text}`).join("\n"))}</pre></details>`
      : "",
  ];
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    "</head>",
    "<body>",
    ...sections.filter((s) => s !== ""),
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
