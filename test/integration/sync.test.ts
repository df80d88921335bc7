// `npm run sync` against two real PostgreSQL servers: start with an initial copy, converge after
// inserts, updates and deletes, status, sequences, reverse replication with both directions
// running at once (no ping-pong), and a stop that leaves no slot, publication or subscription.

import { appendFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { copySequences, reverseSync, startSync, stopSync, syncStatus, waitForCatchUp, SYNC_NAMES } from "../../scripts/postgres/sync/index.js";
import { SCHEMA, dropAllSubscriptions, eventually, runCli, sameData, withDb } from "./syncHelpers.js";

let blue: LocalPostgres | undefined;
let green: LocalPostgres | undefined;
const blueUrl = () => blue!.url("app");
const greenUrl = () => green!.url("app");

async function seed(url: string, schemaOnly: boolean): Promise<void> {
  await withDb(url, async (db) => {
    await db.query(SCHEMA);
    if (schemaOnly) return;
    await db.query(
      `INSERT INTO orders (customer, amount, note) SELECT 'c' || g, g * 1.25, CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END FROM generate_series(1, 500) g`,
    );
    await db.query(`INSERT INTO order_lines SELECT o, l, 'sku-' || l, l FROM generate_series(1, 200) o, generate_series(1, 3) l`);
    await db.query(`INSERT INTO "App Data"."Events ü" ("Payload", tags) SELECT jsonb_build_object('n', g), ARRAY['a', 'b' || g] FROM generate_series(1, 50) g`);
    await db.query(`INSERT INTO audit_log (message) VALUES ('one'), ('two'), (NULL)`);
    await db.query(`SELECT nextval('invoice_numbers') FROM generate_series(1, 7)`);
  });
}

async function slotsOn(url: string): Promise<string[]> {
  return withDb(url, async (db) =>
    (await db.query<{ slot_name: string }>("SELECT slot_name FROM pg_replication_slots ORDER BY 1")).rows.map((r) => r.slot_name),
  );
}

async function objectsOn(url: string): Promise<{ publications: string[]; subscriptions: string[] }> {
  return withDb(url, async (db) => ({
    publications: (await db.query<{ pubname: string }>("SELECT pubname FROM pg_publication ORDER BY 1")).rows.map((r) => r.pubname),
    subscriptions: (await db.query<{ subname: string }>("SELECT subname FROM pg_subscription ORDER BY 1")).rows.map((r) => r.subname),
  }));
}

describe("sync between two PostgreSQL servers", () => {
  beforeAll(async () => {
    // SYNC_TEST_LOG=file appends both servers' logs there (debugging a failure).
    const logFile = process.env.SYNC_TEST_LOG;
    const onLog = (color: string) => (logFile ? (line: string) => appendFileSync(logFile, `${color} ${line}\n`) : undefined);
    [blue, green] = await Promise.all([
      startPostgres({ label: "sync-blue", onLog: onLog("blue") }),
      startPostgres({ label: "sync-green", onLog: onLog("green") }),
    ]);
    for (const server of [blue, green]) {
      await withDb(server.url(), (db) => db.query("CREATE DATABASE app"));
    }
    await seed(blueUrl(), false);
    await seed(greenUrl(), true);
  });

  afterAll(async () => {
    // Drop subscriptions first so neither server waits on the other while stopping.
    for (const server of [green, blue]) {
      if (!server) continue;
      await dropAllSubscriptions(server.url("app"));
    }
    await Promise.all([blue?.stop(), green?.stop()]);
  });

  it("plans the start in a dry run: SQL with the password redacted, nothing created", async () => {
    const run = await runCli(["start", "--blue", blueUrl(), "--green", greenUrl(), "--dry-run"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("CREATE PUBLICATION");
    expect(run.stdout).toContain("CREATE SUBSCRIPTION");
    expect(run.stdout).toContain("password=''***''");
    expect(run.stdout + run.stderr).not.toContain(blue!.password);
    expect(run.stdout + run.stderr).not.toContain(green!.password);
    expect(await objectsOn(blueUrl())).toEqual({ publications: [], subscriptions: [] });
    expect(await objectsOn(greenUrl())).toEqual({ publications: [], subscriptions: [] });
    expect(await slotsOn(blueUrl())).toEqual([]);
  });

  it("starts with an initial copy through the CLI and reports tables ready", async () => {
    const run = await runCli(["start", "--blue", blueUrl(), "--green", greenUrl(), "--timeout", "90"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("started blue → green, 4 table(s)");
    expect(run.stdout).toMatch(/initial copy done: 4\/4 tables ready/);
    expect(run.stdout + run.stderr).not.toContain(blue!.password);
    const same = await sameData(blueUrl(), greenUrl());
    expect(same.identical, JSON.stringify(same.detail)).toBe(true);
  });

  it("says so when started again", async () => {
    const result = await startSync({ sourceUrl: blueUrl(), targetUrl: greenUrl() });
    expect(result.alreadyRunning).toBe(true);
    expect(result.statements).toEqual([]);
    expect(result.notes.join(" ")).toMatch(/already exists/);
  });

  it("converges after inserts, updates and deletes on blue", async () => {
    await withDb(blueUrl(), async (db) => {
      await db.query(`INSERT INTO orders (customer, amount, note) SELECT 'new' || g, g, 'x' FROM generate_series(1, 300) g`);
      await db.query(`UPDATE orders SET amount = amount + 1, note = NULL WHERE id % 7 = 0`);
      await db.query(`DELETE FROM orders WHERE id % 11 = 0`);
      await db.query(`UPDATE order_lines SET qty = qty * 10 WHERE order_id < 20`);
      await db.query(`DELETE FROM order_lines WHERE order_id BETWEEN 50 AND 60`);
      await db.query(`UPDATE "App Data"."Events ü" SET "Payload" = "Payload" || '{"seen": true}' WHERE ("Payload"->>'n')::int % 2 = 0`);
      await db.query(`DELETE FROM audit_log WHERE message = 'two'`);
      await db.query(`UPDATE audit_log SET message = 'uno' WHERE message = 'one'`);
    });
    // Open clients, as the paired switch passes them behind its write fence.
    const [source, target] = [new pg.Client(blueUrl()), new pg.Client(greenUrl())];
    await Promise.all([source.connect(), target.connect()]);
    let wait;
    try {
      wait = await waitForCatchUp({ sourceUrl: source, targetUrl: target, timeoutMs: 30_000, pollMs: 20 });
    } finally {
      await Promise.all([source.end(), target.end()]);
    }
    expect(wait.caughtUp, wait.reason).toBe(true);
    console.log(`waitForCatchUp after the changes: ${wait.elapsedMs.toFixed(0)} ms`);
    expect(wait.elapsedMs).toBeGreaterThanOrEqual(0);
    // Caught up means applied: the data is equal right away, without further waiting.
    const same = await sameData(blueUrl(), greenUrl());
    expect(same.identical, JSON.stringify(same.detail)).toBe(true);
  });

  it("reports status: every table ready, worker running, a lag figure, a healthy slot", async () => {
    const status = await syncStatus({ sourceUrl: blueUrl(), targetUrl: greenUrl() });
    expect(status.healthy, status.problems.join("; ")).toBe(true);
    expect(status.tablesReady).toBe(4);
    expect(status.tablesTotal).toBe(4);
    expect(status.tables.every((t) => t.state === "ready")).toBe(true);
    expect(status.workerRunning).toBe(true);
    expect(typeof status.lag.bytes).toBe("number");
    expect(status.slot?.active).toBe(true);
    expect(status.slot?.walStatus).toBe("reserved");
    expect(status.subscription.origin).toBe("none");

    const run = await runCli(["status", "--blue", blueUrl(), "--green", greenUrl()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/healthy/);
    expect(run.stdout).toMatch(/tables\s+4\/4 ready/);
    expect(run.stdout).toMatch(/lag\s+\S+/);
    const json = await runCli(["status", "--blue", blueUrl(), "--green", greenUrl(), "--json"]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { healthy: boolean; lag: { bytes: number } };
    expect(parsed.healthy).toBe(true);
    expect(json.stdout).not.toContain(blue!.password);
  });

  it("copies sequences blue → green, keeping is_called, and never moves one back by default", async () => {
    const before = await withDb(greenUrl(), async (db) => (await db.query<{ v: string }>("SELECT last_value::text AS v FROM orders_id_seq")).rows[0]?.v);
    expect(before).toBe("1");
    const report = await copySequences(blueUrl(), greenUrl());
    const byName = Object.fromEntries(report.map((r) => [r.sequence, r]));
    expect(byName["public.orders_id_seq"]?.action).toBe("set");
    expect(byName["public.orders_id_seq"]?.sourceValue).toBe("800");
    expect(byName["public.invoice_numbers"]?.sourceValue).toBe("1006");
    const after = await withDb(
      greenUrl(),
      async (db) =>
        (
          await db.query<{ a: string; b: string; called: boolean }>(
            "SELECT (SELECT last_value::text FROM orders_id_seq) AS a, (SELECT last_value::text FROM invoice_numbers) AS b, (SELECT is_called FROM invoice_numbers) AS called",
          )
        ).rows[0],
    );
    expect(after).toEqual({ a: "800", b: "1006", called: true });
    // Copying again changes nothing.
    const again = await copySequences(blueUrl(), greenUrl());
    expect(again.every((r) => r.action === "unchanged")).toBe(true);
    // Green ahead of blue: kept unless --allow-decrease.
    await withDb(greenUrl(), (db) => db.query("SELECT setval('invoice_numbers', 5000)"));
    const ahead = await copySequences(blueUrl(), greenUrl());
    expect(ahead.find((r) => r.sequence === "public.invoice_numbers")?.action).toBe("kept-target-ahead");
    const cli = await runCli(["sequences", "--blue", blueUrl(), "--green", greenUrl(), "--allow-decrease"]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/invoice_numbers\s+set 5000 → 1006/);
    // Tables and sequences now match (parity checks sequences when its library is present).
    const same = await sameData(blueUrl(), greenUrl(), { sequencesToo: true });
    expect(same.identical, JSON.stringify(same.detail)).toBe(true);
  });

  it("reverse carries green's new writes back to blue, with both directions running and no ping-pong", async () => {
    const dry = await reverseSync({ sourceUrl: greenUrl(), targetUrl: blueUrl(), dryRun: true });
    expect(dry.statements.find((s) => s.on === "target")?.sql).toMatch(/copy_data = false.*origin = none/);
    const run = await runCli(["reverse", "--blue", blueUrl(), "--green", greenUrl()]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`sync ${SYNC_NAMES.reverse}`);
    expect(run.stdout).toContain("started green → blue");

    // A write on green flows to blue; a write on blue still flows to green. Neither comes back.
    const greenId = await withDb(
      greenUrl(),
      async (db) =>
        (await db.query<{ id: string }>("INSERT INTO orders (customer, amount) VALUES ('taken on green', 42) RETURNING id::text AS id")).rows[0]!.id,
    );
    await withDb(blueUrl(), (db) => db.query("INSERT INTO order_lines VALUES (9001, 1, 'from-blue', 1)"));
    await withDb(greenUrl(), (db) => db.query("UPDATE order_lines SET qty = 7 WHERE order_id = 1 AND line = 1"));
    const back = await waitForCatchUp({ sourceUrl: greenUrl(), targetUrl: blueUrl(), name: SYNC_NAMES.reverse, timeoutMs: 30_000 });
    expect(back.caughtUp, back.reason).toBe(true);
    const forth = await waitForCatchUp({ sourceUrl: blueUrl(), targetUrl: greenUrl(), timeoutMs: 30_000 });
    expect(forth.caughtUp, forth.reason).toBe(true);

    const onBlue = await withDb(blueUrl(), async (db) => (await db.query("SELECT customer FROM orders WHERE id = $1", [greenId])).rows);
    expect(onBlue).toEqual([{ customer: "taken on green" }]);
    const same = await sameData(blueUrl(), greenUrl());
    expect(same.identical, JSON.stringify(same.detail)).toBe(true);

    // No apply errors on either side (a bounced insert would fail on its primary key) and both healthy.
    for (const [source, target, name] of [
      [blueUrl(), greenUrl(), SYNC_NAMES.forward],
      [greenUrl(), blueUrl(), SYNC_NAMES.reverse],
    ] as const) {
      const status = await syncStatus({ sourceUrl: source, targetUrl: target, name });
      expect(status.healthy, `${name}: ${status.problems.join("; ")}`).toBe(true);
      expect(status.errors).toEqual({ apply: 0, sync: 0 });
    }
  });

  it("stop leaves no slot, publication or subscription, in either direction", async () => {
    const dry = await runCli(["stop", "--reverse", "--blue", blueUrl(), "--green", greenUrl(), "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`DROP SUBSCRIPTION "${SYNC_NAMES.reverse}"`);
    expect((await objectsOn(blueUrl())).subscriptions).toEqual([SYNC_NAMES.reverse]);

    const reverse = await runCli(["stop", "--reverse", "--blue", blueUrl(), "--green", greenUrl()]);
    expect(reverse.code, reverse.stdout + reverse.stderr).toBe(0);
    expect(reverse.stdout).toContain("stopped, no slot left");

    const forward = await stopSync({ sourceUrl: blueUrl(), targetUrl: greenUrl() });
    expect(forward.droppedSubscription).toBe(true);
    expect(forward.droppedPublication).toBe(true);
    expect(forward.leftoverSlots).toEqual([]);

    await eventually(async () => (await slotsOn(blueUrl())).length === 0 && (await slotsOn(greenUrl())).length === 0, "no slots");
    expect(await objectsOn(blueUrl())).toEqual({ publications: [], subscriptions: [] });
    expect(await objectsOn(greenUrl())).toEqual({ publications: [], subscriptions: [] });

    // Stopping again is a no-op that still succeeds.
    const again = await stopSync({ sourceUrl: blueUrl(), targetUrl: greenUrl() });
    expect(again.leftoverSlots).toEqual([]);
    expect(again.droppedSubscription).toBe(false);
  });
});
