// The demo's sandbox as ONE disposable stack: the run directory, PostgreSQL (one shared server or
// one per color), the application database, blue → green replication (paired), the two apps,
// the router and the load. start() brings it up step by step, each step abandoned at once on
// abort; release() takes it all down: the load first, then every server IN PARALLEL (router,
// apps, PostgreSQL), each bounded, then the directories. Everything is registered the moment it
// exists (and the reaper is told), so a failure or an abort at any point leaves nothing behind.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectClient } from "../net/pgConnection.js";
import type { Color } from "../core/ports.js";
import type { DatabaseMode } from "../../infra/config.js";
import { createSchema, seed, DEFAULT_SEED } from "../../sample-app/schema.js";
import { startPostgres, type LocalPostgres } from "../local/embeddedPostgres.js";
import { startApp, startReaper, type AppProcess, type Reaper } from "../local/processes.js";
import { LocalRouter } from "../local/router.js";
import { RouterControlServer } from "../local/routerControl.js";
import { RUN_DIRECTORY_FILES } from "../local/runDirectory.js";
import { startGuardProcess, type GuardProcess, type GuardProcessOptions } from "./guardProcess.js";
import { startCutoverProcess, type CutoverProcess, type SandboxCutoverRequest } from "./cutoverProcess.js";
import type { EngineEvent } from "../core/events.js";
import { raceAbort } from "../core/abort.js";
import { LoadGenerator } from "../local/load.js";
import { writeDemoStackFile, type DemoPolicy } from "./demoConfig.js";
import { PostgresDataReplication } from "../postgres/replication.js";
import { DemoAbortedError, type DemoResource } from "./types.js";

export interface SandboxOptions {
  runId: string;
  database: DatabaseMode;
  policy: DemoPolicy;
  /** Share of business requests both apps answer 500 all along. */
  backgroundErrorRate: number;
  ratePerSecond: number;
  writeShare: number;
  signal: AbortSignal;
  /** Spawn the detached reaper (default true). */
  reaper: boolean;
  say: (text: string) => void;
  onResource?: (resource: DemoResource) => void;
  onPhase?: (phase: string) => void;
  /** Green's v2 writes this into bookings.note (the migration scenario: a column only an expand migration adds). */
  greenBookingNote?: string;
  /** App processes per color behind the router (capacity); default 1 each. */
  instances?: Record<Color, number>;
  /** The load stops itself after this long (ms); default 150 s (the migration and orchestrated scenarios run two rollouts). */
  loadBoundMs?: number;
}

type Stopper = { name: string; kind: "load" | "server" | "dir" | "other"; stop: () => Promise<unknown> };

/** How long one resource may take to stop before the release moves on (it is then left to the reaper). */
const STOP_BOUND_MS = 2500;

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]);
}

export class Sandbox {
  readonly runId: string;
  runDir = "";
  servers: { blue: LocalPostgres | null; green: LocalPostgres | null } = { blue: null, green: null };
  blueUrl = "";
  greenUrl = "";
  replication: PostgresDataReplication | null = null;
  initialParity = "";
  apps: Record<Color, AppProcess> | null = null;
  /** Every app process of a color, the first being `apps[color]` (a target group's instances). */
  readonly pools: Record<Color, AppProcess[]> = { blue: [], green: [] };
  router: LocalRouter | null = null;
  load: LoadGenerator | null = null;

  private readonly stoppers: Stopper[] = [];
  private readonly reaperProcess: Reaper | null;
  private released: Promise<string[]> | null = null;
  private sealed = false;

  constructor(private readonly options: SandboxOptions) {
    this.runId = options.runId;
    this.reaperProcess = options.reaper ? startReaper() : null;
  }

  get stackFile(): string {
    return join(this.runDir, "Pulumi.demo.yaml");
  }
  get weightsFile(): string {
    return join(this.runDir, RUN_DIRECTORY_FILES.weights);
  }
  /** True once release() began: file adapters refuse to write into the run directory from then on. */
  get isSealed(): boolean {
    return this.sealed;
  }

  /** Register something to stop at release (timers, adapters the scenario created). */
  onRelease(name: string, stop: () => Promise<unknown> | void): void {
    this.stoppers.push({ name, kind: "other", stop: async () => stop() });
  }

  private track(resource: DemoResource): void {
    this.options.onResource?.(resource);
    if (resource.kind === "dir") this.reaperProcess?.trackDir(resource.path);
  }

