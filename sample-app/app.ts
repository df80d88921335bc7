// The sample workload: a small booking service over PostgreSQL (node:http + pg). Blue runs it
// as v1, green as v2; every response names the version and color that served it
// (x-app-version, x-app-color), which is how the sandbox proves where traffic went.
//
//   GET   /health                 200 when the database answers, else 503
//   GET   /bookings/:id           one booking
//   GET   /clients/:id/bookings   a client's latest bookings
//   POST  /bookings               { requestId, clientId, petId, service, startsAt } → 201 { id }
//                                 (a repeated requestId returns the first id with 200: never applied twice)
//   PATCH /bookings/:id           { status } → 200
//   POST  /__admin/fault          { errorRate, latencyMs } switch a fault on now (loopback only; the router never forwards /__admin)
//   DELETE /__admin/fault         switch it off
//
// A background error rate (`backgroundErrorRate`, the demo's --background-error-rate) answers
// that share of business requests 500 from the start, on both colors: a real service is never
// error-free, and the gates must tell its normal rate from a regression. Errors injected on
// purpose carry `x-sample-app-injected: background|fault`, so the demo can tell them from real
// failures when it counts; nothing else in the path (router, engine, gates) looks at it.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import pg from "pg";
import { NO_FAULT, isFault, type FaultSpec } from "./faults.js";
import { SERVICES } from "./schema.js";

export interface AppOptions {
  databaseUrl: string;
  color: "blue" | "green";
  version: string;
  /** A fault that starts `faultAfterMs` after listen (or never when absent). */
  fault?: FaultSpec;
  faultAfterMs?: number;
  /** Called when a fault switches on (epoch ms). */
  onFault?: (at: number, fault: FaultSpec) => void;
  /** Share of business requests answered 500 all along (0..1; default 0). A fault's error rate replaces it while on. */
  backgroundErrorRate?: number;
  poolSize?: number;
  /** Write this into bookings.note with every booking: the column `npm run demo -- --migration` adds by an expand migration (green v2 needs it; v1 never names it). */
  bookingNote?: string;
}

export interface SampleApp {
  server: Server;
  /** Listen on 127.0.0.1:port (0: any free port); resolves with the port. */
  listen(port: number): Promise<number>;
  setFault(fault: FaultSpec): number;
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Set when the error was injected on purpose. */
    readonly injected: "background" | "fault" | null = null,
  ) {
    super(message);
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, "body too large");
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
    return value as Record<string, unknown>;
  } catch {
    throw new HttpError(400, "body must be a JSON object");
  }
}

function positiveInt(value: unknown, name: string): number {
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1) throw new HttpError(400, `${name} must be a positive integer`);
  return n;
}

