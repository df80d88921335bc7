// The local router on its own, against two tiny upstreams: weights, the test header, the
// stickiness cookie, the write fence, metrics windows and weight epochs.

import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalRouter } from "../../scripts/local/router.js";
import { LocalMetricsSource, LocalTrafficRouter, LocalWriteFence } from "../../scripts/local/adapters.js";

const upstreams: Server[] = [];
const targets = { blue: "", green: "" };

function upstream(color: string, status = 200): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(status, { "x-app-color": color, "content-type": "application/json" });
    res.end(JSON.stringify({ color }));
  });
  upstreams.push(server);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

beforeAll(async () => {
  targets.blue = await upstream("blue");
  targets.green = await upstream("green");
});
afterAll(async () => {
  await Promise.all(upstreams.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function hit(
  router: LocalRouter,
  init: RequestInit & { path?: string } = {},
): Promise<{ status: number; color: string | null; body: unknown; cookie: string | null }> {
  const response = await fetch(`${router.url}${init.path ?? "/x"}`, init);
  const body = await response.json();
  return { status: response.status, color: response.headers.get("x-app-color"), body, cookie: response.headers.get("set-cookie") };
}

describe("local router", () => {
  let router: LocalRouter;
  beforeAll(async () => {
    router = new LocalRouter({ targets });
    await router.listen(0);
  });
  afterAll(async () => {
    await router.close();
  });

  it("splits by weight exactly (smooth weighted round-robin) and records each weight epoch", async () => {
    router.setWeights({ blue: 75, green: 25 });
    const seen = { blue: 0, green: 0 };
    for (let i = 0; i < 200; i++) {
      const { color } = await hit(router);
      seen[color as "blue" | "green"]++;
    }
    expect(seen).toEqual({ blue: 150, green: 50 });
    const epoch = router.epochs().at(-1)!;
    expect(epoch.weights).toEqual({ blue: 75, green: 25 });
    expect(epoch.routed).toEqual({ blue: 150, green: 50 });
  });

  it("sends the test header's color there whatever the weights", async () => {
    router.setWeights({ blue: 100, green: 0 });
    for (let i = 0; i < 5; i++) expect((await hit(router, { headers: { "x-bluegreen-color": "green" } })).color).toBe("green");
    expect((await hit(router)).color).toBe("blue");
    expect(router.totals().pinnedByHeader).toBeGreaterThanOrEqual(5);
  });

  it("fences writes with a 503 JSON answer while reads flow, and everything with 'all'", async () => {
    const fence = new LocalWriteFence(router);
    await fence.set("writes");
    expect(await fence.read()).toBe("writes");
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      const answer = await hit(router, { method, body: method === "DELETE" ? null : "{}" });
      expect(answer.status, method).toBe(503);
      expect(answer.body).toMatchObject({ error: "write fence", fence: "writes" });
    }
    expect((await hit(router)).status).toBe(200);
    await fence.set("all");
    expect((await hit(router)).status).toBe(503);
    await fence.set("off");
    expect((await hit(router, { method: "POST", body: "{}" })).status).toBe(200);
    expect(router.fenceHistory().map((entry) => entry.mode)).toEqual(["writes", "all", "off"]);
  });

  it("never forwards the apps' admin endpoints", async () => {
    expect((await hit(router, { path: "/__admin/fault", method: "POST", body: "{}" })).status).toBe(404);
  });

  it("answers metrics for a window: requests, 5xx and latency percentiles per color", async () => {
    const metrics = new LocalMetricsSource(router);
    const start = Date.now() - 60_000;
    const sample = await metrics.sample({ start, end: Date.now() + 1000 });
    expect(sample.blue.requests).toBeGreaterThan(150);
    expect(sample.green.requests).toBeGreaterThanOrEqual(55);
    expect(sample.blue.p95Ms).not.toBeNull();
    const empty = await metrics.sample({ start: start - 600_000, end: start - 500_000 });
    expect(empty.blue).toEqual({ requests: 0, errors5xx: 0, elbErrors: 0, p95Ms: null, p99Ms: null });
  });

  it("applies a weight write after its propagation delay (the engine must read back)", async () => {
    const traffic = new LocalTrafficRouter(router, 50);
    await traffic.writeWeights({ blue: 50, green: 50 });
    expect((await traffic.readWeights())[0]!.weights).toEqual({ blue: 100, green: 0 });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect((await traffic.readWeights())[0]!.weights).toEqual({ blue: 50, green: 50 });
    await expect(traffic.writeWeights({ blue: 60, green: 50 })).rejects.toThrow(/invalid weights/);
  });
});

describe("local router with stickiness", () => {
  it("keeps a client on its color while that color has weight, and moves it when the weight is 0", async () => {
    const router = new LocalRouter({ targets, stickinessSeconds: 60, weights: { blue: 50, green: 50 } });
    await router.listen(0);
    try {
      const first = await hit(router);
      expect(first.cookie).toMatch(/^bluegreen-color=(blue|green); Max-Age=60/);
      const cookie = `bluegreen-color=${first.color}`;
      for (let i = 0; i < 6; i++) expect((await hit(router, { headers: { cookie } })).color).toBe(first.color);
      router.setWeights(first.color === "green" ? { blue: 100, green: 0 } : { blue: 0, green: 100 });
      expect((await hit(router, { headers: { cookie } })).color).not.toBe(first.color);
    } finally {
      await router.close();
    }
  });
});

describe("local router: the fence lets writes already at an app finish", () => {
  it("fence.set('writes') resolves only once the write in flight has been answered", async () => {
    // A slow upstream: every request is answered 300 ms later.
    let upstreamAnswered = 0;
    const slow = createServer((req, res) => {
      req.resume();
      setTimeout(() => {
        upstreamAnswered++;
        res.writeHead(201, { "x-app-color": "blue", "content-type": "application/json" });
        res.end(JSON.stringify({ id: 1 }));
      }, 300);
    });
    upstreams.push(slow);
    const slowUrl = await new Promise<string>((resolve) =>
      slow.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(slow.address() as { port: number }).port}`)),
    );
    const router = new LocalRouter({ targets: { blue: slowUrl, green: slowUrl } });
    await router.listen(0);
    try {
      const inFlight = hit(router, { method: "POST", body: "{}" });
      for (let i = 0; i < 100 && router.inFlightWrites() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(router.inFlightWrites()).toBe(1);
      const fence = new LocalWriteFence(router);
      await fence.set("writes");
      expect(upstreamAnswered).toBe(1); // the write forwarded before the fence was answered first
      expect(router.inFlightWrites()).toBe(0);
      expect(fence.lastDrain!.inFlight).toBe(0);
      expect((await inFlight).status).toBe(201);
      expect((await hit(router, { method: "POST", body: "{}" })).status).toBe(503); // new writes are fenced
      await fence.set("off");
    } finally {
      await router.close();
    }
  });
});

describe("local router: a color whose process refuses or resets connections", () => {
  it("answers 502 itself and counts it against that color (as router-answered errors, apart from the app's own 5xx), not the other", async () => {
    // green resets every connection mid-request (a process dying under load); then green is gone (refused).
    const resetting = createServer((req) => {
      req.socket.destroy();
    });
    upstreams.push(resetting);
    const resettingUrl = await new Promise<string>((resolve) =>
      resetting.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(resetting.address() as { port: number }).port}`)),
    );
    const router = new LocalRouter({ targets: { blue: targets.blue, green: resettingUrl }, weights: { blue: 50, green: 50 } });
    await router.listen(0);
    const start = Date.now() - 1000;
    try {
      const answers: Array<{ status: number; color: string | null }> = [];
      for (let i = 0; i < 20; i++) answers.push(await hit(router));
      // Refused: nothing listens on green's port any more.
      await new Promise((resolve) => resetting.close(resolve));
      for (let i = 0; i < 20; i++) answers.push(await hit(router));
      const bad = answers.filter((answer) => answer.status === 502);
      expect(bad).toHaveLength(20); // every request routed to green, reset or refused
      expect(answers.filter((answer) => answer.status === 200 && answer.color === "blue")).toHaveLength(20);
      const sample = await new LocalMetricsSource(router).sample({ start, end: Date.now() + 1000 });
      expect(sample.green.requests).toBe(20);
      expect(sample.green.errors5xx).toBe(0); // the app answered none of them
      expect(sample.green.elbErrors).toBe(20); // the ALB's TargetConnectionErrorCount for green
      expect(sample.blue).toMatchObject({ requests: 20, errors5xx: 0, elbErrors: 0 });
      expect(router.epochs().at(-1)!.errors5xx).toEqual({ blue: 0, green: 20 });
    } finally {
      await router.close();
    }
  });
});
