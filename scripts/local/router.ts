// The sandbox's load balancer: a weighted reverse proxy on 127.0.0.1 built on http-proxy-3.
// It plays the ALB's part in `npm run demo` and the end-to-end tests:
//
// - picks a color per request from the current weights (smooth weighted round-robin, the
//   algorithm nginx uses: over any run of requests the split is exact to within one request);
// - optional stickiness cookie (like the ALB's target-group stickiness): a request carrying
//   `bluegreen-color=<color>` goes back to that color while its weight is above zero;
// - the test header rule: `x-bluegreen-color: green` (or blue) goes straight to that color;
// - the write fence (paired databases): "writes" answers POST/PUT/PATCH/DELETE with
//   503 and a short JSON body while reads keep flowing; "all" answers everything 503;
// - per-color counters in one-second buckets (requests, 5xx, an HDR latency histogram), so a
//   MetricsSource can answer any [start, end) window, and per weight generation, so the demo
//   can show the observed split of every step exactly.

import { createServer, Agent, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { createProxyServer } from "http-proxy-3";
import * as hdr from "hdr-histogram-js";
import type { Color, ColorMetrics, FenceMode, MetricsWindow, SampleOptions, Weights } from "../core/ports.js";

export const STICKY_COOKIE = "bluegreen-color";
const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export interface RouterOptions {
  /** Base URLs of the colors' apps, e.g. http://127.0.0.1:41234; several per color are taken in turn (addTarget adds more). */
  targets: Record<Color, string | readonly string[]>;
  weights?: Weights;
  /** Seconds; null or absent: no stickiness. */
  stickinessSeconds?: number | null;
  /** Header that pins a request to a color, like the ALB test rule. */
  testHeader?: string;
  /** Metrics bucket width in ms (default 250: a 1 s window is four whole buckets). */
  bucketMs?: number;
  /** How long buckets are kept, ms. */
  retainMs?: number;
  /** Upstream response timeout, ms. */
  proxyTimeoutMs?: number;
}

/** Requests served while one set of weights was live. */
export interface WeightEpoch {
  generation: number;
  weights: Weights;
  /** Epoch ms when these weights went live, and when the next ones replaced them (null: still live). */
  from: number;
  to: number | null;
  /** Requests the weights routed (test-header and sticky requests excluded), by chosen color. */
  routed: Record<Color, number>;
  /** Of those, answered 5xx. */
  errors5xx: Record<Color, number>;
}

interface Bucket {
  start: number;
  requests: number;
  /** 5xx the color's app answered. */
  errors5xx: number;
  /** 502s the router answered itself for this color (the app refused or reset the connection): the ALB's TargetConnectionErrorCount. */
  elbErrors: number;
  /** Latencies of the answers the app gave (router-answered 502s have none, like TargetResponseTime). */
  histogram: hdr.Histogram | null;
}

/** The JsHistogram internals used to count values above a bound (the JS build; useWebAssembly is off). */
interface CountingHistogram {
  countsArrayIndex(value: number): number;
  getCountAtIndex(index: number): number;
  countsArrayLength: number;
}

/**
 * Recorded values strictly above `thresholdMs`, to the histogram's precision (2 significant
 * digits: a value in the same equivalence range as the bound is not counted as above it).
 */
export function countAbove(histogram: hdr.Histogram, thresholdMs: number): number {
  const h = histogram as unknown as CountingHistogram;
  let above = 0;
  for (let i = h.countsArrayIndex(Math.max(1, Math.floor(thresholdMs))) + 1; i < h.countsArrayLength; i++) above += h.getCountAtIndex(i);
  return above;
}

export interface RouterTotals {
  requests: Record<Color, number>;
  errors5xx: Record<Color, number>;
  pinnedByHeader: number;
  sticky: number;
  fencedWrites: number;
  fencedReads: number;
  proxyErrors: number;
}

const newHistogram = () =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000, numberOfSignificantValueDigits: 2, autoResize: true, useWebAssembly: false });

