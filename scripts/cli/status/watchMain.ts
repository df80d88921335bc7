// `status --watch` on a terminal or a pipe: the loop (watch.ts) over the command's reading, drawn
// in place with log-update on a terminal, appended frame after frame otherwise, one JSON line per
// frame with --json; Ctrl-C ends the wait at once.

import { systemClock } from "../../core/ports.js";
import type { Io } from "../args.js";
import { ExitCode, type OutputMode } from "../common.js";
import type { Palette } from "../plainPrinter.js";
import { renderWatchFrame, watchStatus, type WatchReading } from "./watch.js";

export interface WatchSetup {
  io: Io;
  mode: OutputMode;
  palette: Palette;
  intervalSeconds: number;
  maxFrames: number;
  /** One reading of every section, under a deadline counted from `startedAt` (performance.now()). */
  readOnce(startedAt: number): Promise<WatchReading & { code: ExitCode; unanswered: string[] }>;
  /** The command's start: the first reading's deadline counts from it. */
  began: number;
}

export async function watchMain(setup: WatchSetup): Promise<ExitCode> {
  const { io, mode } = setup;
  const stop = new AbortController();
  const onSigint = () => stop.abort(new Error("Ctrl-C"));
  process.once("SIGINT", onSigint);
  const logUpdate = mode.live ? (await import("log-update")).createLogUpdate(io.stdout as NodeJS.WriteStream) : null;
  let lastCode: ExitCode = ExitCode.ok;
  let reads = 0;
  try {
    const result = await watchStatus({
      intervalMs: setup.intervalSeconds * 1000,
      maxFrames: setup.maxFrames,
      clock: systemClock,
      signal: stop.signal,
      read: async () => {
        const reading = await setup.readOnce(reads++ === 0 ? setup.began : performance.now());
        lastCode = reading.code;
        return reading;
      },
      draw: (reading, frame) => {
        if (mode.json) return void io.stdout.write(`${JSON.stringify({ type: "status", frame, at: new Date().toISOString(), report: reading.report })}\n`);
        const text = renderWatchFrame(reading, setup.palette, { intervalSeconds: setup.intervalSeconds, at: Date.now() });
        if (logUpdate) logUpdate(text);
        else io.stdout.write(`${frame > 0 ? "\n" : ""}${text}`);
      },
    });
    logUpdate?.done();
    if (!mode.json)
      io.stderr.write(
        result.end === "run-ended"
          ? "status --watch: no run in progress; stopped watching\n"
          : result.end === "interrupted"
            ? "status --watch: stopped (Ctrl-C)\n"
            : "status --watch: stopped after a day of refreshes\n",
      );
    return result.end === "interrupted" ? ExitCode.ok : lastCode;
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}
