// PostgresDataReplication.waitForCatchUp (scripts/postgres/replication.ts) against real PostgreSQL:
// a reverse subscription that can never catch up (enabled, its publisher unreachable) keeps the
// wait polling; aborting the signal the engine passes ends it at once with the signal's reason,
// and without a signal the wait still ends at its timeout. One embedded server, two databases.

import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { PostgresDataReplication } from "../../scripts/postgres/replication.js";
import { SYNC_NAMES } from "../../scripts/postgres/sync/index.js";
import { createDatabases, execSql } from "../support/postgres.js";

let server: LocalPostgres | undefined;
let adapter: PostgresDataReplication | undefined;
const reverse = SYNC_NAMES.reverse;

beforeAll(async () => {
  server = await startPostgres({ label: `bluegreen-replication-abort-${process.pid}` });
  await createDatabases(server, "blue", "green");
  // Blue subscribes to a publisher nobody serves: created without connecting, then enabled, so
  // its worker keeps failing to connect and the catch-up never sees green's position reached.
  const nowhere = await freePort();
  await execSql(
    server.url("blue"),
    `CREATE SUBSCRIPTION ${reverse} CONNECTION 'host=127.0.0.1 port=${nowhere} dbname=green connect_timeout=1' PUBLICATION bluegreen WITH (connect = false)`,
  );
  await execSql(server.url("blue"), `ALTER SUBSCRIPTION ${reverse} ENABLE`);
  adapter = new PostgresDataReplication({ blueUrl: server.url("blue"), greenUrl: server.url("green"), catchUpPollMs: 20 });
}, 120_000);

afterAll(async () => {
  await adapter?.close();
  if (!server) return;
  // Without a slot to drop on the (absent) publisher, DROP SUBSCRIPTION does not try to reach it.
  await execSql(
    server.url("blue"),
    `ALTER SUBSCRIPTION ${reverse} DISABLE; ALTER SUBSCRIPTION ${reverse} SET (slot_name = NONE); DROP SUBSCRIPTION ${reverse}`,
  ).catch(() => undefined);
  await Promise.race([server.stop(), new Promise((resolve) => setTimeout(resolve, 8000))]).catch(() => undefined);
  await rm(server.dataDir, { recursive: true, force: true });
}, 30_000);

describe("the catch-up wait on real PostgreSQL", () => {
  it("without a signal it ends at its timeout, saying why", async () => {
    await expect(adapter!.waitForCatchUp("green-to-blue", 300)).rejects.toThrow(
      /green-to-blue replication did not catch up within 300 ms: the target had applied up to/,
    );
  }, 20_000);

  it("an abort ends a wait of ten minutes at once, with the signal's reason", async () => {
    const controller = new AbortController();
    const reason = new Error("the guard's deadline has passed");
    setTimeout(() => controller.abort(reason), 200);
    await expect(adapter!.waitForCatchUp("green-to-blue", 600_000, controller.signal)).rejects.toBe(reason);
    // The adapter dropped its kept connections with the error; the next call opens fresh ones.
    await expect(adapter!.waitForCatchUp("green-to-blue", 100)).rejects.toThrow(/did not catch up within 100 ms/);
  }, 20_000);
});
