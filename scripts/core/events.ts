// What the engine tells the outside world while it runs. Plain, serialisable objects only
// (JSON.stringify round-trips every event): the CLI renders them as a live view, plain lines,
// JSON lines or a webhook; the sandbox demo reuses them; the journal stores every event except
// `tick` as its timeline, and the report is built from that timeline.

import { formatPercent } from "./format.js";
import type { GateVerdict } from "./gateReading.js";
import type { ColorCounts, JudgeVerdict } from "./judge/index.js";
import type { Phase, TerminalPhase } from "./phases.js";
import type { Plan } from "./plan.js";
import type { FenceMode, HookResult, LockHolder, ReplicationDirection, RouteWeights, Weights } from "./ports.js";
import { describeCompleteness, type WindowCompleteness } from "./windowReader.js";

export type Operation = "cutover" | "rollback";

/** Where the engine is in the plan: the step (0-based) or null outside the steps. */
export type StepIndex = number | null;

interface Base {
  /** Epoch milliseconds, from the injected clock. */
  at: number;
  runId: string;
}

export type PreflightCheckName =
  | "router"
  | "green-health"
  | "blue-health"
  | "alarms"
  | "snapshot"
  | "parity"
  | "replication"
  | "start-weights"
  | "capacity"
  /** The judge's inputs: recent traffic on blue, and blue's latency when the slow bound is derived from it. */
  | "metrics"
  /** The migrating phase: expand migrations applied (core/engine/migrate.ts). */
  | "migrations"
  | `hook:${string}`;

export type Decision =
  /** Gates passed for the whole bake (or monitoring): go on. */
  | "proceed"
  /** Inconclusive window or metric error: one more window. */
  | "extend"
  /** A gate failed, a hook failed, a verify timed out, ...: roll back. */
  | "rollback"
  /** Preflight refused: nothing moved. */
  | "refuse"
  /** A crashed run continues. */
  | "resume"
  /** Another operator broke the lock (`rollback --force`): this run stops and touches nothing more. */
  | "abort"
  /** The caller aborted the run (Ctrl-C): it stops where it is, resumable; no rollback because of it. */
  | "interrupt"
  /** A step that pauses: the run stops in phase "paused" until `promote` (or `cutover --resume`). */
  | "pause"
  /** A color's desired capacity was set (capacity match, blue scaled down or back). */
  | "scale";

