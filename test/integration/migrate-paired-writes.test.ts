// Paired migrations under live writes, on two real PostgreSQL servers with blue → green
// replication running and a bounded writer on blue: a table an expand migration creates reaches
// green with every row written to it since its creation (written by a trigger, and written by the
// application directly), contract follows the replication it sees rather than the default writer,
// and a file with its own BEGIN/COMMIT is refused before anything runs. Every acknowledged write
// is counted and looked for on green: lost must be 0.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { runMigrations, type MigrateTargets } from "../../scripts/postgres/migrate/index.js";
import { applyOnDatabase } from "../../scripts/postgres/migrate/runner.js";
import { startSync, SYNC_NAMES, waitForCatchUp } from "../../scripts/postgres/sync/index.js";
import { runParity } from "../../scripts/postgres/parity/index.js";
import { dropAllSubscriptions } from "./syncHelpers.js";
import { queryRows as sql, runScript } from "../support/postgres.js";

/** Inserts on blue as fast as one connection allows (bounded in count and time), recording every acknowledged id. */
class BoundedWriter {
  readonly acked = { bookings: [] as number[], notes: [] as number[] };
  private stopped = false;
  private running: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly options: { notes: boolean; maxWrites?: number; maxMs?: number },
  ) {}

  start(): void {
    this.running = this.loop();
  }

  /** Resolves once at least `n` more bookings are acknowledged (bounded by the writer's own limits). */
  async writes(n: number): Promise<void> {
    const target = this.acked.bookings.length + n;
    for (let i = 0; i < 2000 && this.acked.bookings.length < target && !this.stopped; i++) await new Promise((r) => setTimeout(r, 10));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    const started = Date.now();
    const maxWrites = this.options.maxWrites ?? 50_000;
    const maxMs = this.options.maxMs ?? 90_000;
    try {
      for (let i = 0; i < maxWrites && !this.stopped && Date.now() - started < maxMs; i++) {
        const b = await client.query<{ id: string }>("INSERT INTO bookings (guest) VALUES ($1) RETURNING id", [`guest ${i}`]);
        this.acked.bookings.push(Number(b.rows[0]!.id));
        if (this.options.notes) {
          try {
            const n = await client.query<{ id: string }>("INSERT INTO booking_notes (booking_id, note) VALUES ($1, 'n') RETURNING id", [b.rows[0]!.id]);
            this.acked.notes.push(Number(n.rows[0]!.id));
          } catch (error) {
            if ((error as { code?: string }).code !== "42P01") throw error; // the table does not exist yet
          }
        }
      }
    } finally {
      await client.end();
    }
  }
}

let work: string;
/** Green's server log: an apply worker's error is there and nowhere else. */
const greenLog: string[] = [];
let blue: LocalPostgres;
let green: LocalPostgres;
const targets = (writerFrom: "flag" | "default" = "default", writer: "blue" | "green" = "blue"): MigrateTargets => ({
  mode: "paired",
  writer,
  writerFrom,
  blue: { label: "blue", display: "blue", config: { connectionString: blue.url() } },
  green: { label: "green", display: "green", config: { connectionString: green.url() } },
});