export class LocalRouter {
  readonly bucketMs: number;
  private readonly retainMs: number;
  private readonly server: Server;
  private readonly proxy;
  private readonly agents: Record<Color, Agent>;
  private weights: Weights;
  private generation = 0;
  private fence: FenceMode = "off";
  private readonly credit: Record<Color, number> = { blue: 0, green: 0 };
  private readonly buckets: Record<Color, Map<number, Bucket>> = { blue: new Map(), green: new Map() };
  private readonly epochList: WeightEpoch[] = [];
  private readonly totalsData: RouterTotals = {
    requests: { blue: 0, green: 0 },
    errors5xx: { blue: 0, green: 0 },
    pinnedByHeader: 0,
    sticky: 0,
    fencedWrites: 0,
    fencedReads: 0,
    proxyErrors: 0,
  };
  private readonly fenceLog: Array<{ mode: FenceMode; at: number }> = [];
  /** Write requests proxied to an app and not yet answered (the fence waits for them to drain). */
  private writesInFlight = 0;
  private drainWaiters: Array<() => void> = [];
  private port: number | null = null;
  private readonly sockets = new Set<import("node:net").Socket>();

  constructor(private readonly options: RouterOptions) {
    this.bucketMs = options.bucketMs ?? 250;
    this.retainMs = options.retainMs ?? 15 * 60_000;
    this.weights = checkWeights(options.weights ?? { blue: 100, green: 0 });
    for (const color of ["blue", "green"] as const) this.pools[color].push(...([] as string[]).concat(options.targets[color]));
    this.epochList.push(this.newEpoch(Date.now()));
    this.agents = {
      blue: new Agent({ keepAlive: true, maxSockets: 128 }),
      green: new Agent({ keepAlive: true, maxSockets: 128 }),
    };
    this.proxy = createProxyServer({ xfwd: true, proxyTimeout: options.proxyTimeoutMs ?? 30_000 });
    // Without a listener an upstream error would be thrown; every request passes its own callback too.
    this.proxy.on("error", () => undefined);
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  /** Listen on 127.0.0.1 (port 0: any free port); resolves with the port. */
  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => {
        const address = this.server.address();
        if (address === null || typeof address === "string") return reject(new Error("router: no port"));
        this.port = address.port;
        resolve(address.port);
      });
    });
  }

  get url(): string {
    if (this.port === null) throw new Error("router is not listening");
    return `http://127.0.0.1:${this.port}`;
  }

  getWeights(): { weights: Weights; generation: number; since: number } {
    const live = this.epochList.at(-1)!;
    return { weights: { ...this.weights }, generation: this.generation, since: live.from };
  }

  /** Make new weights live for the next request. */
  setWeights(weights: Weights): void {
    const next = checkWeights(weights);
    if (next.blue === this.weights.blue && next.green === this.weights.green) return;
    const now = Date.now();
    this.epochList.at(-1)!.to = now;
    this.weights = next;
    this.generation++;
    this.credit.blue = 0;
    this.credit.green = 0;
    this.epochList.push(this.newEpoch(now));
  }

  get stickinessSeconds(): number | null {
    return this.options.stickinessSeconds ?? null;
  }

  getFence(): FenceMode {
    return this.fence;
  }

  setFence(mode: FenceMode): void {
    if (mode !== "off" && mode !== "writes" && mode !== "all") throw new Error(`unknown fence mode "${String(mode)}"`);
    if (mode === this.fence) return;
    this.fence = mode;
    this.fenceLog.push({ mode, at: Date.now() });
  }

  /** Writes forwarded to an app and still unanswered. */
  inFlightWrites(): number {
    return this.writesInFlight;
  }

  /**
   * Resolve once no write forwarded before now is still in flight (bounded by timeoutMs). The
   * fence stops NEW writes; a write already at the app may still commit. The paired switch must
   * not read the source's WAL position before those commits, so the fence waits for them.
   */
  async drainWrites(timeoutMs: number): Promise<{ drained: boolean; waitedMs: number; inFlight: number }> {
    const started = Date.now();
    if (this.writesInFlight === 0) return { drained: true, waitedMs: 0, inFlight: 0 };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.drainWaiters.push(done);
    });
    return { drained: this.writesInFlight === 0, waitedMs: Date.now() - started, inFlight: this.writesInFlight };
  }

  /** Every fence change, in order (epoch ms). */
  fenceHistory(): Array<{ mode: FenceMode; at: number }> {
    return [...this.fenceLog];
  }

  epochs(): WeightEpoch[] {
    return this.epochList.map((epoch) => ({ ...epoch, weights: { ...epoch.weights }, routed: { ...epoch.routed }, errors5xx: { ...epoch.errors5xx } }));
  }

  /** A color's instances (each color may run several app processes, like targets in a target group). */
  private readonly pools: Record<Color, string[]> = { blue: [], green: [] };
  private readonly turn: Record<Color, number> = { blue: 0, green: 0 };

  /** Round robin over a color's instances. */
  private nextTarget(color: Color): string {
    const pool = this.pools[color];
    const target = pool[this.turn[color] % pool.length]!;
    this.turn[color] = (this.turn[color] + 1) % pool.length;
    return target;
  }

  /** A new instance of a color takes its share of that color's requests from now on. */
  addTarget(color: Color, url: string): void {
    this.pools[color].push(url);
  }

  totals(): RouterTotals {
    const t = this.totalsData;
    return { ...t, requests: { ...t.requests }, errors5xx: { ...t.errors5xx } };
  }

  /**
   * Both colors over a window. A bucket belongs to the window when its midpoint lies in
   * [start, end), so adjacent windows never count a request twice.
   */
  sample(window: MetricsWindow, options: SampleOptions = {}): Record<Color, ColorMetrics> {
    const result = {} as Record<Color, ColorMetrics>;
    for (const color of ["blue", "green"] as const) {
      let requests = 0;
      let errors5xx = 0;
      let elbErrors = 0;
      const merged = newHistogram();
      for (const bucket of this.buckets[color].values()) {
        const middle = bucket.start + this.bucketMs / 2;
        if (middle < window.start || middle >= window.end) continue;
        requests += bucket.requests;
        errors5xx += bucket.errors5xx;
        elbErrors += bucket.elbErrors;
        if (bucket.histogram) merged.add(bucket.histogram);
      }
      const hasLatency = merged.totalCount > 0;
      const metrics: ColorMetrics = {
        requests,
        errors5xx,
        elbErrors,
        p95Ms: hasLatency ? merged.getValueAtPercentile(95) : null,
        p99Ms: hasLatency ? merged.getValueAtPercentile(99) : null,
      };
      if (options.slowThresholdMs !== undefined) metrics.slow = hasLatency ? countAbove(merged, options.slowThresholdMs) : 0;
      result[color] = metrics;
      merged.destroy();
    }
    return result;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
        resolve();
      }, 1000).unref();
    });
    this.proxy.close();
    this.agents.blue.destroy();
    this.agents.green.destroy();
    for (const color of ["blue", "green"] as const) {
      for (const bucket of this.buckets[color].values()) bucket.histogram?.destroy();
      this.buckets[color].clear();
    }
  }

  // -------------------------------------------------------------------------------------------

  private newEpoch(from: number): WeightEpoch {
    return { generation: this.generation, weights: { ...this.weights }, from, to: null, routed: { blue: 0, green: 0 }, errors5xx: { blue: 0, green: 0 } };
  }

  /** Smooth weighted round-robin: add each weight to its credit, pick the largest, subtract the total. */
  private pick(): Color {
    const { blue, green } = this.weights;
    if (green === 0) return "blue";
    if (blue === 0) return "green";
    this.credit.blue += blue;
    this.credit.green += green;
    const chosen: Color = this.credit.green > this.credit.blue ? "green" : "blue";
    this.credit[chosen] -= blue + green;
    return chosen;
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path.startsWith("/__admin")) return this.send(res, 404, { error: "not found" });
    if (path === "/__router") {
      return this.send(res, 200, { weights: this.weights, generation: this.generation, fence: this.fence, totals: this.totalsData });
    }

    const method = (req.method ?? "GET").toUpperCase();
    if (this.fence === "all" || (this.fence === "writes" && WRITE_METHODS.has(method))) {
      if (this.fence === "all" && !WRITE_METHODS.has(method)) this.totalsData.fencedReads++;
      else this.totalsData.fencedWrites++;
      // Drain the body so the client's connection stays usable.
      req.resume();
      return this.send(
        res,
        503,
        { error: "write fence", fence: this.fence, message: this.fence === "all" ? "maintenance: try again shortly" : "writes are paused for a moment: retry" },
        { "retry-after": "1" },
      );
    }

    let color: Color | null = null;
    let routedByWeights = false;
    const pinned = headerValue(req.headers[this.options.testHeader ?? "x-bluegreen-color"]);
    if (pinned === "blue" || pinned === "green") {
      color = pinned;
      this.totalsData.pinnedByHeader++;
    } else if (this.options.stickinessSeconds) {
      const cookie = stickyColor(req.headers.cookie);
      if (cookie !== null && this.weights[cookie] > 0) {
        color = cookie;
        this.totalsData.sticky++;
      }
    }
    if (color === null) {
      color = this.pick();
      routedByWeights = true;
    }
    const epoch = this.epochList.at(-1)!;
    if (routedByWeights) epoch.routed[color]++;
    if (this.options.stickinessSeconds) {
      res.setHeader("set-cookie", `${STICKY_COOKIE}=${color}; Max-Age=${this.options.stickinessSeconds}; Path=/; HttpOnly; SameSite=Lax`);
    }

    if (WRITE_METHODS.has(method)) {
      this.writesInFlight++;
      let counted = true;
      res.on("close", () => {
        if (!counted) return;
        counted = false;
        this.writesInFlight--;
        if (this.writesInFlight === 0 && this.drainWaiters.length > 0) {
          const waiters = this.drainWaiters;
          this.drainWaiters = [];
          for (const resolve of waiters) resolve();
        }
      });
    }

    const started = performance.now();
    const chosen = color;
    let recorded = false;
    /** The router answered this request itself (the app refused or reset the connection). */
    let answeredByRouter = false;
    const record = (status: number) => {
      if (recorded) return;
      recorded = true;
      const is5xx = status >= 500;
      this.record(chosen, performance.now() - started, is5xx, answeredByRouter);
      if (routedByWeights && is5xx) epoch.errors5xx[chosen]++;
    };
    res.on("finish", () => record(res.statusCode));
    this.proxy.web(req, res, { target: this.nextTarget(chosen), agent: this.agents[chosen] }, (error) => {
      this.totalsData.proxyErrors++;
      answeredByRouter = true;
      if (res instanceof Object && "headersSent" in res && !res.headersSent) {
        this.send(res as ServerResponse, 502, { error: `upstream ${chosen} unreachable`, code: (error as NodeJS.ErrnoException).code ?? "error" });
      } else {
        (res as ServerResponse).destroy();
        record(502);
      }
    });
  }

  private record(color: Color, latencyMs: number, is5xx: boolean, answeredByRouter = false): void {
    const now = Date.now();
    const start = Math.floor(now / this.bucketMs) * this.bucketMs;
    const buckets = this.buckets[color];
    let bucket = buckets.get(start);
    if (!bucket) {
      bucket = { start, requests: 0, errors5xx: 0, elbErrors: 0, histogram: null };
      buckets.set(start, bucket);
      // Drop buckets older than the retention (bounded memory).
      for (const [key, old] of buckets) {
        if (key >= start - this.retainMs) break;
        old.histogram?.destroy();
        buckets.delete(key);
      }
    }
    bucket.requests++;
    if (answeredByRouter) {
      // Counted for the color that caused it, apart from the app's own 5xx; no app latency to record.
      bucket.elbErrors++;
    } else {
      if (is5xx) bucket.errors5xx++;
      bucket.histogram ??= newHistogram();
      bucket.histogram.recordValue(Math.max(1, Math.round(latencyMs)));
    }
    this.totalsData.requests[color]++;
    if (is5xx) this.totalsData.errors5xx[color]++;
  }
}

/** The weights, or the error an invalid write gets (refused at once, before anything changes). */
export function checkWeights(weights: Weights): Weights {
  const { blue, green } = weights;
  if (!Number.isInteger(blue) || !Number.isInteger(green) || blue < 0 || green < 0 || blue + green !== 100) {
    throw new Error(`weights must be integers 0..100 summing to 100, got blue=${blue} green=${green}`);
  }
  return { blue, green };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return (Array.isArray(value) ? value[0] : value)?.trim().toLowerCase();
}

function stickyColor(cookieHeader: string | undefined): Color | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(";")) {
    const [name, value] = part.trim().split("=", 2);
    if (name === STICKY_COOKIE && (value === "blue" || value === "green")) return value;
  }
  return null;
}