export type EngineEvent =
  | (Base & { type: "plan"; operation: Operation; plan: Plan; lines: string[] })
  | (Base & { type: "phase-changed"; from: Phase; to: Phase; step: StepIndex })
  | (Base & { type: "preflight-check"; check: PreflightCheckName; ok: boolean; detail: string })
  | (Base & { type: "snapshot"; ok: boolean; skipped: boolean; snapshotId: string | null; detail: string })
  | (Base & { type: "weights-written"; step: StepIndex; weights: Weights; attempt: number })
  | (Base & {
      type: "weights-verified";
      step: StepIndex;
      weights: Weights;
      ok: boolean;
      /** What each route read back last. */
      routes: RouteWeights[];
      waitedMs: number;
    })
  | (Base & { type: "weights-recorded"; step: StepIndex; weights: Weights; ok: boolean; detail: string })
  | (Base & {
      type: "gate-reading";
      step: StepIndex;
      phase: "baking" | "monitoring";
      /** 1-based poll number within this bake/monitoring window. */
      poll: number;
      /** Passing polls so far in this bake (this attempt), and how many it needs. */
      passes: number;
      passesRequired: number;
      window: { start: number; end: number };
      verdict: GateVerdict;
    })
  | (Base & {
      type: "metric-error";
      step: StepIndex;
      phase: "baking" | "monitoring";
      poll: number;
      message: string;
      consecutive: number;
      limit: number;
    })
  | (Base & {
      /** Live-view heartbeat while sleeping between polls or verifications. Not journaled. */
      type: "tick";
      phase: Phase;
      step: StepIndex;
      elapsedMs: number;
      totalMs: number;
      remainingMs: number;
      nextPollInMs: number;
    })
  | (Base & { type: "hook-result"; name: string; when: "preflight" | "after-step" | "post-switch"; step: StepIndex; ok: boolean; result: HookResult })
  | (Base & {
      /** The statistical judge's reading of one window (sequential mode; thresholds mode emits gate-reading). */
      type: "judge-reading";
      step: StepIndex;
      phase: "baking" | "monitoring";
      /** 1-based poll number within this bake/monitoring window. */
      poll: number;
      window: { start: number; end: number };
      /** The window's counts as judged (green's errors include the load balancer's excess attributed to it). */
      counts: { blue: ColorCounts; green: ColorCounts };
      /** Load-balancer 5xx above their level before the step, counted against green in this window. */
      attributedElbErrors: number;
      observedGreenShare: number | null;
      /** How much of the window was published when it was judged (absent in older journals). */
      completeness?: WindowCompleteness;
      /** Per metric, whether the forecast (green requests still needed) changed since the phase's previous reading: unchanged ones are not printed. */
      forecastChanged?: { errors: boolean; slow: boolean };
      verdict: JudgeEvidence;
    })
  | (Base & {
      type: "decision";
      decision: Decision;
      reason: string;
      step: StepIndex;
      phase: Phase;
      /** The judge's evidence behind a proceed/extend (sequential mode). */
      evidence?: JudgeEvidence;
    })
  | (Base & { type: "fence"; mode: FenceMode; ok: boolean; detail: string })
  | (Base & {
      type: "replication";
      action: "status" | "catch-up" | "parity" | "copy-sequences" | "start" | "stop";
      direction: ReplicationDirection | null;
      ok: boolean;
      detail: string;
    })
  | (Base & { type: "lock"; action: "acquired" | "released" | "broken" | "taken-over" | "lost"; holder: LockHolder | null; detail: string })
  | (Base & { type: "warning"; message: string })
  | (Base & {
      type: "rollback-started";
      reason: string;
      /** When the breach (or the operator's request) was observed. */
      breachObservedAt: number;
      fromPhase: Phase;
      step: StepIndex;
    })
  | (Base & {
      type: "rollback-complete";
      ok: boolean;
      reason: string;
      /** An operator's `rollback` (timed from the request), not a breach. */
      requested?: boolean;
      /** Breach observed → traffic verified on blue; null when the rollback could not verify. */
      timeToRollbackMs: number | null;
      weights: Weights;
      routes: RouteWeights[];
      /** Paired mode: how long writes were fenced during the rollback. */
      fenceMs: number | null;
      /** Paired mode, reverse replication unhealthy: keys that exist only on green. */
      onlyOnGreen: string[] | null;
      detail: string;
    })
  | (Base & { type: "done"; operation: Operation; outcome: Outcome; reason: string | null });

export type EngineEventType = EngineEvent["type"];

/** A judge verdict without its state: what events, the live view and the report show. */
export type JudgeEvidence = Omit<JudgeVerdict, "state">;

/**
 * How a run ended: its terminal phase, or "interrupted" (the caller aborted it: the journal stays
 * in its last non-terminal phase and `cutover --resume` continues it).
 */
export type Outcome = TerminalPhase | "interrupted";

export type EventSink = (event: EngineEvent) => void;

/** The events the journal keeps (everything but the live-view heartbeat). */
export type JournalEvent = Exclude<EngineEvent, { type: "tick" }>;

/** A judge statistic (an e-value) in few characters: 0.42, 17.3, 2.1e+4. */
export function formatStatistic(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x >= 10_000) return x.toExponential(1);
  return x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** One plain line per event, for non-terminal output and logs. */
