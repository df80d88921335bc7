// status's deadline: one signal every AWS call and every section's race listen on, counted from
// the command's start (or a refresh's), with the message a section still waiting is shown with.

import { setMaxListeners } from "node:events";
import { abortAfter } from "../../app/policies/deadline.js";
import type { Deadline, StatusHooks } from "./report.js";

/** A deadline counted from `startedAt` (performance.now()): its signal, its message, and the timer's stop. */
export function startDeadline(deadlineMs: number, startedAt: number, hooks: StatusHooks): Deadline & { text: string; stop: () => void } {
  const timer = new AbortController();
  const text = `--deadline ${deadlineMs / 1000} s`;
  const stop = hooks.deadline ? () => undefined : abortAfter(timer, deadlineMs, new Error(`the status deadline (${text}) has passed`), startedAt);
  const signal = hooks.deadline ?? timer.signal;
  // Each section's race and each SDK call listen on it (about 16 at once): not the leak Node warns of past 10.
  setMaxListeners(64, signal);
  return { signal, message: `not answered before the deadline (${text})`, text, stop };
}
