// Bad input and unreachable databases for `npm run sync`: clear messages that say what to change,
// the right exit codes (2 bad input, 3 unreachable), no password in any output, and a stop that
// never silently leaves a slot holding WAL.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { startSync, stopSync, SyncPreflightError } from "../../scripts/postgres/sync/index.js";
import { UnreachableError } from "../../scripts/cli/common.js";
import { dropAllSubscriptions, eventually, runCli, withDb } from "./syncHelpers.js";

let replica: LocalPostgres | undefined; // wal_level=replica: no logical replication
let logical: LocalPostgres | undefined;

const TABLES = `
  CREATE TABLE accounts (id int PRIMARY KEY, name text);
  CREATE TABLE no_key (a int, b text);
`;

function expectNoSecrets(text: string): void {
  for (const server of [replica, logical]) {
    if (server) expect(text).not.toContain(server.password);
  }
  expect(text).not.toContain("not-the-password");
}

async function slots(url: string): Promise<string[]> {
  return withDb(url, async (db) =>
    (await db.query<{ slot_name: string }>("SELECT slot_name FROM pg_replication_slots ORDER BY 1")).rows.map((r) => r.slot_name),
  );
}

describe("sync: bad input and unreachable databases", () => {
  beforeAll(async () => {
    [replica, logical] = await Promise.all([
      startPostgres({ label: "sync-replica", settings: { wal_level: "replica" } }),
      startPostgres({ label: "sync-logical" }),
    ]);
    for (const url of [replica.url(), logical.url()]) await withDb(url, (db) => db.query(TABLES));
    await withDb(logical.url(), async (db) => {
      await db.query("CREATE DATABASE src");
      await db.query("CREATE DATABASE dst");
    });
    await withDb(logical.url("src"), (db) => db.query("CREATE TABLE accounts (id int PRIMARY KEY, name text); INSERT INTO accounts VALUES (1, 'a'), (2, 'b')"));
    await withDb(logical.url("dst"), (db) => db.query("CREATE TABLE accounts (id int PRIMARY KEY, name text)"));
  });

  afterAll(async () => {
    if (logical) {
      await dropAllSubscriptions(logical.url("dst"));
    }
    await Promise.all([replica?.stop(), logical?.stop()]);
  });

  it("a source without logical replication: exit 2, names rds.logical_replication=1", async () => {
    const run = await runCli(["start", "--blue", replica!.url(), "--green", logical!.url(), "--tables", "accounts"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("wal_level=replica");
    expect(run.stderr).toContain("rds.logical_replication=1");
    expectNoSecrets(run.stdout + run.stderr);
    await expect(startSync({ sourceUrl: replica!.url(), targetUrl: logical!.url(), tables: ["accounts"] })).rejects.toBeInstanceOf(SyncPreflightError);
  });

  it("a table without primary key or replica identity is named, with the fix", async () => {
    const run = await runCli(["start", "--blue", logical!.url(), "--green", replica!.url(), "--dry-run"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("public.no_key");
    expect(run.stderr).toContain('ALTER TABLE "public"."no_key" REPLICA IDENTITY FULL');
    expect(run.stderr).not.toContain("public.accounts has");
    expectNoSecrets(run.stdout + run.stderr);
  });

  it("a wrong password: exit 3, and the password is not printed", async () => {
    const url = logical!.url().replace(encodeURIComponent(logical!.password), "not-the-password");
    const run = await runCli(["status", "--blue", url, "--green", logical!.url()]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/password authentication failed/);
    expect(run.stderr).toContain("postgres@127.0.0.1");
    expectNoSecrets(run.stdout + run.stderr);
  });

  it("an unreachable server: exit 3", async () => {
    const port = await freePort();
    const run = await runCli(["start", "--blue", `postgres://postgres:not-the-password@127.0.0.1:${port}/app`, "--green", logical!.url()]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/ECONNREFUSED|connect/);
    expectNoSecrets(run.stdout + run.stderr);
  });

  it("unknown table patterns, tables missing on the target, rows already on the target: exit 2, each named", async () => {
    const unknown = await runCli(["start", "--blue", logical!.url("src"), "--green", logical!.url("dst"), "--tables", "accounts,nosuch*"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"nosuch*"');
    expect(unknown.stderr).toContain("public.accounts");

    const missing = await runCli(["start", "--blue", logical!.url(), "--green", logical!.url("dst"), "--tables", "no_key,accounts", "--dry-run"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/lacks table public\.no_key/);

    await withDb(logical!.url("dst"), (db) => db.query("INSERT INTO accounts VALUES (1, 'a')"));
    try {
      const full = await runCli(["start", "--blue", logical!.url("src"), "--green", logical!.url("dst"), "--dry-run"]);
      expect(full.code).toBe(2);
      expect(full.stderr).toMatch(/already holds rows in public\.accounts.*TRUNCATE/);
      // Without the initial copy it is allowed.
      const noCopy = await runCli(["start", "--blue", logical!.url("src"), "--green", logical!.url("dst"), "--dry-run", "--no-copy-data"]);
      expect(noCopy.code, noCopy.stderr).toBe(0);
      expect(noCopy.stdout).toContain("copy_data = false");
    } finally {
      await withDb(logical!.url("dst"), (db) => db.query("TRUNCATE accounts"));
    }
  });

  it("missing connection flags and bad flags: exit 2 with what to give; --help on every command: exit 0", async () => {
    const none = await runCli(["status", "--blue", logical!.url()]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--green/);
    const bad = await runCli(["start", "--frobnicate"]);
    expect(bad.code).toBe(2);
    for (const command of ["start", "status", "sequences", "stop", "reverse"]) {
      const help = await runCli([command, "--help"]);
      expect(help.code, command).toBe(0);
      expect(help.stdout).toContain(`Usage: npm run sync -- ${command}`);
    }
  });

  it("stop with the source unreachable changes nothing, --force detaches and names the slot left, a later stop drops it", async () => {
    // Two databases of one server: the slot is created separately (CREATE SUBSCRIPTION cannot wait on itself).
    const started = await startSync({ sourceUrl: logical!.url("src"), targetUrl: logical!.url("dst") });
    expect(started.notes.join(" ")).toMatch(/one server/);
    await eventually(
      async () => (await withDb(logical!.url("dst"), (db) => db.query("SELECT count(*)::int AS n FROM accounts"))).rows[0].n === 2,
      "initial copy into dst",
    );
    const port = await freePort();
    const gone = `postgres://postgres:not-the-password@127.0.0.1:${port}/src`;

    const refused = await runCli(["stop", "--blue", gone, "--green", logical!.url("dst")]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/nothing was changed.*--force/);
    expectNoSecrets(refused.stdout + refused.stderr);
    expect(await slots(logical!.url())).toContain("bluegreen_blue_to_green");

    const forced = await runCli(["stop", "--blue", gone, "--green", logical!.url("dst"), "--force"]);
    expect(forced.code).toBe(1);
    expect(forced.stdout).toContain("stopped with slots left");
    expect(forced.stdout).toContain("SELECT pg_drop_replication_slot('bluegreen_blue_to_green')");
    expectNoSecrets(forced.stdout + forced.stderr);

    const after = await stopSync({ sourceUrl: logical!.url("src"), targetUrl: logical!.url("dst") });
    expect(after.droppedSlots).toEqual(["bluegreen_blue_to_green"]);
    expect(after.droppedPublication).toBe(true);
    expect(after.leftoverSlots).toEqual([]);
    expect(await slots(logical!.url())).toEqual([]);
  });

  it("the library throws typed errors: unreachable → UnreachableError", async () => {
    const port = await freePort();
    await expect(stopSync({ sourceUrl: logical!.url("src"), targetUrl: `postgres://postgres:x@127.0.0.1:${port}/dst` })).rejects.toBeInstanceOf(
      UnreachableError,
    );
  });
});
