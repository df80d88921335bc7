// TrafficRouter over the ELBv2 API: the production forward action of each listener
// (ModifyListener DefaultActions) and each listener rule (ModifyRule Actions) carries a
// ForwardConfig with both target groups and their weights.
//
// - Listeners and rules are addressed by ARN from the stack outputs; never an account-wide scan.
// - Weights are written in percent (ALB accepts 0–999 per target group; the ratio is what counts).
// - The stickiness config (TargetGroupStickinessConfig) is written on every call from the stack
//   outputs, so a weight change never switches stickiness off or on.
// - All writes go out in parallel (one call per listener or rule); the engine verifies by reading back
//   (one DescribeListeners and one DescribeRules call for all of them).
//
// Imports only the ELBv2 client: this module is on `npm run rollback`'s start-up path.

import type { Action, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Color, RouteWeights, TrafficRouter, Weights } from "../core/ports.js";
import { UnreachableError } from "../core/errors.js";
import { AwsCallError, awsCall, classifyAwsError } from "./errors.js";
import { elbSdk } from "./sdk.js";

const { DescribeListenersCommand, DescribeRulesCommand, ModifyListenerCommand, ModifyRuleCommand } = elbSdk();

export interface AlbRouterTargets {
  /** Listeners whose default action forwards production traffic to both colors. */
  listenerArns: readonly string[];
  /** Listener rules that forward production traffic to both colors (not the test-header rules). */
  ruleArns: readonly string[];
  targetGroupArns: Record<Color, string>;
  /** Stickiness duration in seconds, null when off; kept on every write. */
  stickinessSeconds: number | null;
}

/** Check a weight pair before it reaches AWS: integers 0–100 summing to 100. */
export function assertWeights(weights: Weights): void {
  for (const color of ["blue", "green"] as const) {
    const value = weights[color];
    if (!Number.isInteger(value) || value < 0 || value > 100) throw new RangeError(`weight ${color} must be an integer 0–100 (got ${value})`);
  }
  if (weights.blue + weights.green !== 100) throw new RangeError(`weights must sum to 100 (got ${weights.blue} + ${weights.green})`);
}

/** The forward action for a weight pair: a validated factory, never a raw object at call sites. */
export function weightedForwardAction(targets: Pick<AlbRouterTargets, "targetGroupArns" | "stickinessSeconds">, weights: Weights): Action {
  assertWeights(weights);
  return {
    Type: "forward",
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: targets.targetGroupArns.blue, Weight: weights.blue },
        { TargetGroupArn: targets.targetGroupArns.green, Weight: weights.green },
      ],
      TargetGroupStickinessConfig:
        targets.stickinessSeconds === null ? { Enabled: false } : { Enabled: true, DurationSeconds: targets.stickinessSeconds },
    },
  };
}

/** Read the weights and stickiness out of a route's actions. Throws when it forwards anywhere else. */
export function weightsFromActions(route: string, actions: readonly Action[] | undefined, targetGroupArns: Record<Color, string>): RouteWeights {
  const forward = (actions ?? []).find((action) => action.Type === "forward");
  if (!forward) throw new Error(`${route} has no forward action (found: ${(actions ?? []).map((a) => a.Type).join(", ") || "none"})`);
  const raw: Weights = { blue: 0, green: 0 };
  const colorOf = (arn: string | undefined): Color => {
    if (arn === targetGroupArns.blue) return "blue";
    if (arn === targetGroupArns.green) return "green";
    throw new Error(`${route} forwards to a target group that is neither blue nor green: ${arn ?? "(none)"}`);
  };
  const tuples = forward.ForwardConfig?.TargetGroups;
  if (tuples && tuples.length > 0) {
    // A tuple without a Weight has the ALB default weight of 1.
    for (const tuple of tuples) raw[colorOf(tuple.TargetGroupArn)] += tuple.Weight ?? 1;
  } else {
    raw[colorOf(forward.TargetGroupArn)] = 1;
  }
  const sum = raw.blue + raw.green;
  if (sum === 0) throw new Error(`${route} forwards with every weight 0: the ALB answers 503 for this route`);
  const blue = Math.round((raw.blue * 100) / sum);
  const stickiness = forward.ForwardConfig?.TargetGroupStickinessConfig;
  return {
    route,
    weights: { blue, green: 100 - blue },
    stickinessSeconds: stickiness?.Enabled ? (stickiness.DurationSeconds ?? null) : null,
  };
}

