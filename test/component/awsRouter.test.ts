import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyRuleCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AlbFence, classifyFenceConditions, fenceConditions } from "../../scripts/aws/albFence.js";
import { AlbRouter, weightedForwardAction, weightsFromActions } from "../../scripts/aws/albRouter.js";
import { AwsCallError, AwsThrottledError } from "../../scripts/aws/errors.js";
import { AlbTargetHealth } from "../../scripts/aws/targetHealth.js";
import { UnreachableError } from "../../scripts/cli/common.js";

const TG = {
  blue: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/bg-blue/0123456789abcdef",
  green: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/bg-green/fedcba9876543210",
};
const LISTENER = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/bg/50dc6c495c0c9188/f2f7dc8efc522ab2";
const FENCE_RULE = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/bg/50dc6c495c0c9188/f2f7dc8efc522ab2/1111111111111111";

const elb = mockClient(ElasticLoadBalancingV2Client);
const client = () => new ElasticLoadBalancingV2Client({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "x" } });

beforeEach(() => elb.reset());
afterEach(() => elb.reset());

function throttled(): Error {
  return Object.assign(new Error("Rate exceeded"), { name: "Throttling", $metadata: { httpStatusCode: 400, attempts: 3 } });
}

describe("AlbRouter.writeWeights", () => {
  it("sends ModifyListener by ARN with the percent weights 1:1 and the stickiness config kept", async () => {
    elb.on(ModifyListenerCommand).resolves({});
    const second = `${LISTENER.slice(0, -16)}aaaaaaaaaaaaaaaa`;
    const router = new AlbRouter(client(), { listenerArns: [LISTENER, second], targetGroupArns: TG, stickinessSeconds: 3600 });
    await router.writeWeights({ blue: 75, green: 25 });

    const expectedAction = {
      Type: "forward",
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: TG.blue, Weight: 75 },
          { TargetGroupArn: TG.green, Weight: 25 },
        ],
        TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 },
      },
    };
    const listenerCalls = elb.commandCalls(ModifyListenerCommand);
    expect(listenerCalls.map((c) => c.args[0].input)).toEqual([
      { ListenerArn: LISTENER, DefaultActions: [expectedAction] },
      { ListenerArn: second, DefaultActions: [expectedAction] },
    ]);
    expect(elb.commandCalls(ModifyRuleCommand)).toHaveLength(0);
  });

  it("writes stickiness explicitly off (duration 1, as the Pulumi program does) when the stack has none", () => {
    expect(weightedForwardAction({ targetGroupArns: TG, stickinessSeconds: null }, { blue: 100, green: 0 }).ForwardConfig?.TargetGroupStickinessConfig).toEqual(
      {
        Enabled: false,
        DurationSeconds: 1,
      },
    );
  });

  it("passes the command's AbortSignal to every call", async () => {
    elb.on(ModifyListenerCommand).resolves({});
    elb.on(DescribeListenersCommand).resolves({
      Listeners: [
        { ListenerArn: LISTENER, DefaultActions: [weightedForwardAction({ targetGroupArns: TG, stickinessSeconds: null }, { blue: 100, green: 0 })] },
      ],
    });
    const controller = new AbortController();
    const router = new AlbRouter(client(), { listenerArns: [LISTENER], targetGroupArns: TG, stickinessSeconds: null }, { signal: () => controller.signal });
    await router.writeWeights({ blue: 100, green: 0 });
    await router.readWeights();
    for (const call of elb.calls()) expect(((call.args as unknown[])[1] as { abortSignal?: AbortSignal } | undefined)?.abortSignal).toBe(controller.signal);
  });

  it("refuses weights out of range before any call", async () => {
    const router = new AlbRouter(client(), { listenerArns: [LISTENER], targetGroupArns: TG, stickinessSeconds: null });
    await expect(router.writeWeights({ blue: 101, green: -1 })).rejects.toThrow(/0–100/);
    await expect(router.writeWeights({ blue: 50, green: 40 })).rejects.toThrow(/sum to 100/);
    await expect(router.writeWeights({ blue: 50.5, green: 49.5 })).rejects.toThrow(/integer/);
    expect(elb.calls()).toHaveLength(0);
  });

  it("surfaces throttling as an error, never as success", async () => {
    elb.on(ModifyListenerCommand).rejects(throttled());
    const router = new AlbRouter(client(), { listenerArns: [LISTENER], targetGroupArns: TG, stickinessSeconds: null });
    const error = await router.writeWeights({ blue: 100, green: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsThrottledError);
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as Error).message).toMatch(/ModifyListener .*throttled/);
  });

  it("writes every route even when one fails, then reports the failures", async () => {
    const second = `${LISTENER.slice(0, -16)}aaaaaaaaaaaaaaaa`;
    elb
      .on(ModifyListenerCommand, { ListenerArn: LISTENER })
      .rejects(Object.assign(new Error("Listener not found"), { name: "ListenerNotFoundException", $metadata: {} }));
    elb.on(ModifyListenerCommand, { ListenerArn: second }).resolves({});
    const router = new AlbRouter(client(), { listenerArns: [LISTENER, second], targetGroupArns: TG, stickinessSeconds: null });
    const error = await router.writeWeights({ blue: 100, green: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(elb.commandCalls(ModifyListenerCommand)).toHaveLength(2);
  });

  it("maps unreachable endpoints and refused credentials to UnreachableError", async () => {
    elb.on(ModifyListenerCommand).rejects(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }));
    const router = new AlbRouter(client(), { listenerArns: [LISTENER], targetGroupArns: TG, stickinessSeconds: null });
    await expect(router.writeWeights({ blue: 100, green: 0 })).rejects.toBeInstanceOf(UnreachableError);
    elb.reset();
    elb.on(ModifyListenerCommand).rejects(
      Object.assign(new Error("The security token included in the request is invalid."), {
        name: "InvalidClientTokenId",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    await expect(router.writeWeights({ blue: 100, green: 0 })).rejects.toThrow(/credentials/);
  });
});

describe("AlbRouter.readWeights", () => {
  it("reads every listener by ARN in one call (no scans) and returns the raw weights, never normalised", async () => {
    const second = `${LISTENER.slice(0, -16)}aaaaaaaaaaaaaaaa`;
    elb.on(DescribeListenersCommand).resolves({
      Listeners: [
        { ListenerArn: LISTENER, DefaultActions: [weightedForwardAction({ targetGroupArns: TG, stickinessSeconds: 600 }, { blue: 95, green: 5 })] },
        {
          ListenerArn: second,
          DefaultActions: [
            {
              Type: "forward",
              ForwardConfig: {
                TargetGroups: [
                  { TargetGroupArn: TG.blue, Weight: 999 },
                  { TargetGroupArn: TG.green, Weight: 1 },
                ],
              },
            },
          ],
        },
      ],
    });
    const router = new AlbRouter(client(), { listenerArns: [LISTENER, second], targetGroupArns: TG, stickinessSeconds: 600 });
    expect(await router.readWeights()).toEqual([
      { route: LISTENER, weights: { blue: 95, green: 5 }, stickinessSeconds: 600 },
      // 999/1 is 0.1% on green: it must never read back as "blue 100 / green 0".
      { route: second, weights: { blue: 999, green: 1 }, stickinessSeconds: null },
    ]);
    expect(elb.commandCalls(DescribeListenersCommand)[0]!.args[0].input).toEqual({ ListenerArns: [LISTENER, second] });
    expect(elb.calls()).toHaveLength(1);
  });

  it("refuses a route that forwards to a foreign target group or to nothing", () => {
    expect(() => weightsFromActions("r", [{ Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: "arn:other", Weight: 1 }] } }], TG)).toThrow(
      /neither blue nor green/,
    );
    expect(() => weightsFromActions("r", [{ Type: "fixed-response" }], TG)).toThrow(/no forward action/);
    // A plain forward sends everything to its group: green's weight there is all, blue's exactly 0.
    expect(weightsFromActions("r", [{ Type: "forward", TargetGroupArn: TG.green }], TG).weights).toEqual({ blue: 0, green: 1 });
    expect(() =>
      weightsFromActions(
        "r",
        [
          {
            Type: "forward",
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: TG.blue, Weight: 0 },
                { TargetGroupArn: TG.green, Weight: 0 },
              ],
            },
          },
        ],
        TG,
      ),
    ).toThrow(/every weight 0/);
  });

  it("surfaces a throttled read as an error", async () => {
    elb.on(DescribeListenersCommand).rejects(throttled());
    const router = new AlbRouter(client(), { listenerArns: [LISTENER], targetGroupArns: TG, stickinessSeconds: null });
    await expect(router.readWeights()).rejects.toBeInstanceOf(AwsThrottledError);
  });

  it("describes one write per listener", () => {
    const router = new AlbRouter(client(), { listenerArns: [LISTENER], targetGroupArns: TG, stickinessSeconds: null });
    const writes = router.describeWrites();
    expect(writes).toHaveLength(1);
    expect(writes[0]).toContain(`ModifyListener ${LISTENER}`);
  });
});

