// Capacity in the engine (rules in core/capacity.ts): preflight and every later step check that
// green's healthy targets can carry the next share of blue's in-service capacity; mode "match"
// first raises green's desired capacity to blue's and waits for the new targets to turn healthy;
// a rollback after blue was scaled down first raises blue back and waits for its targets.
//
// Blue's in-service capacity comes from the CapacityManager (the Auto Scaling group) when the
// engine has one, otherwise from blue's healthy targets (the sandbox's process pool, or a stack
// wired without Auto Scaling access).

import {
  DEFAULT_CAPACITY_POLICY,
  emptyCapacityRecord,
  judgeCapacity,
  matchGreenToBlue,
  type CapacityPolicy,
  type CapacityRecord,
  type CapacityVerdict,
} from "../capacity.js";
import { parseJournal, type Journal } from "../journal.js";
import { formatDuration } from "../plan.js";
import type { Color, HealthProbe, LockHolder, TargetHealth } from "../ports.js";
import { Breach, Run } from "./run.js";
import { EngineInputError, type EngineDeps, type RollbackDeps } from "./types.js";

/** How often target health is read while waiting for new targets. ALB health checks run every 5–300 s. */
export const HEALTH_WAIT_POLL_MS = 10_000;

/** The journal with the capacity changes the scripts made (absent in journals written before capacity existed). */
export type JournalWithCapacity = Journal & { capacity?: CapacityRecord };

export function capacityPolicy(run: Run<RollbackDeps>): CapacityPolicy {
  return run.journal.plan?.capacity ?? DEFAULT_CAPACITY_POLICY;
}

export function capacityRecord(journal: Journal): CapacityRecord {
  const j = journal as JournalWithCapacity;
  return (j.capacity ??= emptyCapacityRecord());
}

async function blueInService(run: Run): Promise<{ count: number; source: string }> {
  if (run.deps.capacity) return { count: (await run.deps.capacity.capacity("blue")).inService, source: "instances" };
  return { count: (await run.deps.health.health("blue")).healthy, source: "healthy targets" };
}

/** Can green carry `greenPercent` now? */
export async function judgeGreenCapacity(run: Run, greenPercent: number): Promise<CapacityVerdict> {
  const policy = capacityPolicy(run);
  const [blue, green] = await Promise.all([blueInService(run), run.deps.health.health("green")]);
  return judgeCapacity({
    blueInService: blue.count,
    blueSource: blue.source,
    green,
    greenPercent,
    headroom: policy.headroom,
    minHealthyTargets: run.plan.gates.minHealthyTargets,
  });
}

/** Read `color`'s target health until at least `healthy` targets are healthy, bounded by timeoutMs. */
export async function waitForHealthyTargets(
  run: Run<RollbackDeps>,
  probe: HealthProbe,
  color: Color,
  healthy: number,
  timeoutMs: number,
): Promise<{ ok: boolean; health: TargetHealth; waitedMs: number }> {
  const started = run.now();
  const deadline = started + timeoutMs;
  for (;;) {
    const health = await probe.health(color);
    if (health.healthy >= healthy || run.now() >= deadline) return { ok: health.healthy >= healthy, health, waitedMs: run.now() - started };
    // Every 10 s at most (ALB health checks run every 5–300 s), no slower than the plan's poll (the sandbox: 1 s); wakes on abort.
    await run.sleep(Math.max(1, Math.min(HEALTH_WAIT_POLL_MS, run.plan.pollMs, deadline - run.now())));
  }
}

/**
 * Preflight: mode "match" scales green first; then the check for the first step's share.
 * Returns the check's verdict (ok false: preflight refuses, nothing moved).
 */
