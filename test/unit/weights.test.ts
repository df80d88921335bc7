// forwardAction: the weights → listener default action factory, over many inputs (fast-check).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { forwardAction, MAX_ALB_WEIGHT, MAX_STICKINESS_SECONDS, stickinessSeconds, validateWeights, WeightError } from "../../infra/weights.js";

const ARNS = { blue: "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/blue/1", green: "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/green/2" };

const albWeight = fc.integer({ min: 0, max: MAX_ALB_WEIGHT });
const validWeights = fc.record({ blue: albWeight, green: albWeight }).filter((w) => w.blue + w.green > 0);
/** Config weights: percent, summing to 100. */
const percentWeights = fc.integer({ min: 0, max: 100 }).map((blue) => ({ blue, green: 100 - blue }));
const stickiness = fc.option(fc.integer({ min: 1, max: MAX_STICKINESS_SECONDS }), { nil: null });
const arnPair = fc.record({ blue: fc.string({ minLength: 1 }), green: fc.string({ minLength: 1 }) }).filter((a) => a.blue !== a.green);

describe("forwardAction", () => {
  it("lists both target groups, blue then green, with exactly the given weights", () => {
    fc.assert(
      fc.property(validWeights, arnPair, stickiness, (weights, arns, seconds) => {
        const action = forwardAction(weights, arns, seconds);
        expect(action.type).toBe("forward");
        expect(action.forward.targetGroups).toEqual([
          { arn: arns.blue, weight: weights.blue },
          { arn: arns.green, weight: weights.green },
        ]);
      }),
      { numRuns: 500 },
    );
  });

  it("keeps a zero-weight group in the action, so the scripts only ever change numbers", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_ALB_WEIGHT }), fc.boolean(), (weight, blueIsZero) => {
        const weights = blueIsZero ? { blue: 0, green: weight } : { blue: weight, green: 0 };
        expect(forwardAction(weights, ARNS, null).forward.targetGroups).toHaveLength(2);
      }),
    );
  });

  it("accepts every config split (percent, summing to 100)", () => {
    fc.assert(
      fc.property(percentWeights, stickiness, (weights, seconds) => {
        const groups = forwardAction(weights, ARNS, seconds).forward.targetGroups;
        expect(groups.reduce((sum, group) => sum + group.weight, 0)).toBe(100);
      }),
    );
  });

  it("turns stickiness on with the duration, or sends it disabled", () => {
    fc.assert(
      fc.property(validWeights, stickiness, (weights, seconds) => {
        const { stickiness: block } = forwardAction(weights, ARNS, seconds).forward;
        expect(block).toEqual(seconds === null ? { enabled: false, duration: 1 } : { enabled: true, duration: seconds });
      }),
    );
  });

  it("is pure: same input, same output, input untouched", () => {
    fc.assert(
      fc.property(validWeights, stickiness, (weights, seconds) => {
        const copy = { ...weights };
        expect(forwardAction(weights, ARNS, seconds)).toEqual(forwardAction(weights, ARNS, seconds));
        expect(weights).toEqual(copy);
      }),
    );
  });

  it("refuses weights outside 0–999", () => {
    const outside = fc.oneof(fc.integer({ min: -1_000_000, max: -1 }), fc.integer({ min: MAX_ALB_WEIGHT + 1, max: 1_000_000 }));
    fc.assert(
      fc.property(outside, albWeight, fc.boolean(), (bad, good, badIsBlue) => {
        const weights = badIsBlue ? { blue: bad, green: good } : { blue: good, green: bad };
        expect(() => forwardAction(weights, ARNS, null)).toThrow(WeightError);
        expect(() => forwardAction(weights, ARNS, null)).toThrow(`weights.${badIsBlue ? "blue" : "green"}: must be between 0 and 999 (got ${bad})`);
      }),
    );
  });

  it("refuses non-integer weights", () => {
    const fraction = fc.double({ min: 0, max: MAX_ALB_WEIGHT, noNaN: true }).filter((x) => !Number.isInteger(x));
    fc.assert(
      fc.property(fraction, (weight) => {
        expect(() => forwardAction({ blue: weight, green: 1 }, ARNS, null)).toThrow(`weights.blue: must be an integer (got ${weight})`);
      }),
    );
    expect(() => validateWeights({ blue: Number.NaN, green: 1 })).toThrow(WeightError);
    expect(() => validateWeights({ blue: Infinity, green: 1 })).toThrow(WeightError);
  });

  it("refuses two zero weights: nothing would receive traffic", () => {
    expect(() => forwardAction({ blue: 0, green: 0 }, ARNS, null)).toThrow("weights: at least one color must have a weight above 0");
  });

  it("refuses a stickiness duration outside 1–604800 seconds", () => {
    const bad = fc.oneof(
      fc.integer({ max: 0 }),
      fc.integer({ min: MAX_STICKINESS_SECONDS + 1 }),
      fc.double({ min: 1.01, max: 2, noNaN: true }).filter((x) => !Number.isInteger(x)),
    );
    fc.assert(
      fc.property(bad, (seconds) => {
        expect(() => forwardAction({ blue: 100, green: 0 }, ARNS, seconds)).toThrow(/^stickiness: /);
      }),
    );
  });
});

describe("stickinessSeconds", () => {
  it("maps config stickiness to seconds or null", () => {
    expect(stickinessSeconds(false)).toBeNull();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_STICKINESS_SECONDS }), (durationSeconds) => {
        expect(stickinessSeconds({ durationSeconds })).toBe(durationSeconds);
      }),
    );
  });
});