describe("AlbTargetHealth", () => {
  it("counts healthy, unhealthy and total per target group; initial and draining are not healthy", async () => {
    elb.on(DescribeTargetHealthCommand, { TargetGroupArn: TG.green }).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: "i-1", Port: 8080 }, TargetHealth: { State: "healthy" } },
        { Target: { Id: "i-2", Port: 8080 }, TargetHealth: { State: "initial" } },
        { Target: { Id: "i-3", Port: 8080 }, TargetHealth: { State: "draining" } },
        { Target: { Id: "i-4", Port: 8080 }, TargetHealth: { State: "unhealthy", Reason: "Target.FailedHealthChecks" } },
      ],
    });
    const probe = new AlbTargetHealth(client(), TG);
    expect(await probe.health("green")).toEqual({ healthy: 1, unhealthy: 1, total: 4 });
    expect(elb.commandCalls(DescribeTargetHealthCommand)[0]!.args[0].input).toEqual({ TargetGroupArn: TG.green });
  });

  it("surfaces throttling as an error", async () => {
    elb.on(DescribeTargetHealthCommand).rejects(throttled());
    await expect(new AlbTargetHealth(client(), TG).health("blue")).rejects.toBeInstanceOf(AwsThrottledError);
  });
});

describe("AlbFence", () => {
  it("arms the fence for writes with ModifyRule conditions on the fence rules only", async () => {
    elb.on(ModifyRuleCommand).resolves({});
    elb.on(DescribeRulesCommand).resolves({ Rules: [{ RuleArn: FENCE_RULE, Conditions: fenceConditions("writes") }] });
    await new AlbFence(client(), [FENCE_RULE], { sleep: async () => undefined }).set("writes");
    expect(elb.commandCalls(ModifyRuleCommand)[0]!.args[0].input).toEqual({
      RuleArn: FENCE_RULE,
      Conditions: [{ Field: "http-request-method", HttpRequestMethodConfig: { Values: ["POST", "PUT", "PATCH", "DELETE"] } }],
    });
  });

  it("reads the rules back until they show the mode, then waits the drain time for writes in flight", async () => {
    elb.on(ModifyRuleCommand).resolves({});
    elb
      .on(DescribeRulesCommand)
      .resolvesOnce({ Rules: [{ RuleArn: FENCE_RULE, Conditions: fenceConditions("off") }] })
      .resolves({ Rules: [{ RuleArn: FENCE_RULE, Conditions: fenceConditions("writes") }] });
    const slept: number[] = [];
    await new AlbFence(client(), [FENCE_RULE], { drainMs: 3000, verifyIntervalMs: 500, sleep: async (ms) => void slept.push(ms) }).set("writes");
    expect(elb.commandCalls(DescribeRulesCommand)).toHaveLength(2);
    expect(slept).toEqual([500, 3000]);
  });

  it("lifting the fence does not wait the drain time, and a fence that never reads back is an error", async () => {
    elb.on(ModifyRuleCommand).resolves({});
    elb.on(DescribeRulesCommand).resolves({ Rules: [{ RuleArn: FENCE_RULE, Conditions: fenceConditions("off") }] });
    const slept: number[] = [];
    await new AlbFence(client(), [FENCE_RULE], { drainMs: 3000, sleep: async (ms) => void slept.push(ms) }).set("off");
    expect(slept).toEqual([]);
    await expect(new AlbFence(client(), [FENCE_RULE], { verifyTimeoutMs: 0, sleep: async () => undefined }).set("writes")).rejects.toThrow(
      /did not read back as "writes"/,
    );
  });

  it("maintenance mode matches every path; off restores the inert conditions", () => {
    expect(fenceConditions("all")).toEqual([{ Field: "path-pattern", PathPatternConfig: { Values: ["*"] } }]);
    expect(classifyFenceConditions(fenceConditions("off"))).toBe("off");
    expect(classifyFenceConditions(fenceConditions("writes"))).toBe("writes");
    expect(classifyFenceConditions(fenceConditions("all"))).toBe("all");
    expect(classifyFenceConditions([{ Field: "host-header", HostHeaderConfig: { Values: ["x"] } }])).toBe("unknown");
  });

  it("reads the mode back and refuses rules that disagree", async () => {
    const other = `${FENCE_RULE}2`;
    elb.on(DescribeRulesCommand).resolves({
      Rules: [
        { RuleArn: FENCE_RULE, Conditions: fenceConditions("writes") },
        { RuleArn: other, Conditions: fenceConditions("off") },
      ],
    });
    await expect(new AlbFence(client(), [FENCE_RULE]).read()).resolves.toBe("writes");
    await expect(new AlbFence(client(), [FENCE_RULE, other]).read()).rejects.toThrow(/not in one known mode/);
    expect(elb.commandCalls(DescribeRulesCommand)[0]!.args[0].input).toEqual({ RuleArns: [FENCE_RULE] });
  });
});

