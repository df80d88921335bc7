// MetricsSource over CloudWatch: one GetMetricData call per poll answers both colors and the
// load balancer. Per color (TargetGroup + LoadBalancer dimensions, as ALB publishes them):
//   RequestCount Sum, HTTPCode_Target_5XX_Count Sum, TargetConnectionErrorCount Sum,
//   TargetResponseTime p95 / p99, and, when the poll asks for a latency bound,
//   TargetResponseTime TC(<bound in seconds>:) (the number of responses slower than the bound).
// For the whole load balancer (LoadBalancer dimension only): HTTPCode_ELB_5XX_Count Sum.
//
// Which ALB metrics carry a TargetGroup dimension (AWS, "CloudWatch metrics for your Application
// Load Balancer", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html):
// RequestCount, HTTPCode_Target_*_Count, TargetResponseTime, TargetConnectionErrorCount and
// TargetTLSNegotiationErrorCount do ("LoadBalancer, TargetGroup"); HTTPCode_ELB_5XX_Count (and
// _502/_503/_504) does NOT ("LoadBalancer" and "AvailabilityZone, LoadBalancer" only). So the
// errors the ALB answers itself are attributed to a color in two parts:
//   - TargetConnectionErrorCount: connections to the color's targets that could not be
//     established (the ALB answers those requests 502/503 itself), per target group: elbErrors
//     (it counts connections, so it can exceed the requests it failed: an error against the color
//     that caused it, on the conservative side);
//     TargetTLSNegotiationErrorCount is left out: the targets here speak plain HTTP.
//   - the rest of HTTPCode_ELB_5XX_Count (resets, timeouts, a crashed target mid-response) has no
//     color: it is reported as `loadBalancer.elb5xx` and the engine judges it against its own
//     level before the step (core/engine/bake.ts), counting the excess against green.
//
// TC (trimmed count) with absolute bounds: "TC(0.005:0.030) returns the number of data points with
// values between 0.005 (exclusive) and 0.030 (inclusive)" (CloudWatch User Guide, "CloudWatch
// statistics definitions"); a bound may be left open, so TC(0.5:) counts the responses slower than
// 0.5 s, strictly. TargetResponseTime is in seconds; the port speaks milliseconds.
//
// Windows: ALB metrics have 1-minute resolution ("If there are requests flowing through the load
// balancer, Elastic Load Balancing measures and sends its metrics in 60-second intervals", same
// page), so a window is aligned to whole minutes and the Period is its length: one datapoint per
// metric, and the percentiles are the true percentiles over the window, not an average of
// per-minute ones. A minute is sent after it ends and CloudWatch then ingests it, so it can be
// missing or partial for a while: `publicationDelayMs` (default two minutes) declares that, and the
// ENGINE asks for a window only once it has passed (the windows logic lives in one place,
// core/engine/bake.ts). This adapter reads exactly the window it is asked for.
//
// Missing datapoints mean no data: 0 requests, 0 errors, null latency. Nothing is fabricated;
// the judge reads too few requests as "not enough traffic", never as a pass. A query CloudWatch
// could not answer (StatusCode InternalError/Forbidden, or messages) is an error, never zeros.

import type { CloudWatchClient, MetricDataQuery, MetricDataResult } from "@aws-sdk/client-cloudwatch";
import type { Color, ColorMetrics, MetricsSample, MetricsSource, MetricsWindow, SampleOptions } from "../core/ports.js";
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

/** How long after a minute ends CloudWatch is trusted to hold all of it, by default. */
export const DEFAULT_PUBLICATION_DELAY_MS = 2 * MINUTE;

type Kind = "requests" | "errors" | "connerr" | "p95" | "p99" | "slow";
const PER_COLOR: ReadonlyArray<{ kind: Exclude<Kind, "slow">; metric: string; stat: string }> = [
  { kind: "requests", metric: "RequestCount", stat: "Sum" },
  { kind: "errors", metric: "HTTPCode_Target_5XX_Count", stat: "Sum" },
  { kind: "connerr", metric: "TargetConnectionErrorCount", stat: "Sum" },
  { kind: "p95", metric: "TargetResponseTime", stat: "p95" },
  { kind: "p99", metric: "TargetResponseTime", stat: "p99" },
];

