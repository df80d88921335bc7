// The sandbox guard as its own OS process (scripts/local/guardMain.ts), and the router's control
// API it works through (scripts/local/routerControl.ts): a real LocalRouter in front of two tiny
// upstreams on 127.0.0.1, a run directory holding a paused rollout's journal (written by the
// engine itself on the virtual clock), and real requests. Asserted on what the processes say, the
// journal and the router's state; every wait is bounded in count and time.

import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCutover } from "../../scripts/core/engine.js";
import { UnreachableError } from "../../scripts/core/errors.js";
import { parseJournal } from "../../scripts/core/journal.js";
import { startCutoverProcess } from "../../scripts/demo/cutoverProcess.js";
import { describeWindow } from "../../scripts/demo/guard.js";
import { startGuardProcess, type GuardProcess } from "../../scripts/demo/guardProcess.js";
import { LocalRouter } from "../../scripts/local/router.js";
import { readRouterControlAccess, RouterControlServer, ROUTER_CONTROL_FILE } from "../../scripts/local/routerControl.js";
import { RemoteMetricsSource, RemoteTrafficRouter } from "../../scripts/local/routerControlClient.js";
import { runDirectoryStores } from "../../scripts/local/runDirectory.js";
import { readRecordedWeights } from "../../scripts/local/weightFile.js";
import { FakeWorld, testRollout } from "../support/fakes.js";

/** Upstreams: blue always 200; green 200, or 500 for a share of its requests once `greenErrorShare` is set. */
let greenErrorShare = 0;
let greenCount = 0;
const upstreams: Server[] = [];
function upstream(color: "blue" | "green"): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    let status = 200;
    if (color === "green" && greenErrorShare > 0) status = greenCount++ % Math.round(1 / greenErrorShare) === 0 ? 500 : 200;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ color }));
  });
  upstreams.push(server);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

