// `npm run migrate -- contract --stack …`: the gate reads the cutover journal through the stack's
// journal store (SSM, here a local mock AWS endpoint reached through AWS_ENDPOINT_URL), then
// snapshots the database instance (RDS CreateDBSnapshot, waited on), then applies the contract
// migrations to a real PostgreSQL. Refused (exit 1, nothing applied, no snapshot) after a
// rollback or before rollout.contractAfterSeconds.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type pg from "pg";
import { runCutover } from "../../scripts/core/engine.js";
import { parseJournal, type Journal } from "../../scripts/core/journal.js";
import { migrateMain } from "../../scripts/cli/migrateMain.js";
import { startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { prodConfigWithRollout, useCliHarness } from "../support/cliHarness.js";
import { FakeClock, FakeWorld, testRollout } from "../support/fakes.js";
import { queryRows } from "../support/postgres.js";

let server: LocalPostgres;
const cli = useCliHarness({
  dirPrefix: "migrate-contract-",
  async prepare(dir) {
    await writeFile(join(dir, "Pulumi.prod.yaml"), await prodConfigWithRollout(["    migrationsDir: db/migrations", "    contractAfterSeconds: 600"]));
    await mkdir(join(dir, "db/migrations/contract"), { recursive: true });
    await writeFile(join(dir, "db/migrations/contract/001_drop_legacy.sql"), "ALTER TABLE orders DROP COLUMN legacy;\n");
    await sql("DROP TABLE IF EXISTS orders; DROP SCHEMA IF EXISTS bluegreen_migrations CASCADE; CREATE TABLE orders (id int PRIMARY KEY, legacy text)");
  },
});

const sql = <T extends pg.QueryResultRow = pg.QueryResultRow>(text: string): Promise<T[]> => queryRows<T>(server.url(), text);
const run = (argv: string[]) => cli.run(migrateMain, argv);

/** A cutover journal as the engine leaves it, on a clock starting at `startAt`. */
async function journalOf(outcome: "succeeded" | "rolled-back", startAt: number): Promise<Journal> {
  const world = new FakeWorld({ clock: new FakeClock(startAt) });
  if (outcome === "rolled-back") {
    world.metrics.respond(() => ({
      blue: { requests: 1000, errors5xx: 0, p95Ms: 100, p99Ms: 100 },
      green: { requests: 1000, errors5xx: 500, p95Ms: 100, p99Ms: 100 },
    }));
  }
  const result = await runCutover(world.deps(), {
    rollout: testRollout({ strategy: { type: "canary", steps: [50, 100] }, bakeSeconds: 60, monitorSeconds: 60 }),
    databaseMode: "shared",
    owner: "ops pid 1",
    stack: "prod",
  });
  expect(result.outcome).toBe(outcome);
  return parseJournal(world.journal.value);
}

async function storeJournal(journal: Journal): Promise<void> {
  const [{ ssmSdk }, { clientConfig }, { SsmJournalStore }] = await Promise.all([
    import("../../scripts/aws/sdk.js"),
    import("../../scripts/aws/errors.js"),
    import("../../scripts/aws/ssmJournal.js"),
  ]);
  const client = new (ssmSdk().SSMClient)(clientConfig("eu-west-1"));
  try {
    await new SsmJournalStore(client, { project: "bluegreen", stack: "prod" } as never).save(journal);
  } finally {
    client.destroy();
  }
}

const columns = async () =>
  (
    await sql<{ c: string }>("SELECT attname AS c FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum")
  ).map((r) => r.c);

beforeAll(async () => {
  server = await startPostgres({ label: "migrate-contract" });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

const args = () => ["contract", "--stack", "prod", "--outputs", "outputs.json", "--database-url", server.url(), "--no-squawk"];
const snapshotCalls = () => cli.mock.calls.filter((c) => c.action === "CreateDBSnapshot");

describe("migrate contract --stack", () => {
  it("after a cutover that succeeded long enough ago: says it closes the rollback path, snapshots, then applies", async () => {
    await storeJournal(await journalOf("succeeded", Date.now() - 3_600_000));
    const r = await run(args());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/succeeded with green at 100%/);
    expect(r.stderr).toMatch(/closes the rollback path/);
    expect(r.stderr).toMatch(/snapshot .* available before anything changes/);
    expect(snapshotCalls()).toHaveLength(1);
    expect(await columns()).toEqual(["id"]);
    // rollout.migrationsDir from the stack config was used (no --dir given).
    expect(r.stdout).toMatch(/001_drop_legacy/);
  }, 60_000);

  it("before rollout.contractAfterSeconds: refused (exit 1), no snapshot, nothing applied", async () => {
    // The run itself takes virtual time (snapshot, bakes, monitoring): place its end 60 s ago.
    const probe = await journalOf("succeeded", 0);
    await storeJournal(await journalOf("succeeded", Date.now() - 60_000 - (probe.updatedAt - probe.createdAt)));
    const r = await run(args());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/contract refused: the cutover succeeded \d+ s ago; rollout.contractAfterSeconds asks for 600 s/);
    expect(snapshotCalls()).toHaveLength(0);
    expect(await columns()).toEqual(["id", "legacy"]);
  }, 60_000);

  it("after a rollback, or without any journal: refused", async () => {
    await storeJournal(await journalOf("rolled-back", Date.now() - 3_600_000));
    const rolledBack = await run(args());
    expect(rolledBack.code).toBe(1);
    expect(rolledBack.stderr).toMatch(/"rolled-back", not a succeeded cutover/);
    cli.mock.reset();
    const none = await run(args());
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no cutover journal/);
    expect(snapshotCalls()).toHaveLength(0);
    expect(await columns()).toEqual(["id", "legacy"]);
  }, 60_000);

  it("--dry-run needs no gate and changes nothing", async () => {
    const r = await run([...args(), "--dry-run"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/would apply 1 contract migration/);
    expect(await columns()).toEqual(["id", "legacy"]);
  }, 60_000);
});
