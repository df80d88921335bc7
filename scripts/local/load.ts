// Steady load against the router: a paced, open-loop mix of reads and writes over undici,
// bounded in request count, time and concurrency. Every write the service acknowledged
// (201/200 with an id) is recorded with its request id and the color that served it, so the
// demo and the tests can prove afterwards that no acknowledged write was lost.

import { randomUUID } from "node:crypto";
import { Pool } from "undici";
import { connectClient } from "../net/pgConnection.js";
import type { Color } from "../core/ports.js";
import { DEFAULT_SEED, SERVICES, petOwner, type SeedSize } from "../../sample-app/schema.js";

export interface LoadOptions {
  url: string;
  /** Requests started per second. */
  ratePerSecond: number;
  /** Share of requests that are writes (POST /bookings), 0..1. */
  writeShare?: number;
  /** Upper bound on requests in flight; above it new requests wait (the rate lags). */
  maxInFlight?: number;
  /** Hard bounds: the generator stops itself after either. */
  maxRequests: number;
  maxDurationMs: number;
  requestTimeoutMs?: number;
  seed?: SeedSize;
}

export interface AcknowledgedWrite {
  id: number;
  requestId: string;
  color: Color | null;
  at: number;
}

export interface LoadFailure {
  at: number;
  method: string;
  path: string;
  /** HTTP status, or null for a network error / timeout. */
  status: number | null;
  color: Color | null;
  detail: string;
  /**
   * Injected on purpose: "background" / "fault" (the sample app says so in x-sample-app-injected),
   * or null. The demo counts these apart from real failures; the engine never sees this field.
   */
  injected: "background" | "fault" | null;
  /** The router's 502 for an unreachable color names it (body `upstream <color> unreachable`); null otherwise. */
  unreachable: Color | null;
}

export interface LoadStats {
  started: number;
  completed: number;
  ok: number;
  failed: number;
  /** Writes answered 503 by the write fence: rejected on purpose, not failures. */
  fenced: number;
  /** Request slots not sent because the generator fell behind by more than half a second. */
  skipped: number;
  writesAcknowledged: number;
  byColor: Record<Color, number>;
  inFlight: number;
  elapsedMs: number;
}

export interface LoadResult extends LoadStats {
  acknowledged: AcknowledgedWrite[];
  failures: LoadFailure[];
  /** Every completed request: epoch ms sent and completed, served color (null: none), ok, write or read, answered by the fence. For per-window analysis. */
  timeline: Array<{ sentAt: number; at: number; color: Color | null; ok: boolean; write: boolean; fenced: boolean }>;
  /** Writes the fence answered 503: their request ids must be in neither database. */
  rejected: RejectedWrite[];
}

export interface RejectedWrite {
  requestId: string;
  at: number;
}

export class LoadGenerator {
  private readonly pool: Pool;
  private readonly acknowledged: AcknowledgedWrite[] = [];
  private readonly failures: LoadFailure[] = [];
  private readonly rejected: RejectedWrite[] = [];
  private readonly timeline: LoadResult["timeline"] = [];
  private readonly knownIds: number[] = [];
  private readonly byColor: Record<Color, number> = { blue: 0, green: 0 };
  private started = 0;
  /** Position in the schedule: requests sent plus slots skipped. */
  private slots = 0;
  private completed = 0;
  private ok = 0;
  private fenced = 0;
  private skipped = 0;
  private inFlight = 0;
  private startedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private hardStop: NodeJS.Timeout | null = null;
  private stopped = false;
  private idle: (() => void) | null = null;
  private readonly seed: SeedSize;

  constructor(private readonly options: LoadOptions) {
    this.seed = options.seed ?? DEFAULT_SEED;
    for (let id = 1; id <= this.seed.bookings; id++) this.knownIds.push(id);
    const maxInFlight = options.maxInFlight ?? 32;
    this.pool = new Pool(options.url, {
      connections: maxInFlight,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: options.requestTimeoutMs ?? 10_000,
      bodyTimeout: options.requestTimeoutMs ?? 10_000,
    });
  }

