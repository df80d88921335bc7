// The sandbox's metrics: slow counts from the router's HDR histograms, the router's own 502s
// counted for the color that caused them, publication delay 0, recent traffic.
import { createServer, type Server } from "node:http";
import * as hdr from "hdr-histogram-js";
import { afterEach, describe, expect, it } from "vitest";
import { LocalMetricsSource } from "../../scripts/local/adapters.js";
import { countAbove, LocalRouter } from "../../scripts/local/router.js";

const started: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  for (const item of started.splice(0).reverse()) await item.close();
});

async function app(delayMs: number): Promise<string> {
  const server: Server = createServer((_req, res) => {
    setTimeout(() => res.end("ok"), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  started.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

/** A port nothing listens on (bound, then closed): connections are refused. */
async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${address.port}`;
}

describe("countAbove", () => {
  it("counts the recorded values strictly above the bound", () => {
    const h = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 120_000,
      numberOfSignificantValueDigits: 2,
      autoResize: true,
      useWebAssembly: false,
    });
    for (const value of [1, 5, 10, 50, 100, 120, 121, 250, 1000, 5000]) h.recordValue(value);
    expect(countAbove(h, 120)).toBe(4);
    expect(countAbove(h, 0)).toBe(9);
    expect(countAbove(h, 10_000)).toBe(0);
    h.destroy();
  });
});

describe("LocalMetricsSource", () => {
  it("reports slow counts above the asked bound per color, and the router's 502s as the color's elbErrors, not its 5xx", async () => {
    const blue = await app(1);
    // Well apart, so a loaded machine's scheduling delays do not blur the bound.
    const green = await app(300);
    const router = new LocalRouter({ targets: { blue, green }, weights: { blue: 50, green: 50 } });
    await router.listen();
    started.push(router);
    const metrics = new LocalMetricsSource(router);
    expect(metrics.publicationDelayMs).toBe(0);
    const from = Date.now() - 1000;
    for (let i = 0; i < 20; i++) await (await fetch(`${router.url}/x`)).arrayBuffer();
    const window = { start: from, end: Date.now() + 1000 };
    const sample = await metrics.sample(window, { slowThresholdMs: 150 });
    expect(sample.blue.requests).toBe(10);
    expect(sample.green.requests).toBe(10);
    expect(sample.green.slow).toBe(10);
    expect(sample.blue.slow).toBe(0);
    expect(sample.green.elbErrors).toBe(0);
    expect((await metrics.sample(window)).green.slow).toBeUndefined();

    // Green's process is gone: the router answers 502 itself and counts it for green.
    const gone = new LocalRouter({ targets: { blue, green: await refusedUrl() }, weights: { blue: 0, green: 100 } });
    await gone.listen();
    started.push(gone);
    const t0 = Date.now() - 1000;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${gone.url}/x`);
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(statuses).toEqual([502, 502, 502, 502, 502]);
    const crashed = await new LocalMetricsSource(gone).sample({ start: t0, end: Date.now() + 1000 }, { slowThresholdMs: 40 });
    expect(crashed.green).toMatchObject({ requests: 5, errors5xx: 0, elbErrors: 5, slow: 0, p95Ms: null });
  });

  it("recentTraffic answers the router's counters over the last hour", async () => {
    const blue = await app(1);
    const router = new LocalRouter({ targets: { blue, green: blue }, weights: { blue: 100, green: 0 } });
    await router.listen();
    started.push(router);
    for (let i = 0; i < 3; i++) await (await fetch(`${router.url}/x`)).arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const traffic = await new LocalMetricsSource(router).recentTraffic(1);
    expect(traffic.window.end - traffic.window.start).toBe(3_600_000);
    expect(traffic.blue.requests).toBe(3);
  });
});
