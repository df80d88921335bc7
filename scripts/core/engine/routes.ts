// Pure helpers over live routes: the plan from live weights, where traffic must be on resume,
// and how routes are described in messages.

import type { Journal } from "../journal.js";
import { BLUE_ONLY, buildPlan, describePlan, type Plan } from "../plan.js";
import type { RouteWeights, TargetHealth, Weights } from "../ports.js";
import type { CutoverRequest, EngineDeps } from "./types.js";

export function describeHealth(h: TargetHealth): string {
  return `${h.healthy} healthy, ${h.unhealthy} unhealthy of ${h.total}`;
}

export function describeRoutes(routes: RouteWeights[]): string {
  return routes.map((r) => `${r.route}: blue ${r.weights.blue} / green ${r.weights.green}`).join(", ");
}

export function maxStickiness(routes: RouteWeights[]): number | null {
  const values = routes.map((r) => r.stickinessSeconds).filter((s): s is number => typeof s === "number" && s > 0);
  return values.length > 0 ? Math.max(...values) : null;
}

/** The plan starts from the least-advanced route (the conservative choice when routes disagree; preflight refuses that anyway). */
export function startWeightsOf(routes: RouteWeights[]): Weights {
  if (routes.length === 0) return { ...BLUE_ONLY };
  const least = routes.reduce((a, b) => (b.weights.green < a.weights.green ? b : a));
  return { ...least.weights };
}

/** The plan from the live weights (the start of the run) and its human-readable description. */
export function planFromLiveWeights(
  deps: Pick<EngineDeps, "router" | "metrics">,
  request: Pick<CutoverRequest, "rollout" | "databaseMode" | "skipSnapshot" | "catchUpTimeoutMs">,
  routes: RouteWeights[],
): { plan: Plan; lines: string[] } {
  const plan = buildPlan(request.rollout, {
    databaseMode: request.databaseMode,
    startWeights: startWeightsOf(routes),
    resolutionMs: deps.metrics.resolutionMs,
    ...(request.catchUpTimeoutMs !== undefined ? { catchUpTimeoutMs: request.catchUpTimeoutMs } : {}),
  });
  const lines = describePlan(plan, deps.router.describeWrites(), {
    ...(request.skipSnapshot !== undefined ? { snapshotSkipped: request.skipSnapshot || true } : {}),
    stickinessSeconds: maxStickiness(routes),
  });
  return { plan, lines };
}

/** Where traffic must be when a run resumes in this phase; null when the phase re-establishes it itself. */
export function expectedLiveWeights(journal: Journal): Weights | null {
  const plan = journal.plan;
  if (!plan) return null;
  switch (journal.phase) {
    case "fencing":
    case "catching-up":
    case "parity":
    case "sequences":
    case "reverse-replication":
      return plan.startWeights;
    case "unfencing":
    case "recording":
    case "baking":
    case "paused":
    case "hooks":
      return journal.step === null ? null : (plan.steps[journal.step]?.weights ?? null);
    case "post-switch":
    case "monitoring":
      return plan.steps.at(-1)?.weights ?? null;
    default:
      return null; // preflight checks it; writing/verifying write again; rolling-back goes to blue anyway
  }
}