export class AlbRouter implements TrafficRouter {
  constructor(
    private readonly client: ElasticLoadBalancingV2Client,
    private readonly targets: AlbRouterTargets,
  ) {
    if (targets.listenerArns.length + targets.ruleArns.length === 0) throw new Error("no listener or rule ARN to route traffic with");
  }

  describeWrites(): string[] {
    const stickiness = this.targets.stickinessSeconds === null ? "stickiness off" : `stickiness ${this.targets.stickinessSeconds}s kept`;
    return [
      ...this.targets.listenerArns.map((arn) => `ModifyListener ${arn} DefaultActions=[forward blue/green weighted, ${stickiness}]`),
      ...this.targets.ruleArns.map((arn) => `ModifyRule ${arn} Actions=[forward blue/green weighted, ${stickiness}]`),
    ];
  }

  /** The API calls a write makes, for `--dry-run` and the plan. */
  describeWrite(weights: Weights): string[] {
    const w = `blue=${weights.blue} green=${weights.green}`;
    return [
      ...this.targets.listenerArns.map((arn) => `ModifyListener ${arn} forward ${w}`),
      ...this.targets.ruleArns.map((arn) => `ModifyRule ${arn} forward ${w}`),
    ];
  }

  async writeWeights(weights: Weights): Promise<void> {
    const action = weightedForwardAction(this.targets, weights);
    const calls: Array<{ call: string; send: () => Promise<unknown> }> = [
      ...this.targets.listenerArns.map((arn) => ({
        call: `ModifyListener ${arn}`,
        send: () => this.client.send(new ModifyListenerCommand({ ListenerArn: arn, DefaultActions: [action] })),
      })),
      ...this.targets.ruleArns.map((arn) => ({
        call: `ModifyRule ${arn}`,
        send: () => this.client.send(new ModifyRuleCommand({ RuleArn: arn, Actions: [action] })),
      })),
    ];
    // In parallel: a rollback should not wait for one route before it moves the next.
    const results = await Promise.allSettled(calls.map(({ send }) => send()));
    const failures = results.flatMap((result, index) =>
      result.status === "rejected" ? [classifyAwsError(result.reason, calls[index]!.call)] : [],
    );
    if (failures.length === 1) throw failures[0]!;
    if (failures.length > 1) {
      const message = `${failures.length} of ${calls.length} weight writes failed:\n  ${failures.map((f) => f.message).join("\n  ")}`;
      throw failures.every((f) => f instanceof UnreachableError) ? new UnreachableError(message) : new AwsCallError(message, "MultipleFailures");
    }
  }

  async readWeights(): Promise<RouteWeights[]> {
    const { listenerArns, ruleArns, targetGroupArns } = this.targets;
    const [listeners, rules] = await Promise.all([
      listenerArns.length === 0
        ? []
        : awsCall(`DescribeListeners ${listenerArns.join(",")}`, () => this.client.send(new DescribeListenersCommand({ ListenerArns: [...listenerArns] }))).then(
            (out) => out.Listeners ?? [],
          ),
      ruleArns.length === 0
        ? []
        : awsCall(`DescribeRules ${ruleArns.join(",")}`, () => this.client.send(new DescribeRulesCommand({ RuleArns: [...ruleArns] }))).then(
            (out) => out.Rules ?? [],
          ),
    ]);
    const result: RouteWeights[] = [];
    for (const arn of listenerArns) {
      const listener = listeners.find((l) => l.ListenerArn === arn);
      if (!listener) throw new Error(`DescribeListeners did not return listener ${arn}`);
      result.push(weightsFromActions(arn, listener.DefaultActions, targetGroupArns));
    }
    for (const arn of ruleArns) {
      const rule = rules.find((r) => r.RuleArn === arn);
      if (!rule) throw new Error(`DescribeRules did not return rule ${arn}`);
      result.push(weightsFromActions(arn, rule.Actions, targetGroupArns));
    }
    return result;
  }
}
