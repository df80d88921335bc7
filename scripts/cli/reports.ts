// Every cutover and rollback writes reports/<stack>-<timestamp>.md and .json, built by the
// engine's buildReport from the journal (timeline, weights, gate readings, decision, measured
// time-to-rollback). The journal holds no secrets: hook output tails are redacted by the hook runner.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Journal } from "../core/journal.js";
import { buildReport } from "../core/report.js";
import { shortStackName } from "../app/stackOutputs.js";

export interface WrittenReport {
  markdownPath: string;
  jsonPath: string;
  markdown: string;
}

export function reportStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[:]/g, "").replace(/\.\d+Z$/, "Z");
}

export async function writeReports(journal: Journal, options: { stack: string; dir: string; now?: number; suffix?: string }): Promise<WrittenReport> {
  const { json, markdown } = buildReport(journal);
  await mkdir(options.dir, { recursive: true });
  const base = join(options.dir, `${shortStackName(options.stack)}-${reportStamp(options.now ?? Date.now())}${options.suffix ?? ""}`);
  const markdownPath = `${base}.md`;
  const jsonPath = `${base}.json`;
  await writeFile(markdownPath, markdown.endsWith("\n") ? markdown : `${markdown}\n`, "utf8");
  await writeFile(jsonPath, `${JSON.stringify(json, null, 2)}\n`, "utf8");
  return { markdownPath, jsonPath, markdown };
}
