// `npm run demo`'s printer: engine events through the event printer (live view or plain lines),
// the demo's narration between them, and the terminal given back when interrupted.

import type { OutputMode } from "./common.js";
import { createEventPrinter } from "./eventPrinter.js";
import type { DemoPrinter } from "../demo/demo.js";

/**
 * The paired scenario runs several operations (cutover, rollback, cutover): each gets a fresh
 * event printer after the previous one closed on its "done". Narration between engine events goes
 * straight through in plain mode; it is held back while the live view owns the terminal, then
 * printed when the view closes. Once `interrupted()` the terminal belongs to the clean-up.
 */
export function createDemoPrinter(mode: OutputMode, out: NodeJS.WriteStream, interrupted: () => boolean): DemoPrinter & { releaseTerminal(): void } {
  let events = createEventPrinter(mode, out);
  let eventsClosed = false;
  let held: string[] | null = null;
  const flushHeld = () => {
    if (held) for (const line of held) out.write(`${line}\n`);
    held = null;
  };
  const releaseTerminal = () => {
    if (!eventsClosed) events.close();
    eventsClosed = true;
    flushHeld();
  };
  return {
    event: (event) => {
      if (interrupted()) return;
      if (eventsClosed) {
        events = createEventPrinter(mode, out);
        eventsClosed = false;
      }
      if (event.type === "plan" && mode.live) held ??= [];
      events(event);
      if (event.type === "done" && held) {
        events.close();
        eventsClosed = true;
        flushHeld();
      }
    },
    line: (text) => {
      if (mode.json) process.stderr.write(`${text}\n`);
      else if (held) held.push(`${new Date().toISOString()} ${text}`);
      else out.write(`${text}\n`);
    },
    urgent: (text) => {
      releaseTerminal();
      process.stderr.write(`${text}\n`);
    },
    close: releaseTerminal,
    releaseTerminal,
  };
}