  /** Start issuing requests at the configured rate. */
  start(): void {
    if (this.timer) return;
    this.startedAt = Date.now();
    const maxInFlight = this.options.maxInFlight ?? 32;
    this.timer = setInterval(() => {
      if (this.stopped) return;
      const elapsed = Date.now() - this.startedAt;
      if (elapsed >= this.options.maxDurationMs || this.started >= this.options.maxRequests) {
        void this.stop();
        return;
      }
      const due = Math.min(this.options.maxRequests, Math.floor((elapsed / 1000) * this.options.ratePerSecond) + 1);
      // After a stall (a busy event loop) catch up at most half a second's worth: an open-loop
      // load, not a burst that would itself distort latencies. Skipped slots are counted.
      const backlogLimit = Math.max(1, Math.ceil(this.options.ratePerSecond / 2));
      if (due - this.slots > backlogLimit) {
        this.skipped += due - this.slots - backlogLimit;
        this.slots = due - backlogLimit;
      }
      while (this.slots < due && this.started < this.options.maxRequests && this.inFlight < maxInFlight) {
        this.slots++;
        this.issue();
      }
    }, 5);
    this.hardStop = setTimeout(() => void this.stop(), this.options.maxDurationMs + 100);
  }

  stats(): LoadStats {
    return {
      started: this.started,
      completed: this.completed,
      ok: this.ok,
      failed: this.failures.length,
      fenced: this.fenced,
      skipped: this.skipped,
      writesAcknowledged: this.acknowledged.length,
      byColor: { ...this.byColor },
      inFlight: this.inFlight,
      elapsedMs: this.startedAt === 0 ? 0 : Date.now() - this.startedAt,
    };
  }

  /** Acknowledged writes so far (a copy). */
  acknowledgedSoFar(): AcknowledgedWrite[] {
    return [...this.acknowledged];
  }

  /** Writes rejected by the fence so far (a copy). */
  rejectedSoFar(): RejectedWrite[] {
    return [...this.rejected];
  }

  /** Completed requests so far (a copy). */
  timelineSoFar(): LoadResult["timeline"] {
    return [...this.timeline];
  }

  /** Failures so far (a copy). */
  failuresSoFar(): LoadFailure[] {
    return [...this.failures];
  }

  /** Stop issuing, wait (bounded) for requests in flight, close connections. */
  async stop(drainTimeoutMs = 5000): Promise<LoadResult> {
    if (!this.stopped) {
      this.stopped = true;
      if (this.timer) clearInterval(this.timer);
      if (this.hardStop) clearTimeout(this.hardStop);
      if (this.inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timeout = setTimeout(resolve, drainTimeoutMs);
          this.idle = () => {
            clearTimeout(timeout);
            resolve();
          };
        });
      }
      // Requests still unanswered after the drain (a torn-down sandbox): cut them, don't wait.
      if (this.inFlight > 0) await this.pool.destroy().catch(() => undefined);
      else await this.pool.close().catch(() => undefined);
    }
    return { ...this.stats(), acknowledged: [...this.acknowledged], failures: [...this.failures], timeline: [...this.timeline], rejected: [...this.rejected] };
  }

  private issue(): void {
    this.started++;
    this.inFlight++;
    const write = Math.random() < (this.options.writeShare ?? 0.3);
    const request = write ? this.writeRequest() : this.readRequest();
    const sentAt = Date.now();
    void this.send(request)
      .then(({ status, color, body, injected }) => {
        const now = Date.now();
        if (color) this.byColor[color]++;
        const success = status >= 200 && status < 300;
        const fenced = status === 503 && typeof body === "object" && body !== null && (body as { error?: unknown }).error === "write fence";
        this.timeline.push({ sentAt, at: now, color, ok: success || fenced, write, fenced });
        if (success) {
          this.ok++;
          if (write) {
            const id = (body as { id?: unknown } | null)?.id;
            if (typeof id === "number") {
              this.acknowledged.push({ id, requestId: request.requestId!, color, at: now });
              if (this.knownIds.length < 50_000) this.knownIds.push(id);
            } else {
              this.failures.push({
                at: now,
                method: request.method,
                path: request.path,
                status,
                color,
                detail: "write answered without an id",
                injected: null,
                unreachable: null,
              });
            }
          }
        } else if (fenced) {
          this.fenced++;
          if (write && request.requestId) this.rejected.push({ requestId: request.requestId, at: now });
        } else {
          const upstream = /^upstream (blue|green) unreachable$/.exec(String((body as { error?: unknown } | null)?.error ?? ""));
          this.failures.push({
            at: now,
            method: request.method,
            path: request.path,
            status,
            color,
            detail: `HTTP ${status} after ${now - sentAt} ms`,
            injected,
            unreachable: status === 502 && upstream ? (upstream[1] as Color) : null,
          });
        }
      })
      .catch((error: unknown) => {
        const now = Date.now();
        this.timeline.push({ sentAt, at: now, color: null, ok: false, write, fenced: false });
        this.failures.push({
          at: now,
          method: request.method,
          path: request.path,
          status: null,
          color: null,
          detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          injected: null,
          unreachable: null,
        });
      })
      .finally(() => {
        this.completed++;
        this.inFlight--;
        if (this.inFlight === 0 && this.idle) this.idle();
      });
  }

  private async send(request: {
    method: "GET" | "POST";
    path: string;
    body?: string;
  }): Promise<{ status: number; color: Color | null; body: unknown; injected: LoadFailure["injected"] }> {
    const response = await this.pool.request({
      method: request.method,
      path: request.path,
      headers: request.body ? { "content-type": "application/json" } : {},
      body: request.body,
    });
    const text = await response.body.text();
    const header = response.headers["x-app-color"];
    const color = header === "blue" || header === "green" ? header : null;
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    const mark = response.headers["x-sample-app-injected"];
    return { status: response.statusCode, color, body, injected: mark === "background" || mark === "fault" ? mark : null };
  }

  private readRequest(): { method: "GET"; path: string; requestId?: undefined; body?: undefined } {
    if (Math.random() < 0.7) {
      const id = this.knownIds[Math.floor(Math.random() * this.knownIds.length)] ?? 1;
      return { method: "GET", path: `/bookings/${id}` };
    }
    return { method: "GET", path: `/clients/${1 + Math.floor(Math.random() * this.seed.clients)}/bookings` };
  }

  private writeRequest(): { method: "POST"; path: string; requestId: string; body: string } {
    const requestId = randomUUID();
    const petId = 1 + Math.floor(Math.random() * this.seed.pets);
    const startsAt = new Date(Date.now() + Math.floor(Math.random() * 30 * 24) * 3_600_000).toISOString();
    return {
      method: "POST",
      path: "/bookings",
      requestId,
      body: JSON.stringify({
        requestId,
        clientId: petOwner(petId, this.seed),
        petId,
        service: SERVICES[Math.floor(Math.random() * SERVICES.length)],
        startsAt,
      }),
    };
  }
}