async function writeMigrations(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

const ids = async (url: string, table: string) => new Set((await sql<{ id: string }>(url, `SELECT id FROM ${table}`)).map((r) => Number(r.id)));
const missing = (wanted: Iterable<number>, present: Set<number>) => [...wanted].filter((id) => !present.has(id));
const columns = async (url: string, table: string) =>
  (
    await sql<{ c: string }>(
      url,
      `SELECT attname AS c FROM pg_attribute WHERE attrelid = '${table}'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    )
  ).map((r) => r.c);

async function caughtUp(): Promise<void> {
  const wait = await waitForCatchUp({ sourceUrl: blue.url(), targetUrl: green.url(), name: SYNC_NAMES.forward, timeoutMs: 30_000 });
  expect(wait.caughtUp, wait.reason).toBe(true);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "migrate-writes-"));
  [blue, green] = await Promise.all([
    startPostgres({ label: "migrate-writes-blue" }),
    startPostgres({ label: "migrate-writes-green", onLog: (l) => greenLog.push(l) }),
  ]);
  const schema = "CREATE TABLE bookings (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, guest text NOT NULL, legacy text);";
  await Promise.all([sql(blue.url(), schema), sql(green.url(), schema)]);
  await sql(blue.url(), "INSERT INTO bookings (guest) SELECT 'before ' || g FROM generate_series(1, 100) g");
  await startSync({ sourceUrl: blue.url(), targetUrl: green.url() });
  await caughtUp();
}, 180_000);

afterAll(async () => {
  await Promise.all([blue && dropAllSubscriptions(blue.url()), green && dropAllSubscriptions(green.url())]);
  await Promise.all([blue?.stop(), green?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

describe("paired expand under live writes", () => {
  it("a new table written by a trigger and one written by the application reach green with every row: 0 lost", async () => {
    const dir = join(work, "expand");
    await writeMigrations(dir, {
      "expand/001_booking_audit.sql": [
        "CREATE TABLE booking_audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, booking_id bigint NOT NULL, at timestamptz NOT NULL DEFAULT now());",
        "CREATE FUNCTION audit_booking() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO booking_audit (booking_id) VALUES (NEW.id); RETURN NEW; END $$;",
        "CREATE TRIGGER bookings_audit AFTER INSERT ON bookings FOR EACH ROW EXECUTE FUNCTION audit_booking();",
      ].join("\n"),
      "expand/002_booking_notes.sql":
        "CREATE TABLE booking_notes (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, booking_id bigint NOT NULL, note text NOT NULL);\n",
      "expand/003_bookings_note.sql": "ALTER TABLE bookings ADD COLUMN note text;\n",
    });
    const writer = new BoundedWriter(blue.url(), { notes: true });
    writer.start();
    let report;
    try {
      await writer.writes(200);
      report = await runMigrations(targets(), { dir, phase: "expand", squawk: false, catchUpTimeoutMs: 30_000 });
      await writer.writes(300); // rows keep flowing into the new tables after the run
    } finally {
      await writer.stop();
    }
    expect(report.ok, `${report.summary}\n${JSON.stringify(report.replicationChecks)}`).toBe(true);
    expect(report.order).toEqual(["green", "blue"]);
    expect(report.steps.map((s) => `${s.database}:${s.migration}`)).toEqual([
      "green:001_booking_audit",
      "blue:001_booking_audit",
      "green:002_booking_notes",
      "blue:002_booking_notes",
      "green:003_bookings_note",
      "blue:003_bookings_note",
    ]);
    // migrate up itself counted the new tables on both sides before it said OK.
    expect(report.rowChecks.map((r) => [r.table, r.ok])).toEqual([
      ['"public"."booking_audit"', true],
      ['"public"."booking_notes"', true],
    ]);
    expect(report.rowChecks.every((r) => r.sourceRows > 0)).toBe(true);
    expect(report.replication.filter((r) => r.sql.includes("copy_data = true")).map((r) => r.on)).toEqual(["green", "green"]);

    await caughtUp();
    const [greenBookings, blueAudit, greenAudit, greenNotes] = await Promise.all([
      ids(green.url(), "bookings"),
      ids(blue.url(), "booking_audit"),
      ids(green.url(), "booking_audit"),
      ids(green.url(), "booking_notes"),
    ]);
    const lost = {
      bookings: missing(writer.acked.bookings, greenBookings).length,
      auditRows: missing(blueAudit, greenAudit).length,
      notes: missing(writer.acked.notes, greenNotes).length,
    };
    console.log(
      `paired expand under writes: acknowledged ${writer.acked.bookings.length} bookings, ${blueAudit.size} trigger-written audit rows, ${writer.acked.notes.length} notes; lost ${JSON.stringify(lost)}`,
    );
    expect(lost).toEqual({ bookings: 0, auditRows: 0, notes: 0 });
    expect(blueAudit.size).toBeGreaterThan(0);
    expect(writer.acked.notes.length).toBeGreaterThan(0);
    expect(greenAudit.size).toBe(blueAudit.size);
    const parity = await runParity({ blueUrl: blue.url(), greenUrl: green.url() });
    expect(
      parity.tables.filter((t) => t.status !== "identical").map((t) => t.table),
      parity.summary,
    ).toEqual([]);
  }, 180_000);

  it("a named writer that contradicts the replication running is refused when the run creates a table; nothing applied", async () => {
    const dir = join(work, "contested");
    await writeMigrations(dir, { "expand/001_rooms.sql": "CREATE TABLE rooms (id bigint PRIMARY KEY);\n" });
    const r = await runScript("migrate", ["up", "--blue", blue.url(), "--green", green.url(), "--dir", dir, "--writer", "green", "--no-squawk"], work);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/refused: the writer was named green, but the only replication running is bluegreen_blue_to_green \(blue → green\)/);
    expect(await sql(blue.url(), "SELECT to_regclass('rooms') AS t")).toEqual([{ t: null }]);
    expect(await sql(green.url(), "SELECT to_regclass('rooms') AS t")).toEqual([{ t: null }]);
  }, 60_000);
});

describe("paired contract under live writes", () => {
  it("blue → green running, writes on blue, default writer green: contract goes to blue first, green keeps applying, 0 lost", async () => {
    const dir = join(work, "contract");
    await writeMigrations(dir, { "contract/001_drop_legacy.sql": "ALTER TABLE bookings DROP COLUMN legacy;\n" });
    const writer = new BoundedWriter(blue.url(), { notes: false });
    writer.start();
    let r;
    try {
      await writer.writes(100);
      r = await runScript("migrate", ["contract", "--blue", blue.url(), "--green", green.url(), "--dir", dir, "--confirm-no-rollback", "--no-squawk"], work);
      await writer.writes(200);
    } finally {
      await writer.stop();
    }
    expect(
      r.code,
      `${r.stdout}${r.stderr}\n${greenLog
        .filter((l) => /ERROR|FATAL/.test(l))
        .slice(0, 5)
        .join("\n")}`,
    ).toBe(0);
    expect(r.stdout).toMatch(/following bluegreen_blue_to_green \(blue → green\): blue first/);
    expect(r.stdout.indexOf("blue     contract/001_drop_legacy")).toBeLessThan(r.stdout.indexOf("green    contract/001_drop_legacy"));
    // Green dropped the column only once it had applied every row blue sent with it.
    expect(r.stderr).toMatch(/before green: bluegreen_blue_to_green \(blue → green\): applying/);
    expect(r.stdout).toMatch(/✓ bluegreen_blue_to_green \(blue → green\) applying/);
    // One line per file, no library banners.
    expect(r.stdout + r.stderr).not.toMatch(/### MIGRATION|not wrapped in a transaction/);
    expect(await columns(green.url(), "bookings")).not.toContain("legacy");
    await caughtUp();
    const lost = missing(writer.acked.bookings, await ids(green.url(), "bookings")).length;
    console.log(`paired contract under writes: acknowledged ${writer.acked.bookings.length} bookings during the run, lost ${lost}`);
    expect(lost).toBe(0);
  }, 120_000);
});

describe("a subscription that stops applying", () => {
  it("is found after the file: the run ends FAILED naming it, never OK; repaired, it catches up with 0 lost", async () => {
    // Blue gains a column green lacks: green's apply worker stops on the next booking blue sends.
    await sql(blue.url(), "ALTER TABLE bookings ADD COLUMN drift int; INSERT INTO bookings (guest, drift) VALUES ('drifted', 1)");
    const acked = (await sql<{ id: string }>(blue.url(), "SELECT id FROM bookings")).map((r) => Number(r.id));
    const dir = join(work, "expand"); // the journal holds the first test's files: this one sorts after them
    await writeMigrations(dir, { "expand/004_probe.sql": "ALTER TABLE bookings ADD COLUMN probe text;\n" });
    const report = await runMigrations(targets(), { dir, phase: "expand", squawk: false, catchUpTimeoutMs: 3_000 });
    expect(report.ok).toBe(false);
    expect(report.summary, JSON.stringify(report.failure)).toMatch(
      /applied on both sides, but replication stopped applying: bluegreen_blue_to_green \(blue → green\): NOT applying/,
    );
    expect(report.replicationChecks).toMatchObject([{ subscription: SYNC_NAMES.forward, ok: false }]);
    await sql(green.url(), "ALTER TABLE bookings ADD COLUMN drift int");
    await caughtUp();
    expect(missing(acked, await ids(green.url(), "bookings"))).toEqual([]);
  }, 60_000);
});

describe("transaction control in a migration file", () => {
  it("BEGIN/COMMIT refused by the lint before anything runs, on either side; the runner refuses it too", async () => {
    const dir = join(work, "txn");
    await writeMigrations(dir, {
      "expand/001_ok.sql": "ALTER TABLE bookings ADD COLUMN txn_probe text;\n",
      "expand/002_own_transaction.sql": "BEGIN;\nALTER TABLE bookings ADD COLUMN partial_a int;\nCOMMIT;\nALTER TABLE bookings ADD COLUMN partial_b int;\n",
    });
    const report = await runMigrations(targets(), { dir, phase: "expand", squawk: false });
    expect(report.ok).toBe(false);
    expect(report.summary).toMatch(/refused: 2 lint errors in expand migrations; nothing applied/);
    expect(report.lint.files[1]!.findings.map((f) => [f.rule, f.level, f.line])).toEqual([
      ["transaction-control", "error", 1],
      ["transaction-control", "error", 3],
    ]);
    for (const url of [blue.url(), green.url()]) {
      const cols = await columns(url, "bookings");
      expect(cols.filter((c) => ["txn_probe", "partial_a", "partial_b"].includes(c))).toEqual([]);
    }
    await expect(
      applyOnDatabase({ connectionString: blue.url() }, { folder: join(dir, "expand"), phase: "expand", only: "002_own_transaction" }),
    ).rejects.toThrow(/must not control transactions/);
    expect((await columns(blue.url(), "bookings")).filter((c) => c.startsWith("partial"))).toEqual([]);
  }, 60_000);
});

describe("an allowed DO block", () => {
  it("applies on both sides, its reason recorded in each database's journal; the journal's table is no schema difference", async () => {
    const dir = join(work, "expand");
    await writeMigrations(dir, {
      "expand/005_seed_statuses.sql": [
        "-- bluegreen:allow do-block: seeds the default status row only when missing",
        "CREATE TABLE booking_statuses (code text PRIMARY KEY);",
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM booking_statuses WHERE code = 'new') THEN INSERT INTO booking_statuses VALUES ('new'); END IF; END $$;",
      ].join("\n"),
    });
    const report = await runMigrations(targets(), { dir, phase: "expand", squawk: false, catchUpTimeoutMs: 30_000 });
    expect(report.ok, report.summary).toBe(true);
    expect(report.lint.files.find((f) => f.name === "005_seed_statuses")!.findings).toMatchObject([
      { rule: "do-block", level: "allowed", allowedBecause: "seeds the default status row only when missing" },
    ]);
    for (const url of [blue.url(), green.url()]) {
      expect(await sql(url, "SELECT name, rule, reason FROM bluegreen_migrations.allowed")).toEqual([
        { name: "005_seed_statuses", rule: "do-block", reason: "seeds the default status row only when missing" },
      ]);
    }
    // The migration's own seed row: green's copy emptied, blue's copied in; one row each side.
    await caughtUp();
    expect(await sql(green.url(), "SELECT code FROM booking_statuses")).toEqual([{ code: "new" }]);
    expect(report.schemaDifferences).toEqual([]);
  }, 60_000);
});
