// One forward-action model (scripts/core/forwardAction.ts) rendered twice: as Pulumi args
// (infra/weights.ts) and as an ELBv2 SDK Action (scripts/aws/albRouter.ts). Round trips over many
// inputs (fast-check): what either side writes, the scripts read back exactly, with the same
// numbers on both sides, stickiness included.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { forwardAction as pulumiAction, pulumiForwardAction } from "../../infra/weights.js";
import { modelFromActions, sdkForwardAction, weightedForwardAction, weightsFromActions } from "../../scripts/aws/albRouter.js";
import { forwardModel, MAX_ALB_WEIGHT, MAX_STICKINESS_SECONDS, modelWeights, WeightError } from "../../infra/vocabulary/forwardAction.js";

const TG = {
  blue: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/bg-blue/0123456789abcdef",
  green: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/bg-green/fedcba9876543210",
};
const albWeight = fc.integer({ min: 0, max: MAX_ALB_WEIGHT });
const albWeights = fc.record({ blue: albWeight, green: albWeight }).filter((w) => w.blue + w.green > 0);
const percent = fc.integer({ min: 0, max: 100 }).map((blue) => ({ blue, green: 100 - blue }));
const stickiness = fc.option(fc.integer({ min: 1, max: MAX_STICKINESS_SECONDS }), { nil: null });

describe("the forward-action model, rendered for Pulumi and for the SDK", () => {
  it("round-trips through the SDK Action exactly: model → Action → model, raw weights and stickiness", () => {
    fc.assert(
      fc.property(albWeights, stickiness, (weights, seconds) => {
        const model = forwardModel(weights, TG, seconds);
        const action = sdkForwardAction(model);
        expect(modelFromActions("listener", [action], TG)).toEqual(model);
        expect(weightsFromActions("listener", [action], TG)).toEqual({ route: "listener", weights, stickinessSeconds: seconds });
      }),
      { numRuns: 500 },
    );
  });

  it("both renderings carry the same target groups, weights and stickiness numbers", () => {
    fc.assert(
      fc.property(albWeights, stickiness, (weights, seconds) => {
        const model = forwardModel(weights, TG, seconds);
        const sdk = sdkForwardAction(model).ForwardConfig!;
        const pulumi = pulumiForwardAction(model).forward;
        expect(sdk.TargetGroups!.map((t) => ({ arn: t.TargetGroupArn, weight: t.Weight }))).toEqual(pulumi.targetGroups);
        expect({ enabled: sdk.TargetGroupStickinessConfig!.Enabled, duration: sdk.TargetGroupStickinessConfig!.DurationSeconds }).toEqual(pulumi.stickiness);
        expect(pulumiAction(weights, TG, seconds)).toEqual(pulumiForwardAction(model));
      }),
      { numRuns: 500 },
    );
  });

  it("what the Pulumi program declares reads back through the scripts' parser as the same weights", () => {
    fc.assert(
      fc.property(albWeights, stickiness, (weights, seconds) => {
        const declared = pulumiAction(weights, TG, seconds).forward;
        // The provider sends the block as ELBv2 ForwardConfig; DescribeListeners returns it in that shape.
        const described = {
          Type: "forward" as const,
          ForwardConfig: {
            TargetGroups: declared.targetGroups.map((t) => ({ TargetGroupArn: t.arn, Weight: t.weight })),
            TargetGroupStickinessConfig: { Enabled: declared.stickiness.enabled, DurationSeconds: declared.stickiness.duration },
          },
        };
        expect(weightsFromActions("l", [described], TG)).toEqual({ route: "l", weights, stickinessSeconds: seconds });
      }),
    );
  });

  it("percent weights (the engine's) map 1:1 onto ALB weights: what is written is what is compared", () => {
    fc.assert(
      fc.property(percent, stickiness, (weights, seconds) => {
        const action = weightedForwardAction({ targetGroupArns: TG, stickinessSeconds: seconds }, weights);
        expect(action.ForwardConfig!.TargetGroups!.map((t) => t.Weight)).toEqual([weights.blue, weights.green]);
        expect(weightsFromActions("l", [action], TG).weights).toEqual(weights);
      }),
    );
  });

  it("never rounds: a green weight above 0 reads back above 0, however small its share", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_ALB_WEIGHT }), fc.integer({ min: 1, max: MAX_ALB_WEIGHT }), (blue, green) => {
        const action = sdkForwardAction(forwardModel({ blue, green }, TG, null));
        expect(weightsFromActions("l", [action], TG).weights.green).toBe(green);
      }),
    );
    expect(modelWeights(modelFromActions("l", [sdkForwardAction(forwardModel({ blue: 999, green: 1 }, TG, null))], TG))).toEqual({ blue: 999, green: 1 });
  });

  it("refuses, on either side, what ELBv2 refuses: weights outside 0–999, non-integers, all zero", () => {
    for (const bad of [
      { blue: 1000, green: 0 },
      { blue: -1, green: 5 },
      { blue: 0.5, green: 1 },
      { blue: 0, green: 0 },
    ]) {
      expect(() => forwardModel(bad, TG, null)).toThrow(WeightError);
      expect(() => pulumiAction(bad, TG, null)).toThrow(WeightError);
    }
    // The engine writes percent only: 999/1 is a valid ALB action but never a percent write.
    expect(() => weightedForwardAction({ targetGroupArns: TG, stickinessSeconds: null }, { blue: 999, green: 1 })).toThrow(/0–100/);
  });
});
