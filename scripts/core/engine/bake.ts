// The bake after each step and the monitoring window after the switch: poll metrics and target
// health once per window, judge each reading with the gates, extend on inconclusive readings
// (up to a limit), tolerate a few metric errors in a row, and throw a Breach on a failure.
// Self-contained: the statistical judge replaces evaluateGates here and nowhere else.

import type { EngineEvent } from "../events.js";
import { evaluateGates, type GateVerdict } from "../gates.js";
import type { TargetHealth } from "../ports.js";
import { Breach, messageOf, type Run } from "./run.js";

export type BakePhase = "baking" | "monitoring";

export async function bake(run: Run, phase: BakePhase, required: number): Promise<void> {
  const j = run.journal;
  const plan = run.plan;
  const gates = plan.gates;
  if (!j.bake) j.bake = { passes: 0, polls: 0, extensionsUsed: 0, consecutiveMetricErrors: 0, startedAt: run.now() };
  const bake = j.bake;
  const expectedShare = phase === "baking" ? run.currentStep().weights.green / 100 : 1;
  let splitChecked = false;
  while (bake.passes < required) {
    await waitForNextPoll(run, plan.pollMs, phase, required);
    const end = run.now();
    const window = { start: end - plan.pollMs, end };
    bake.polls += 1;
    let metrics;
    let green: TargetHealth;
    let blue: TargetHealth;
    try {
      [metrics, green, blue] = await Promise.all([
        run.deps.metrics.sample(window),
        run.deps.health.health("green"),
        run.deps.health.health("blue"),
      ]);
    } catch (error) {
      bake.consecutiveMetricErrors += 1;
      run.emit({
        type: "metric-error",
        step: j.step,
        phase,
        poll: bake.polls,
        message: messageOf(error),
        consecutive: bake.consecutiveMetricErrors,
        limit: gates.maxConsecutiveMetricErrors,
      });
      if (bake.consecutiveMetricErrors >= gates.maxConsecutiveMetricErrors) {
        throw new Breach(`metrics unavailable ${bake.consecutiveMetricErrors} time(s) in a row: ${messageOf(error)}`, run.now());
      }
      run.decide("extend", `metrics error ${bake.consecutiveMetricErrors}/${gates.maxConsecutiveMetricErrors}: one more window`);
      await run.persist();
      continue;
    }
    bake.consecutiveMetricErrors = 0;
    const verdict: GateVerdict = evaluateGates(gates, { metrics, health: { green, blue } });
    if (verdict.status === "pass") bake.passes += 1;
    run.emit({ type: "gate-reading", step: j.step, phase, poll: bake.polls, passes: bake.passes, passesRequired: required, window, verdict });
    const share = verdict.observedGreenShare;
    if (!splitChecked && share !== null && metrics.blue.requests + metrics.green.requests >= gates.minRequests) {
      // DESIGN.md: confirm the verified weights in the observed split too. Informational
      // (stickiness and a window that straddles the write skew it), so a warning, not a gate.
      splitChecked = true;
      if (Math.abs(share - expectedShare) > Math.max(0.1, Math.min(expectedShare, 1 - expectedShare) * 0.5)) {
        run.emit({
          type: "warning",
          message: `observed split: green served ${(share * 100).toFixed(1)}% of requests in the window, the weights say ${(expectedShare * 100).toFixed(0)}%`,
        });
      }
    }
    if (verdict.status === "fail") {
      throw new Breach(`gate failed ${phase === "baking" ? `at step ${(j.step ?? 0) + 1}` : "during monitoring"}: ${verdict.reasons.join("; ")}`, end);
    }
    if (verdict.status === "inconclusive") {
      if (bake.extensionsUsed >= gates.inconclusiveExtensions) {
        throw new Breach(
          `inconclusive after ${bake.extensionsUsed} extension(s) (${verdict.reasons.join("; ")}): missing data is never a pass`,
          end,
        );
      }
      bake.extensionsUsed += 1;
      run.decide("extend", `inconclusive: extending by one window (${bake.extensionsUsed}/${gates.inconclusiveExtensions}): ${verdict.reasons.join("; ")}`);
    }
    await run.persist();
  }
  if (required > 0) run.decide("proceed", `${required} passing poll(s) ${phase === "baking" ? "in the bake" : "while monitoring"}`);
}

/** Sleep one poll interval, sending a live-view tick every tickMs. */
async function waitForNextPoll(run: Run, ms: number, phase: BakePhase, required: number): Promise<void> {
  const tick = run.deps.tickMs ?? 1000;
  if (tick <= 0) return run.sleep(ms);
  const bake = run.journal.bake!;
  const pollMs = run.plan.pollMs;
  let left = ms;
  while (left > 0) {
    const d = Math.min(tick, left);
    await run.sleep(d);
    left -= d;
    if (run.deps.events) {
      const elapsedMs = run.now() - bake.startedAt;
      const remainingPolls = Math.max(0, required - bake.passes - 1);
      const remainingMs = left + remainingPolls * pollMs;
      run.deliver({
        type: "tick",
        at: run.now(),
        runId: run.journal.runId,
        phase,
        step: run.journal.step,
        elapsedMs,
        totalMs: elapsedMs + remainingMs,
        remainingMs,
        nextPollInMs: left,
      } as EngineEvent);
    }
  }
}
