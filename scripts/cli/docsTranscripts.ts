// The docs' transcripts of a run, rendered by the printers operators see over recorded runs: the
// engine's events and journal of test/fixtures/transcripts/*.json (the real engine on the virtual
// clock; `npx tsx test/fixtures/transcripts/record.ts` records them). Each generator here is named
// in a docs block ```text <!-- from: NAME --> (scripts/cli/docsExamples.ts); when a printer
// changes, its block no longer matches and the docs check fails until they are regenerated.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { EngineEvent } from "../core/events.js";
import type { Journal } from "../core/journal.js";
import type { DemoResult } from "../demo/types.js";
import type { StatusReport } from "./status/report.js";

/** Where the recorded runs live, relative to the repository's root. */
export const TRANSCRIPTS_DIR = "test/fixtures/transcripts";

export interface Transcript {
  events: EngineEvent[];
  journal: Journal;
}

/** One item of a recorded demo run's output, in the order it arrived: an engine event or a line of the demo's narration. */
export type DemoTranscriptItem = { event: EngineEvent; line?: undefined } | { line: string; event?: undefined };

/** A real `npm run demo -- --json` run (test/fixtures/transcripts/recordDemo.ts): its output and the result it ended with. */
export interface DemoTranscript {
  output: DemoTranscriptItem[];
  result: DemoResult;
}

export async function readTranscript(root: string, name: string): Promise<Transcript> {
  return JSON.parse(await readFile(join(root, TRANSCRIPTS_DIR, `${name}.json`), "utf8")) as Transcript;
}

async function readDemoTranscript(root: string, name: string): Promise<DemoTranscript> {
  return JSON.parse(await readFile(join(root, TRANSCRIPTS_DIR, `${name}.json`), "utf8")) as DemoTranscript;
}

/**
 * What the demo prints without --json and without a terminal for a recorded run: its narration
 * and its engine events through the event printer (the plan as a block), in the order they came,
 * then its summary (scripts/demo/summary.ts).
 */
async function demoOutput(transcript: DemoTranscript, command: string): Promise<string> {
  const { createPlainPrinter } = await import("./plainPrinter.js");
  const { summaryLines } = await import("../demo/summary.js");
  const stream = new PassThrough();
  let text = `$ ${command}\n`;
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const printer = createPlainPrinter({ json: false, live: false, color: false }, stream);
  for (const item of transcript.output) {
    if (item.event) printer(item.event);
    else stream.write(`${item.line}\n`);
  }
  for (const line of summaryLines(transcript.result)) stream.write(`${line}\n`);
  printer.close();
  await new Promise((resolve) => setImmediate(resolve));
  return text;
}

/** The events as a command prints them when its output is not a terminal (one line each, no color); the plan left out. */
async function plainLines(events: readonly EngineEvent[]): Promise<string> {
  const { createPlainPrinter } = await import("./plainPrinter.js");
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const printer = createPlainPrinter({ json: false, live: false, color: false }, stream);
  for (const event of events) if (event.type !== "plan") printer(event);
  printer.close();
  await new Promise((resolve) => setImmediate(resolve));
  return text;
}

/**
 * The live region (scripts/cli/liveView.ts) as it stands once `until` first holds, drawn at
 * that event's time, below the last `scrolled` event lines that scrolled above it.
 */
async function liveFrame(
  events: readonly EngineEvent[],
  until: (event: EngineEvent, seen: readonly EngineEvent[]) => boolean,
  scrolled: number,
): Promise<string> {
  const { foldLiveEvent, initialLiveState, renderLive } = await import("./liveView.js");
  const { NO_PALETTE } = await import("./plainPrinter.js");
  const state = initialLiveState();
  const seen: EngineEvent[] = [];
  for (const event of events) {
    foldLiveEvent(state, event, NO_PALETTE);
    seen.push(event);
    if (until(event, seen)) {
      const above = await plainLines(seen.filter((e) => e.type !== "tick").slice(-scrolled));
      return `${above}${renderLive(state, NO_PALETTE, event.at)}\n`;
    }
  }
  throw new Error("the transcript never reaches the moment asked for");
}

/** The Markdown report the run leaves, up to the section named `stopBefore`. */
async function reportExcerpt(journal: Journal, stopBefore: string): Promise<string> {
  const { buildReport } = await import("../core/report.js");
  const { markdown } = buildReport(journal);
  const end = markdown.indexOf(`\n${stopBefore}`);
  return `${(end < 0 ? markdown : markdown.slice(0, end)).trimEnd()}\n`;
}

/** The nth judge reading (1-based) of a step (0-based index), as the moment a frame is drawn at. */
const nthReadingOfStep =
  (step: number, n: number) =>
  (event: EngineEvent, seen: readonly EngineEvent[]): boolean =>
    event.type === "judge-reading" && event.step === step && seen.filter((e) => e.type === "judge-reading" && e.step === step).length === n;

const CUTOVER = "canary-breach-at-monitoring";
const ROLLBACK = "manual-rollback";

export const TRANSCRIPT_GENERATORS: Record<string, (root: string) => Promise<string>> = {
  "events cutover breach at monitoring": async (root) => plainLines((await readTranscript(root, CUTOVER)).events),
  "live view cutover step 2": async (root) => liveFrame((await readTranscript(root, CUTOVER)).events, nthReadingOfStep(1, 3), 3),
  "report cutover breach at monitoring": async (root) => reportExcerpt((await readTranscript(root, CUTOVER)).journal, "## Hooks"),
  "demo happy path": async (root) => demoOutput(await readDemoTranscript(root, "demo-happy-path"), "npm run demo"),
  "demo fault error-rate": async (root) => demoOutput(await readDemoTranscript(root, "demo-fault-error-rate"), "npm run demo -- --fault error-rate=0.2"),
  "demo paired": async (root) => demoOutput(await readDemoTranscript(root, "demo-paired"), "npm run demo -- --database paired"),
  // A status report as `status --json` writes it (a fixture, not a recording): drawn by status's own renderer.
  "status drift": async (root) => {
    const { renderStatus } = await import("./status/render.js");
    const { NO_PALETTE } = await import("./plainPrinter.js");
    const { outcomeOf } = await import("../core/journal.js");
    const { formatEvent } = await import("../core/events.js");
    const report = JSON.parse(await readFile(join(root, TRANSCRIPTS_DIR, "status-drift.json"), "utf8")) as StatusReport;
    // Its last run is the recorded cutover above, read from its journal as status reads the stack's.
    const { journal } = await readTranscript(root, CUTOVER);
    const last = journal.timeline.at(-1);
    report.lastRun = {
      ok: true,
      value: {
        runId: journal.runId,
        operation: journal.operation,
        phase: journal.phase,
        outcome: outcomeOf(journal),
        updatedAt: new Date(journal.updatedAt).toISOString(),
        last: last ? formatEvent(last) : null,
        pause: null,
      },
    };
    return `$ npx bluegreen status --stack prod\n${renderStatus(report, NO_PALETTE)}`;
  },
  "events rollback manual": async (root) =>
    `$ npx bluegreen rollback --stack prod --reason "checkout errors reported by support"\n${await plainLines((await readTranscript(root, ROLLBACK)).events)}`,
};
