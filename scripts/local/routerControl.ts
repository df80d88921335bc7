// The local router's control API: what the ELBv2 and CloudWatch APIs are to the ALB, so that
// another process (the sandbox guard, scripts/demo/guardMain.ts) can read and write the live
// weights and read the per-color metrics without living inside the demo's process.
//
// It listens on its own 127.0.0.1 port, apart from the data plane (a business request can never
// reach it), and every call must carry the bearer token written with the URL into
// `router-control.json` in the run directory (mode 0600): like an IAM credential, holding the
// file is what allows a process to move traffic.
//
//   GET /weights                       {route, weights, generation, since, stickinessSeconds}
//   PUT /weights  {"blue":..,"green":..}  202 once accepted; live `propagationDelayMs` later (like a
//                                      ModifyListener that every ALB node applies a moment after the
//                                      API said yes: the caller must read back); bad weights 400, nothing changed
//   GET /metrics?start=MS&end=MS[&slowThresholdMs=MS]   {blue: ColorMetrics, green: ColorMetrics}

import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { readTextIfExists, writeFileAtomic } from "../fs/atomicFile.js";
import { LocalMetricsSource, LocalTrafficRouter } from "./adapters.js";
import type { LocalRouter } from "./router.js";

export const ROUTER_CONTROL_FILE = "router-control.json";
/** A request body larger than this is refused (the only body is two small integers). */
const MAX_BODY_BYTES = 1024;

export interface RouterControlAccess {
  url: string;
  token: string;
}

export class RouterControlServer {
  private readonly server: Server;
  private readonly token = randomBytes(24).toString("hex");
  private readonly sockets = new Set<Socket>();
  private port: number | null = null;
  /** The same ports the in-process engine uses: one propagation delay, one validation, one sampling. */
  private readonly traffic: LocalTrafficRouter;
  private readonly metrics: LocalMetricsSource;

  constructor(
    private readonly router: LocalRouter,
    /** How long an accepted weight write takes to go live (the in-process LocalTrafficRouter's default too). */
    private readonly propagationDelayMs = 100,
  ) {
    this.traffic = new LocalTrafficRouter(router, propagationDelayMs);
    this.metrics = new LocalMetricsSource(router, 1000);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => send(res, 500, { error: error instanceof Error ? error.message : String(error) }));
    });
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  /** Listen on 127.0.0.1 and write `router-control.json` into `runDir`; resolves with the access. */
  async start(runDir: string): Promise<RouterControlAccess> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("router control: no port");
    this.port = address.port;
    const access = this.access();
    await writeFileAtomic(join(runDir, ROUTER_CONTROL_FILE), `${JSON.stringify(access)}\n`, { mode: 0o600 });
    return access;
  }

  access(): RouterControlAccess {
    if (this.port === null) throw new Error("router control is not listening");
    return { url: `http://127.0.0.1:${this.port}`, token: this.token };
  }

  get listeningPort(): number | null {
    return this.port;
  }

  async close(): Promise<void> {
    this.traffic.dispose(); // accepted writes not yet live are dropped
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? "";
    const expected = Buffer.from(`Bearer ${this.token}`);
    const given = Buffer.from(header);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.authorized(req)) {
      req.resume();
      return send(res, 401, { error: "missing or wrong bearer token (see router-control.json in the run directory)" });
    }
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = (req.method ?? "GET").toUpperCase();
    if (url.pathname === "/weights" && method === "GET") {
      req.resume();
      const [route] = await this.traffic.readWeights();
      const live = this.router.getWeights();
      return send(res, 200, { ...route, generation: live.generation, since: live.since });
    }
    if (url.pathname === "/weights" && method === "PUT") {
      const body = await readBody(req);
      let weights: { blue?: unknown; green?: unknown };
      try {
        weights = JSON.parse(body) as { blue?: unknown; green?: unknown };
      } catch {
        return send(res, 400, { error: "the body is not JSON" });
      }
      const next = { blue: weights.blue as number, green: weights.green as number };
      // Refused at once, as the API refuses bad input; live later, as the nodes apply it.
      try {
        await this.traffic.writeWeights(next);
      } catch (error) {
        return send(res, 400, { error: (error as Error).message });
      }
      return send(res, 202, { accepted: next, liveAfterMs: this.propagationDelayMs });
    }
    if (url.pathname === "/metrics" && method === "GET") {
      req.resume();
      const start = Number(url.searchParams.get("start"));
      const end = Number(url.searchParams.get("end"));
      const slow = url.searchParams.get("slowThresholdMs");
      if (!Number.isFinite(start) || !Number.isFinite(end) || !(end > start))
        return send(res, 400, { error: "start and end must be epoch ms with end > start" });
      const slowThresholdMs = slow === null ? undefined : Number(slow);
      if (slowThresholdMs !== undefined && !(Number.isFinite(slowThresholdMs) && slowThresholdMs > 0))
        return send(res, 400, { error: "slowThresholdMs must be a positive number" });
      return send(res, 200, await this.metrics.sample({ start, end }, slowThresholdMs === undefined ? {} : { slowThresholdMs }));
    }
    req.resume();
    return send(res, 404, { error: `no ${method} ${url.pathname}` });
  }
}

/** The access a control file holds, or a clear error. */
export async function readRouterControlAccess(runDir: string): Promise<RouterControlAccess> {
  const path = join(runDir, ROUTER_CONTROL_FILE);
  const text = await readTextIfExists(path);
  if (text === null) throw new Error(`${path} does not exist: the router's control API is not running for this run directory`);
  const access = JSON.parse(text) as Partial<RouterControlAccess>;
  if (typeof access.url !== "string" || !/^http:\/\/127\.0\.0\.1:\d+$/.test(access.url) || typeof access.token !== "string" || access.token.length < 16) {
    throw new Error(`${path} is not a router control file`);
  }
  return { url: access.url, token: access.token };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.destroy();
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        reject(new Error("request body too large"));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