export async function preflightCapacity(run: Run): Promise<{ ok: boolean; detail: string }> {
  const policy = capacityPolicy(run);
  const first = run.plan.steps[0]!.weights.green;
  const notes: string[] = [];
  let scaledHealthy = true;
  if (policy.mode === "match") {
    const manager = run.deps.capacity;
    if (!manager) return { ok: false, detail: "rollout.capacity.mode match needs the colors' Auto Scaling groups (asgNames in the stack outputs)" };
    const [blue, green] = await Promise.all([manager.capacity("blue"), manager.capacity("green")]);
    const decision = matchGreenToBlue(blue, green);
    if (decision.action === "refuse") return { ok: false, detail: decision.detail };
    if (decision.action === "scale") {
      await manager.setDesired("green", decision.to);
      capacityRecord(run.journal).greenScaled = { from: green.desired, to: decision.to, at: run.now() };
      run.decide(
        "scale",
        `capacity match: ${decision.detail}; waiting up to ${formatDuration(policy.scaleTimeoutMs)} for ${decision.to} healthy green target(s)`,
      );
      await run.persist();
      const waited = await waitForHealthyTargets(run, run.deps.health, "green", decision.to, policy.scaleTimeoutMs);
      scaledHealthy = waited.ok;
      notes.push(
        waited.ok
          ? `scaled green to ${decision.to}, healthy after ${formatDuration(waited.waitedMs)}`
          : `scaled green to ${decision.to}, only ${waited.health.healthy} healthy after ${formatDuration(waited.waitedMs)}`,
      );
    } else {
      notes.push(decision.detail);
    }
  }
  const verdict = await judgeGreenCapacity(run, first);
  // The new targets must all turn healthy: one that never does is a bad image or a broken launch.
  return { ok: verdict.ok && scaledHealthy, detail: [...notes, verdict.detail].join("; ") };
}

/**
 * Before writing a later step's weights: green must carry that step's share. With "match" the
 * Auto Scaling group may still be replacing an instance: wait for healthy targets, bounded.
 * Throws a Breach (the default action: roll back) when green cannot carry it.
 */
export async function requireStepCapacity(run: Run): Promise<void> {
  const step = run.currentStep();
  if (step.index === 0) return; // preflight checked the first share
  const policy = capacityPolicy(run);
  let verdict = await judgeGreenCapacity(run, step.weights.green);
  if (!verdict.ok && policy.mode === "match") {
    const waited = await waitForHealthyTargets(run, run.deps.health, "green", verdict.required, policy.scaleTimeoutMs);
    if (waited.ok) verdict = await judgeGreenCapacity(run, step.weights.green);
  }
  if (!verdict.ok) throw new Breach(`capacity before step ${step.index + 1}: ${verdict.detail}`, run.now());
}

/**
 * Rollback: if a successful cutover scaled blue down, raise it back to what it had and wait for
 * its targets before traffic goes there. Best effort on a bound: after the timeout the flip goes
 * ahead anyway (a smaller blue beats a broken green) with a warning.
 */
export async function restoreBlueBeforeRollback(run: Run<RollbackDeps>): Promise<void> {
  const record = (run.journal as JournalWithCapacity).capacity;
  const down = record?.blueScaledDown;
  if (!record || !down || record.blueRestored) return;
  const manager = run.deps.capacity;
  if (!manager) {
    run.emit({
      type: "warning",
      message: `blue was scaled down to ${down.to} after the cutover, and this rollback has no Auto Scaling access to scale it back to ${down.from}: flipping anyway`,
    });
    return;
  }
  const policy = capacityPolicy(run);
  const probe = run.deps.health;
  if (!probe) {
    run.emit({
      type: "warning",
      message: `blue was scaled down to ${down.to} after the cutover, and this rollback cannot read target health to wait for it: flipping anyway`,
    });
    return;
  }
  try {
    await manager.setDesired("blue", down.from);
    run.decide(
      "scale",
      `blue was scaled down after the cutover: desired capacity ${down.to} → ${down.from} before the flip; waiting up to ${formatDuration(policy.scaleTimeoutMs)} for healthy targets`,
    );
    const waited = await waitForHealthyTargets(run, probe, "blue", down.from, policy.scaleTimeoutMs);
    record.blueRestored = { to: down.from, at: run.now(), waitedMs: waited.waitedMs };
    if (!waited.ok) {
      run.emit({
        type: "warning",
        message: `blue has ${waited.health.healthy} of ${down.from} healthy target(s) after ${formatDuration(waited.waitedMs)}: flipping anyway`,
      });
    }
    await run.persist();
  } catch (error) {
    run.emit({ type: "warning", message: `could not scale blue back to ${down.from} (${(error as Error).message}): flipping anyway` });
  }
}

