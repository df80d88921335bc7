// Every cutover, rollback and promote writes reports/<stack>-<timestamp>.md, .json and .html (with
// the main chart beside them as .svg, embedded in the Markdown), built by the engine's buildReport
// from the journal (timeline, weights, gate readings, decision, measured time-to-rollback). The
// journal holds no secrets: hook output tails are redacted by the hook runner. The page is drawn
// after the text reports are safely written: a chart that cannot be drawn costs the page, not them.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Journal } from "../core/journal.js";
import { buildReport } from "../core/report.js";
import { shortStackName } from "../app/stackOutputs.js";

export interface WrittenReport {
  markdownPath: string;
  jsonPath: string;
  /** null when the page could not be drawn (`htmlError` says why). */
  htmlPath: string | null;
  htmlError?: string;
  markdown: string;
}

export function reportStamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

export async function writeReports(journal: Journal, options: { stack: string; dir: string; now?: number; suffix?: string }): Promise<WrittenReport> {
  const { json, markdown } = buildReport(journal);
  await mkdir(options.dir, { recursive: true });
  const base = join(options.dir, `${shortStackName(options.stack)}-${reportStamp(options.now ?? Date.now())}${options.suffix ?? ""}`);
  const markdownPath = `${base}.md`;
  const jsonPath = `${base}.json`;
  const writeMarkdown = (text: string) => writeFile(markdownPath, text.endsWith("\n") ? text : `${text}\n`, "utf8");
  await writeMarkdown(markdown);
  await writeFile(jsonPath, `${JSON.stringify(json, null, 2)}\n`, "utf8");
  try {
    // Loaded here, not at start-up: the charting libraries are not on rollback's path to traffic.
    const { embedChart, writeHtmlReport } = await import("../report/write.js");
    const html = await writeHtmlReport({ report: json, demo: null }, base);
    if (html.svgPath) await writeMarkdown(embedChart(markdown, html.svgPath));
    return { markdownPath, jsonPath, htmlPath: html.htmlPath, markdown };
  } catch (error) {
    return { markdownPath, jsonPath, htmlPath: null, htmlError: error instanceof Error ? error.message : String(error), markdown };
  }
}

/** The files, for --json output. */
export function reportPaths(report: WrittenReport): { markdown: string; json: string; html: string | null } {
  return { markdown: report.markdownPath, json: report.jsonPath, html: report.htmlPath };
}

/** The line that tells the operator where the report is. */
export function reportLine(report: WrittenReport): string {
  if (report.htmlPath) return `report: ${report.htmlPath} (and .md, .json)\n`;
  return `report: ${report.markdownPath} (and .json; the HTML page could not be drawn: ${report.htmlError ?? "unknown error"})\n`;
}