  private phase(name: string): void {
    this.options.onPhase?.(name);
  }

  /** Wait for `promise`, or reject at once on abort (the promise's own failure is then swallowed). */
  step<T>(promise: Promise<T>): Promise<T> {
    return raceAbort(promise, this.options.signal, (signal) => new DemoAbortedError(String(signal.reason ?? "aborted")));
  }

  /** Abortable sleep. */
  sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    return this.step(new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))).finally(() => clearTimeout(timer));
  }

  async start(): Promise<void> {
    const { runId, database, policy, say } = this.options;
    this.phase("startup:directory");
    this.runDir = await mkdtemp(join(tmpdir(), `bluegreen-demo-${runId}-`));
    const runDir = this.runDir;
    this.track({ kind: "dir", path: runDir });
    this.stoppers.push({ name: "run directory", kind: "dir", stop: () => rm(runDir, { recursive: true, force: true, maxRetries: 3 }) });
    await writeDemoStackFile(this.stackFile, policy);

    // --- PostgreSQL ---------------------------------------------------------------------------
    this.phase("startup:postgres");
    const colors: Array<Color | "shared"> = database === "shared" ? ["shared"] : ["blue", "green"];
    const started = await Promise.all(colors.map((color) => this.startServer(color)));
    this.servers = { blue: started[0]!, green: started[1] ?? null };
    this.phase("startup:database");
    this.blueUrl = await this.step(prepareDatabase(started[0]!, "booking", true));
    this.greenUrl = started[1] ? await this.step(prepareDatabase(started[1], "booking", false)) : this.blueUrl;
    const blue = started[0]!;
    say(
      `PostgreSQL ${database === "shared" ? `on 127.0.0.1:${blue.port} (shared by both colors)` : `blue on 127.0.0.1:${blue.port}, green on 127.0.0.1:${started[1]!.port}`}: ` +
        `schema loaded, ${DEFAULT_SEED.clients} clients, ${DEFAULT_SEED.pets} pets, ${DEFAULT_SEED.bookings} bookings`,
    );

    if (database === "paired") {
      this.phase("startup:replication");
      const replication = new PostgresDataReplication({ blueUrl: this.blueUrl, greenUrl: this.greenUrl });
      this.replication = replication;
      // Connections only: the subscriptions go with the servers, which are deleted anyway.
      this.stoppers.push({ name: "replication connections", kind: "other", stop: () => replication.close() });
      await this.step(replication.start("blue-to-green", { copyData: true }));
      const caught = await this.step(replication.waitForCatchUp("blue-to-green", 60_000));
      const parity = await this.step(replication.parity());
      this.initialParity = parity.summary;
      say(`replication blue → green: initial copy caught up in ${caught.waitedMs} ms; parity: ${parity.summary}`);
      if (!parity.identical) throw new Error(`green's database differs from blue's after the initial sync: ${parity.summary}`);
    }

    // --- apps and router ------------------------------------------------------------------------
    this.phase("startup:apps");
    const [blueApp, greenApp] = await Promise.all([this.launch("blue", "v1", this.blueUrl), this.launch("green", "v2", this.greenUrl)]);
    this.apps = { blue: blueApp, green: greenApp };
    this.pools.blue.push(blueApp);
    this.pools.green.push(greenApp);
    const more = (color: Color) => Math.max(0, (this.options.instances?.[color] ?? 1) - 1);
    const extra = await Promise.all([
      ...Array.from({ length: more("blue") }, () => this.launch("blue", "v1", this.blueUrl)),
      ...Array.from({ length: more("green") }, () => this.launch("green", "v2", this.greenUrl)),
    ]);
    for (const app of extra) this.pools[app.color].push(app);
    const router = new LocalRouter({
      targets: { blue: this.pools.blue.map((app) => app.url), green: this.pools.green.map((app) => app.url) },
      weights: policy.traffic.weights,
      stickinessSeconds: policy.traffic.stickiness === false ? null : policy.traffic.stickiness.durationSeconds,
      testHeader: policy.traffic.testHeader,
    });
    this.router = router;
    this.stoppers.push({ name: "router", kind: "server", stop: () => router.close() });
    const routerPort = await router.listen(0);
    this.track({ kind: "port", port: routerPort, label: "router" });
    const control = new RouterControlServer(router);
    this.stoppers.push({ name: "router control API", kind: "server", stop: () => control.close() });
    await this.step(control.start(runDir));
    this.track({ kind: "port", port: control.listeningPort!, label: "router control API" });
    say(
      `blue v1 on :${blueApp.port}, green v2 on :${greenApp.port}, router on ${router.url} (try: curl -H 'x-bluegreen-color: green' ${router.url}/bookings/1)`,
    );
    if (this.options.backgroundErrorRate > 0) {
      say(
        `background errors: both colors answer ${Math.round(this.options.backgroundErrorRate * 10_000) / 100}% of requests 500 (a real service's normal rate)`,
      );
    }
  }

  /** One more app process of `color`, taking its share of the color's requests once it listens (capacity match). */
  async addInstance(color: Color): Promise<AppProcess> {
    const app = await this.launch(color, color === "blue" ? "v1" : "v2", color === "blue" ? this.blueUrl : this.greenUrl);
    this.pools[color].push(app);
    this.router!.addTarget(color, app.url);
    return app;
  }

  /** The guard in its own process over the router's control API and the run directory (stopped at release). */
  async startGuard(options: Omit<GuardProcessOptions, "runDir" | "tag" | "onSpawn">): Promise<GuardProcess> {
    const tag = `bluegreen-demo-${this.runId}`;
    let pid: number | null = null;
    const starting = startGuardProcess({
      ...options,
      runDir: this.runDir,
      tag,
      onSpawn: (spawned) => {
        pid = spawned;
        this.reaperProcess?.trackPid(spawned, tag);
        this.track({ kind: "pid", pid: spawned, label: "guard" });
      },
    });
    this.stoppers.push({
      name: "guard",
      // Stopped with the scenario's own parts, before the router it talks to.
      kind: "other",
      stop: async () => {
        const guard = await starting.catch(() => null);
        if (guard) return guard.stop();
        if (pid !== null) killQuietly(pid, "SIGTERM");
      },
    });
    return this.step(starting);
  }

  /**
   * The cutover in its own process (scripts/demo/cutoverMain.ts) over the router's control API
   * and the run directory, with this sandbox's app processes as its targets; stopped at release
   * (SIGTERM: it stops at its next safe point).
   */
  async startCutover(request: Omit<SandboxCutoverRequest, "targets" | "pids">, onEngineEvent: (event: EngineEvent) => void): Promise<CutoverProcess> {
    const tag = `bluegreen-demo-${this.runId}`;
    const targets = { blue: this.pools.blue.map((app) => app.url), green: this.pools.green.map((app) => app.url) };
    const pids = { blue: this.pools.blue.map((app) => app.pid), green: this.pools.green.map((app) => app.pid) };
    const started = await this.step(
      startCutoverProcess({
        runDir: this.runDir,
        request: { ...request, targets, pids },
        databaseUrl: this.blueUrl,
        tag,
        onEngineEvent,
        onSpawn: (pid) => {
          this.reaperProcess?.trackPid(pid, tag);
          this.track({ kind: "pid", pid, label: "cutover" });
        },
      }),
    );
    // Stopped with the scenario's own parts, before the router it talks to.
    this.stoppers.push({ name: "cutover process", kind: "other", stop: () => started.child.stop() });
    return started;
  }

  /** Start the steady load through the router (bounded in count and time). */
  startLoad(): LoadGenerator {
    const { ratePerSecond: rate, writeShare, say } = this.options;
    this.phase("startup:load");
    const loadBoundMs = this.options.loadBoundMs ?? 150_000;
    const load = new LoadGenerator({
      url: this.router!.url,
      ratePerSecond: rate,
      writeShare,
      maxInFlight: 48,
      maxRequests: rate * (loadBoundMs / 1000),
      maxDurationMs: loadBoundMs,
    });
    this.load = load;
    this.stoppers.push({ name: "load", kind: "load", stop: () => load.stop(this.sealed ? 500 : 1000) });
    load.start();
    say(
      `steady load: ${rate} req/s (${Math.round((1 - writeShare) * 100)}% reads, ${Math.round(writeShare * 100)}% writes: ~${Math.round(rate * writeShare)} writes/s) through the router`,
    );
    return load;
  }

  private async startServer(color: Color | "shared"): Promise<LocalPostgres> {
    const label = `bluegreen-demo-${this.runId}-${color}`;
    let directory: string | null = null;
    // Registered before initdb runs: an abort during start-up still removes the directory.
    this.stoppers.push({
      name: `PostgreSQL directory (${color})`,
      kind: "dir",
      stop: async () => (directory ? rm(directory, { recursive: true, force: true, maxRetries: 3 }) : undefined),
    });
    const starting = startPostgres({
      label,
      signal: this.options.signal,
      onDirectory: (dir) => {
        directory = dir;
        this.reaperProcess?.trackPostgres(dir);
        this.track({ kind: "dir", path: dir });
      },
    });
    // If the start-up outlives an abort, whatever it brings up is stopped by release().
    const stopper: Stopper = {
      name: `PostgreSQL (${color})`,
      kind: "server",
      stop: async () => {
        const server = await starting.catch(() => null);
        await server?.stop();
      },
    };
    this.stoppers.push(stopper);
    const server = await this.step(starting);
    this.track({ kind: "port", port: server.port, label: `postgres ${color}` });
    return server;
  }

  private async launch(color: Color, version: string, url: string): Promise<AppProcess> {
    const tag = `bluegreen-demo-${this.runId}`;
    let pid: number | null = null;
    const starting = startApp({
      color,
      version,
      databaseUrl: url,
      tag,
      backgroundErrorRate: this.options.backgroundErrorRate,
      ...(color === "green" && this.options.greenBookingNote !== undefined ? { bookingNote: this.options.greenBookingNote } : {}),
      onSpawn: (spawned) => {
        pid = spawned;
        this.reaperProcess?.trackPid(spawned, tag);
        this.track({ kind: "pid", pid: spawned, label: `${color} app` });
      },
    });
    this.stoppers.push({
      name: `${color} app`,
      kind: "server",
      stop: async () => {
        const app = await Promise.race([starting.catch(() => null), new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), 50))]);
        if (app && app !== "pending") return app.stop();
        // Still starting (or failed): stop the process itself.
        if (pid !== null) killQuietly(pid, "SIGTERM");
        await starting.catch(() => undefined);
      },
    });
    const app = await this.step(starting);
    this.track({ kind: "port", port: app.port, label: `${color} app` });
    return app;
  }

  /** What release() will stop, for the progress line. */
  describe(): string {
    const parts: string[] = [];
    if (this.load) parts.push("load");
    if (this.router) parts.push("router");
    const apps = this.stoppers.filter((s) => / app$/.test(s.name)).length;
    if (apps > 0) parts.push(apps === 2 ? "apps" : "app");
    const servers = this.stoppers.filter((s) => s.name.startsWith("PostgreSQL (")).length;
    if (servers > 0) parts.push(`${servers} PostgreSQL server${servers === 1 ? "" : "s"}`);
    return parts.length > 0 ? parts.join(", ") : "nothing started yet";
  }

  /**
   * Stop everything and remove the directories; returns what failed (idempotent). Order: seal
   * the run directory and stop the scenario's own timers and the load; then every server at
   * once; then the directories.
   */
  release(): Promise<string[]> {
    this.released ??= this.releaseOnce();
    return this.released;
  }

  private async releaseOnce(): Promise<string[]> {
    this.sealed = true;
    const problems: string[] = [];
    const run = async (group: Stopper[]) => {
      await Promise.all(
        group.map(async ({ name, stop }) => {
          try {
            await withTimeout(stop(), STOP_BOUND_MS, `stopping ${name}`);
          } catch (error) {
            problems.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }),
      );
    };
    await run(this.stoppers.filter((s) => s.kind === "other" || s.kind === "load"));
    await run(this.stoppers.filter((s) => s.kind === "server"));
    await run(this.stoppers.filter((s) => s.kind === "dir"));
    this.stoppers.length = 0;
    // Something did not stop in time: the reaper removes what is left now, instead of never.
    if (problems.length === 0) this.reaperProcess?.done();
    else this.reaperProcess?.reapNow();
    return problems;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

/** Create the application database and load schema + seed. */
async function prepareDatabase(server: LocalPostgres, database: string, withSeed: boolean): Promise<string> {
  const admin = await connectClient({ connectionString: server.url() }, { applicationName: "bluegreen-demo" });
  try {
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end().catch(() => undefined);
  }
  const url = server.url(database);
  const client = await connectClient({ connectionString: url }, { applicationName: "bluegreen-demo" });
  try {
    await createSchema(client);
    if (withSeed) await seed(client);
  } finally {
    await client.end().catch(() => undefined);
  }
  return url;
}
