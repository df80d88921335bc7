// CapacityManager over EC2 Auto Scaling: one DescribeAutoScalingGroups per read, one
// SetDesiredCapacity per scale. The Pulumi program owns min and max; desired capacity belongs to
// the scripts (the program declares `ignoreChanges: ["desiredCapacity"]`), so a `pulumi up` never
// undoes a scale-up in the middle of a rollout.
//
// inService counts instances in lifecycle state "InService" only: Pending, Warmed and
// Terminating instances serve nothing. Whether they pass the load balancer's health check is the
// HealthProbe's business; the engine compares healthy targets with this number.

import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { CapacityManager, Color, ColorCapacity } from "../core/ports.js";
import { AwsCallError, awsCall, sendOptions, type SignalSource } from "./errors.js";
import { autoScalingSdk } from "./sdk.js";

// Loaded with require() like every SDK client (./sdk.ts); re-exported for the wiring.
export { autoScalingSdk, type AutoScalingSdk } from "./sdk.js";

export class AsgCapacity implements CapacityManager {
  private readonly sdk = autoScalingSdk();

  /** asgNames: the stack output `asgNames` (null for a disabled color). */
  constructor(
    private readonly client: AutoScalingClient,
    private readonly asgNames: Record<Color, string | null>,
    /** The AbortSignal for each call (rollback --deadline), as the other adapters take it. */
    private readonly options: { signal?: SignalSource } = {},
  ) {}

  private nameOf(color: Color): string {
    const name = this.asgNames[color];
    if (!name)
      throw new AwsCallError(
        `${color} has no Auto Scaling group in the stack outputs (asgNames.${color} is null: is the color enabled?)`,
        "NoAutoScalingGroup",
      );
    return name;
  }

  describeScale(color: Color): string {
    return `SetDesiredCapacity ${this.asgNames[color] ?? `(no ${color} Auto Scaling group)`}`;
  }

  async capacity(color: Color): Promise<ColorCapacity> {
    const name = this.nameOf(color);
    const call = `DescribeAutoScalingGroups ${name}`;
    const abort = this.options.signal?.();
    const out = await awsCall(
      call,
      () => this.client.send(new this.sdk.DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }), sendOptions(abort)),
      abort,
    );
    const group = (out.AutoScalingGroups ?? []).find((g) => g.AutoScalingGroupName === name);
    if (!group) throw new AwsCallError(`${call}: no such Auto Scaling group`, "NotFound");
    return {
      inService: (group.Instances ?? []).filter((instance) => instance.LifecycleState === "InService").length,
      desired: group.DesiredCapacity ?? 0,
      min: group.MinSize ?? 0,
      max: group.MaxSize ?? 0,
    };
  }

  async setDesired(color: Color, desired: number): Promise<void> {
    const name = this.nameOf(color);
    // HonorCooldown false: this is an operator's deliberate change, not a scaling policy's.
    const abort = this.options.signal?.();
    await awsCall(
      `SetDesiredCapacity ${name} ${desired}`,
      () =>
        this.client.send(
          new this.sdk.SetDesiredCapacityCommand({ AutoScalingGroupName: name, DesiredCapacity: desired, HonorCooldown: false }),
          sendOptions(abort),
        ),
      abort,
    );
  }
}
