// MetricsSource.series for a source that answers any window at once (the sandbox's router): one
// sample per period, oldest first. A source with a real time series (CloudWatch) answers the whole
// span in one call instead.

import type { MetricsSample, MetricsWindow, SampleOptions } from "./ports.js";

export async function seriesBySampling(
  sample: (window: MetricsWindow, options: SampleOptions) => Promise<MetricsSample>,
  span: MetricsWindow,
  periodMs: number,
  options: SampleOptions = {},
): Promise<(MetricsSample & { window: MetricsWindow })[]> {
  if (!(periodMs > 0)) throw new Error(`series: period must be positive (got ${periodMs})`);
  const out: (MetricsSample & { window: MetricsWindow })[] = [];
  for (let start = span.start; start + periodMs <= span.end; start += periodMs) {
    const window = { start, end: start + periodMs };
    out.push({ ...(await sample(window, options)), window });
  }
  return out;
}