/** Align a window to whole minutes: [floor(start), floor(end)), at least one minute. */
export function alignWindow(window: MetricsWindow): { start: number; end: number; periodSeconds: number } {
  const start = Math.floor(window.start / MINUTE) * MINUTE;
  const end = Math.max(Math.floor(window.end / MINUTE) * MINUTE, start + MINUTE);
  return { start, end, periodSeconds: (end - start) / 1000 };
}

/** The TC statistic counting TargetResponseTime datapoints above `thresholdMs` (seconds, lower bound exclusive). */
export function slowStatistic(thresholdMs: number): string {
  if (!Number.isFinite(thresholdMs) || thresholdMs <= 0) throw new Error(`slow threshold must be a positive number of milliseconds (got ${thresholdMs})`);
  // Milliseconds → seconds, written without exponent notation (CloudWatch wants plain decimals).
  const seconds = (Math.round(thresholdMs * 1000) / 1_000_000).toFixed(6).replace(/\.?0+$/, "");
  return `TC(${seconds}:)`;
}

export interface CloudWatchMetricsOptions {
  /** Declared publication delay (ms); default DEFAULT_PUBLICATION_DELAY_MS. */
  publicationDelayMs?: number;
  /** Wall clock for recentTraffic(); default Date.now. */
  now?: () => number;
}

export class CloudWatchMetrics implements MetricsSource {
  readonly resolutionMs = MINUTE;
  readonly publicationDelayMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: CloudWatchClient,
    private readonly targets: CloudWatchMetricsTargets,
    options: CloudWatchMetricsOptions = {},
  ) {
    this.publicationDelayMs = options.publicationDelayMs ?? DEFAULT_PUBLICATION_DELAY_MS;
    this.now = options.now ?? Date.now;
  }

  queries(periodSeconds: number, options: SampleOptions = {}): MetricDataQuery[] {
    const stat = (id: string, metric: string, statistic: string, dimensions: { Name: string; Value: string }[]): MetricDataQuery => ({
      Id: id,
      MetricStat: { Metric: { Namespace: "AWS/ApplicationELB", MetricName: metric, Dimensions: dimensions }, Period: periodSeconds, Stat: statistic },
      ReturnData: true,
    });
    const slow = options.slowThresholdMs !== undefined ? slowStatistic(options.slowThresholdMs) : null;
    const perColor = COLORS.flatMap((color) => {
      const dimensions = [
        { Name: "TargetGroup", Value: this.targets.targetGroupArnSuffixes[color] },
        { Name: "LoadBalancer", Value: this.targets.albArnSuffix },
      ];
      const queries = PER_COLOR.map(({ kind, metric, stat: statistic }) => stat(`${kind}_${color}`, metric, statistic, dimensions));
      if (slow) queries.push(stat(`slow_${color}`, "TargetResponseTime", slow, dimensions));
      return queries;
    });
    // HTTPCode_ELB_5XX_Count has no TargetGroup dimension: load balancer level only.
    return [...perColor, stat("elb5xx_lb", "HTTPCode_ELB_5XX_Count", "Sum", [{ Name: "LoadBalancer", Value: this.targets.albArnSuffix }])];
  }

  async sample(window: MetricsWindow, options: SampleOptions = {}): Promise<MetricsSample> {
    const aligned = alignWindow(window);
    const queries = this.queries(aligned.periodSeconds, options);
    const values = new Map<string, number[]>();
    let nextToken: string | undefined;
    do {
      // One call per poll; a second page only if CloudWatch paginates (it does not for 13 datapoints).
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
    const sample = { loadBalancer: { elb5xx: sum("elb5xx_lb") } } as MetricsSample;
    for (const color of COLORS) {
      const metrics: ColorMetrics = {
        requests: sum(`requests_${color}`),
        errors5xx: sum(`errors_${color}`),
        elbErrors: sum(`connerr_${color}`),
        p95Ms: worstMs(`p95_${color}`),
        p99Ms: worstMs(`p99_${color}`),
      };
      if (options.slowThresholdMs !== undefined) metrics.slow = Math.round(sum(`slow_${color}`));
      sample[color] = metrics;
    }
    return sample;
  }

  /** Per-period samples over a span (whole minutes), in one call: blue's history before a cutover. */
  series(span: MetricsWindow, periodMs: number, options: SampleOptions = {}): Promise<(MetricsSample & { window: MetricsWindow })[]> {
    const period = Math.max(MINUTE, Math.round(periodMs / MINUTE) * MINUTE);
    const aligned = alignWindow(span);
    return cloudWatchSeries(this.client, this.queries(period / 1000, options), aligned, period, options.slowThresholdMs !== undefined);
  }

  /** The last `hours` whole hours' worth of published minutes, in one call (Period = the window). */
  async recentTraffic(hours: number): Promise<MetricsSample & { window: MetricsWindow }> {
    if (!(hours > 0)) throw new Error(`recentTraffic: hours must be positive (got ${hours})`);
    const end = Math.floor((this.now() - this.publicationDelayMs) / MINUTE) * MINUTE;
    const window = { start: end - Math.round(hours * 60) * MINUTE, end };
    return { ...(await this.sample(window)), window };
  }
}

