// CapacityManager over the sandbox: a color's "Auto Scaling group" is its pool of app
// processes behind the local router. inService counts the processes that listen; setDesired
// starts more in the background, like an ASG accepting a new desired capacity: each new process
// takes its share of the color's requests once it listens, and the engine waits for it to turn
// healthy through the HealthProbe exactly as on AWS. The sandbox does not scale in.

import type { CapacityManager, Color, ColorCapacity } from "../core/ports.js";
import type { AppProcess } from "./processes.js";

export interface InstancePools {
  readonly pools: Record<Color, AppProcess[]>;
  addInstance(color: Color): Promise<AppProcess>;
}

export class SandboxCapacity implements CapacityManager {
  private readonly pending: Record<Color, number> = { blue: 0, green: 0 };

  constructor(
    private readonly sandbox: InstancePools,
    private readonly max = 4,
  ) {}

  describeScale(color: Color): string {
    return `start ${color} app processes behind the local router (at most ${this.max})`;
  }

  async capacity(color: Color): Promise<ColorCapacity> {
    const running = this.sandbox.pools[color].filter((app) => !app.exited()).length;
    return { inService: running, desired: this.sandbox.pools[color].length + this.pending[color], min: 1, max: this.max };
  }

  async setDesired(color: Color, desired: number): Promise<void> {
    const current = this.sandbox.pools[color].length + this.pending[color];
    if (!Number.isInteger(desired) || desired < 1 || desired > this.max) throw new Error(`desired capacity ${desired} is outside 1..${this.max} for ${color}`);
    if (desired < current) throw new Error(`the sandbox does not scale ${color} in (${current} → ${desired})`);
    for (let i = current; i < desired; i++) {
      this.pending[color] += 1;
      // Accepted now, running later (the engine waits for healthy targets); a start that fails shows as missing capacity.
      void this.sandbox
        .addInstance(color)
        .catch(() => undefined)
        .finally(() => (this.pending[color] -= 1));
    }
  }
}

/** The demo's capacity options (DemoOptions.instances / capacityMode). */
export interface DemoCapacityOptions {
  instances?: Record<Color, number>;
  capacityMode?: "check" | "match";
}

/** With mode "check", a green smaller than blue cannot carry 100%: the capacity check must stop the cutover. */
export function expectsCapacityRefusal(options: DemoCapacityOptions): boolean {
  return (options.capacityMode ?? "check") === "check" && (options.instances?.green ?? 1) < (options.instances?.blue ?? 1);
}
