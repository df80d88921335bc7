// HealthProbe over ELBv2 DescribeTargetHealth, one call per color's target group.
// healthy counts only targets in state "healthy"; unhealthy counts "unhealthy" and
// "unhealthy.draining"; total counts every registered target (initial, draining, unused,
// unavailable included), so a color still warming up is never mistaken for a healthy one.

import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Color, HealthProbe, TargetHealth } from "../core/ports.js";
import { awsCall, sendOptions, type SignalSource } from "./errors.js";
import { elbSdk } from "./sdk.js";

const { DescribeTargetHealthCommand } = elbSdk();

export interface TargetDetail {
  id: string;
  port: number | null;
  state: string;
  reason: string | null;
}

export class AlbTargetHealth implements HealthProbe {
  constructor(
    private readonly client: ElasticLoadBalancingV2Client,
    private readonly targetGroupArns: Record<Color, string>,
    /** The command's deadline (status): each call is aborted with it. */
    private readonly options: { signal?: SignalSource } = {},
  ) {}

  /** Every target of a color with its state, for `status`. */
  async targets(color: Color): Promise<TargetDetail[]> {
    const arn = this.targetGroupArns[color];
    const abort = this.options.signal?.();
    const out = await awsCall(
      `DescribeTargetHealth ${arn}`,
      () => this.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }), sendOptions(abort)),
      abort,
    );
    return (out.TargetHealthDescriptions ?? []).map((description) => ({
      id: description.Target?.Id ?? "(unknown)",
      port: description.Target?.Port ?? null,
      state: description.TargetHealth?.State ?? "unknown",
      reason: description.TargetHealth?.Reason ?? null,
    }));
  }

  async health(color: Color): Promise<TargetHealth> {
    return summarizeTargets(await this.targets(color));
  }
}

export function summarizeTargets(targets: readonly Pick<TargetDetail, "state">[]): TargetHealth {
  let healthy = 0;
  let unhealthy = 0;
  for (const target of targets) {
    if (target.state === "healthy") healthy++;
    else if (target.state === "unhealthy" || target.state === "unhealthy.draining") unhealthy++;
  }
  return { healthy, unhealthy, total: targets.length };
}
