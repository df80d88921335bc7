// The production forward action as Pulumi args, rendered from the one forward-action model
// (infra/vocabulary/forwardAction.ts; in the spirit of aws-cdk's ApplicationListenerAction.weightedForward).
// Pure: no Pulumi runtime, no AWS calls, so it is property-tested in test/unit/weights.test.ts.
//
// The object is the `defaultActions[]` entry of an aws.lb.Listener (Pulumi's `forward` block,
// which the provider sends as the ELBv2 `ForwardConfig` with `TargetGroups[].Weight` and
// `TargetGroupStickinessConfig`). The scripts read the same structure back through the ELBv2
// API to verify weights, so both sides speak the same two-group forward.

import {
  forwardModel,
  MAX_ALB_WEIGHT,
  MAX_STICKINESS_SECONDS,
  validateAlbWeights,
  validateStickiness,
  WeightError,
  type ForwardModel,
} from "./vocabulary/forwardAction.js";
import { COLORS, type Color, type Weights } from "./vocabulary/colors.js";

// The model and its weight rule live in the shared vocabulary (infra/vocabulary/forwardAction.ts,
// shared with the scripts' ELBv2 renderer); this file renders it as Pulumi args.
export { COLORS, MAX_ALB_WEIGHT, MAX_STICKINESS_SECONDS, validateStickiness, WeightError, type Color };

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

/** Throws WeightError unless both weights are integers 0–999 with a positive sum. */
export const validateWeights: (weights: Weights) => void = validateAlbWeights;

/** The model rendered as the Pulumi `defaultActions[]` entry (the provider's `forward` block). */
export function pulumiForwardAction<A>(model: ForwardModel<A>): ForwardAction<A> {
  return {
    type: "forward",
    forward: {
      targetGroups: model.targetGroups.map((group) => ({ arn: group.arn, weight: group.weight })),
      stickiness: { enabled: model.stickiness.enabled, duration: model.stickiness.durationSeconds },
    },
  };
}

/**
 * The weighted forward to both target groups. Both groups are always listed, a zero weight
 * included, so the scripts only ever change numbers, never the shape of the action.
 *
 * @param stickinessSeconds group stickiness duration, or null for off. When off the block is still
 *   sent as `{ enabled: false, duration: 1 }` (the provider requires a duration in the block).
 */
export function forwardAction<A>(weights: Weights, targetGroupArns: Record<Color, A>, stickinessSeconds: number | null): ForwardAction<A> {
  return pulumiForwardAction(forwardModel(weights, targetGroupArns, stickinessSeconds));
}

/** Config stickiness (`false` or `{ durationSeconds }`) → seconds or null. */
export function stickinessSeconds(stickiness: false | { durationSeconds: number }): number | null {
  return stickiness === false ? null : stickiness.durationSeconds;
}
