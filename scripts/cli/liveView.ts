// The live terminal view of a cutover: step progress, the countdown of the current bake or
// monitoring window, the latest gate readings per color, redrawn in place with log-update.
// Events still scroll above it (one line each), so the history stays on screen and in the
// terminal's scrollback. Used only on an interactive terminal (outputMode().live).

import { createLogUpdate } from "log-update";
import type { GateVerdict } from "../core/gateReading.js";
import type { EngineEvent, Operation } from "../core/events.js";
import { formatEvent, formatStatistic } from "../core/events.js";
import type { Phase } from "../core/phases.js";
import type { Weights } from "../core/ports.js";
import { paintLine, palette, planBlock, type Palette, type Printer } from "./plainPrinter.js";

export interface LiveState {
  operation: Operation | null;
  steps: Weights[];
  step: number | null;
  phase: Phase | null;
  weights: Weights | null;
  verdict: GateVerdict | null;
  verdictAt: number | null;
  /** The statistical judge's latest reading (sequential mode). */
  judge?: Extract<EngineEvent, { type: "judge-reading" }> | null;
  poll: { passes: number; required: number } | null;
  tick: Extract<EngineEvent, { type: "tick" }> | null;
  status: string | null;
  started: number | null;
}

const BAR = 24;

function seconds(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

function fmtRate(x: number | null): string {
  return x === null ? "–" : `${(x * 100).toFixed(2)}%`;
}

function fmtMs(x: number | null): string {
  return x === null ? "–" : `${Math.round(x)} ms`;
}

/** Render the live region for a state (exported for tests and for the demo). */
export function renderLive(state: LiveState, p: Palette, now: number): string {
  const lines: string[] = [];
  const op = state.operation ?? "cutover";
  const total = state.steps.length;
  const stepText = state.step !== null && total > 0 ? `step ${state.step + 1}/${total}` : state.phase === "monitoring" ? "monitoring" : "";
  const w = state.weights ? `${p.blue(`blue ${state.weights.blue}`)} / ${p.green(`green ${state.weights.green}`)}` : "weights –";
  const elapsed = state.started !== null ? ` · ${seconds(now - state.started)} elapsed` : "";
  lines.push(`${p.bold(op)} ${stepText ? `${stepText} · ` : ""}${w} · ${state.phase ?? "starting"}${elapsed}`);
  if (total > 0) {
    const marks = state.steps.map((s, i) => {
      const label = `${s.green}%`;
      if (state.step === null) return state.phase === "monitoring" || state.phase === "succeeded" ? p.green(label) : p.dim(label);
      return i < state.step ? p.green(label) : i === state.step ? p.bold(p.cyan(`[${label}]`)) : p.dim(label);
    });
    lines.push(`steps ${marks.join(" → ")}`);
  }
  if (state.tick && (state.tick.phase === "baking" || state.tick.phase === "monitoring")) {
    const t = state.tick;
    const fraction = t.totalMs > 0 ? Math.min(1, t.elapsedMs / t.totalMs) : 1;
    const filled = Math.round(fraction * BAR);
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR - filled)}`;
    const polls = state.poll ? ` · passes ${state.poll.passes}/${state.poll.required}` : "";
    lines.push(`${bar} ${t.phase === "baking" ? "bake" : "monitor"} ${seconds(t.remainingMs)} left · next poll in ${seconds(t.nextPollInMs)}${polls}`);
  }
  if (state.verdict) {
    const r = state.verdict.readings;
    const head = `${"".padEnd(7)}${"requests".padStart(10)}${"5xx".padStart(9)}${"p95".padStart(9)}${"p99".padStart(9)}${"targets".padStart(10)}`;
    lines.push(p.dim(head));
    for (const color of ["blue", "green"] as const) {
      const c = r[color];
      const targets = c.healthy === null ? "–" : `${c.healthy} ok${c.unhealthy ? ` ${c.unhealthy} bad` : ""}`;
      const name = color === "blue" ? p.blue(color.padEnd(7)) : p.green(color.padEnd(7));
      lines.push(
        `${name}${String(c.requests).padStart(10)}${fmtRate(c.errorRate).padStart(9)}${fmtMs(c.p95Ms).padStart(9)}${fmtMs(c.p99Ms).padStart(9)}${targets.padStart(10)}`,
      );
    }
    const share = state.verdict.observedGreenShare === null ? "" : ` · observed green share ${(state.verdict.observedGreenShare * 100).toFixed(1)}%`;
    const status = state.verdict.status === "pass" ? p.green("PASS") : state.verdict.status === "fail" ? p.red("FAIL") : p.yellow("INCONCLUSIVE");
    const age = state.verdictAt !== null ? ` ${seconds(now - state.verdictAt)} ago` : "";
    lines.push(`gates ${status}${age}${share}${state.verdict.reasons.length ? ` — ${state.verdict.reasons.join("; ")}` : ""}`);
  }
  if (state.judge) lines.push(...renderJudge(state.judge, p, now));
  if (state.status) lines.push(state.status);
  return lines.join("\n");
}

/** The judge's evidence: per metric green vs blue (or the frozen reference), e-value vs boundary, what is ruled out, what is still needed. */
function renderJudge(reading: Extract<EngineEvent, { type: "judge-reading" }>, p: Palette, now: number): string[] {
  const v = reading.verdict;
  const lines: string[] = [];
  const decision =
    v.decision === "fail" || v.decision === "undecided"
      ? p.red(v.decision.toUpperCase())
      : v.decision === "promote"
        ? p.green("PROMOTE")
        : v.decision === "extend"
          ? p.yellow("EXTEND")
          : p.cyan("CONTINUE");
  const share = reading.observedGreenShare === null ? "" : ` · observed green share ${(reading.observedGreenShare * 100).toFixed(1)}%`;
  const extensions = v.extensionsUsed > 0 ? ` (extension ${v.extensionsUsed}/${v.maxExtensions})` : "";
  lines.push(`judge ${decision} · ${v.windowsJudged}/${v.windowsNeeded} windows${extensions} · ${seconds(now - reading.at)} ago${share}`);
  lines.push(p.dim(`${"".padEnd(7)}${"green".padStart(16)}  ${"blue".padStart(18)}  ${"e-value / boundary".padStart(20)}  status / rules out`));
  const count = (n: number, d: number) => `${n}/${d} ${d > 0 ? `${((n / d) * 100).toFixed(2)}%` : "–"}`;
  for (const metric of ["errors", "slow"] as const) {
    const e = v.evidence[metric];
    const label = (metric === "errors" ? "5xx" : "slow").padEnd(7);
    const status = e.status === "regression" ? p.red(e.status) : e.status === "open" ? p.yellow(e.status) : p.green(e.status);
    const rules =
      e.ruledOut.ratio !== null
        ? ` ×${e.ruledOut.ratio.toFixed(2)}`
        : e.ruledOut.greenRateBelow !== null
          ? ` green < ${(e.ruledOut.greenRateBelow * 100).toFixed(2)}%`
          : "";
    const needed = e.neededGreenRequests !== null ? ` · ~${e.neededGreenRequests} more green req` : "";
    const blue = `${e.comparison === "reference" ? "ref " : ""}${count(e.blueCount, e.blueRequests)}`;
    lines.push(
      `${label}${count(e.greenCount, e.greenRequests).padStart(16)}  ${blue.padStart(18)}  ${`${formatStatistic(e.statistic)} / ${formatStatistic(e.boundary)}`.padStart(20)}  ${status}${rules}${needed}`,
    );
  }
  return lines;
}

/** The live region's state before the first event. */
export function initialLiveState(): LiveState {
  return {
    operation: null,
    steps: [],
    step: null,
    phase: null,
    weights: null,
    verdict: null,
    verdictAt: null,
    judge: null,
    poll: null,
    tick: null,
    status: null,
    started: null,
  };
}

/** Folds one event (ticks and the plan included) into the live region's state. */
export function foldLiveEvent(state: LiveState, event: EngineEvent, p: Palette): void {
  state.started ??= event.at;
  switch (event.type) {
    case "plan":
      state.operation = event.operation;
      state.steps = event.plan.steps.map((s) => s.weights);
      break;
    case "tick":
      state.tick = event;
      state.phase = event.phase;
      state.step = event.step;
      break;
    case "phase-changed":
      state.phase = event.to;
      state.step = event.step;
      if (event.to !== "baking" && event.to !== "monitoring") state.tick = null;
      break;
    case "weights-verified":
      if (event.ok) state.weights = event.weights;
      break;
    case "judge-reading":
      state.judge = event;
      break;
    case "gate-reading":
      state.verdict = event.verdict;
      state.verdictAt = event.at;
      state.poll = { passes: event.passes, required: event.passesRequired };
      break;
    case "rollback-started":
      state.operation = state.operation ?? "rollback";
      state.status = p.red(p.bold(`ROLLING BACK: ${event.reason}`));
      break;
    case "rollback-complete":
      state.status = event.ok ? p.yellow(`rolled back: blue 100 verified in ${event.timeToRollbackMs} ms`) : p.red(p.bold(`ROLLBACK FAILED: ${event.detail}`));
      if (event.ok) state.weights = event.weights;
      break;
    case "done":
      state.status = paintLine(event, formatEvent(event).replace(/^\S+ /, ""), p);
      break;
    default:
      break;
  }
}

export function createLiveView(stream: NodeJS.WritableStream & { columns?: number }, color: boolean, now: () => number = Date.now): Printer {
  const p = palette(color);
  const log = createLogUpdate(stream as NodeJS.WriteStream, { showCursor: false });
  const state = initialLiveState();
  let closed = false;
  const redraw = () => {
    if (!closed) log(renderLive(state, p, now()));
  };
  const sink = ((event: EngineEvent) => {
    if (closed) return;
    foldLiveEvent(state, event, p);
    if (event.type === "plan") {
      // The plan scrolls; the live region starts with the next event (after PROCEED).
      log.clear();
      stream.write(planBlock(event, p));
      return;
    }
    // Ticks only redraw; every other event also scrolls above the region as one line.
    if (event.type !== "tick") log.persist(paintLine(event, formatEvent(event), p));
    redraw();
  }) as Printer;
  sink.close = () => {
    if (closed) return;
    redraw();
    closed = true;
    log.done();
  };
  return sink;
}
