// TrafficRouter over the ELBv2 API: the production forward action of each listener
// (ModifyListener DefaultActions) carries a ForwardConfig with both target groups and their weights.
//
// - Listeners are addressed by ARN from the stack outputs; never an account-wide scan.
// - The action is the one forward-action model (scripts/core/forwardAction.ts) rendered as an SDK
//   `Action`; the engine's percent weights are written 1:1 as ALB weights (0–999, see there).
// - Read-back is raw: the weights each route carries, never normalised or rounded, so the engine
//   compares exactly what it wrote (a listener at 999/1 reads back as 999/1).
// - The stickiness config (TargetGroupStickinessConfig) is written on every call from the stack
//   outputs, so a weight change never switches stickiness off or on.
// - All writes go out in parallel (one call per listener); the engine verifies by reading back
//   (one DescribeListeners call for all of them).
// - Every call carries the command's AbortSignal (its deadline), when it has one.
//
// Imports only the ELBv2 client: this module is on `npm run rollback`'s start-up path.

import type { Action, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Color, RouteWeights, TrafficRouter, Weights } from "../core/ports.js";
import { UnreachableError } from "../core/errors.js";
import {
  forwardModel,
  modelStickinessSeconds,
  modelWeights,
  stickinessOf,
  validatePercentWeights,
  type ForwardModel,
} from "../../infra/vocabulary/forwardAction.js";
import { AwsCallError, awsCall, classifyAwsError, sendOptions, type SignalSource } from "./errors.js";
import { elbSdk } from "./sdk.js";

const { DescribeListenersCommand, ModifyListenerCommand } = elbSdk();

export interface AlbRouterTargets {
  /** Listeners whose default action forwards production traffic to both colors. */
  listenerArns: readonly string[];
  targetGroupArns: Record<Color, string>;
  /** Stickiness duration in seconds, null when off; kept on every write. */
  stickinessSeconds: number | null;
}

/** Check a weight pair before it reaches AWS: integers 0–100 summing to 100 (the engine's percent). */
export function assertWeights(weights: Weights): void {
  try {
    validatePercentWeights(weights);
  } catch (error) {
    throw new RangeError((error as Error).message);
  }
}

/** The model rendered as an ELBv2 SDK Action (ModifyListener DefaultActions / ModifyRule Actions). */
export function sdkForwardAction(model: ForwardModel<string>): Action {
  return {
    Type: "forward",
    ForwardConfig: {
      TargetGroups: model.targetGroups.map((group) => ({ TargetGroupArn: group.arn, Weight: group.weight })),
      TargetGroupStickinessConfig: { Enabled: model.stickiness.enabled, DurationSeconds: model.stickiness.durationSeconds },
    },
  };
}

/** The forward action for a percent weight pair: a validated factory, never a raw object at call sites. */
export function weightedForwardAction(targets: Pick<AlbRouterTargets, "targetGroupArns" | "stickinessSeconds">, weights: Weights): Action {
  assertWeights(weights);
  return sdkForwardAction(forwardModel(weights, targets.targetGroupArns, targets.stickinessSeconds));
}

/**
 * Parse a route's actions back into the model. Throws when it forwards anywhere but blue and green.
 * A tuple without a Weight has the ALB default weight of 1; a plain forward (TargetGroupArn, no
 * ForwardConfig) sends everything to its group, read as weight 1 there and 0 on the other.
 */
