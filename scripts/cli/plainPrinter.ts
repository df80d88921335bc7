// Event rendering without a live region: one line per event (formatEvent from the engine), with
// color on a terminal unless NO_COLOR, or JSON lines with --json. No log-update here, so
// `rollback` can print without loading the live view.

import type { EngineEvent, EventSink } from "../core/events.js";
import { formatEvent } from "../core/events.js";
import type { OutputMode } from "./common.js";

export type Painter = (text: string) => string;
export interface Palette {
  red: Painter;
  green: Painter;
  yellow: Painter;
  blue: Painter;
  cyan: Painter;
  bold: Painter;
  dim: Painter;
}

const identity: Painter = (text) => text;
export const NO_PALETTE: Palette = { red: identity, green: identity, yellow: identity, blue: identity, cyan: identity, bold: identity, dim: identity };

/** ANSI colors (the few we need; picocolors' codes without loading it). */
export function palette(enabled: boolean): Palette {
  if (!enabled) return NO_PALETTE;
  const wrap =
    (open: number, close: number): Painter =>
    (text) =>
      `\x1b[${open}m${text}\x1b[${close}m`;
  return { red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), blue: wrap(34, 39), cyan: wrap(36, 39), bold: wrap(1, 22), dim: wrap(2, 22) };
}

/** Color a formatted line by what it says. */
export function paintLine(event: EngineEvent, line: string, p: Palette): string {
  switch (event.type) {
    case "rollback-started":
    case "metric-error":
      return p.red(line);
    case "rollback-complete":
      return event.ok ? p.yellow(line) : p.red(p.bold(line));
    case "decision":
      return event.decision === "proceed"
        ? p.green(line)
        : event.decision === "extend"
          ? p.yellow(line)
          : event.decision === "resume"
            ? p.cyan(line)
            : p.red(line);
    case "warning":
      return p.yellow(line);
    case "preflight-check":
    case "weights-verified":
    case "hook-result":
    case "snapshot":
    case "fence":
    case "replication":
      return event.ok ? line : p.red(line);
    case "gate-reading":
      return event.verdict.status === "pass" ? line : event.verdict.status === "fail" ? p.red(line) : p.yellow(line);
    case "judge-reading":
      return event.verdict.decision === "fail" || event.verdict.decision === "undecided"
        ? p.red(line)
        : event.verdict.decision === "extend"
          ? p.yellow(line)
          : line;
    case "done":
      return event.outcome === "succeeded" ? p.green(p.bold(line)) : p.red(p.bold(line));
    default:
      return line;
  }
}

export interface Printer extends EventSink {
  /** Flush and restore the terminal (live view); safe to call twice. */
  close(): void;
}

/** The plan's lines as a block (plain mode prints them at the "plan" event). */
export function planBlock(event: Extract<EngineEvent, { type: "plan" }>, p: Palette): string {
  return `${event.lines.map((line, i) => (i === 0 ? p.bold(line) : line)).join("\n")}\n`;
}

export function createPlainPrinter(mode: OutputMode, stream: NodeJS.WritableStream = process.stdout): Printer {
  const p = palette(mode.color);
  const sink = ((event: EngineEvent) => {
    if (event.type === "tick") return;
    if (mode.json) {
      stream.write(`${JSON.stringify(event)}\n`);
      return;
    }
    if (event.type === "plan") {
      stream.write(planBlock(event, p));
      return;
    }
    stream.write(`${paintLine(event, formatEvent(event), p)}\n`);
  }) as Printer;
  sink.close = () => undefined;
  return sink;
}
