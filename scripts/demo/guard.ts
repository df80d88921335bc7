// The sandbox's guard: what the AWS guard is (green's alarms → the project's own rollback, only
// while a rollout is active: core/guard.ts), over the local router's metrics instead of
// CloudWatch. Its alarm is the same rule as green's `target-5xx-rate` alarm (infra/alarms.ts):
// green's 5xx (its own and the router's 502s for it) over requests above `maxErrorRate` in
// `evaluationPeriods` windows in a row; a window with fewer than `minRequests` green requests
// does not breach (missing data is "notBreaching" there too).
//
// It runs beside the cutover, not inside it: it reads the journal and the lock from the run
// directory like any other process would, so a cutover that paused and ended (or crashed) is
// still guarded. It watches until it has acted or its signal aborts.

import { guardRollback, type GuardOutcome } from "../core/guard.js";
import type { GuardDeps, RunSettings } from "../core/engine.js";
import { alignUp, answerableAt, colorErrors } from "../core/engine/windows.js";
import type { ColorMetrics, MetricsSource } from "../core/ports.js";
import type { DatabaseMode } from "../../infra/config.js";

export interface LocalGuardOptions {
  /** A rollback's ports and the metrics the guard watches. */
  deps: GuardDeps & { metrics: MetricsSource };
  /** The rollback's run settings (events). */
  settings?: RunSettings;
  databaseMode: DatabaseMode;
  stack: string;
  /** rollout.gates.maxErrorRate, as the alarm's threshold. */
  maxErrorRate: number;
  /** Green requests a window needs before it can breach. */
  minRequests: number;
  /** app.alarms.evaluationPeriods: windows in a row in breach before ALARM. */
  evaluationPeriods: number;
  /** One alarm period (ALB alarms: 60 s; the sandbox: a second or two). */
  windowMs: number;
  /** Stops the watch (the outcome is then "not acted"). */
  signal?: AbortSignal;
  /** One line per window and per decision, for the demo's output. */
  say?: (line: string) => void;
  /** Each alarm window as it is judged (the demo's figures count them). */
  onWindow?: (window: GuardWindow) => void;
}

export interface GuardWindow {
  start: number;
  end: number;
  requests: number;
  errors: number;
  breaching: boolean;
  /** Windows in a row in breach, this one included (0 when it does not breach), of the evaluationPeriods that make ALARM. */
  inBreach: number;
  evaluationPeriods: number;
}

/** Does one window breach the alarm's rule? */
export function breaches(
  green: Pick<ColorMetrics, "requests" | "errors5xx" | "elbErrors">,
  options: Pick<LocalGuardOptions, "maxErrorRate" | "minRequests">,
): boolean {
  if (green.requests < options.minRequests || green.requests === 0) return false;
  return colorErrors(green) / green.requests > options.maxErrorRate;
}

/** Watch green window by window; on ALARM roll back (if a rollout is active) and return what happened. */
export async function watchWithGuard(options: LocalGuardOptions): Promise<{ outcome: GuardOutcome | null; windows: GuardWindow[] }> {
  const { deps, signal } = options;
  const clock = deps.clock;
  const windows: GuardWindow[] = [];
  let inBreach = 0;
  // Windows aligned to the source's resolution, each read once it has been published.
  let start = alignUp(clock.now(), deps.metrics.resolutionMs);
  while (!signal?.aborted) {
    const end = start + options.windowMs;
    const readyAt = answerableAt({ start, end }, deps.metrics.publicationDelayMs ?? 0);
    if (clock.now() < readyAt) await clock.sleep(readyAt - clock.now(), signal);
    if (signal?.aborted) break;
    let green;
    try {
      green = (await deps.metrics.sample({ start, end })).green;
    } catch (error) {
      // Like a CloudWatch alarm's missing data ("notBreaching"): an unreadable window neither
      // breaches nor clears; the guard says so and reads the next one.
      options.say?.(`guard: no metrics for [${new Date(start).toISOString()}, +${options.windowMs} ms): ${(error as Error).message}`);
      start = end;
      continue;
    }
    const breaching = breaches(green, options);
    inBreach = breaching ? inBreach + 1 : 0;
    const window: GuardWindow = {
      start,
      end,
      requests: green.requests,
      errors: colorErrors(green),
      breaching,
      inBreach,
      evaluationPeriods: options.evaluationPeriods,
    };
    windows.push(window);
    // A window is told once: as a value to who takes them, else as a line.
    if (options.onWindow) options.onWindow(window);
    else options.say?.(describeWindow(window));
    start = end;
    if (inBreach < options.evaluationPeriods) continue;
    const outcome = await guardRollback(
      { ...deps, ...options.settings },
      {
        alarm: "sandbox-green-target-5xx-rate",
        detail: `green 5xx above ${options.maxErrorRate} in ${options.evaluationPeriods} window(s) in a row`,
        invocation: `sandbox guard pid ${process.pid}`,
        databaseMode: options.databaseMode,
        stack: options.stack,
        // When the alarm's evaluation began: the first window of the breaching run.
        alarmAt: windows[windows.length - options.evaluationPeriods]!.start,
      },
    );
    options.say?.(`guard: ${outcome.acted ? `rolled back (${outcome.outcome}) ${outcome.reason}` : `did nothing: ${outcome.reason}`}`);
    if (outcome.acted) return { outcome, windows };
    inBreach = 0; // not active: keep watching
  }
  return { outcome: null, windows };
}

/** "guard: green 12/75 5xx in [<start>, +1000 ms) BREACH 1/2" (or "ok"). */
export function describeWindow(window: GuardWindow): string {
  const verdict = window.breaching ? `BREACH ${window.inBreach}/${window.evaluationPeriods}` : "ok";
  return `guard: green ${window.errors}/${window.requests} 5xx in [${new Date(window.start).toISOString()}, +${window.end - window.start} ms) ${verdict}`;
}
