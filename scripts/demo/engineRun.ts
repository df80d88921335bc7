// How the demo stops the production engine (its ports: app/wiring/sandbox.ts).
//
// Cancellation (the demo's policy): on abort the engine is told through the request's
// AbortSignal (its clock's sleeps wake at once) and stops at its next safe point with outcome
// "interrupted"; the demo WAITS for it to settle (bounded) before anything is torn down, then
// the scenario rejects with DemoAbortedError. Traffic is not rolled back: the whole sandbox
// goes away.

import { DemoAbortedError } from "./types.js";

/** How long the demo waits for an aborted engine to reach its safe point before tearing down anyway. */
export const ENGINE_SETTLE_MS = 2000;

const abortReason = (signal: AbortSignal) => String(signal.reason ?? "aborted");

/**
 * Engine operations of one demo run. run() awaits the operation; on abort it waits for the
 * engine to settle (at most ENGINE_SETTLE_MS) and rejects with DemoAbortedError. settle() is
 * for the demo's finally: nothing is released while an engine operation still runs (bounded).
 */
export class EngineRuns {
  private readonly running = new Set<Promise<unknown>>();
  constructor(private readonly signal: AbortSignal) {}

  async run<T>(start: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.signal.aborted) throw new DemoAbortedError(abortReason(this.signal));
    const operation = start(this.signal);
    this.running.add(operation);
    const forget = () => this.running.delete(operation);
    operation.then(forget, forget);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<"aborted">((resolve) => {
      onAbort = () => resolve("aborted");
      this.signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const first = await Promise.race([operation.then((value) => ({ value })), aborted]);
      if (first !== "aborted" && !this.signal.aborted) return first.value;
    } catch (error) {
      if (!this.signal.aborted) throw error;
    } finally {
      if (onAbort) this.signal.removeEventListener("abort", onAbort);
    }
    await this.settle();
    throw new DemoAbortedError(abortReason(this.signal));
  }

  /** Wait until every operation has settled, or the bound passed; true when all settled. */
  async settle(boundMs = ENGINE_SETTLE_MS): Promise<boolean> {
    if (this.running.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.allSettled([...this.running]).then(() => true);
    const bound = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), boundMs)));
    const settled = await Promise.race([all, bound]);
    clearTimeout(timer);
    return settled;
  }
}
