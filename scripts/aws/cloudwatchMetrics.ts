// MetricsSource over CloudWatch: one GetMetricData call per poll answers both colors
// (RequestCount Sum, HTTPCode_Target_5XX_Count Sum, TargetResponseTime p95 and p99), each
// per target group with the TargetGroup + LoadBalancer dimensions ALB publishes them under.
//
// ALB metrics have 1-minute resolution, so the window is aligned to whole minutes:
// start rounded down, end rounded down (only whole minutes), at least one minute long.
// The Period is the aligned window's length (60 s for a one-minute window, always a multiple
// of 60), so CloudWatch returns one datapoint per metric and the percentiles are the true
// percentiles over the window, not an average of per-minute percentiles.
//
// CloudWatch publishes ALB datapoints some time after their minute ends, so a minute that has
// just closed may still be missing or partial. The window is therefore shifted back by
// `ingestionDelayMs` (default one minute) before it is aligned: both colors are still read over
// the same window, a breach is seen about a minute later, and a fresh minute is never read as
// "no traffic" (which would extend bakes and then fail them for nothing).
//
// Missing datapoints mean no data: 0 requests, 0 errors, null latency. Nothing is fabricated;
// the engine reads too few requests as inconclusive. A query CloudWatch could not answer
// (StatusCode InternalError/Forbidden, or messages) is an error, never zeros.

import type { CloudWatchClient, MetricDataQuery, MetricDataResult } from "@aws-sdk/client-cloudwatch";
import type { Color, ColorMetrics, MetricsSource, MetricsWindow } from "../core/ports.js";
import { awsCall } from "./errors.js";
import { cloudWatchSdk } from "./sdk.js";

const { GetMetricDataCommand } = cloudWatchSdk();

export interface CloudWatchMetricsTargets {
  /** "app/<name>/<id>", the LoadBalancer dimension (the ALB ARN suffix). */
  albArnSuffix: string;
  /** "targetgroup/<name>/<id>" per color, the TargetGroup dimension. */
  targetGroupArnSuffixes: Record<Color, string>;
}

const MINUTE = 60_000;
const COLORS: readonly Color[] = ["blue", "green"];

type Kind = "requests" | "errors" | "p95" | "p99";
const QUERIES: ReadonlyArray<{ kind: Kind; metric: string; stat: string }> = [
  { kind: "requests", metric: "RequestCount", stat: "Sum" },
  { kind: "errors", metric: "HTTPCode_Target_5XX_Count", stat: "Sum" },
  { kind: "p95", metric: "TargetResponseTime", stat: "p95" },
  { kind: "p99", metric: "TargetResponseTime", stat: "p99" },
];

/** Align a window to whole minutes: [floor(start), floor(end)), at least one minute. */
export function alignWindow(window: MetricsWindow): { start: number; end: number; periodSeconds: number } {
  const start = Math.floor(window.start / MINUTE) * MINUTE;
  const end = Math.max(Math.floor(window.end / MINUTE) * MINUTE, start + MINUTE);
  return { start, end, periodSeconds: (end - start) / 1000 };
}

/** How far behind real time the queried window is kept, by default. */
export const DEFAULT_INGESTION_DELAY_MS = MINUTE;

export class CloudWatchMetrics implements MetricsSource {
  readonly resolutionMs = MINUTE;

  constructor(
    private readonly client: CloudWatchClient,
    private readonly targets: CloudWatchMetricsTargets,
    private readonly ingestionDelayMs: number = DEFAULT_INGESTION_DELAY_MS,
  ) {}

  queries(periodSeconds: number): MetricDataQuery[] {
    return COLORS.flatMap((color) =>
      QUERIES.map(({ kind, metric, stat }) => ({
        Id: `${kind}_${color}`,
        MetricStat: {
          Metric: {
            Namespace: "AWS/ApplicationELB",
            MetricName: metric,
            Dimensions: [
              { Name: "TargetGroup", Value: this.targets.targetGroupArnSuffixes[color] },
              { Name: "LoadBalancer", Value: this.targets.albArnSuffix },
            ],
          },
          Period: periodSeconds,
          Stat: stat,
        },
        ReturnData: true,
      })),
    );
  }

  async sample(window: MetricsWindow): Promise<Record<Color, ColorMetrics>> {
    const aligned = alignWindow({ start: window.start - this.ingestionDelayMs, end: window.end - this.ingestionDelayMs });
    const queries = this.queries(aligned.periodSeconds);
    const values = new Map<string, number[]>();
    let nextToken: string | undefined;
    do {
      // One call per poll; a second page only if CloudWatch paginates (it does not for 8 datapoints).
      const out = await awsCall("GetMetricData AWS/ApplicationELB", () =>
        this.client.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            StartTime: new Date(aligned.start),
            EndTime: new Date(aligned.end),
            ScanBy: "TimestampAscending",
            NextToken: nextToken,
          }),
        ),
      );
      for (const message of out.Messages ?? []) {
        throw new Error(`GetMetricData: CloudWatch reported ${message.Code ?? "a problem"}: ${message.Value ?? ""}`);
      }
      for (const result of out.MetricDataResults ?? []) collect(values, result);
      nextToken = out.NextToken;
    } while (nextToken);

    const pick = (id: string) => values.get(id) ?? [];
    const sum = (id: string) => pick(id).reduce((total, value) => total + value, 0);
    // One datapoint per metric for an aligned window; if CloudWatch ever splits it, the worst
    // percentile is kept (conservative) rather than averaging percentiles.
    const worstMs = (id: string) => (pick(id).length === 0 ? null : Math.max(...pick(id)) * 1000);
    const metrics = {} as Record<Color, ColorMetrics>;
    for (const color of COLORS) {
      metrics[color] = {
        requests: sum(`requests_${color}`),
        errors5xx: sum(`errors_${color}`),
        p95Ms: worstMs(`p95_${color}`),
        p99Ms: worstMs(`p99_${color}`),
      };
    }
    return metrics;
  }
}

function collect(values: Map<string, number[]>, result: MetricDataResult): void {
  const id = result.Id ?? "";
  if (result.StatusCode === "InternalError" || result.StatusCode === "Forbidden") {
    const detail = (result.Messages ?? []).map((m) => m.Value).join("; ");
    throw new Error(`GetMetricData ${id}: CloudWatch answered ${result.StatusCode}${detail ? `: ${detail}` : ""}`);
  }
  const list = values.get(id) ?? [];
  for (const value of result.Values ?? []) if (Number.isFinite(value)) list.push(value);
  values.set(id, list);
}
