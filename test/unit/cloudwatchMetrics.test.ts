// Request shapes of the CloudWatch metrics adapter for what the judge needs: ALB-answered errors
// per color, the load-balancer-level ELB 5xx, slow counts with TC(bound:), recent traffic.
import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { CloudWatchMetrics, slowStatistic } from "../../scripts/aws/cloudwatchMetrics.js";

const cw = mockClient(CloudWatchClient);
const client = () => new CloudWatchClient({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "x" } });
const targets = {
  albArnSuffix: "app/bg-prod/50dc6c495c0c9188",
  targetGroupArnSuffixes: { blue: "targetgroup/bg-blue/0123456789abcdef", green: "targetgroup/bg-green/fedcba9876543210" },
};
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const tgDimensions = (color: "blue" | "green") => [
  { Name: "TargetGroup", Value: targets.targetGroupArnSuffixes[color] },
  { Name: "LoadBalancer", Value: targets.albArnSuffix },
];

beforeEach(() => cw.reset());

describe("CloudWatchMetrics for the judge", () => {
  it("asks per color for TargetConnectionErrorCount and slow counts with TC(<seconds>:), and HTTPCode_ELB_5XX_Count at load-balancer level, in one call", async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    await new CloudWatchMetrics(client(), targets).sample({ start: T0, end: T0 + 2 * 60_000 }, { slowThresholdMs: 500 });
    const calls = cw.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(1);
    const queries = calls[0]!.args[0].input.MetricDataQueries!;
    expect(queries).toHaveLength(13);
    const byId = Object.fromEntries(queries.map((q) => [q.Id, q]));
    expect(byId.connerr_green!.MetricStat).toEqual({
      Metric: { Namespace: "AWS/ApplicationELB", MetricName: "TargetConnectionErrorCount", Dimensions: tgDimensions("green") },
      Period: 120,
      Stat: "Sum",
    });
    expect(byId.slow_blue!.MetricStat).toEqual({
      Metric: { Namespace: "AWS/ApplicationELB", MetricName: "TargetResponseTime", Dimensions: tgDimensions("blue") },
      Period: 120,
      Stat: "TC(0.5:)",
    });
    // HTTPCode_ELB_5XX_Count is published with LoadBalancer (and AvailabilityZone) only: no TargetGroup.
    expect(byId.elb5xx_lb!.MetricStat).toEqual({
      Metric: { Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_ELB_5XX_Count", Dimensions: [{ Name: "LoadBalancer", Value: targets.albArnSuffix }] },
      Period: 120,
      Stat: "Sum",
    });
  });

  it("leaves the slow query out when no bound is asked", async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const sample = await new CloudWatchMetrics(client(), targets).sample({ start: T0, end: T0 + 60_000 });
    const ids = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!.map((q) => q.Id);
    expect(ids.some((id) => id!.startsWith("slow_"))).toBe(false);
    expect(sample.green.slow).toBeUndefined();
  });

  it("writes the bound in seconds, plain decimals, lower bound open-ended", () => {
    expect(slowStatistic(500)).toBe("TC(0.5:)");
    expect(slowStatistic(1000)).toBe("TC(1:)");
    expect(slowStatistic(1234.5)).toBe("TC(1.2345:)");
    expect(slowStatistic(10_000)).toBe("TC(10:)");
    expect(slowStatistic(1)).toBe("TC(0.001:)");
    expect(() => slowStatistic(0)).toThrow(/positive/);
    expect(() => slowStatistic(Number.NaN)).toThrow(/positive/);
  });

  it("maps the answers: connection errors as the color's elbErrors, slow counts, the load balancer's ELB 5xx", async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: "requests_blue", Values: [9500], StatusCode: "Complete" },
        { Id: "errors_blue", Values: [12], StatusCode: "Complete" },
        { Id: "connerr_blue", Values: [], StatusCode: "Complete" },
        { Id: "slow_blue", Values: [40], StatusCode: "Complete" },
        { Id: "p95_blue", Values: [0.2], StatusCode: "Complete" },
        { Id: "p99_blue", Values: [0.4], StatusCode: "Complete" },
        { Id: "requests_green", Values: [500], StatusCode: "Complete" },
        { Id: "errors_green", Values: [1], StatusCode: "Complete" },
        { Id: "connerr_green", Values: [7], StatusCode: "Complete" },
        { Id: "slow_green", Values: [9], StatusCode: "Complete" },
        { Id: "p95_green", Values: [0.3], StatusCode: "Complete" },
        { Id: "p99_green", Values: [0.9], StatusCode: "Complete" },
        { Id: "elb5xx_lb", Values: [11], StatusCode: "Complete" },
      ],
    });
    const sample = await new CloudWatchMetrics(client(), targets).sample({ start: T0, end: T0 + 60_000 }, { slowThresholdMs: 500 });
    expect(sample.blue).toEqual({ requests: 9500, errors5xx: 12, elbErrors: 0, slow: 40, p95Ms: 200, p99Ms: 400 });
    expect(sample.green).toEqual({ requests: 500, errors5xx: 1, elbErrors: 7, slow: 9, p95Ms: 300, p99Ms: 900 });
    expect(sample.loadBalancer).toEqual({ elb5xx: 11 });
  });

  it("recentTraffic reads the last hour of published minutes in one call, one Period", async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: "requests_green", Values: [1200], StatusCode: "Complete" }] });
    const now = T0 + 3 * 60 * 60_000 + 25_000;
    const traffic = await new CloudWatchMetrics(client(), targets, { now: () => now }).recentTraffic(1);
    const end = T0 + 3 * 60 * 60_000 - 2 * 60_000;
    expect(traffic.window).toEqual({ start: end - 60 * 60_000, end });
    const input = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(input.StartTime).toEqual(new Date(end - 60 * 60_000));
    expect(input.EndTime).toEqual(new Date(end));
    expect(input.MetricDataQueries![0]!.MetricStat!.Period).toBe(3600);
    expect(traffic.green.requests).toBe(1200);
  });
});
