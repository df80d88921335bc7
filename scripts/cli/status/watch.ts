// `status --watch`: read every section, draw, wait the interval, again: until the run ends (its
// journal reaches an outcome or a pause, or there is none in progress), Ctrl-C, or a bound on the
// number of frames. On a terminal the frame is redrawn in place; otherwise each frame is appended
// (plain mode), and with --json each frame is one JSON line. The loop takes its clock, so tests
// run it on virtual time.

import type { Journal } from "../../core/journal.js";
import { buildSeries } from "../../core/reportSeries.js";
import type { Clock } from "../../core/ports.js";
import type { Palette } from "../plainPrinter.js";
import { renderStatus } from "./render.js";
import type { StatusReport } from "./report.js";
import { renderRunPicture } from "./watchView.js";

export interface WatchReading {
  report: StatusReport;
  journal: Journal | null;
}

export interface WatchLoop {
  intervalMs: number;
  /** The loop's bound: at most this many frames. */
  maxFrames: number;
  clock: Pick<Clock, "sleep">;
  /** Ctrl-C: ends the wait at once and the loop with it. */
  signal: AbortSignal;
  read(): Promise<WatchReading>;
  draw(reading: WatchReading, frame: number): void;
}

export type WatchEnd = "run-ended" | "interrupted" | "frame-limit";

/** No run in progress: none at all, or the last one reached an outcome or a pause (its process has exited). */
export function runInProgress(report: StatusReport): boolean {
  if (!report.lastRun.ok) return true; // not read this time: keep watching
  const run = report.lastRun.value;
  return run !== null && run.outcome === null && !run.pause;
}

export async function watchStatus(loop: WatchLoop): Promise<{ frames: number; end: WatchEnd; last: WatchReading | null }> {
  let last: WatchReading | null = null;
  for (let frame = 0; frame < loop.maxFrames; frame += 1) {
    if (frame > 0) await loop.clock.sleep(loop.intervalMs, loop.signal);
    if (loop.signal.aborted) return { frames: frame, end: "interrupted", last };
    last = await loop.read();
    loop.draw(last, frame);
    if (!runInProgress(last.report)) return { frames: frame + 1, end: "run-ended", last };
  }
  return { frames: loop.maxFrames, end: "frame-limit", last };
}

/** One frame: a header, the status sections, and the run's recent windows and evidence. */
export function renderWatchFrame(reading: WatchReading, p: Palette, options: { intervalSeconds: number; at: number }): string {
  const time = new Date(options.at).toISOString().slice(11, 19);
  const header = p.dim(`status --watch · every ${options.intervalSeconds} s · ${time}Z · Ctrl-C stops`);
  const picture = renderRunPicture(reading.journal ? buildSeries(reading.journal) : null, p);
  return `${header}\n\n${renderStatus(reading.report, p)}\n${picture.join("\n")}\n`;
}
