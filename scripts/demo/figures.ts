// The demo's figures, computed from what the router and the load recorded: the observed split
// and failures per set of weights, the fence periods as the router saw them, and the paired
// run's load-wide data checks.

import type { Color } from "../core/ports.js";
import type { WeightEpoch } from "../local/router.js";
import { checkDuplicates, type LoadResult } from "../local/load.js";
import type { EngineEvent } from "../core/events.js";
import type { DemoDecision, DemoResult, DemoStep } from "./types.js";

export function timestamp(at: number): string {
  return new Date(at)
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-");
}

const share = (routed: Record<Color, number>) => {
  const total = routed.blue + routed.green;
  return total === 0 ? null : (routed.green / total) * 100;
};

export function summarizeSteps(epochs: WeightEpoch[], load: LoadResult, until: number): DemoStep[] {
  return epochs.map((epoch, index) => {
    const to = epoch.to ?? until;
    const observed = share(epoch.routed);
    const label = index === 0 ? "before the cutover" : epoch.weights.green === 0 ? "after rollback" : `green ${epoch.weights.green}%`;
    return {
      label,
      configured: epoch.weights,
      routed: epoch.routed,
      observedGreenPercent: observed === null ? null : Math.round(observed * 100) / 100,
      deviationPoints: observed === null ? null : Math.round((observed - epoch.weights.green) * 100) / 100,
      durationMs: to - epoch.from,
      failedRequests: load.failures.filter((failure) => failure.at >= epoch.from && failure.at < to).length,
      errors5xx: epoch.errors5xx,
    };
  });
}

/** Load-wide figures of a paired run: write rate, read failures, duplicates and fenced writes applied in either database. */
export async function pairedLoadFigures(
  load: LoadResult,
  blueUrl: string,
  greenUrl: string,
): Promise<Pick<NonNullable<DemoResult["paired"]>, "switches" | "writesPerSecond" | "readFailures" | "readsCompleted" | "duplicates" | "rejectedApplied">> {
  const [blue, green] = await Promise.all([checkDuplicates(blueUrl, load.rejected), checkDuplicates(greenUrl, load.rejected)]);
  return {
    switches: [],
    writesPerSecond: load.elapsedMs > 0 ? Math.round((load.writesAcknowledged / load.elapsedMs) * 1000 * 10) / 10 : 0,
    readFailures: load.failures.filter((failure) => failure.method === "GET").length,
    readsCompleted: load.timeline.filter((entry) => !entry.write && entry.ok).length,
    duplicates: { blue: blue.duplicates, green: green.duplicates },
    rejectedApplied: [...new Set([...blue.rejectedApplied, ...green.rejectedApplied])],
  };
}

/** Fence periods [on, off) from the router's fence log (a fence still on counts until `until`). */
export function fenceWindows(log: Array<{ mode: string; at: number }>, until: number): Array<{ on: number; off: number }> {
  const windows: Array<{ on: number; off: number }> = [];
  let on: number | null = null;
  for (const change of log) {
    if (change.mode !== "off" && on === null) on = change.at;
    if (change.mode === "off" && on !== null) {
      windows.push({ on, off: change.at });
      on = null;
    }
  }
  if (on !== null) windows.push({ on, off: until });
  return windows;
}

export function sameSet(a: string[], b: string[]): boolean {
  const left = new Set(a);
  return left.size === new Set(b).size && b.every((item) => left.has(item));
}

export function stripLoad(result: LoadResult): DemoResult["load"] {
  const { acknowledged: _acknowledged, timeline: _timeline, rejected: _rejected, ...rest } = result;
  return { ...rest, failures: result.failures.slice(0, 50) };
}

/** The decisions that ended each bake and the monitoring (an extension is not an end), in order. */
export function judgeDecisions(events: EngineEvent[]): DemoDecision[] {
  const decisions: DemoDecision[] = [];
  let greenPercent: number[] = [];
  for (const event of events) {
    if (event.type === "plan") greenPercent = event.plan.steps.map((step) => step.weights.green);
    if (event.type !== "decision" || event.decision === "extend") continue;
    if (event.phase !== "baking" && event.phase !== "monitoring") continue;
    const step = event.step;
    const percent = step === null ? undefined : greenPercent[step];
    const where = event.phase === "monitoring" || step === null ? "monitoring" : `step ${step + 1}${percent !== undefined ? ` (green ${percent}%)` : ""}`;
    decisions.push({ where, decision: event.decision, reason: event.reason });
  }
  return decisions;
}
