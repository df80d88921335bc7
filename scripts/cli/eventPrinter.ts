// createEventPrinter(mode): the EventSink the commands (and the demo) render engine events with.
//   --json          → JSON lines, one per event (ticks left out), nothing else on stdout
//   a terminal      → the live view (liveView.ts)
//   anything else   → one plain line per event
// NO_COLOR is honoured through outputMode().

import type { OutputMode } from "./common.js";
import { createLiveView } from "./liveView.js";
import { createPlainPrinter, type Printer } from "./plainPrinter.js";

export type { Printer } from "./plainPrinter.js";

export function createEventPrinter(mode: OutputMode, stream: NodeJS.WritableStream & { columns?: number } = process.stdout): Printer {
  if (mode.live && !mode.json) return createLiveView(stream, mode.color);
  return createPlainPrinter(mode, stream);
}

/** Fan one event out to several sinks; a failing sink never stops the others. */
export function teeSinks(...sinks: Array<((event: Parameters<Printer>[0]) => void) | undefined>): (event: Parameters<Printer>[0]) => void {
  const live = sinks.filter((sink): sink is (event: Parameters<Printer>[0]) => void => sink !== undefined);
  return (event) => {
    for (const sink of live) {
      try {
        sink(event);
      } catch {
        // rendering must never break an operation
      }
    }
  };
}
