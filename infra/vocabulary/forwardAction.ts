// The production forward action, one model for both of its writers: the Pulumi program
// (infra/weights.ts renders it as the `defaultActions[]` args of an aws.lb.Listener) and the
// scripts (scripts/aws/albRouter.ts renders it as an ELBv2 SDK `Action` and reads it back).
// Pure: no Pulumi runtime, no SDK, so infra/ and scripts/aws may both import it.
//
// The weight rule (ELBv2 API, TargetGroupTuple.Weight: "The range is 0 to 999"): each target
// group's weight is an integer 0–999, and at least one must be above 0 (with every weight 0 the
// ALB answers 503). Weights are relative: traffic share = weight / sum. Our config and the engine
// speak percent (integers 0–100 summing to 100), which map 1:1 onto ALB weights: percent p is
// written as weight p. Nothing is rescaled or rounded, on the way out or on the way back: a route
// reads back the raw weights it carries, so 999/1 reads as 999/1, never as "100/0".
//
// Stickiness (TargetGroupStickinessConfig): on with a duration of 1–604800 s, or off. Off is
// rendered with duration 1 on both sides: the Pulumi provider requires a duration in the block,
// and the ELBv2 API accepts (and ignores) one while stickiness is disabled, so both writers send
// the same numbers and a read-back of either compares equal.

import { COLORS, type Color, type Weights } from "./colors.js";

/** ALB target-group weights are integers 0–999. */
export const MAX_ALB_WEIGHT = 999;
/** ALB target-group stickiness: 1 second to 7 days. */
export const MAX_STICKINESS_SECONDS = 604_800;
/** The duration sent while stickiness is off (the provider requires one). */
export const STICKINESS_OFF_DURATION = 1;

export interface ForwardStickiness {
  enabled: boolean;
  durationSeconds: number;
}

/** A weighted forward to both colors' target groups; A is the ARN type (string, or a Pulumi Output). */
export interface ForwardModel<A> {
  targetGroups: Array<{ color: Color; arn: A; weight: number }>;
  stickiness: ForwardStickiness;
}

export class WeightError extends Error {
  override name = "WeightError";
}

/** Throws WeightError unless both weights are integers 0–999 with a positive sum (the ELBv2 rule). */
export function validateAlbWeights(weights: Weights): void {
  for (const color of COLORS) {
    const weight = weights[color];
    if (!Number.isInteger(weight)) throw new WeightError(`weights.${color}: must be an integer (got ${weight})`);
    if (weight < 0 || weight > MAX_ALB_WEIGHT) throw new WeightError(`weights.${color}: must be between 0 and ${MAX_ALB_WEIGHT} (got ${weight})`);
  }
  if (weights.blue + weights.green <= 0) throw new WeightError("weights: at least one color must have a weight above 0");
}

/** Throws WeightError unless both weights are integer percent summing to 100 (what the engine writes). */
export function validatePercentWeights(weights: Weights): void {
  for (const color of COLORS) {
    const value = weights[color];
    if (!Number.isInteger(value) || value < 0 || value > 100) throw new WeightError(`weight ${color} must be an integer 0–100 (got ${value})`);
  }
  if (weights.blue + weights.green !== 100) throw new WeightError(`weights must sum to 100 (got ${weights.blue} + ${weights.green})`);
}

/** Throws WeightError unless `seconds` is null (off) or an integer 1–604800. */
export function validateStickiness(seconds: number | null): void {
  if (seconds === null) return;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_STICKINESS_SECONDS) {
    throw new WeightError(`stickiness: must be null (off) or an integer between 1 and ${MAX_STICKINESS_SECONDS} seconds (got ${seconds})`);
  }
}

export function stickinessOf(seconds: number | null): ForwardStickiness {
  return seconds === null ? { enabled: false, durationSeconds: STICKINESS_OFF_DURATION } : { enabled: true, durationSeconds: seconds };
}

/**
 * The validated factory: both groups are always listed, a zero weight included, so a weight change
 * only ever changes numbers, never the shape of the action.
 */
export function forwardModel<A>(weights: Weights, targetGroupArns: Record<Color, A>, stickinessSeconds: number | null): ForwardModel<A> {
  validateAlbWeights(weights);
  validateStickiness(stickinessSeconds);
  return {
    targetGroups: COLORS.map((color) => ({ color, arn: targetGroupArns[color], weight: weights[color] })),
    stickiness: stickinessOf(stickinessSeconds),
  };
}

/** The weights a model carries, raw (no normalisation). */
export function modelWeights<A>(model: ForwardModel<A>): Weights {
  const weightOf = (color: Color) => model.targetGroups.filter((group) => group.color === color).reduce((sum, group) => sum + group.weight, 0);
  return { blue: weightOf("blue"), green: weightOf("green") };
}

/** Stickiness in seconds, null when off. */
export function modelStickinessSeconds<A>(model: ForwardModel<A>): number | null {
  return model.stickiness.enabled ? model.stickiness.durationSeconds : null;
}
