// The paired switch's DataReplication adapter (scripts/postgres/replication.ts) against two real
// PostgreSQL servers: parity judges rows and schema and only REPORTS sequences; copySequences
// copies, then verifies, and fails naming the sequence when one is still behind.

import { rm } from "node:fs/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { PostgresDataReplication, SequencesBehindError } from "../../scripts/postgres/replication.js";
import { createSchema, seed } from "../../sample-app/schema.js";

const servers: LocalPostgres[] = [];
let blueUrl: string;
let greenUrl: string;
let adapter: PostgresDataReplication;

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end().catch(() => undefined);
  }
}

beforeAll(async () => {
  const label = `bluegreen-e2e-replication-${process.pid}`;
  const [blue, green] = await Promise.all([startPostgres({ label: `${label}-blue` }), startPostgres({ label: `${label}-green` })]);
  servers.push(blue, green);
  blueUrl = blue.url();
  greenUrl = green.url();
  for (const [url, withSeed] of [
    [blueUrl, true],
    [greenUrl, false],
  ] as const) {
    const client = new pg.Client({ connectionString: url });
    client.on("error", () => undefined);
    await client.connect();
    await createSchema(client);
    if (withSeed) await seed(client);
    await client.end();
  }
  adapter = new PostgresDataReplication({ blueUrl, greenUrl });
  await adapter.start("blue-to-green", { copyData: true });
  await adapter.waitForCatchUp("blue-to-green", 60_000);
}, 120_000);

afterAll(async () => {
  await adapter?.close();
  await adapter?.stop("blue-to-green").catch(() => undefined);
  for (const server of servers) {
    await Promise.race([server.stop(), new Promise((resolve) => setTimeout(resolve, 8000))]).catch(() => undefined);
    await rm(server.dataDir, { recursive: true, force: true });
  }
}, 60_000);

describe("PostgresDataReplication", () => {
  it("parity: identical rows and schema pass; sequences behind are reported, not counted", async () => {
    const result = await adapter.parity();
    expect(result.identical).toBe(true);
    expect(result.sequencesBehind).toContain("public.bookings_id_seq");
    expect(result.summary).toMatch(/rows and schema identical/);
    expect(result.summary).toMatch(/behind on green .*copied and verified by the next step/);
    expect(adapter.lastParity!.identical).toBe(false); // runParity on its own counts them: that is `npm run parity`'s verdict
    expect(result.onlyOnGreen).toEqual([]);
  });

  it("copySequences copies, then verifies: nothing behind afterwards", async () => {
    expect((await adapter.verifySequences("blue-to-green")).behind.length).toBeGreaterThan(0);
    await adapter.copySequences("blue-to-green");
    expect(adapter.lastSequenceCopy!.behind).toEqual([]);
    expect(adapter.lastSequenceCopy!.checked).toBe(3);
    expect((await adapter.parity()).sequencesBehind).toEqual([]);
  });

  it("fails the copy, naming the sequence, when a target sequence would reissue a key its table holds", async () => {
    // A row on green beyond anything blue's sequence has handed out (written past replication).
    await sql(greenUrl, `INSERT INTO clients (id, name, email) VALUES (1000000, 'stray', 'stray@example.test')`);
    const error = await adapter.copySequences("blue-to-green").then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SequencesBehindError);
    expect((error as SequencesBehindError).behind.map((b) => b.sequence)).toEqual(["public.clients_id_seq"]);
    expect((error as Error).message).toMatch(/clients_id_seq .*not past the largest public\.clients\.id = 1000000/);
    // ...and parity names the stray row as only on green.
    const parity = await adapter.parity();
    expect(parity.identical).toBe(false);
    expect(parity.onlyOnGreen).toEqual(["public.clients(id=1000000)"]);
    await sql(greenUrl, `DELETE FROM clients WHERE id = 1000000`);
  });
});
