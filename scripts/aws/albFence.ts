// WriteFence over ALB listener rules (`fenceRuleArns` in the stack outputs): rules at top
// priority whose fixed-response action answers 503 with a short JSON body. The Pulumi program
// declares them inert (infra/fence.ts, which both sides share); the scripts switch only the
// conditions with ModifyRule, never the action:
//   off    → the inert conditions: write methods AND `x-bluegreen-fence: armed` (a header clients
//            never send; `curl -X POST -H 'x-bluegreen-fence: armed' ...` shows the fence response)
//   writes → http-request-method POST, PUT, PATCH, DELETE alone (reads keep flowing)
//   all    → path-pattern * (every request answered 503: maintenance)
// read() reads the rules back (DescribeRules by ARN) and classifies their conditions.

import type { ElasticLoadBalancingV2Client, RuleCondition } from "@aws-sdk/client-elastic-load-balancing-v2";
import { FENCE_HEADER, FENCE_INERT_VALUE, FENCE_METHODS, fenceConditions as infraFenceConditions, type FenceState } from "../../infra/fence.js";
import type { FenceMode, WriteFence } from "../core/ports.js";
import { awsCall, sendOptions, type SignalSource } from "./errors.js";
import { elbSdk } from "./sdk.js";

const { DescribeRulesCommand, ModifyRuleCommand } = elbSdk();

const STATE: Record<FenceMode, FenceState> = { off: "inert", writes: "writes", all: "all" };

/** The ELBv2 conditions of a fence rule in each mode, from the shared definition in infra/fence.ts. */
export function fenceConditions(mode: FenceMode): RuleCondition[] {
  return infraFenceConditions(STATE[mode]).map((condition): RuleCondition => {
    if (condition.httpRequestMethod) return { Field: "http-request-method", HttpRequestMethodConfig: { Values: [...condition.httpRequestMethod.values] } };
    if (condition.httpHeader) {
      return { Field: "http-header", HttpHeaderConfig: { HttpHeaderName: condition.httpHeader.httpHeaderName, Values: [...condition.httpHeader.values] } };
    }
    if (condition.pathPattern) return { Field: "path-pattern", PathPatternConfig: { Values: [...condition.pathPattern.values] } };
    throw new Error(`unsupported fence condition ${JSON.stringify(condition)}`);
  });
}

/** Which mode a rule's conditions put it in; "unknown" when they are none of ours. */
export function classifyFenceConditions(conditions: readonly RuleCondition[] | undefined): FenceMode | "unknown" {
  const list = conditions ?? [];
  const valuesOf = (condition: RuleCondition, config: { Values?: string[] } | undefined) => [...(config?.Values ?? condition.Values ?? [])];
  const methods = list.find((c) => c.Field === "http-request-method");
  const header = list.find((c) => c.Field === "http-header");
  const path = list.find((c) => c.Field === "path-pattern");
  const writeMethods =
    methods !== undefined &&
    valuesOf(methods, methods.HttpRequestMethodConfig)
      .map((m) => m.toUpperCase())
      .sort()
      .join(",") === [...FENCE_METHODS].sort().join(",");
  const inertHeader =
    header !== undefined &&
    header.HttpHeaderConfig?.HttpHeaderName?.toLowerCase() === FENCE_HEADER &&
    (header.HttpHeaderConfig?.Values ?? []).join(",") === FENCE_INERT_VALUE;
  if (list.length === 2 && writeMethods && inertHeader) return "off";
  if (list.length === 1 && writeMethods) return "writes";
  if (list.length === 1 && path !== undefined && ["*", "/*"].includes(valuesOf(path, path.PathPatternConfig).join(","))) return "all";
  return "unknown";
}