export function modelFromActions(route: string, actions: readonly Action[] | undefined, targetGroupArns: Record<Color, string>): ForwardModel<string> {
  const forward = (actions ?? []).find((action) => action.Type === "forward");
  if (!forward) throw new Error(`${route} has no forward action (found: ${(actions ?? []).map((a) => a.Type).join(", ") || "none"})`);
  const colorOf = (arn: string | undefined): Color => {
    if (arn === targetGroupArns.blue) return "blue";
    if (arn === targetGroupArns.green) return "green";
    throw new Error(`${route} forwards to a target group that is neither blue nor green: ${arn ?? "(none)"}`);
  };
  const tuples = forward.ForwardConfig?.TargetGroups;
  const groups =
    tuples && tuples.length > 0
      ? tuples.map((tuple) => ({ color: colorOf(tuple.TargetGroupArn), arn: tuple.TargetGroupArn!, weight: tuple.Weight ?? 1 }))
      : [{ color: colorOf(forward.TargetGroupArn), arn: forward.TargetGroupArn!, weight: 1 }];
  const stickiness = forward.ForwardConfig?.TargetGroupStickinessConfig;
  return {
    targetGroups: groups,
    stickiness: stickiness?.Enabled ? stickinessOf(stickiness.DurationSeconds ?? null) : stickinessOf(null),
  };
}

/** A route's raw weights and stickiness. Throws when it forwards elsewhere or with every weight 0. */
export function weightsFromActions(route: string, actions: readonly Action[] | undefined, targetGroupArns: Record<Color, string>): RouteWeights {
  const model = modelFromActions(route, actions, targetGroupArns);
  const weights = modelWeights(model);
  if (weights.blue + weights.green === 0) throw new Error(`${route} forwards with every weight 0: the ALB answers 503 for this route`);
  return { route, weights, stickinessSeconds: modelStickinessSeconds(model) };
}

export interface AlbRouterOptions {
  /** The AbortSignal for each call (the command's deadline). */
  signal?: SignalSource;
}

export class AlbRouter implements TrafficRouter {
  constructor(
    private readonly client: ElasticLoadBalancingV2Client,
    private readonly targets: AlbRouterTargets,
    private readonly options: AlbRouterOptions = {},
  ) {
    if (targets.listenerArns.length === 0) throw new Error("no listener ARN to route traffic with");
  }

  describeWrites(): string[] {
    const stickiness = this.targets.stickinessSeconds === null ? "stickiness off" : `stickiness ${this.targets.stickinessSeconds}s kept`;
    return this.targets.listenerArns.map((arn) => `ModifyListener ${arn} DefaultActions=[forward blue/green weighted, ${stickiness}]`);
  }

  async writeWeights(weights: Weights): Promise<void> {
    const abort = this.options.signal?.();
    const action = weightedForwardAction(this.targets, weights);
    const calls = this.targets.listenerArns.map((arn) => ({
      call: `ModifyListener ${arn}`,
      send: () => this.client.send(new ModifyListenerCommand({ ListenerArn: arn, DefaultActions: [action] }), sendOptions(abort)),
    }));
    // In parallel: a rollback should not wait for one route before it moves the next.
    const results = await Promise.allSettled(calls.map(({ send }) => send()));
    const failures = results.flatMap((result, index) => (result.status === "rejected" ? [classifyAwsError(result.reason, calls[index]!.call, abort)] : []));
    if (failures.length === 1) throw failures[0]!;
    if (failures.length > 1) {
      const message = `${failures.length} of ${calls.length} weight writes failed:\n  ${failures.map((f) => f.message).join("\n  ")}`;
      throw failures.every((f) => f instanceof UnreachableError) ? new UnreachableError(message) : new AwsCallError(message, "MultipleFailures");
    }
  }

  async readWeights(): Promise<RouteWeights[]> {
    const abort = this.options.signal?.();
    const { listenerArns, targetGroupArns } = this.targets;
    const out = await awsCall(
      `DescribeListeners ${listenerArns.join(",")}`,
      () => this.client.send(new DescribeListenersCommand({ ListenerArns: [...listenerArns] }), sendOptions(abort)),
      abort,
    );
    const listeners = out.Listeners ?? [];
    return listenerArns.map((arn) => {
      const listener = listeners.find((l) => l.ListenerArn === arn);
      if (!listener) throw new Error(`DescribeListeners did not return listener ${arn}`);
      return weightsFromActions(arn, listener.DefaultActions, targetGroupArns);
    });
  }
}