/**
 * Per-period samples over a span, oldest first, in one GetMetricData call (more pages only if
 * CloudWatch paginates: 13 metrics × 60 periods fit in one answer of up to 100,800 datapoints).
 * The judge reads blue's hour before a cutover this way. Periods with no datapoint are 0 requests.
 */
export async function cloudWatchSeries(
  client: CloudWatchClient,
  queries: MetricDataQuery[],
  span: { start: number; end: number },
  periodMs: number,
  slowAsked: boolean,
): Promise<(MetricsSample & { window: MetricsWindow })[]> {
  const byTime = new Map<number, Map<string, number>>();
  let nextToken: string | undefined;
  do {
    const out = await awsCall("GetMetricData AWS/ApplicationELB (history)", () =>
      client.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: new Date(span.start),
          EndTime: new Date(span.end),
          ScanBy: "TimestampAscending",
          NextToken: nextToken,
        }),
      ),
    );
    for (const message of out.Messages ?? []) throw new Error(`GetMetricData: CloudWatch reported ${message.Code ?? "a problem"}: ${message.Value ?? ""}`);
    for (const result of out.MetricDataResults ?? []) {
      collect(new Map(), result); // the same refusal of InternalError / Forbidden as a sample
      (result.Timestamps ?? []).forEach((timestamp, i) => {
        const value = result.Values?.[i];
        if (value === undefined || !Number.isFinite(value)) return;
        const at = timestamp.getTime();
        const values = byTime.get(at) ?? new Map<string, number>();
        values.set(result.Id ?? "", value);
        byTime.set(at, values);
      });
    }
    nextToken = out.NextToken;
  } while (nextToken);
  const samples: (MetricsSample & { window: MetricsWindow })[] = [];
  for (let start = span.start; start + periodMs <= span.end; start += periodMs) {
    const values = byTime.get(start) ?? new Map<string, number>();
    const v = (id: string) => values.get(id);
    const sample = { loadBalancer: { elb5xx: v("elb5xx_lb") ?? 0 }, window: { start, end: start + periodMs } } as MetricsSample & { window: MetricsWindow };
    for (const color of COLORS) {
      const ms = (id: string) => (v(id) === undefined ? null : v(id)! * 1000);
      const metrics: ColorMetrics = {
        requests: v(`requests_${color}`) ?? 0,
        errors5xx: v(`errors_${color}`) ?? 0,
        elbErrors: v(`connerr_${color}`) ?? 0,
        p95Ms: ms(`p95_${color}`),
        p99Ms: ms(`p99_${color}`),
      };
      if (slowAsked) metrics.slow = Math.round(v(`slow_${color}`) ?? 0);
      sample[color] = metrics;
    }
    samples.push(sample);
  }
  return samples;
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
