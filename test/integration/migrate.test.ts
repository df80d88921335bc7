// `npm run migrate` against real PostgreSQL: expand up / status / plan / contract on one database
// (shared), idempotent and resumable after a failing migration; and paired: the same DDL on both
// sides while replication runs in both directions, a new table joining the publications, rows
// flowing both ways on the new schema, schema parity after; contract stopping reverse replication.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { closeRollbackPath, migrationStatus, runMigrations, type MigrateTargets } from "../../scripts/postgres/migrate/index.js";
import { reverseSync, startSync, SYNC_NAMES, waitForCatchUp } from "../../scripts/postgres/sync/index.js";
import { runParity } from "../../scripts/postgres/parity/index.js";
import { dropAllSubscriptions } from "./syncHelpers.js";
import { PostgresSchemaMigrator } from "../../scripts/postgres/migrate/schemaMigrator.js";
import { runCutover } from "../../scripts/core/engine.js";
import { parseJournal } from "../../scripts/core/journal.js";
import { FakeWorld, testRollout } from "../support/fakes.js";
import { queryRows as sql, runScript } from "../support/postgres.js";

let work: string;

async function writeMigrations(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

const cli = (args: string[], cwd: string) => runScript("migrate", args, cwd);

const columns = async (url: string, table: string) =>
  (
    await sql<{ c: string }>(
      url,
      `SELECT attname AS c FROM pg_attribute WHERE attrelid = '${table}'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    )
  ).map((r) => r.c);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "migrate-it-"));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("one database (database.mode shared)", () => {
  let server: LocalPostgres;
  let dir: string;
  const url = () => server.url();
  const targets = (): MigrateTargets => ({ mode: "shared", database: { label: "database", display: "db", config: { connectionString: url() } } });

  beforeAll(async () => {
    server = await startPostgres({ label: "migrate-shared" });
    await sql(
      url(),
      "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total numeric(12,2) NOT NULL, legacy text); INSERT INTO orders (total) SELECT g FROM generate_series(1, 100) g",
    );
    dir = join(work, "shared", "migrations");
    await writeMigrations(dir, {
      "expand/001_add_note.sql": "-- Up Migration\nALTER TABLE orders ADD COLUMN note text;\n",
      "expand/002_index.sql": "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_note_idx ON orders (note);\n",
      "expand/003_invoices.sql":
        "CREATE TABLE invoices (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id));\nINSERT INTO invoices VALUES (1, 1);\n",
      "contract/001_drop_legacy.sql": "ALTER TABLE orders DROP COLUMN legacy;\n",
    });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("status before anything: every migration pending, no journal written by reading it", async () => {
    const status = await migrationStatus(targets(), dir);
    expect(status.databases[0]!.pending).toEqual({ expand: ["001_add_note", "002_index", "003_invoices"], contract: ["001_drop_legacy"] });
    expect(await sql(url(), "SELECT to_regclass('bluegreen_migrations.expand') AS t")).toEqual([{ t: null }]);
  });

  it("plan / --dry-run changes nothing and lists the steps in order", async () => {
    const plan = await runMigrations(targets(), { dir, phase: "expand", dryRun: true, squawk: false });
    expect(plan.ok).toBe(true);
    expect(plan.steps.map((s) => [s.migration, s.noTransaction])).toEqual([
      ["001_add_note", false],
      ["002_index", true],
      ["003_invoices", false],
    ]);
    expect(await columns(url(), "orders")).toEqual(["id", "total", "legacy"]);
  });

  it("up applies expand (CONCURRENTLY outside a transaction), journals it, and is idempotent", async () => {
    const first = await runMigrations(targets(), { dir, phase: "expand", squawk: false });
    expect(first.ok, first.summary).toBe(true);
    expect(first.steps.map((s) => s.migration)).toEqual(["001_add_note", "002_index", "003_invoices"]);
    expect(await columns(url(), "orders")).toEqual(["id", "total", "legacy", "note"]);
    expect(await sql(url(), "SELECT indisvalid AS v FROM pg_index WHERE indexrelid = 'orders_note_idx'::regclass")).toEqual([{ v: true }]);
    const again = await runMigrations(targets(), { dir, phase: "expand", squawk: false });
    expect(again.steps).toEqual([]);
    expect(again.summary).toMatch(/nothing to apply/);
    const journal = await sql<{ name: string }>(url(), "SELECT name FROM bluegreen_migrations.expand ORDER BY id");
    expect(journal.map((j) => j.name)).toEqual(["001_add_note", "002_index", "003_invoices"]);
  });

  it("a failing migration stops the run; the ones before it stay; fixing it resumes at it", async () => {
    await writeMigrations(dir, {
      "expand/004_ok.sql": "ALTER TABLE orders ADD COLUMN region text DEFAULT 'eu';\n",
      "expand/005_fails.sql": "ALTER TABLE orders ADD COLUMN ref text;\nALTER TABLE no_such_table ADD COLUMN x int;\n",
      "expand/006_after.sql": "ALTER TABLE orders ADD COLUMN later int;\n",
    });
    const failed = await runMigrations(targets(), { dir, phase: "expand", squawk: false });
    expect(failed.ok).toBe(false);
    expect(failed.failure).toMatchObject({ database: "database", migration: "005_fails" });
    expect(failed.failure!.message).toMatch(/no_such_table/);
    // 004 applied; 005 rolled back as a whole (its first statement too); 006 not attempted.
    expect(await columns(url(), "orders")).toEqual(["id", "total", "legacy", "note", "region"]);
    await writeFile(join(dir, "expand/005_fails.sql"), "ALTER TABLE orders ADD COLUMN ref text;\n");
    const resumed = await runMigrations(targets(), { dir, phase: "expand", squawk: false });
    expect(resumed.ok, resumed.summary).toBe(true);
    expect(resumed.steps.map((s) => s.migration)).toEqual(["005_fails", "006_after"]);
  });

  it("up refuses an unsafe expand migration before applying anything (exit 1 on the command line)", async () => {
    const unsafeDir = join(work, "unsafe", "migrations");
    await writeMigrations(unsafeDir, {
      "expand/001_ok.sql": "ALTER TABLE orders ADD COLUMN unsafe_probe text;\n",
      "expand/002_rename.sql": "ALTER TABLE orders RENAME COLUMN total TO amount;\n",
    });
    const run = await cli(["up", "--database-url", url(), "--dir", unsafeDir, "--no-squawk"], work);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain("rename-column");
    expect(run.stdout).toMatch(/recipe: expand: add the new column/);
    expect(await columns(url(), "orders")).not.toContain("unsafe_probe");
  }, 60_000);

  it("the command line: status --json, contract without --confirm-no-rollback refused (exit 2), then applied", async () => {
    const status = await cli(["status", "--database-url", url(), "--dir", dir, "--json"], work);
    expect(status.code, status.stderr).toBe(0);
    const doc = JSON.parse(status.stdout) as { databases: Array<{ pending: { contract: string[] } }> };
    expect(doc.databases[0]!.pending.contract).toEqual(["001_drop_legacy"]);
    expect(status.stdout).not.toContain("password");

    const refused = await cli(["contract", "--database-url", url(), "--dir", dir], work);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/closes the rollback path/);
    expect(await columns(url(), "orders")).toContain("legacy");

    const done = await cli(["contract", "--database-url", url(), "--dir", dir, "--confirm-no-rollback", "--no-squawk"], work);
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(done.stderr).toMatch(/closes the rollback path/);
    expect(await columns(url(), "orders")).not.toContain("legacy");
    const again = await cli(["contract", "--database-url", url(), "--dir", dir, "--confirm-no-rollback", "--no-squawk"], work);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing to apply/);
  }, 60_000);

  it("the cutover's migrating phase through the PostgreSQL adapter: applied before the first weight, a refusal leaves traffic untouched", async () => {
    const cutoverDir = join(work, "cutover", "migrations");
    await writeMigrations(cutoverDir, { "expand/001_cutover_col.sql": "ALTER TABLE orders ADD COLUMN cutover_col text;\n" });
    // A database of its own: its migration journal belongs to this directory alone.
    await sql(url(), "CREATE DATABASE cutover_db");
    const dbUrl = server.url("cutover_db");
    await sql(dbUrl, "CREATE TABLE orders (id bigint PRIMARY KEY)");
    const cutoverTargets = async (): Promise<MigrateTargets> => ({
      mode: "shared",
      database: { label: "database", display: "cutover_db", config: { connectionString: dbUrl } },
    });
    const request = {
      rollout: testRollout({ strategy: { type: "canary", steps: [50, 100] }, bakeSeconds: 60, monitorSeconds: 60 }),
      databaseMode: "shared" as const,
      owner: "it pid 1",
    };
    const world = new FakeWorld();
    const migrator = new PostgresSchemaMigrator({ dir: cutoverDir, targets: cutoverTargets, squawk: false });
    expect(await migrator.pendingExpand()).toEqual(["001_cutover_col"]);
    const result = await runCutover(world.deps({ migrator }), request);
    expect(result.outcome, String(result.reason)).toBe("succeeded");
    expect(await columns(dbUrl, "orders")).toContain("cutover_col");
    expect(parseJournal(world.journal.value).migration).toMatchObject({ ok: true, applied: ["001_cutover_col"] });
    expect(await migrator.pendingExpand()).toEqual([]);

    // An unsafe file: refused by the lint before anything is applied; no weight written.
    await writeMigrations(cutoverDir, { "expand/002_drop.sql": "ALTER TABLE orders DROP COLUMN cutover_col;\n" });
    const refusedWorld = new FakeWorld();
    const refused = await runCutover(
      refusedWorld.deps({ migrator: new PostgresSchemaMigrator({ dir: cutoverDir, targets: cutoverTargets, squawk: false }) }),
      request,
    );
    expect(refused.outcome).toBe("preflight-failed");
    expect(refused.reason).toMatch(/migration failed: refused: 1 lint error.*002_drop: drop-column at line 1/);
    expect(refusedWorld.router.writes).toEqual([]);
    expect(await columns(dbUrl, "orders")).toContain("cutover_col");
  }, 60_000);

  it("bad input is exit 2, an unreachable database exit 3", async () => {
    expect((await cli(["nope"], work)).code).toBe(2);
    expect((await cli(["up", "--dir", dir], work)).code).toBe(2);
    expect(await cli(["up", "--database-url", "postgres://u:secretpw@127.0.0.1:1/db", "--dir", dir, "--no-squawk"], work)).toMatchObject({ code: 3 });
  }, 60_000);
});

describe("paired databases with replication running both ways", () => {
  let blue: LocalPostgres;
  let green: LocalPostgres;
  let dir: string;
  const targets = (writer: "blue" | "green"): Extract<MigrateTargets, { mode: "paired" }> => ({
    mode: "paired",
    writer,
    blue: { label: "blue", display: "blue", config: { connectionString: blue.url() } },
    green: { label: "green", display: "green", config: { connectionString: green.url() } },
  });
  const schema = "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(12,2) NOT NULL, legacy text);";

  beforeAll(async () => {
    [blue, green] = await Promise.all([startPostgres({ label: "migrate-blue" }), startPostgres({ label: "migrate-green" })]);
    await Promise.all([sql(blue.url(), schema), sql(green.url(), schema)]);
    await sql(blue.url(), "INSERT INTO orders SELECT g, g, 'x' FROM generate_series(1, 50) g");
    await startSync({ sourceUrl: blue.url(), targetUrl: green.url() });
    await reverseSync({ sourceUrl: green.url(), targetUrl: blue.url() });
    dir = join(work, "paired", "migrations");
    await writeMigrations(dir, {
      "expand/001_note.sql": "ALTER TABLE orders ADD COLUMN note text;\n",
      "expand/002_invoices.sql": "CREATE TABLE invoices (id bigint PRIMARY KEY, order_id bigint NOT NULL, amount numeric(12,2));\n",
      "contract/001_drop_legacy.sql": "ALTER TABLE orders DROP COLUMN legacy;\n",
    });
  }, 180_000);
  afterAll(async () => {
    await Promise.all([blue && dropAllSubscriptions(blue.url()), green && dropAllSubscriptions(green.url())]);
    await Promise.all([blue?.stop(), green?.stop()]);
  });

  it("expand: green (the receiver) first, then blue; the new table joins both publications; schema parity holds", async () => {
    const plan = await runMigrations(targets("blue"), { dir, phase: "expand", squawk: false, dryRun: true });
    const report = await runMigrations(targets("blue"), { dir, phase: "expand", squawk: false });
    // The plan named the same steps and replication statements the run then executed.
    expect(plan.steps.map((s) => `${s.database}:${s.migration}`)).toEqual(report.steps.map((s) => `${s.database}:${s.migration}`));
    expect(plan.replication.map((r) => `${r.on}: ${r.sql}`)).toEqual(report.replication.map((r) => `${r.on}: ${r.sql}`));
    expect(report.ok, `${report.summary} ${JSON.stringify(report.schemaDifferences)}`).toBe(true);
    expect(report.steps.map((s) => `${s.database}:${s.migration}`)).toEqual(["green:001_note", "blue:001_note", "green:002_invoices", "blue:002_invoices"]);
    // Blue writes: green's copy of the new table is emptied and filled from blue's; the reverse
    // direction (green → blue) picks the table up without a copy.
    expect(report.replication.map((r) => `${r.on}: ${r.sql}`)).toEqual([
      `green: TRUNCATE "public"."invoices"`,
      `blue: ALTER PUBLICATION "${SYNC_NAMES.forward}" ADD TABLE "public"."invoices"`,
      `green: ALTER PUBLICATION "${SYNC_NAMES.reverse}" ADD TABLE "public"."invoices"`,
      `green: ALTER SUBSCRIPTION "${SYNC_NAMES.forward}" REFRESH PUBLICATION WITH (copy_data = true)`,
      `blue: ALTER SUBSCRIPTION "${SYNC_NAMES.reverse}" REFRESH PUBLICATION WITH (copy_data = false)`,
    ]);
    expect(report.replicationChecks.map((c) => [c.subscription, c.ok])).toEqual([
      [SYNC_NAMES.forward, true],
      [SYNC_NAMES.reverse, true],
      [SYNC_NAMES.forward, true],
      [SYNC_NAMES.reverse, true],
    ]);
    expect(report.rowChecks).toMatchObject([{ table: '"public"."invoices"', from: "blue", to: "green", ok: true }]);
    expect(report.schemaDifferences).toEqual([]);
    const status = await migrationStatus(targets("blue"), dir);
    expect(status.inStep).toBe(true);
  }, 120_000);

  it("rows written on the new schema replicate both ways, old rows included", async () => {
    await sql(
      blue.url(),
      "INSERT INTO orders VALUES (100, 1, NULL, 'with note'); UPDATE orders SET note = 'n' WHERE id = 1; INSERT INTO invoices VALUES (1, 100, 1)",
    );
    await sql(green.url(), "INSERT INTO invoices VALUES (2, 1, 2)");
    const forth = await waitForCatchUp({ sourceUrl: blue.url(), targetUrl: green.url(), timeoutMs: 30_000 });
    expect(forth.caughtUp, forth.reason).toBe(true);
    const back = await waitForCatchUp({ sourceUrl: green.url(), targetUrl: blue.url(), name: SYNC_NAMES.reverse, timeoutMs: 30_000 });
    expect(back.caughtUp, back.reason).toBe(true);
    const parity = await runParity({ blueUrl: blue.url(), greenUrl: green.url() });
    expect(parity.identical, parity.summary).toBe(true);
    expect(await sql(green.url(), "SELECT note FROM orders WHERE id IN (1, 100) ORDER BY id")).toEqual([{ note: "n" }, { note: "with note" }]);
    expect(await sql(blue.url(), "SELECT id FROM invoices ORDER BY id")).toEqual([{ id: "1" }, { id: "2" }]);
  }, 60_000);

  it("contract (writer green): reverse replication stopped first; blue → green still runs, so blue (its publisher) first, then green; schema parity", async () => {
    const closed = await closeRollbackPath(targets("green"));
    expect(closed[0]).toMatch(/green → blue\) stopped/);
    expect(await sql(blue.url(), `SELECT subname FROM pg_subscription WHERE subname = '${SYNC_NAMES.reverse}'`)).toEqual([]);
    const report = await runMigrations(targets("green"), { dir, phase: "contract", squawk: false });
    expect(report.ok, report.summary).toBe(true);
    // Dropping on green first would stop green's apply worker on the column blue still sends.
    expect(report.steps.map((s) => `${s.database}:${s.migration}`)).toEqual(["blue:001_drop_legacy", "green:001_drop_legacy"]);
    expect(report.notes.join(" ")).toMatch(/following bluegreen_blue_to_green \(blue → green\): blue first/);
    expect(report.replicationChecks.map((c) => [c.subscription, c.ok])).toEqual([[SYNC_NAMES.forward, true]]);
    expect(report.schemaDifferences).toEqual([]);
    // The forward stream (blue → green) still applies on the contracted schema.
    await sql(blue.url(), "INSERT INTO orders VALUES (101, 5, 'after contract')");
    const forth = await waitForCatchUp({ sourceUrl: blue.url(), targetUrl: green.url(), timeoutMs: 30_000 });
    expect(forth.caughtUp, forth.reason).toBe(true);
    expect(await sql(green.url(), "SELECT note FROM orders WHERE id = 101")).toEqual([{ note: "after contract" }]);
  }, 120_000);
});
