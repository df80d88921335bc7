// The production forward action, built from config weights by one small validated factory
// (in the spirit of aws-cdk's ApplicationListenerAction.weightedForward). Pure: no Pulumi
// runtime, no AWS calls, so it is property-tested in test/unit/weights.test.ts.
//
// The object is the `defaultActions[]` entry of an aws.lb.Listener (Pulumi's `forward` block,
// which the provider sends as the ELBv2 `ForwardConfig` with `TargetGroups[].Weight` and
// `TargetGroupStickinessConfig`). The scripts read the same structure back through the ELBv2
// API to verify weights, so both sides speak the same two-group forward.

/** Stack colors, in the order the forward action lists them. */
export const COLORS = ["blue", "green"] as const;
export type Color = (typeof COLORS)[number];

/** ALB target-group weights are integers 0–999 (our config uses percent, 0–100). */
export const MAX_ALB_WEIGHT = 999;
/** ALB target-group stickiness: 1 second to 7 days. */
export const MAX_STICKINESS_SECONDS = 604_800;

export interface ColorWeights {
  blue: number;
  green: number;
}

export interface ForwardTargetGroup<A> {
  arn: A;
  weight: number;
}

export interface ForwardAction<A> {
  type: "forward";
  forward: {
    targetGroups: ForwardTargetGroup<A>[];
    stickiness: { enabled: boolean; duration: number };
  };
}

export class WeightError extends Error {
  override name = "WeightError";
}

/** Throws WeightError unless both weights are integers 0–999 with a positive sum. */
export function validateWeights(weights: ColorWeights): void {
  for (const color of COLORS) {
    const weight = weights[color];
    if (!Number.isInteger(weight)) throw new WeightError(`weights.${color}: must be an integer (got ${weight})`);
    if (weight < 0 || weight > MAX_ALB_WEIGHT) throw new WeightError(`weights.${color}: must be between 0 and ${MAX_ALB_WEIGHT} (got ${weight})`);
  }
  if (weights.blue + weights.green <= 0) throw new WeightError("weights: at least one color must have a weight above 0");
}

/** Throws WeightError unless `seconds` is null (off) or an integer 1–604800. */
export function validateStickiness(seconds: number | null): void {
  if (seconds === null) return;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_STICKINESS_SECONDS) {
    throw new WeightError(`stickiness: must be null (off) or an integer between 1 and ${MAX_STICKINESS_SECONDS} seconds (got ${seconds})`);
  }
}

/**
 * The weighted forward to both target groups. Both groups are always listed, a zero weight
 * included, so the scripts only ever change numbers, never the shape of the action.
 *
 * @param stickinessSeconds group stickiness duration, or null for off. When off the block is still
 *   sent as `{ enabled: false, duration: 1 }` (the provider requires a duration in the block).
 */
export function forwardAction<A>(weights: ColorWeights, targetGroupArns: Record<Color, A>, stickinessSeconds: number | null): ForwardAction<A> {
  validateWeights(weights);
  validateStickiness(stickinessSeconds);
  return {
    type: "forward",
    forward: {
      targetGroups: COLORS.map((color) => ({ arn: targetGroupArns[color], weight: weights[color] })),
      stickiness: stickinessSeconds === null ? { enabled: false, duration: 1 } : { enabled: true, duration: stickinessSeconds },
    },
  };
}

/** Config stickiness (`false` or `{ durationSeconds }`) → seconds or null. */
export function stickinessSeconds(stickiness: false | { durationSeconds: number }): number | null {
  return stickiness === false ? null : stickiness.durationSeconds;
}

/** Inverse of forwardAction, for tests and drift checks: the weights an action carries, by ARN. */
export function weightsOf<A>(action: ForwardAction<A>, targetGroupArns: Record<Color, A>): ColorWeights {
  const find = (color: Color) => action.forward.targetGroups.find((group) => group.arn === targetGroupArns[color])?.weight ?? 0;
  return { blue: find("blue"), green: find("green") };
}