const targets = { blue: "", green: "" };
beforeAll(async () => {
  targets.blue = await upstream("blue");
  targets.green = await upstream("green");
});
afterAll(async () => {
  await Promise.all(upstreams.map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A router with its control API in a fresh run directory, for `use`; everything stopped and removed after. */
async function withRunDirectory(
  prefix: string,
  weights: { blue: number; green: number },
  use: (dir: string, router: LocalRouter) => Promise<void>,
  prepare?: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  let router: LocalRouter | null = null;
  let control: RouterControlServer | null = null;
  try {
    await prepare?.(dir);
    router = new LocalRouter({ targets, weights });
    await router.listen(0);
    control = new RouterControlServer(router);
    await control.start(dir);
    await use(dir, router);
  } finally {
    await control?.close();
    await router?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const sameAs = (routes: { weights: { blue: number; green: number } }[], weights: { blue: number; green: number }) =>
  routes.every((route) => route.weights.blue === weights.blue && route.weights.green === weights.green);

describe("the router's control API", () => {
  let router: LocalRouter;
  let control: RouterControlServer;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "bluegreen-control-"));
    router = new LocalRouter({ targets, weights: { blue: 90, green: 10 }, stickinessSeconds: 60 });
    await router.listen(0);
    control = new RouterControlServer(router);
    await control.start(dir);
  });
  afterAll(async () => {
    await control.close();
    await router.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes its access into the run directory, readable by its owner only", async () => {
    const access = await readRouterControlAccess(dir);
    expect(access).toEqual(control.access());
    expect(access.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await stat(join(dir, ROUTER_CONTROL_FILE))).mode & 0o777).toBe(0o600);
  });

  it("refuses a call without the token, or with another one, and changes nothing", async () => {
    const { url } = control.access();
    expect((await fetch(`${url}/weights`)).status).toBe(401);
    const wrong = await fetch(`${url}/weights`, { method: "PUT", headers: { authorization: "Bearer nope" }, body: JSON.stringify({ blue: 0, green: 100 }) });
    expect(wrong.status).toBe(401);
    expect(router.getWeights().weights).toEqual({ blue: 90, green: 10 });
  });

  it("is not reachable through the data plane", async () => {
    const response = await fetch(`${router.url}/weights`, { headers: { authorization: `Bearer ${control.access().token}`, "x-bluegreen-color": "blue" } });
    expect(await response.json()).toEqual({ color: "blue" }); // the app answered: the router has no such route of its own
  });

  it("reads and writes the weights as the TrafficRouter port: a write goes live after its propagation delay; bad weights are refused with nothing changed", async () => {
    const remote = new RemoteTrafficRouter(control.access());
    expect(await remote.readWeights()).toEqual([{ route: "local-router", weights: { blue: 90, green: 10 }, stickinessSeconds: 60 }]);
    await remote.writeWeights({ blue: 70, green: 30 });
    let polls = 0;
    while (!sameAs(await remote.readWeights(), { blue: 70, green: 30 }) && polls < 100) {
      polls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(router.getWeights().weights).toEqual({ blue: 70, green: 30 });
    await expect(remote.writeWeights({ blue: 70, green: 31 })).rejects.toThrow(
      /refused PUT \/weights: invalid weights: weights must be integers 0\.\.100 summing to 100/,
    );
    await expect(remote.writeWeights({ blue: -1, green: 101 })).rejects.toThrow(/refused PUT/);
    expect(router.getWeights().weights).toEqual({ blue: 70, green: 30 });
    router.setWeights({ blue: 90, green: 10 });
  });

  it("an accepted write is not live before its delay: the caller must read back", async () => {
    const slowRouter = new LocalRouter({ targets, weights: { blue: 100, green: 0 } });
    await slowRouter.listen(0);
    const slow = new RouterControlServer(slowRouter, 60_000);
    const slowDir = await mkdtemp(join(tmpdir(), "bluegreen-control-slow-"));
    try {
      await slow.start(slowDir);
      const remote = new RemoteTrafficRouter(slow.access());
      await remote.writeWeights({ blue: 0, green: 100 });
      expect(await remote.readWeights()).toMatchObject([{ weights: { blue: 100, green: 0 } }]);
    } finally {
      await slow.close(); // drops the pending write
      await slowRouter.close();
      await rm(slowDir, { recursive: true, force: true });
    }
    expect(slowRouter.getWeights().weights).toEqual({ blue: 100, green: 0 });
  });

  it("answers metrics windows as the MetricsSource port, the same numbers as the router's own", async () => {
    for (let i = 0; i < 40; i++) await (await fetch(`${router.url}/x`)).arrayBuffer();
    const end = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    const window = { start: end - 10_000, end };
    const remote = new RemoteMetricsSource(control.access());
    expect(remote.resolutionMs).toBe(1000);
    const sample = await remote.sample(window, { slowThresholdMs: 250 });
    expect(sample).toEqual(router.sample(window, { slowThresholdMs: 250 }));
    const totals = router.totals().requests;
    expect(sample.blue.requests + sample.green.requests).toBe(totals.blue + totals.green); // every request so far is in the window
    expect(sample.blue.requests + sample.green.requests).toBeGreaterThanOrEqual(40);
    await expect(remote.sample({ start: 5, end: 5 })).rejects.toThrow(/empty metrics window/);
  });

  it("a control API that is gone is an UnreachableError, as an AWS endpoint would be", async () => {
    const other = new RouterControlServer(router);
    const otherDir = await mkdtemp(join(tmpdir(), "bluegreen-control-gone-"));
    try {
      await other.start(otherDir);
      const access = other.access();
      await other.close();
      await expect(new RemoteTrafficRouter(access).readWeights()).rejects.toBeInstanceOf(UnreachableError);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});

describe("the guard's own process", () => {
  const started: GuardProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((guard) => guard.stop()));
    greenErrorShare = 0;
  });

  /** A rollout paused at 25% in `dir`, written by the engine (virtual clock); returns its run id. */
  async function pausedRollout(dir: string): Promise<string> {
    const world = new FakeWorld();
    const stores = runDirectoryStores(dir);
    const rollout = testRollout({ strategy: { type: "canary", steps: [5, { percent: 25, pause: "promote" }, 100] } });
    const result = await runCutover(world.deps({ lock: stores.lock, journal: stores.journal, recorder: stores.recorder }), {
      rollout,
      databaseMode: "shared",
      owner: "alice",
      stack: "demo",
    });
    expect(result.outcome).toBe("paused");
    expect(world.router.current()).toEqual({ blue: 75, green: 25 });
    return result.runId;
  }

  async function drive(router: LocalRouter, until: () => boolean, maxRequests: number): Promise<number> {
    let sent = 0;
    while (!until() && sent < maxRequests) {
      await Promise.all(Array.from({ length: 10 }, async () => (await fetch(`${router.url}/x`)).arrayBuffer()));
      sent += 10;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return sent;
  }

  it("rolls a paused rollout back on green's 5xx, through the control API and the run directory's lock and journal", async () => {
    let runId = "";
    await withRunDirectory(
      "bluegreen-guard-",
      { blue: 75, green: 25 },
      async (dir, router) => {
        const said: string[] = [];
        const engineEvents: string[] = [];
        const guard = await startGuardProcess({
          runDir: dir,
          stack: "demo",
          maxErrorRate: 0.05,
          minRequests: 10,
          evaluationPeriods: 2,
          windowMs: 1000,
          lifetimeMs: 60_000,
          onSay: (text) => said.push(text),
          onWindow: (window) => said.push(describeWindow(window)),
          onEngineEvent: (event) => engineEvents.push(event.type),
        });
        started.push(guard);
        expect(guard.pid).not.toBe(process.pid);
        greenErrorShare = 0.5;
        let acted: Awaited<ReturnType<GuardProcess["firstAction"]>> = null;
        const action = guard.firstAction(30_000).then((outcome) => (acted = outcome));
        await drive(router, () => acted !== null, 20_000);
        await action;
        expect(acted).toMatchObject({ acted: true, outcome: "rolled-back", runId });
        expect(said.filter((line) => line.includes("BREACH")).length).toBeGreaterThanOrEqual(2);
        expect(engineEvents).toContain("rollback-started");
        expect(engineEvents.indexOf("rollback-complete")).toBeGreaterThan(engineEvents.indexOf("rollback-started"));
        // The router's weights, the journal, the lock and the weight record all say the guard's process did it.
        expect(router.getWeights().weights).toEqual({ blue: 100, green: 0 });
        const journal = parseJournal(await runDirectoryStores(dir).journal.load());
        expect(journal.phase).toBe("rolled-back");
        expect(journal.owner).toBe(`guard (sandbox guard pid ${guard.pid})`);
        expect(journal.failure).toMatchObject({ phase: "paused", step: 1 });
        expect(await runDirectoryStores(dir).lock.current()).toBeNull();
        expect(await readRecordedWeights(join(dir, "weights.json"))).toEqual({ blue: 100, green: 0 });
      },
      async (dir) => void (runId = await pausedRollout(dir)),
    );
  }, 60_000);

  it("does nothing while no rollout is active, and stops when its parent's pipe closes", async () => {
    await withRunDirectory("bluegreen-guard-idle-", { blue: 75, green: 25 }, async (dir, router) => {
      const said: string[] = [];
      const guard = await startGuardProcess({
        runDir: dir,
        stack: "demo",
        maxErrorRate: 0.05,
        minRequests: 10,
        evaluationPeriods: 2,
        windowMs: 1000,
        lifetimeMs: 60_000,
        onSay: (text) => said.push(text),
      });
      started.push(guard);
      greenErrorShare = 0.5;
      await drive(router, () => said.some((line) => line.includes("did nothing")), 20_000);
      expect(said.find((line) => line.includes("did nothing"))).toMatch(/did nothing: no journal: no rollout is active/);
      expect(router.getWeights().weights).toEqual({ blue: 75, green: 25 });
      await guard.stop();
      expect(guard.exited()).toBe(true);
    });
  }, 60_000);

  it("refuses to start without the router's control file (exit before watching)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bluegreen-guard-nofile-"));
    try {
      await expect(
        startGuardProcess({ runDir: dir, stack: "demo", maxErrorRate: 0.05, minRequests: 10, evaluationPeriods: 2, windowMs: 1000, lifetimeMs: 60_000 }),
      ).rejects.toThrow(/exited during start-up \(2\).*router-control\.json does not exist/);
      expect(await readFile(join(dir, "cutover-journal.json"), "utf8").catch(() => null)).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("the cutover's own process", () => {
  it("refuses a request without each color's app processes: exit 2 before anything is taken or moved", async () => {
    await withRunDirectory("bluegreen-cutover-bad-", { blue: 100, green: 0 }, async (dir, router) => {
      const started = await startCutoverProcess({
        runDir: dir,
        request: {
          rollout: testRollout(),
          stack: "demo",
          runId: "r-bad",
          targets: { blue: [targets.blue], green: [] },
          pids: { blue: [process.pid], green: [process.pid] },
        },
        databaseUrl: "postgres://nobody@127.0.0.1:1/none",
        tag: "bluegreen-test-cutover-bad",
      });
      const result = await started.result;
      expect(result).toMatchObject({ outcome: "error", exitCode: 2 });
      expect(result.reason).toMatch(/targets must list each color's app URLs on 127\.0\.0\.1/);
      expect(await runDirectoryStores(dir).lock.current()).toBeNull();
      expect(await runDirectoryStores(dir).journal.load()).toBeNull();
      expect(router.getWeights().weights).toEqual({ blue: 100, green: 0 });
    });
  }, 30_000);
});
