// Blue before the first weight moved, read once per cutover: the latency bound that makes a
// request slow (rollout.gates.slowThreshold from blue's p95/p99), and blue's own windows over up
// to an hour (MetricsSource.series), which tell the judge how much blue moves by itself from
// window to window and over the hour (core/judge/dispersion.ts). Windows without requests are left
// out by the judge; a source without a series gives no history, and the judge assumes the default.

import type { JudgeSettings } from "../judge/index.js";
import { colorErrors } from "../judge/windowRules.js";
import type { MetricsWindow } from "../ports.js";
import { Breach, type Run } from "./run.js";
import { alignDown, type CutoverEvidence } from "./windows.js";

/** Blue's history: at most this many windows, and at most an hour. */
const HISTORY_WINDOWS = 60;
const HISTORY_MAX_MS = 60 * 60_000;
/** The slow bound comes from the last ten windows (at most 15 minutes) before the first shift. */
const BOUND_WINDOWS = 10;
const BOUND_MAX_MS = 15 * 60_000;

export interface HistoryWindow {
  end: number;
  requests: number;
  errors: number;
  slow: number | null;
}

function firstWriteAt(run: Run): number {
  return run.journal.timeline.find((event) => event.type === "weights-written")?.at ?? run.journal.bake?.startedAt ?? run.now();
}

function windowBefore(run: Run, moment: number, windows: number, maxMs: number): MetricsWindow {
  const resolution = Math.max(1, run.deps.metrics.resolutionMs);
  const end = alignDown(moment, resolution);
  const length = Math.max(run.plan.pollMs, alignDown(Math.min(windows * run.plan.pollMs, maxMs), resolution));
  return { start: end - length, end };
}

async function slowBound(run: Run, settings: JudgeSettings, window: MetricsWindow): Promise<number> {
  const threshold = settings.slowThreshold;
  if ("ms" in threshold) return threshold.ms;
  const plain = await run.deps.metrics.sample(window);
  const blueLatency = threshold.from === "blue-p99" ? plain.blue.p99Ms : plain.blue.p95Ms;
  if (blueLatency === null || !(blueLatency > 0)) {
    throw new Breach(
      `no latency data for blue in ${describe(window)} before the first weight moved: the slow-request bound (${threshold.from}) cannot be derived; ` +
        "set rollout.gates.slowThreshold to a fixed number of milliseconds",
      run.now(),
    );
  }
  return blueLatency;
}

/** Read blue's history once; fills evidence (slow bound, totals) and returns blue's windows, oldest first. */
export async function readBlueHistory(run: Run, settings: JudgeSettings, evidence: CutoverEvidence): Promise<HistoryWindow[]> {
  const firstWrite = firstWriteAt(run);
  const boundWindow = windowBefore(run, firstWrite, BOUND_WINDOWS, BOUND_MAX_MS);
  const bound = await slowBound(run, settings, boundWindow);
  const withBound = await run.deps.metrics.sample(boundWindow, { slowThresholdMs: bound });
  const span = windowBefore(run, firstWrite, HISTORY_WINDOWS, HISTORY_MAX_MS);
  const samples = run.deps.metrics.series ? await run.deps.metrics.series(span, run.plan.pollMs, { slowThresholdMs: bound }) : [];
  run.throwIfAborted();
  // Without a series the pooled window before the first write is all there is: a level to compare
  // green with at 100%, though not blue's movement (the judge then assumes its default).
  const history: HistoryWindow[] = run.deps.metrics.series
    ? samples.map((s) => ({ end: s.window.end, requests: s.blue.requests, errors: colorErrors(s.blue), slow: s.blue.slow ?? null }))
    : [{ end: boundWindow.end, requests: withBound.blue.requests, errors: colorErrors(withBound.blue), slow: withBound.blue.slow ?? null }];
  const total = { requests: withBound.blue.requests, errors: colorErrors(withBound.blue), slow: withBound.blue.slow ?? 0 };
  evidence.slowThresholdMs = bound;
  evidence.beforeCutover = {
    requests: total.requests,
    errors: total.errors,
    slowRequests: withBound.blue.slow !== undefined ? total.requests : 0,
    slow: total.slow,
  };
  const withTraffic = history.filter((w) => w.requests > 0).length;
  run.emit({
    type: "warning",
    message:
      `judge reference from ${describe(boundWindow)} before the first weight moved: slow means slower than ${Math.round(bound * 10) / 10} ms` +
      ("from" in settings.slowThreshold ? ` (blue's ${settings.slowThreshold.from === "blue-p99" ? "p99" : "p95"})` : "") +
      `; blue served ${total.requests} request(s), ${total.errors} error(s); blue's history: ${withTraffic} window(s) with traffic in ${describe(span)}` +
      (run.deps.metrics.series ? "" : " (this metrics source keeps no per-window history: the judge assumes blue moves by σ 0.3 per window)"),
  });
  return history;
}

function describe(window: MetricsWindow): string {
  return `[${new Date(window.start).toISOString()}, ${new Date(window.end).toISOString()})`;
}
