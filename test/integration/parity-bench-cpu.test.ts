// The parity benchmark charges CPU from /proc: a live backend by its process id, and the backends
// of a piece of work that opens and closes its own connections through the postmaster's reaped
// children, once they have been reaped. On a real server: a query's work shows up in both, work
// on no server costs the servers nothing, and a backend left open is not charged.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { awaitReaped, backendCpuMs, chargeCpu, postmasterOf } from "../../bench/parityCpu.js";

let server: LocalPostgres;
let watcher: pg.Client;
let postmaster: number;

/** Enough work for many clock ticks of CPU (tens of ms at least, on any machine). */
const WORK = "SELECT count(*) FROM generate_series(1, 3000000) g WHERE g % 7 = 3";

async function connect(): Promise<{ client: pg.Client; pid: number }> {
  const client = new pg.Client({ connectionString: server.url() });
  await client.connect();
  const res = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  return { client, pid: res.rows[0]!.pid };
}

beforeAll(async () => {
  server = await startPostgres({ label: "parity-bench-cpu", settings: { autovacuum: "off" } });
  const first = await connect();
  watcher = first.client;
  postmaster = postmasterOf(first.pid);
}, 120_000);

afterAll(async () => {
  await watcher?.end().catch(() => undefined);
  await server?.stop();
}, 30_000);

describe("CPU charged from /proc", () => {
  it("the postmaster is the backends' parent, and a live backend's CPU grows by its query's work", async () => {
    const { client, pid } = await connect();
    try {
      expect(postmasterOf(pid)).toBe(postmaster);
      const before = backendCpuMs([pid]);
      await client.query(WORK);
      expect(backendCpuMs([pid]) - before).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  }, 60_000);

  // Retried: once in a clean-clone CI run on a loaded machine the work's backend was charged 0 ms
  // (not reproduced idle in repeated runs); a charging that is broken reads 0 every time and fails.
  it("work on connections of its own is charged after they are reaped; no connection, no server CPU", { retry: 2, timeout: 60_000 }, async () => {
    const charged = await chargeCpu([postmaster], async () => {
      const { client } = await connect();
      try {
        return (await client.query<{ count: string }>(WORK)).rows[0]!.count;
      } finally {
        await client.end();
      }
    });
    expect(charged.value).toBe("428572");
    expect(charged.serverMs).toBeGreaterThan(0);
    const idle = await chargeCpu([postmaster], () => Promise.resolve(0));
    expect(idle.serverMs).toBe(0);
  });

  it("a backend closed just before is not charged to the next measurement; awaitReaped waits it out", async () => {
    const earlier = await connect();
    const before = backendCpuMs([earlier.pid]);
    await earlier.client.query(WORK);
    const work = backendCpuMs([earlier.pid]) - before;
    await earlier.client.end();
    // Charged at once: the backend may still be exiting, and is reaped during the (idle) work.
    const charged = await chargeCpu([postmaster], () => new Promise((resolve) => setTimeout(resolve, 200)));
    expect(charged.serverMs).toBeLessThan(work);
    const next = await connect();
    await next.client.end();
    await awaitReaped([next.pid]);
    expect(backendCpuMs([next.pid])).toBe(0);
  }, 60_000);

  it("a backend still open at the end is not charged (only reaped ones are)", async () => {
    const kept = await connect();
    try {
      const charged = await chargeCpu([postmaster], () => kept.client.query(WORK));
      expect(charged.serverMs).toBe(0);
    } finally {
      await kept.client.end();
    }
  }, 60_000);
});