export interface WriteCheck {
  acknowledged: number;
  present: number;
  /** Request ids acknowledged but absent. */
  missing: string[];
  /** Present but with another id than the one acknowledged (would mean a write applied twice or rewritten). */
  mismatched: string[];
}

/** Prove every acknowledged write is in the database at `url`, with the id that was acknowledged. */
export async function verifyAcknowledgedWrites(url: string, writes: AcknowledgedWrite[]): Promise<WriteCheck> {
  const client = await connectClient({ connectionString: url, statement_timeout: 30_000 }, { applicationName: "bluegreen-sandbox-checks" });
  try {
    const found = new Map<string, number>();
    for (let i = 0; i < writes.length; i += 5000) {
      const batch = writes.slice(i, i + 5000).map((write) => write.requestId);
      const { rows } = await client.query<{ request_id: string; id: string }>(`SELECT request_id::text, id FROM bookings WHERE request_id = ANY($1::uuid[])`, [
        batch,
      ]);
      for (const row of rows) found.set(row.request_id, Number(row.id));
    }
    const missing: string[] = [];
    const mismatched: string[] = [];
    for (const write of writes) {
      const id = found.get(write.requestId);
      if (id === undefined) missing.push(write.requestId);
      else if (id !== write.id) mismatched.push(write.requestId);
    }
    return { acknowledged: writes.length, present: writes.length - missing.length, missing, mismatched };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface DuplicateCheck {
  /** Rows in bookings beyond their distinct request ids: a write applied twice (0; request_id is also UNIQUE). */
  duplicates: number;
  /** Writes the fence rejected (503) that are in the database anyway: must be 0. */
  rejectedApplied: string[];
  rows: number;
}

/** Count writes applied twice, and fenced writes applied at all, in the database at `url`. */
export async function checkDuplicates(url: string, rejected: RejectedWrite[]): Promise<DuplicateCheck> {
  const client = await connectClient({ connectionString: url, statement_timeout: 30_000 }, { applicationName: "bluegreen-sandbox-checks" });
  try {
    const counts = await client.query<{ rows: string; distinct_ids: string }>(
      `SELECT count(*)::text AS rows, count(DISTINCT request_id)::text AS distinct_ids FROM bookings`,
    );
    const rows = Number(counts.rows[0]?.rows ?? 0);
    const duplicates = rows - Number(counts.rows[0]?.distinct_ids ?? 0);
    const rejectedApplied: string[] = [];
    for (let i = 0; i < rejected.length; i += 5000) {
      const batch = rejected.slice(i, i + 5000).map((write) => write.requestId);
      const { rows: found } = await client.query<{ request_id: string }>(`SELECT request_id::text FROM bookings WHERE request_id = ANY($1::uuid[])`, [batch]);
      rejectedApplied.push(...found.map((row) => row.request_id));
    }
    return { duplicates, rejectedApplied, rows };
  } finally {
    await client.end().catch(() => undefined);
  }
}
