// syncStatus (status's replication section) abandons its connections when its signal aborts:
// `status --deadline` must not outlive its answer by the driver's 10 s connect timeout or a slow
// query. (1) A "server" on 127.0.0.1 that accepts the TCP connection and never answers: the
// connect is cut, the socket closed. (2) Real PostgreSQL behind a proxy that holds every answer
// after the start-up: the status's query is cut and its connections go away. Each wait is
// bounded, far below what the driver would take without the signal (10 s connect timeout; a held
// query, forever).

import { createConnection, createServer, type Server, type Socket } from "node:net";
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlackHole } from "../support/blackHole.js";
import { UnreachableError } from "../../scripts/core/errors.js";
import { startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { syncStatus } from "../../scripts/postgres/sync/index.js";
import { createDatabases, queryRows } from "../support/postgres.js";

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms)))]).finally(
    () => clearTimeout(timer),
  );
}

describe("syncStatus and its signal", () => {
  let hole: BlackHole;
  let port = 0;

  beforeAll(async () => {
    hole = await new BlackHole().start();
    port = hole.listeningPort;
  });
  afterAll(() => hole.close());

  it("a connect that is never answered is cut when the signal aborts, and the socket closed", async () => {
    const controller = new AbortController();
    const connected = new Promise<Socket>((resolve) => (hole.onAccept = resolve));
    const url = `postgres://app:secret-password@127.0.0.1:${port}/app`;
    const status = syncStatus({ sourceUrl: url, targetUrl: url, signal: controller.signal });
    status.catch(() => undefined);
    const socket = await within(connected, 5000, "the connection");
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    controller.abort(new Error("deadline"));
    const error = await within(
      status.then(
        () => null,
        (e: unknown) => e,
      ),
      5000,
      "the rejection",
    );
    expect(error).toBeInstanceOf(UnreachableError);
    expect(String(error)).toMatch(/target database: abandoned/);
    expect(String(error)).not.toContain("secret-password");
    await within(closed, 5000, "the socket's close");
  }, 20_000);

  it("an already aborted signal opens no connection at all", async () => {
    const before = hole.accepted;
    const url = `postgres://app:pw@127.0.0.1:${port}/app`;
    await expect(syncStatus({ sourceUrl: url, targetUrl: url, signal: AbortSignal.abort(new Error("deadline")) })).rejects.toThrow(/abandoned/);
    expect(hole.accepted).toBe(before);
  });

  describe("on real PostgreSQL", () => {
    let server: LocalPostgres | undefined;
    const proxies: Server[] = [];
    beforeAll(async () => {
      server = await startPostgres({ label: `bluegreen-status-abort-${process.pid}` });
      await createDatabases(server, "app");
    }, 120_000);
    afterAll(async () => {
      await Promise.all(proxies.map((proxy) => new Promise((resolve) => proxy.close(resolve))));
      if (!server) return;
      await Promise.race([server.stop(), new Promise((resolve) => setTimeout(resolve, 8000))]).catch(() => undefined);
      await rm(server.dataDir, { recursive: true, force: true });
    }, 30_000);

    it("a query the server never answers is cut when the signal aborts, and its connection closed", async () => {
      // The source is reached through a proxy that forwards the start-up and then holds every
      // answer: the status's first query on the source hangs, as behind a stuck server.
      const upstream = new URL(server!.url("app"));
      let clientSide: Socket | null = null;
      const queryHeld = new Promise<void>((resolveHeld) => {
        const proxy = createServer((client) => {
          clientSide = client;
          client.on("error", () => undefined);
          const db = createConnection({ host: "127.0.0.1", port: Number(upstream.port) });
          db.on("error", () => undefined);
          let ready = false;
          db.on("data", (chunk: Buffer) => {
            if (ready) return resolveHeld(); // an answer to a query: held
            client.write(chunk);
            // ReadyForQuery ('Z', length 5) ends the start-up.
            if (chunk.includes(Buffer.from([0x5a, 0, 0, 0, 5]))) ready = true;
          });
          client.on("data", (chunk: Buffer) => db.write(chunk));
          client.on("close", () => db.destroy());
        });
        proxies.push(proxy);
        proxy.listen(0, "127.0.0.1");
      });
      await new Promise<void>((resolve) => proxies.at(-1)!.once("listening", () => resolve()));
      const proxyPort = (proxies.at(-1)!.address() as { port: number }).port;
      const sourceUrl = `postgres://${upstream.username}:${upstream.password}@127.0.0.1:${proxyPort}${upstream.pathname}`;

      const controller = new AbortController();
      const status = syncStatus({ sourceUrl, targetUrl: server!.url("app"), signal: controller.signal });
      status.catch(() => undefined);
      await within(queryHeld, 10_000, "the held query");
      const closed = new Promise<void>((resolve) => clientSide!.once("close", () => resolve()));
      controller.abort(new Error("deadline"));
      await expect(within(status, 5000, "the rejection")).rejects.toThrow(/(source|target) database: abandoned \(Error: deadline\)/);
      await within(closed, 5000, "the connection's close");
      // Both of the status's connections are gone from the server (bounded poll).
      let left = -1;
      for (let i = 0; i < 200 && left !== 0; i++) {
        left = Number(
          (await queryRows<{ n: string }>(server!.url("app"), "SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name = 'bluegreen-sync'"))[0]!
            .n,
        );
        if (left !== 0) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(left).toBe(0);
    }, 30_000);
  });
});
