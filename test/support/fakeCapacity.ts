// A fake of both colors' Auto Scaling groups and their target groups on the virtual clock: one
// object is the CapacityManager and the HealthProbe, so target health follows capacity the way it
// does on AWS. A new instance is Pending for `launchMs`, then InService but still "initial" in the
// target group until it passes `healthyThreshold × interval` (`healthCheckMs`); an instance may be
// told never to turn healthy (a bad image). Scaling in removes the newest instances at once
// (draining targets serve nothing). setDesired refuses values outside min..max like AWS does
// (ValidationError), and both calls can be made to fail.

import type { CapacityManager, Clock, Color, ColorCapacity, HealthProbe, TargetHealth } from "../../scripts/core/ports.js";

interface Instance {
  id: string;
  inServiceAt: number;
  healthyAt: number;
  /** Never passes its health check. */
  broken: boolean;
}

export interface FakeGroupOptions {
  desired: number;
  min?: number;
  max?: number;
}

export class FakeFleet implements CapacityManager, HealthProbe {
  /** Pending → InService. */
  launchMs = 90_000;
  /** InService → healthy in the target group. */
  healthCheckMs = 30_000;
  error: Error | null = null;
  readonly setDesiredCalls: { color: Color; desired: number; at: number }[] = [];
  capacityCalls = 0;
  healthCalls = 0;
  /** The next instances launched for a color never turn healthy. */
  readonly brokenLaunches: Record<Color, number> = { blue: 0, green: 0 };
  private readonly groups: Record<Color, { min: number; max: number; desired: number; instances: Instance[] }>;
  private serial = 0;

  constructor(
    private readonly clock: Clock,
    groups: Record<Color, FakeGroupOptions>,
  ) {
    const make = (color: Color, options: FakeGroupOptions) => {
      const group = { min: options.min ?? 0, max: options.max ?? 10, desired: options.desired, instances: [] as Instance[] };
      // Instances that exist at the start are in service and healthy already.
      for (let i = 0; i < options.desired; i++)
        group.instances.push({ id: this.nextId(color), inServiceAt: clock.now(), healthyAt: clock.now(), broken: false });
      return group;
    };
    this.groups = { blue: make("blue", groups.blue), green: make("green", groups.green) };
  }

  private nextId(color: Color): string {
    this.serial += 1;
    return `i-${color}-${String(this.serial).padStart(4, "0")}`;
  }

  describeScale(color: Color): string {
    return `SetDesiredCapacity fake-${color}-asg`;
  }

  async capacity(color: Color): Promise<ColorCapacity> {
    this.capacityCalls += 1;
    if (this.error) throw this.error;
    const group = this.groups[color];
    const now = this.clock.now();
    return { inService: group.instances.filter((i) => i.inServiceAt <= now).length, desired: group.desired, min: group.min, max: group.max };
  }

  async setDesired(color: Color, desired: number): Promise<void> {
    if (this.error) throw this.error;
    const group = this.groups[color];
    if (desired < group.min || desired > group.max) {
      throw Object.assign(new Error(`New SetDesiredCapacity value ${desired} is outside the bounds ${group.min}..${group.max}`), { name: "ValidationError" });
    }
    this.setDesiredCalls.push({ color, desired, at: this.clock.now() });
    group.desired = desired;
    const now = this.clock.now();
    while (group.instances.length > desired) group.instances.pop();
    while (group.instances.length < desired) {
      const broken = this.brokenLaunches[color] > 0;
      if (broken) this.brokenLaunches[color] -= 1;
      group.instances.push({ id: this.nextId(color), inServiceAt: now + this.launchMs, healthyAt: now + this.launchMs + this.healthCheckMs, broken });
    }
  }

  async health(color: Color): Promise<TargetHealth> {
    this.healthCalls += 1;
    if (this.error) throw this.error;
    const now = this.clock.now();
    const registered = this.groups[color].instances.filter((i) => i.inServiceAt <= now);
    const healthy = registered.filter((i) => !i.broken && i.healthyAt <= now).length;
    const unhealthy = registered.filter((i) => i.broken && i.healthyAt <= now).length;
    return { healthy, unhealthy, total: registered.length };
  }

  /** An instance fails its health check from now on (and the ASG does not replace it in this fake). */
  breakInstance(color: Color): void {
    const instance = this.groups[color].instances.find((i) => !i.broken);
    if (instance) instance.broken = true;
  }

  desired(color: Color): number {
    return this.groups[color].desired;
  }
}