export interface ScaleDownBlueRequest {
  owner: string;
  /** Before blueKeepSeconds is over (the operator accepts a slower rollback now). */
  early?: boolean;
}

export interface ScaleDownBlueResult {
  runId: string;
  from: number;
  to: number;
  journal: Journal;
}

/**
 * `promote --scale-down-blue`: after a successful cutover and rollout.blueKeepSeconds, set blue's
 * desired capacity to its Auto Scaling group's minimum (rollout.capacity.scaleDownBlue: true is
 * the opt-in). Recorded in the journal, so a later rollback scales blue back first. Holds the
 * lock for the one call. EngineInputError (nothing changed) when it does not apply yet.
 */
export async function runScaleDownBlue(deps: EngineDeps, request: ScaleDownBlueRequest): Promise<ScaleDownBlueResult> {
  const raw = await deps.journal.load();
  if (raw === null || raw === undefined) throw new EngineInputError("there is no cutover journal: nothing to scale down");
  const journal = parseJournal(raw);
  const policy = journal.plan?.capacity;
  if (journal.phase !== "succeeded")
    throw new EngineInputError(`blue is scaled down only after a successful cutover; run ${journal.runId} is in phase "${journal.phase}"`);
  if (!policy?.scaleDownBlue) throw new EngineInputError("rollout.capacity.scaleDownBlue is not true in the plan this cutover ran: blue keeps its capacity");
  if (!deps.capacity) throw new EngineInputError("scaling blue down needs the colors' Auto Scaling groups (asgNames in the stack outputs)");
  const record = (journal as JournalWithCapacity).capacity;
  if (record?.blueScaledDown)
    throw new EngineInputError(`blue was already scaled down to ${record.blueScaledDown.to} at ${new Date(record.blueScaledDown.at).toISOString()}`);
  const succeededAt = journal.timeline.find((e) => e.type === "phase-changed" && e.to === "succeeded")?.at ?? journal.updatedAt;
  const keepUntil = succeededAt + policy.blueKeepMs;
  const now = deps.clock.now();
  if (now < keepUntil && !request.early) {
    throw new EngineInputError(
      `blue keeps its capacity until ${new Date(keepUntil).toISOString()} (rollout.blueKeepSeconds, ${formatDuration(keepUntil - now)} from now): ` +
        "a rollback until then is instant; pass --now to scale it down anyway; nothing was changed",
    );
  }

  const holder: LockHolder = { owner: request.owner, since: now, operation: "cutover", runId: journal.runId };
  await deps.lock.acquire(holder);
  try {
    const run = new Run(deps, journal, { operation: "cutover", owner: request.owner, hookEnv: {}, checkLock: true });
    const blue = await deps.capacity.capacity("blue");
    if (blue.desired <= blue.min) throw new EngineInputError(`blue's desired capacity ${blue.desired} is already at its minimum ${blue.min}`);
    await deps.capacity.setDesired("blue", blue.min);
    capacityRecord(journal).blueScaledDown = { from: blue.desired, to: blue.min, at: run.now() };
    run.decide(
      "scale",
      `blue's desired capacity ${blue.desired} → ${blue.min} (its minimum) by ${request.owner}, ${formatDuration(run.now() - succeededAt)} after the switch; ` +
        `a rollback now first scales blue back to ${blue.desired} and waits up to ${formatDuration(policy.scaleTimeoutMs)} for healthy targets`,
    );
    await run.persist();
    return { runId: journal.runId, from: blue.desired, to: blue.min, journal };
  } finally {
    await deps.lock.release(request.owner).catch(() => undefined);
  }
}
