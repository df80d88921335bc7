// The production engine over the sandbox, and how the demo stops it.
//
// deps: the engine's ports over the sandbox's router, apps and PostgreSQL; lock, journal,
// snapshots and the weight record live in the run directory. Those file adapters are sealed
// when the sandbox is released, so nothing the engine still does can recreate the directory.
//
// Cancellation (the demo's policy): on abort the engine is told through the request's
// AbortSignal (its clock's sleeps wake at once) and stops at its next safe point with outcome
// "interrupted"; the demo WAITS for it to settle (bounded) before anything is torn down, then
// the scenario rejects with DemoAbortedError. Traffic is not rolled back: the whole sandbox
// goes away.

import { join } from "node:path";
import type { EngineDeps } from "../../core/engine.js";
import type { EngineEvent } from "../../core/events.js";
import type { Clock, JournalStore, Lock, Snapshotter, WeightRecorder } from "../../core/ports.js";
import { ShellHookRunner } from "../../hooks/shellHookRunner.js";
import { LocalAlarmSource, LocalHealthProbe, LocalMetricsSource, LocalSnapshotter, LocalTrafficRouter, LocalWriteFence } from "../adapters.js";
import { SandboxCapacity } from "../capacity.js";
import { runDirectoryStores } from "../runDirectory.js";
import { DemoAbortedError } from "./types.js";
import type { Sandbox } from "./sandbox.js";

/** How long the demo waits for an aborted engine to reach its safe point before tearing down anyway. */
export const ENGINE_SETTLE_MS = 2000;

const abortReason = (signal: AbortSignal) => String(signal.reason ?? "aborted");

/**
 * Wall clock for the engine. A sleep ends early, without rejecting, when the engine's own
 * signal or the demo's aborts (the Clock contract): the engine then sees its signal aborted and
 * stops at its next safe point, with outcome "interrupted".
 */
export function demoClock(demoSignal: AbortSignal): Clock {
  return {
    now: () => Date.now(),
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve) => {
        const signals = signal && signal !== demoSignal ? [demoSignal, signal] : [demoSignal];
        if (signals.some((s) => s.aborted)) return resolve();
        const wake = () => {
          clearTimeout(timer);
          for (const s of signals) s.removeEventListener("abort", wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        for (const s of signals) s.addEventListener("abort", wake, { once: true });
      }),
  };
}

class SealedError extends Error {
  constructor(what: string) {
    super(`${what}: the sandbox is being torn down`);
    this.name = "SealedError";
  }
}

/** Lock, journal, snapshots and weight record in the run directory, refusing to write once the sandbox is released. */
function runDirectoryAdapters(sandbox: Sandbox): Pick<EngineDeps, "lock" | "journal" | "snapshotter" | "recorder"> {
  const guard = (what: string) => {
    if (sandbox.isSealed) throw new SealedError(what);
  };
  const stores = runDirectoryStores(sandbox.runDir);
  const fileLock = stores.lock;
  const lock: Lock = {
    acquire: async (holder) => (guard("lock"), fileLock.acquire(holder)),
    release: async (owner) => (guard("lock"), fileLock.release(owner)),
    breakLock: async () => (guard("lock"), fileLock.breakLock()),
    current: () => fileLock.current(),
  };
  const fileJournal = stores.journal;
  const journal: JournalStore = {
    load: () => fileJournal.load(),
    save: async (document) => (guard("journal"), fileJournal.save(document)),
  };
  const localSnapshots = new LocalSnapshotter(sandbox.blueUrl, join(sandbox.runDir, "snapshots"));
  const snapshotter: Snapshotter = { snapshot: async (label, timeoutMs, signal) => (guard("snapshot"), localSnapshots.snapshot(label, timeoutMs, signal)) };
  const weights = stores.recorder;
  const recorder: WeightRecorder = { record: async (next) => (guard("weight record"), weights.record(next)) };
  return { lock, journal, snapshotter, recorder };
}

/** The engine's ports over the sandbox. */
export function sandboxEngineDeps(sandbox: Sandbox, signal: AbortSignal, onEvent: (event: EngineEvent) => void): EngineDeps {
  const router = sandbox.router!;
  const apps = sandbox.apps!;
  const trafficRouter = new LocalTrafficRouter(router, 0);
  sandbox.onRelease("router writes", () => trafficRouter.dispose());
  return {
    router: trafficRouter,
    // Every instance of a color (issue 14), those capacity match adds included.
    health: new LocalHealthProbe({ blue: () => sandbox.pools.blue.map((app) => app.url), green: () => sandbox.pools.green.map((app) => app.url) }),
    capacity: new SandboxCapacity(sandbox),
    metrics: new LocalMetricsSource(router, 1000),
    alarms: new LocalAlarmSource(() => [apps.blue, apps.green].filter((app) => app.exited()).map((app) => `sandbox-${app.color}-process-exited`)),
    ...runDirectoryAdapters(sandbox),
    hooks: new ShellHookRunner(),
    clock: demoClock(signal),
    fence: new LocalWriteFence(router),
    ...(sandbox.replication ? { replication: sandbox.replication, parity: sandbox.replication.paritySource() } : {}),
    events: onEvent,
    tickMs: 1000,
  };
}

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
