// AlarmSource over CloudWatch DescribeAlarms, addressed by the stack's alarm names
// (at most 100 names per call, as the API allows), metric and composite alarms alike.

import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { AlarmSource } from "../core/ports.js";
import { awsCall, sendOptions, type SignalSource } from "./errors.js";
import { cloudWatchSdk } from "./sdk.js";

const { DescribeAlarmsCommand } = cloudWatchSdk();

export interface AlarmState {
  name: string;
  state: string;
  reason: string | null;
}

const BATCH = 100;

export class CloudWatchAlarms implements AlarmSource {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly alarmNames: readonly string[],
    /** The command's deadline (status): each call is aborted with it. */
    private readonly options: { signal?: SignalSource } = {},
  ) {}

  /** Every named alarm with its state; names CloudWatch does not know come back as state "MISSING". */
  async states(): Promise<AlarmState[]> {
    const found = new Map<string, AlarmState>();
    for (let i = 0; i < this.alarmNames.length; i += BATCH) {
      const names = this.alarmNames.slice(i, i + BATCH);
      let nextToken: string | undefined;
      do {
        const abort = this.options.signal?.();
        const out = await awsCall(
          `DescribeAlarms ${names.length} names`,
          () =>
            this.client.send(
              new DescribeAlarmsCommand({ AlarmNames: names, AlarmTypes: ["MetricAlarm", "CompositeAlarm"], MaxRecords: BATCH, NextToken: nextToken }),
              sendOptions(abort),
            ),
          abort,
        );
        for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
          if (alarm.AlarmName) found.set(alarm.AlarmName, { name: alarm.AlarmName, state: alarm.StateValue ?? "UNKNOWN", reason: alarm.StateReason ?? null });
        }
        nextToken = out.NextToken;
      } while (nextToken);
    }
    return this.alarmNames.map((name) => found.get(name) ?? { name, state: "MISSING", reason: "no such alarm in CloudWatch" });
  }

  async firing(): Promise<string[]> {
    return (await this.states()).filter((alarm) => alarm.state === "ALARM").map((alarm) => alarm.name);
  }
}