describe("client settings: timeouts that throw", () => {
  it("every client gets connection and request timeouts with throwOnRequestTimeout", async () => {
    const { clientConfig } = await import("../../scripts/aws/errors.js");
    expect(clientConfig("eu-west-1")).toEqual({
      region: "eu-west-1",
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
    });
  });

  it("with these settings the installed SDK fails a request a black hole never answers (it does not just warn)", { timeout: 20_000 }, async () => {
    const { createServer } = await import("node:net");
    const { clientConfig, classifyAwsError } = await import("../../scripts/aws/errors.js");
    const sockets = new Set<import("node:net").Socket>();
    const hole = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => hole.listen(0, "127.0.0.1", resolve));
    elb.restore(); // a real client, not the mock, for this one request
    try {
      const settings = clientConfig("eu-west-1");
      const real = new ElasticLoadBalancingV2Client({
        ...settings,
        requestHandler: { ...settings.requestHandler, requestTimeout: 300 },
        endpoint: `http://127.0.0.1:${(hole.address() as { port: number }).port}`,
        credentials: { accessKeyId: "AKID", secretAccessKey: "x" },
        maxAttempts: 1,
      });
      const error = await real.send(new DescribeListenersCommand({ ListenerArns: [LISTENER] })).catch((e: unknown) => e);
      expect((error as Error).name).toBe("TimeoutError");
      const classified = classifyAwsError(error, "DescribeListeners x");
      expect(classified).toBeInstanceOf(UnreachableError);
      expect(classified.message).toMatch(/DescribeListeners x: AWS endpoint unreachable \(ETIMEDOUT\): no answer within the 0.3 s request timeout/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => hole.close(() => resolve()));
    }
  });
});