export function createApp(options: AppOptions): SampleApp {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 6, idleTimeoutMillis: 10_000, connectionTimeoutMillis: 5_000 });
  // A server restart or a stopped database must not crash the process: requests fail, /health says so.
  pool.on("error", () => undefined);
  let fault: FaultSpec = NO_FAULT;
  let faultTimer: NodeJS.Timeout | undefined;

  const setFault = (next: FaultSpec): number => {
    fault = next;
    const at = Date.now();
    if (isFault(next)) options.onFault?.(at, next);
    return at;
  };

  const background = Math.min(1, Math.max(0, options.backgroundErrorRate ?? 0));

  const send = (res: ServerResponse, status: number, body: unknown, injected: "background" | "fault" | null = null): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
      "x-app-version": options.version,
      "x-app-color": options.color,
      ...(injected ? { "x-sample-app-injected": injected } : {}),
    });
    res.end(text);
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://app.local");
    const path = url.pathname;
    const method = req.method ?? "GET";

    if (path === "/__admin/fault") {
      if (method === "POST") {
        const body = await readJson(req);
        const next: FaultSpec = {
          errorRate: typeof body.errorRate === "number" ? Math.min(1, Math.max(0, body.errorRate)) : 0,
          latencyMs: typeof body.latencyMs === "number" ? Math.min(60_000, Math.max(0, Math.round(body.latencyMs))) : 0,
        };
        if (faultTimer) clearTimeout(faultTimer);
        return send(res, 200, { fault: next, since: setFault(next) });
      }
      if (method === "DELETE") {
        if (faultTimer) clearTimeout(faultTimer);
        setFault(NO_FAULT);
        return send(res, 200, { fault: NO_FAULT });
      }
      throw new HttpError(405, "use POST or DELETE");
    }

    if (path === "/health") {
      // Health stays honest about the database; injected faults hit the business endpoints
      // only, like a bad release that still passes its health check (the gates must catch it).
      await pool.query("SELECT 1");
      return send(res, 200, { status: "ok", color: options.color, version: options.version });
    }

    if (fault.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    // While a fault with an error rate is on, that rate is the whole error rate (at least the background).
    const faultRate = fault.errorRate > 0 ? Math.max(fault.errorRate, background) : 0;
    if (faultRate > 0) {
      if (Math.random() < faultRate) throw new HttpError(500, "injected fault", "fault");
    } else if (background > 0 && Math.random() < background) {
      throw new HttpError(500, "background error", "background");
    }

    let match: RegExpExecArray | null;
    if (method === "GET" && (match = /^\/bookings\/(\d+)$/.exec(path))) {
      const id = positiveInt(match[1], "id");
      const { rows } = await pool.query(
        `SELECT b.id, b.client_id AS "clientId", b.pet_id AS "petId", p.name AS "petName", b.service, b.starts_at AS "startsAt", b.status
           FROM bookings b JOIN pets p ON p.id = b.pet_id WHERE b.id = $1`,
        [id],
      );
      if (rows.length === 0) throw new HttpError(404, `booking ${id} not found`);
      return send(res, 200, { ...rows[0], servedBy: options.version });
    }
    if (method === "GET" && (match = /^\/clients\/(\d+)\/bookings$/.exec(path))) {
      const id = positiveInt(match[1], "client id");
      const { rows } = await pool.query(
        `SELECT b.id, b.pet_id AS "petId", b.service, b.starts_at AS "startsAt", b.status
           FROM bookings b WHERE b.client_id = $1 ORDER BY b.id DESC LIMIT 20`,
        [id],
      );
      return send(res, 200, { clientId: id, bookings: rows, servedBy: options.version });
    }
    if (method === "POST" && path === "/bookings") {
      const body = await readJson(req);
      const requestId = body.requestId;
      if (typeof requestId !== "string" || !UUID.test(requestId)) throw new HttpError(400, "requestId must be a UUID");
      const clientId = positiveInt(body.clientId, "clientId");
      const petId = positiveInt(body.petId, "petId");
      const service = body.service;
      if (typeof service !== "string" || !(SERVICES as readonly string[]).includes(service))
        throw new HttpError(400, `service must be one of ${SERVICES.join(", ")}`);
      const startsAt = typeof body.startsAt === "string" ? new Date(body.startsAt) : new Date();
      if (Number.isNaN(startsAt.getTime())) throw new HttpError(400, "startsAt must be an ISO timestamp");
      const note = options.bookingNote;
      const inserted = await pool.query<{ id: string }>(
        `INSERT INTO bookings (request_id, client_id, pet_id, service, starts_at, app_version${note !== undefined ? ", note" : ""})
         SELECT $1, p.client_id, p.id, $4, $5, $6${note !== undefined ? ", $7" : ""} FROM pets p WHERE p.id = $3 AND p.client_id = $2
         ON CONFLICT (request_id) DO NOTHING RETURNING id`,
        [requestId, clientId, petId, service, startsAt.toISOString(), options.version, ...(note !== undefined ? [note] : [])],
      );
      if (inserted.rows[0]) return send(res, 201, { id: Number(inserted.rows[0].id), requestId });
      const existing = await pool.query<{ id: string }>(`SELECT id FROM bookings WHERE request_id = $1`, [requestId]);
      if (existing.rows[0]) return send(res, 200, { id: Number(existing.rows[0].id), requestId, repeated: true });
      throw new HttpError(422, `pet ${petId} does not belong to client ${clientId}`);
    }
    if (method === "PATCH" && (match = /^\/bookings\/(\d+)$/.exec(path))) {
      const id = positiveInt(match[1], "id");
      const body = await readJson(req);
      if (body.status !== "booked" && body.status !== "done" && body.status !== "cancelled")
        throw new HttpError(400, "status must be booked, done or cancelled");
      const { rowCount } = await pool.query(`UPDATE bookings SET status = $2 WHERE id = $1`, [id, body.status]);
      if (rowCount === 0) throw new HttpError(404, `booking ${id} not found`);
      return send(res, 200, { id, status: body.status });
    }
    throw new HttpError(404, `no route for ${method} ${path}`);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) send(res, error.status, { error: error.message }, error.injected);
      // Database errors: never echo the message (it may name the connection); 503 on /health.
      else send(res, req.url === "/health" ? 503 : 500, { error: "internal error" });
    });
  });
  server.keepAliveTimeout = 65_000;

  return {
    server,
    setFault,
    listen: (port) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
          const address = server.address();
          if (address === null || typeof address === "string") return reject(new Error("no port"));
          if (options.fault && isFault(options.fault)) {
            const pending = options.fault;
            faultTimer = setTimeout(() => setFault(pending), Math.max(0, options.faultAfterMs ?? 0));
            faultTimer.unref();
          }
          resolve(address.port);
        });
      }),
    close: async () => {
      if (faultTimer) clearTimeout(faultTimer);
      server.closeIdleConnections();
      await Promise.race([new Promise((resolve) => server.close(resolve)), new Promise((resolve) => setTimeout(resolve, 1500).unref())]);
      server.closeAllConnections();
      await pool.end().catch(() => undefined);
    },
  };
}