export interface AlbFenceOptions {
  /**
   * After the rules read back in a fencing mode, wait this long before set() returns: the ALB
   * cannot tell us when writes already inside the apps have committed, and the paired switch
   * reads blue's WAL position right after the fence is up. Longer than the slowest write request.
   */
  drainMs?: number;
  /** How long the rules may take to read back in the new mode. */
  verifyTimeoutMs?: number;
  verifyIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** The AbortSignal for each call (the command's deadline). */
  signal?: SignalSource;
}

export class AlbFence implements WriteFence {
  private readonly drainMs: number;
  private readonly verifyTimeoutMs: number;
  private readonly verifyIntervalMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly signal: SignalSource | undefined;

  constructor(
    private readonly client: ElasticLoadBalancingV2Client,
    private readonly fenceRuleArns: readonly string[],
    options: AlbFenceOptions = {},
  ) {
    if (fenceRuleArns.length === 0) throw new Error("the stack outputs list no fenceRuleArns: this stack has no write fence");
    this.drainMs = options.drainMs ?? 0;
    this.verifyTimeoutMs = options.verifyTimeoutMs ?? 30_000;
    this.verifyIntervalMs = options.verifyIntervalMs ?? 500;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.signal = options.signal;
  }

  describeWrites(mode: FenceMode): string[] {
    return this.fenceRuleArns.map((arn) => `ModifyRule ${arn} Conditions=${JSON.stringify(fenceConditions(mode))}`);
  }

  /** Write the mode to every fence rule, read it back until all agree, then (fencing) wait for in-flight writes. */
  async set(mode: FenceMode): Promise<void> {
    const conditions = fenceConditions(mode);
    const abort = this.signal?.();
    await Promise.all(
      this.fenceRuleArns.map((arn) =>
        awsCall(
          `ModifyRule ${arn} (fence ${mode})`,
          () => this.client.send(new ModifyRuleCommand({ RuleArn: arn, Conditions: conditions }), sendOptions(abort)),
          abort,
        ),
      ),
    );
    await this.waitUntil(mode);
    if (mode !== "off" && this.drainMs > 0) await this.sleep(this.drainMs);
  }

  private async waitUntil(mode: FenceMode): Promise<void> {
    const deadline = Date.now() + this.verifyTimeoutMs;
    for (;;) {
      const each = await this.readEach();
      const behind = each.filter((entry) => entry.mode !== mode);
      if (behind.length === 0) return;
      if (Date.now() >= deadline || this.signal?.()?.aborted) {
        throw new Error(
          `fence rules did not read back as "${mode}" within ${this.verifyTimeoutMs} ms: ${behind.map((entry) => `${entry.rule}=${entry.mode}`).join(", ")}`,
        );
      }
      await this.sleep(this.verifyIntervalMs);
    }
  }

  /** Each fence rule's mode as read back. */
  async readEach(): Promise<Array<{ rule: string; mode: FenceMode | "unknown" }>> {
    const abort = this.signal?.();
    const out = await awsCall(
      `DescribeRules ${this.fenceRuleArns.join(",")}`,
      () => this.client.send(new DescribeRulesCommand({ RuleArns: [...this.fenceRuleArns] }), sendOptions(abort)),
      abort,
    );
    return this.fenceRuleArns.map((arn) => {
      const rule = (out.Rules ?? []).find((r) => r.RuleArn === arn);
      if (!rule) throw new Error(`DescribeRules did not return fence rule ${arn}`);
      return { rule: arn, mode: classifyFenceConditions(rule.Conditions) };
    });
  }

  /** The fence mode; throws when the rules disagree or carry conditions that are none of ours. */
  async read(): Promise<FenceMode> {
    const each = await this.readEach();
    const modes = new Set(each.map((entry) => entry.mode));
    if (modes.size === 1) {
      const [mode] = [...modes];
      if (mode !== "unknown" && mode !== undefined) return mode;
    }
    throw new Error(`fence rules are not in one known mode: ${each.map((entry) => `${entry.rule}=${entry.mode}`).join(", ")}`);
  }
}
