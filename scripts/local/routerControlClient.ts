// The engine's TrafficRouter and MetricsSource ports over the local router's control API
// (./routerControl.ts), for a process that does not host the router: the sandbox guard. They
// behave like the AWS adapters they stand in for: every call is bounded by a timeout, a refused
// or timed-out call is an UnreachableError (the engine retries or reports it, as on AWS), and a
// 4xx is the caller's mistake, reported with the server's message.

import { UnreachableError } from "../core/errors.js";
import { seriesBySampling } from "../core/metricsSeries.js";
import type { MetricsSample, MetricsSource, MetricsWindow, RouteWeights, SampleOptions, TrafficRouter, Weights } from "../core/ports.js";
import type { RouterControlAccess } from "./routerControl.js";

/** Per call: the control API answers from memory in microseconds; a second means it is gone or stuck. */
const CALL_TIMEOUT_MS = 2000;

async function call(access: RouterControlAccess, path: string, init: { method?: string; body?: unknown } = {}): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${access.url}${path}`, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${access.token}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new UnreachableError(`the local router's control API at ${access.url} did not answer ${init.method ?? "GET"} ${path.split("?")[0]} (${cause})`);
  }
  const text = await response.text();
  if (response.status >= 500) throw new UnreachableError(`the local router's control API answered ${response.status}: ${text.slice(0, 200)}`);
  if (response.status >= 400) {
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: the raw text
    }
    throw new Error(`the local router's control API refused ${init.method ?? "GET"} ${path.split("?")[0]}: ${message}`);
  }
  return text.length === 0 ? null : (JSON.parse(text) as unknown);
}

export class RemoteTrafficRouter implements TrafficRouter {
  constructor(private readonly access: RouterControlAccess) {}

  describeWrites(): string[] {
    return [`PUT ${this.access.url}/weights (the local router's control API)`];
  }

  async readWeights(): Promise<RouteWeights[]> {
    const live = (await call(this.access, "/weights")) as { route: string; weights: Weights; stickinessSeconds: number | null };
    return [{ route: live.route, weights: { blue: live.weights.blue, green: live.weights.green }, stickinessSeconds: live.stickinessSeconds }];
  }

  async writeWeights(weights: Weights): Promise<void> {
    await call(this.access, "/weights", { method: "PUT", body: { blue: weights.blue, green: weights.green } });
  }
}

/** The router's counters at 1 s resolution; a window that has ended is complete (the router counts a request when it answers it). */
export class RemoteMetricsSource implements MetricsSource {
  readonly publicationDelayMs = 0;
  constructor(
    private readonly access: RouterControlAccess,
    readonly resolutionMs = 1000,
  ) {}

  async sample(window: MetricsWindow, options: SampleOptions = {}): Promise<MetricsSample> {
    if (!(window.end > window.start)) throw new Error(`empty metrics window [${window.start}, ${window.end})`);
    const query = new URLSearchParams({ start: String(window.start), end: String(window.end) });
    if (options.slowThresholdMs !== undefined) query.set("slowThresholdMs", String(options.slowThresholdMs));
    return (await call(this.access, `/metrics?${query.toString()}`)) as MetricsSample;
  }

  /** One call to the control API per period over the span. */
  series(span: MetricsWindow, periodMs: number, options: SampleOptions = {}): Promise<(MetricsSample & { window: MetricsWindow })[]> {
    return seriesBySampling((window, opts) => this.sample(window, opts), span, periodMs, options);
  }
}
