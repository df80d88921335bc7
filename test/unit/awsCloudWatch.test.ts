import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { CloudWatchAlarms } from "../../scripts/aws/alarms.js";
import { CloudWatchMetrics, alignWindow } from "../../scripts/aws/cloudwatchMetrics.js";
import { AwsThrottledError } from "../../scripts/aws/errors.js";

const cw = mockClient(CloudWatchClient);
const client = () => new CloudWatchClient({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "x" } });
const targets = {
  albArnSuffix: "app/bg-prod/50dc6c495c0c9188",
  targetGroupArnSuffixes: { blue: "targetgroup/bg-blue/0123456789abcdef", green: "targetgroup/bg-green/fedcba9876543210" },
};
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);

beforeEach(() => cw.reset());

describe("CloudWatchMetrics", () => {
  it("asks for both colors in one GetMetricData call with TargetGroup + LoadBalancer dimensions, Sum/p95/p99, Period 60", async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const metrics = new CloudWatchMetrics(client(), targets);
    expect(metrics.resolutionMs).toBe(60_000);
    await metrics.sample({ start: T0 + 12_345, end: T0 + 60_000 + 30_000 });

    const calls = cw.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.StartTime).toEqual(new Date(T0));
    expect(input.EndTime).toEqual(new Date(T0 + 60_000));
    const queries = input.MetricDataQueries!;
    expect(queries).toHaveLength(11);
    const byId = Object.fromEntries(queries.map((q) => [q.Id, q]));
    expect(byId.requests_green).toEqual({
      Id: "requests_green",
      MetricStat: {
        Metric: {
          Namespace: "AWS/ApplicationELB",
          MetricName: "RequestCount",
          Dimensions: [
            { Name: "TargetGroup", Value: "targetgroup/bg-green/fedcba9876543210" },
            { Name: "LoadBalancer", Value: "app/bg-prod/50dc6c495c0c9188" },
          ],
        },
        Period: 60,
        Stat: "Sum",
      },
      ReturnData: true,
    });
    expect(byId.errors_blue!.MetricStat).toMatchObject({ Metric: { MetricName: "HTTPCode_Target_5XX_Count" }, Stat: "Sum", Period: 60 });
    expect(byId.p95_blue!.MetricStat).toMatchObject({ Metric: { MetricName: "TargetResponseTime" }, Stat: "p95", Period: 60 });
    expect(byId.p99_green!.MetricStat).toMatchObject({ Metric: { MetricName: "TargetResponseTime" }, Stat: "p99", Period: 60 });
    expect(byId.p99_green!.MetricStat!.Metric!.Dimensions).toEqual([
      { Name: "TargetGroup", Value: "targetgroup/bg-green/fedcba9876543210" },
      { Name: "LoadBalancer", Value: "app/bg-prod/50dc6c495c0c9188" },
    ]);
  });

  it("reads exactly the window it is asked for and declares its publication delay (the engine waits it out)", async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const metrics = new CloudWatchMetrics(client(), targets);
    expect(metrics.publicationDelayMs).toBe(120_000);
    await metrics.sample({ start: T0 + 60_000, end: T0 + 2 * 60_000 });
    const input = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(input.StartTime).toEqual(new Date(T0 + 60_000));
    expect(input.EndTime).toEqual(new Date(T0 + 2 * 60_000));
  });

  it("aligns windows to whole minutes, never shorter than one", () => {
    expect(alignWindow({ start: T0 + 1, end: T0 + 2 })).toEqual({ start: T0, end: T0 + 60_000, periodSeconds: 60 });
    expect(alignWindow({ start: T0, end: T0 + 5 * 60_000 + 59_999 })).toEqual({ start: T0, end: T0 + 5 * 60_000, periodSeconds: 300 });
  });

  it("converts seconds to milliseconds and reads missing datapoints as no data, never fabricated", async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: "requests_blue", Values: [950], StatusCode: "Complete" },
        { Id: "errors_blue", Values: [2], StatusCode: "Complete" },
        { Id: "p95_blue", Values: [0.12], StatusCode: "Complete" },
        { Id: "p99_blue", Values: [0.25], StatusCode: "Complete" },
        { Id: "requests_green", Values: [], StatusCode: "Complete" },
        { Id: "errors_green", Values: [], StatusCode: "Complete" },
        { Id: "p95_green", Values: [], StatusCode: "Complete" },
        { Id: "p99_green", Values: [], StatusCode: "Complete" },
      ],
    });
    const sample = await new CloudWatchMetrics(client(), targets).sample({ start: T0, end: T0 + 60_000 });
    expect(sample.blue).toEqual({ requests: 950, errors5xx: 2, elbErrors: 0, p95Ms: 120, p99Ms: 250 });
    expect(sample.green).toEqual({ requests: 0, errors5xx: 0, elbErrors: 0, p95Ms: null, p99Ms: null });
  });

  it("treats a query CloudWatch could not answer as an error, not as zero", async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: "requests_green", StatusCode: "InternalError", Values: [] }] });
    await expect(new CloudWatchMetrics(client(), targets).sample({ start: T0, end: T0 + 60_000 })).rejects.toThrow(/InternalError/);
  });

  it("surfaces throttling as an error", async () => {
    cw.on(GetMetricDataCommand).rejects(Object.assign(new Error("Rate exceeded"), { name: "Throttling", $metadata: { httpStatusCode: 400 } }));
    await expect(new CloudWatchMetrics(client(), targets).sample({ start: T0, end: T0 + 60_000 })).rejects.toBeInstanceOf(AwsThrottledError);
  });
});

describe("CloudWatchAlarms", () => {
  it("asks DescribeAlarms by name in batches of 100 and returns the ones in ALARM", async () => {
    const names = Array.from({ length: 150 }, (_, i) => `bg-prod-alarm-${i}`);
    cw.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[] }) => ({
      MetricAlarms: input.AlarmNames.map((name) => ({ AlarmName: name, StateValue: name.endsWith("-7") || name.endsWith("-120") ? "ALARM" : "OK" })),
    }));
    const alarms = new CloudWatchAlarms(client(), names);
    expect(await alarms.firing()).toEqual(["bg-prod-alarm-7", "bg-prod-alarm-120"]);
    const calls = cw.commandCalls(DescribeAlarmsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input.AlarmNames).toEqual(names.slice(0, 100));
    expect(calls[1]!.args[0].input.AlarmNames).toEqual(names.slice(100));
    expect(calls[0]!.args[0].input.AlarmTypes).toEqual(["MetricAlarm", "CompositeAlarm"]);
  });

  it("names alarms CloudWatch does not know as MISSING in states()", async () => {
    cw.on(DescribeAlarmsCommand).resolves({ CompositeAlarms: [{ AlarmName: "a", StateValue: "ALARM" }] });
    expect(await new CloudWatchAlarms(client(), ["a", "b"]).states()).toEqual([
      { name: "a", state: "ALARM", reason: null },
      { name: "b", state: "MISSING", reason: "no such alarm in CloudWatch" },
    ]);
  });

  it("surfaces throttling as an error, never as 'no alarm firing'", async () => {
    cw.on(DescribeAlarmsCommand).rejects(Object.assign(new Error("Rate exceeded"), { name: "Throttling", $metadata: {} }));
    await expect(new CloudWatchAlarms(client(), ["a"]).firing()).rejects.toBeInstanceOf(AwsThrottledError);
  });
});
