// Blue's history for the judge: one GetMetricData over the hour before a cutover, one-minute
// periods, datapoints placed by their timestamps (a missing minute is no traffic, never a guess).
import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { CloudWatchMetrics } from "../../scripts/aws/cloudwatchMetrics.js";

const cw = mockClient(CloudWatchClient);
const client = () => new CloudWatchClient({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "x" } });
const targets = {
  albArnSuffix: "app/bg-prod/50dc6c495c0c9188",
  targetGroupArnSuffixes: { blue: "targetgroup/bg-blue/0123456789abcdef", green: "targetgroup/bg-green/fedcba9876543210" },
};
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const MINUTE = 60_000;

beforeEach(() => cw.reset());

describe("CloudWatchMetrics.series", () => {
  it("asks for the whole span in one call with a one-minute period and places each datapoint in its minute", async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: "requests_blue", Timestamps: [new Date(T0), new Date(T0 + 2 * MINUTE)], Values: [1000, 1200], StatusCode: "Complete" },
        { Id: "errors_blue", Timestamps: [new Date(T0), new Date(T0 + 2 * MINUTE)], Values: [10, 14], StatusCode: "Complete" },
        { Id: "slow_blue", Timestamps: [new Date(T0)], Values: [50], StatusCode: "Complete" },
        { Id: "p95_blue", Timestamps: [new Date(T0)], Values: [0.25], StatusCode: "Complete" },
      ],
    });
    const series = await new CloudWatchMetrics(client(), targets).series({ start: T0, end: T0 + 3 * MINUTE }, MINUTE, { slowThresholdMs: 300 });
    const calls = cw.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.StartTime).toEqual(new Date(T0));
    expect(input.EndTime).toEqual(new Date(T0 + 3 * MINUTE));
    expect(new Set(input.MetricDataQueries!.map((q) => q.MetricStat!.Period))).toEqual(new Set([60]));
    expect(series.map((s) => s.window.start)).toEqual([T0, T0 + MINUTE, T0 + 2 * MINUTE]);
    expect(series.map((s) => s.blue.requests)).toEqual([1000, 0, 1200]);
    expect(series.map((s) => s.blue.errors5xx)).toEqual([10, 0, 14]);
    expect(series[0]!.blue.slow).toBe(50);
    expect(series[0]!.blue.p95Ms).toBe(250);
    expect(series[1]!.blue.p95Ms).toBeNull();
  });

  it("refuses an answer CloudWatch could not give, as a sample does", async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: "requests_blue", StatusCode: "InternalError", Messages: [{ Value: "try later" }] }] });
    await expect(new CloudWatchMetrics(client(), targets).series({ start: T0, end: T0 + 3 * MINUTE }, MINUTE)).rejects.toThrow("InternalError");
  });
});
