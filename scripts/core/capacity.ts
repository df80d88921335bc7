// Capacity as part of safety: before any weight moves,
// green must be able to carry its next share of blue's load. Pure: numbers in, verdicts out.
//
//   required healthy green targets = ceil(blue's in-service capacity × next share × (1 + headroom))
//
// never below rollout.gates.minHealthyTargets. With mode "match", green's Auto Scaling group is
// first raised to blue's desired capacity (never above green's max: the program owns min/max).

import type { RolloutConfig } from "../../infra/config.js";
import type { ColorCapacity, TargetHealth } from "./ports.js";
import { ROLLOUT_DEFAULTS } from "../../infra/vocabulary/rolloutDefaults.js";

export type CapacityMode = RolloutConfig["capacity"]["mode"];

/** The capacity policy as recorded in the plan (a resumed run follows the policy it started with). */
export interface CapacityPolicy {
  mode: CapacityMode;
  /** A fraction: 0.2 = green needs 20% more than its share of blue's capacity. */
  headroom: number;
  /** Bound on waiting for new targets to turn healthy (match, or blue scaled back before a rollback). */
  scaleTimeoutMs: number;
  /** Opt-in: after success and blueKeepMs, `promote --scale-down-blue` sets blue to its minimum. */
  scaleDownBlue: boolean;
  blueKeepMs: number;
}

export function capacityPolicyOf(rollout: Pick<RolloutConfig, "capacity" | "blueKeepSeconds">): CapacityPolicy {
  return {
    mode: rollout.capacity.mode,
    headroom: rollout.capacity.headroom,
    scaleTimeoutMs: rollout.capacity.scaleTimeoutSeconds * 1000,
    scaleDownBlue: rollout.capacity.scaleDownBlue,
    blueKeepMs: rollout.blueKeepSeconds * 1000,
  };
}

/** A plan recorded before capacity existed carries no policy: the check still runs with these. */
export const DEFAULT_CAPACITY_POLICY: CapacityPolicy = Object.freeze(capacityPolicyOf(ROLLOUT_DEFAULTS));

/**
 * Healthy green targets needed to carry `greenPercent` of blue's in-service capacity.
 * A tiny epsilon absorbs floating-point noise (10 × 0.3 × 1 is 3.0000000000000004, not 3).
 */
export function requiredGreenTargets(blueInService: number, greenPercent: number, headroom: number, minHealthyTargets = 1): number {
  const exact = (Math.max(0, blueInService) * greenPercent * (1 + Math.max(0, headroom))) / 100;
  return Math.max(minHealthyTargets, Math.ceil(exact - 1e-9));
}

export interface CapacityVerdict {
  ok: boolean;
  required: number;
  detail: string;
}

/** Can green (its target health now) carry `greenPercent`, given blue's in-service capacity? */
export function judgeCapacity(input: {
  blueInService: number;
  /** Where blueInService came from, for the message ("Auto Scaling group", "healthy targets"). */
  blueSource: string;
  green: TargetHealth;
  greenPercent: number;
  headroom: number;
  minHealthyTargets: number;
}): CapacityVerdict {
  const required = requiredGreenTargets(input.blueInService, input.greenPercent, input.headroom, input.minHealthyTargets);
  const ok = input.green.healthy >= required;
  const headroom = input.headroom > 0 ? ` × (1 + ${input.headroom} headroom)` : "";
  const detail =
    `green has ${input.green.healthy} healthy target(s); ${input.greenPercent}% of blue's ${input.blueInService} in service (${input.blueSource})${headroom} ` +
    `needs ≥ ${required}` +
    (ok ? "" : `: green cannot carry ${input.greenPercent}%. Scale green up (or set rollout.capacity.mode: match)`);
  return { ok, required, detail };
}

export type MatchDecision = { action: "none"; detail: string } | { action: "scale"; to: number; detail: string } | { action: "refuse"; detail: string };

/** mode "match": what to do with green's desired capacity so it equals blue's. */
export function matchGreenToBlue(blue: ColorCapacity, green: ColorCapacity): MatchDecision {
  if (green.desired >= blue.desired) {
    return { action: "none", detail: `green's desired capacity ${green.desired} already ≥ blue's ${blue.desired}` };
  }
  if (blue.desired > green.max) {
    return {
      action: "refuse",
      detail: `green's Auto Scaling group allows at most ${green.max} instance(s), blue wants ${blue.desired}: raise app.green.maxSize (the program owns min/max) and run \`pulumi up\``,
    };
  }
  return { action: "scale", to: blue.desired, detail: `green's desired capacity ${green.desired} → ${blue.desired} (blue's desired)` };
}

/** What the journal keeps about the capacity changes the scripts made (desired capacity is theirs). */
export interface CapacityRecord {
  /** mode match: green raised before the first shift. */
  greenScaled: { from: number; to: number; at: number } | null;
  /** After success + blueKeep: blue lowered to its minimum; `from` is what a rollback restores. */
  blueScaledDown: { from: number; to: number; at: number } | null;
  /** A rollback raised blue back before flipping. */
  blueRestored: { to: number; at: number; waitedMs: number } | null;
}

export function emptyCapacityRecord(): CapacityRecord {
  return { greenScaled: null, blueScaledDown: null, blueRestored: null };
}
