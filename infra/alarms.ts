// CloudWatch alarms per color on its target group (AWS/ApplicationELB, TargetGroup +
// LoadBalancer dimensions, 1-minute periods): target 5xx count, 5xx rate (metric math),
// p95 TargetResponseTime and UnHealthyHostCount, with fixed limits from app.alarms. They are what
// the guard acts on while no cutover process is judging green against blue.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { StackConfig } from "./config.js";
import type { Color } from "./weights.js";
import { tags } from "./tags.js";

export const ALARM_PERIOD_SECONDS = 60;

export interface ColorAlarmsArgs {
  color: Color;
  /** Prefix of every alarm name, e.g. "bluegreen-prod". */
  namePrefix: string;
  albArnSuffix: pulumi.Input<string>;
  targetGroupArnSuffix: pulumi.Input<string>;
  alarms: StackConfig["app"]["alarms"];
}

export class ColorAlarms extends pulumi.ComponentResource {
  readonly alarmNames: pulumi.Output<string>[];

  constructor(name: string, args: ColorAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bluegreen:alarms:ColorAlarms", name, {}, opts);
    const parent = { parent: this };
    const { color, alarms } = args;
    const dimensions = { TargetGroup: args.targetGroupArnSuffix, LoadBalancer: args.albArnSuffix };
    const actions = alarms.actionsTopicArn ? [alarms.actionsTopicArn] : [];
    const common = {
      evaluationPeriods: alarms.evaluationPeriods,
      datapointsToAlarm: alarms.evaluationPeriods,
      // No requests or no targets is not an error in itself; the judge treats missing data as
      // undecided, the alarms do not page on it.
      treatMissingData: "notBreaching",
      alarmActions: actions,
      okActions: actions,
      tags: tags(`${name}`, { "bluegreen:color": color }),
    };
    const metric = (metricName: string, stat: string) => ({ namespace: "AWS/ApplicationELB", metricName, dimensions, period: ALARM_PERIOD_SECONDS, stat });
    const alarmName = (suffix: string) => `${args.namePrefix}-${color}-${suffix}`;

    const count = new aws.cloudwatch.MetricAlarm(
      `${name}-5xx-count`,
      {
        ...common,
        name: alarmName("target-5xx-count"),
        alarmDescription: `${color}: target 5xx responses per minute above ${alarms.errorCountThreshold}`,
        namespace: "AWS/ApplicationELB",
        metricName: "HTTPCode_Target_5XX_Count",
        dimensions,
        period: ALARM_PERIOD_SECONDS,
        statistic: "Sum",
        comparisonOperator: "GreaterThanThreshold",
        threshold: alarms.errorCountThreshold,
      },
      parent,
    );

    const rate = new aws.cloudwatch.MetricAlarm(
      `${name}-5xx-rate`,
      {
        ...common,
        name: alarmName("target-5xx-rate"),
        alarmDescription: `${color}: target 5xx / requests above ${alarms.errorRateThreshold} (app.alarms.errorRateThreshold)`,
        comparisonOperator: "GreaterThanThreshold",
        threshold: alarms.errorRateThreshold,
        metricQueries: [
          { id: "errors", metric: metric("HTTPCode_Target_5XX_Count", "Sum"), returnData: false },
          { id: "requests", metric: metric("RequestCount", "Sum"), returnData: false },
          { id: "rate", expression: "IF(requests > 0, errors / requests, 0)", label: `${color} 5xx rate`, returnData: true },
        ],
      },
      parent,
    );

    const latency = new aws.cloudwatch.MetricAlarm(
      `${name}-p95`,
      {
        ...common,
        name: alarmName("target-p95-latency"),
        alarmDescription: `${color}: p95 TargetResponseTime above ${alarms.p95ThresholdMs} ms (app.alarms.p95ThresholdMs)`,
        namespace: "AWS/ApplicationELB",
        metricName: "TargetResponseTime",
        dimensions,
        period: ALARM_PERIOD_SECONDS,
        extendedStatistic: "p95",
        comparisonOperator: "GreaterThanThreshold",
        threshold: alarms.p95ThresholdMs / 1000,
      },
      parent,
    );

    const unhealthy = new aws.cloudwatch.MetricAlarm(
      `${name}-unhealthy`,
      {
        ...common,
        name: alarmName("unhealthy-hosts"),
        alarmDescription: `${color}: at least one target fails its health check`,
        namespace: "AWS/ApplicationELB",
        metricName: "UnHealthyHostCount",
        dimensions,
        period: ALARM_PERIOD_SECONDS,
        statistic: "Maximum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
      },
      parent,
    );

    this.alarmNames = [count, rate, latency, unhealthy].map((alarm) => alarm.name);
    this.registerOutputs({ alarmNames: this.alarmNames });
  }
}