export function formatEvent(event: EngineEvent): string {
  const time = new Date(event.at).toISOString();
  const step = "step" in event && event.step !== null && event.step !== undefined ? ` [step ${event.step + 1}]` : "";
  const w = (weights: Weights) => `blue ${weights.blue} / green ${weights.green}`;
  let text: string;
  switch (event.type) {
    case "plan":
      text = `${event.operation} plan: ${event.plan.steps.length} step(s)`;
      break;
    case "phase-changed":
      text = `${event.from} → ${event.to}`;
      break;
    case "preflight-check":
      text = `preflight ${event.check}: ${event.ok ? "ok" : "FAILED"} (${event.detail})`;
      break;
    case "snapshot":
      text = `snapshot: ${event.skipped ? "skipped" : event.ok ? `ok ${event.snapshotId}` : "FAILED"} (${event.detail})`;
      break;
    case "weights-written":
      text = `wrote ${w(event.weights)}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ""}`;
      break;
    case "weights-verified":
      text = `${event.ok ? "verified" : "NOT verified"} ${w(event.weights)} on ${event.routes.length} route(s) after ${event.waitedMs} ms`;
      break;
    case "weights-recorded":
      text = `recorded ${w(event.weights)} as the live weights: ${event.ok ? "ok" : "FAILED"} (${event.detail})`;
      break;
    case "gate-reading": {
      const g = event.verdict.readings.green;
      const b = event.verdict.readings.blue;
      const rate = (x: number | null) => formatPercent(x, { decimals: 2, fixed: true });
      const p95 = (x: number | null) => (x === null ? "n/a" : `${Math.round(x)}ms`);
      text =
        `${event.phase} poll ${event.poll}: ${event.verdict.status.toUpperCase()} (${event.passes}/${event.passesRequired}) ` +
        `green ${g.requests} req 5xx ${rate(g.errorRate)} p95 ${p95(g.p95Ms)} | blue ${b.requests} req 5xx ${rate(b.errorRate)} p95 ${p95(b.p95Ms)}` +
        (event.verdict.reasons.length > 0 ? ` — ${event.verdict.reasons.join("; ")}` : "");
      break;
    }
    case "judge-reading": {
      const v = event.verdict;
      const c = event.counts;
      const rate = (n: number, d: number) => formatPercent(d > 0 ? n / d : null, { decimals: 2, fixed: true });
      const metric = (m: "errors" | "slow") => {
        const e = v.evidence[m];
        const shown = e.neededGreenRequests !== null && event.forecastChanged?.[m] !== false;
        return (
          `${m} e=${formatStatistic(e.statistic)}/${formatStatistic(e.boundary)} ${e.status}` + (shown ? ` (~${e.neededGreenRequests} more green req)` : "")
        );
      };
      text =
        `${event.phase} poll ${event.poll}: ${v.decision.toUpperCase()} (${v.windowsJudged}/${v.windowsNeeded} windows) ` +
        `green ${c.green.requests} req 5xx ${rate(c.green.errors, c.green.requests)} | blue ${c.blue.requests} req 5xx ${rate(c.blue.errors, c.blue.requests)}; ` +
        `${metric("errors")}; ${metric("slow")}` +
        (event.completeness ? `; window ${describeCompleteness(event.completeness)}` : "");
      break;
    }
    case "metric-error":
      text = `${event.phase} poll ${event.poll}: metrics error ${event.consecutive}/${event.limit}: ${event.message}`;
      break;
    case "tick":
      text = `${event.phase}: ${Math.ceil(event.remainingMs / 1000)}s left`;
      break;
    case "hook-result":
      text = `hook ${event.name} (${event.when}): ${event.ok ? "ok" : event.result.timedOut ? "TIMED OUT" : `FAILED exit ${event.result.exitCode}`} in ${event.result.durationMs} ms`;
      break;
    case "decision":
      text = `decision: ${event.decision} — ${event.reason}`;
      break;
    case "fence":
      text = `write fence ${event.mode}: ${event.ok ? "ok" : "FAILED"} (${event.detail})`;
      break;
    case "replication":
      text = `replication ${event.action}${event.direction ? ` ${event.direction}` : ""}: ${event.ok ? "ok" : "FAILED"} (${event.detail})`;
      break;
    case "lock":
      text = `lock ${event.action}: ${event.detail}`;
      break;
    case "warning":
      text = `warning: ${event.message}`;
      break;
    case "rollback-started":
      text = `ROLLBACK started: ${event.reason}`;
      break;
    case "rollback-complete":
      text = event.ok
        ? `rollback complete: ${w(event.weights)} verified, ${event.timeToRollbackMs} ms after ${event.requested ? "the rollback was requested" : "the breach was observed"}` +
          (event.fenceMs !== null ? `, writes fenced ${event.fenceMs} ms` : "")
        : `ROLLBACK FAILED: ${event.detail}`;
      break;
    case "done":
      text = `${event.operation} ${event.outcome}${event.reason ? `: ${event.reason}` : ""}`;
      break;
  }
  return `${time}${step} ${text}`;
}
