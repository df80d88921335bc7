// Password rotation against real PostgreSQL: replication set up the way `npm run sync --stack` does
// on AWS (connections from the stack outputs and Secrets Manager, subscriptions as each database's
// replication role), then the master passwords rotate (ALTER ROLE + the secret a fake Secrets
// Manager returns), later the replication secrets rotate too; the paired switch and the rollback,
// run by the engine over the AWS wiring's DataReplication (scripts/postgres/stackReplication.ts), both
// succeed and every acknowledged write survives.
//
// The fake Secrets Manager is the SDK client with `send` stubbed (aws-sdk-client-mock): the code
// under test builds its client and calls GetSecretValue exactly as on AWS. A secret it does not
// hold answers ResourceNotFoundException, as Secrets Manager does.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RolloutConfig } from "../../infra/config.js";
import { lazyReplication } from "../../scripts/postgres/stackReplication.js";
import { syncMain } from "../../scripts/cli/syncMain.js";
import { runCutover, runRollback } from "../../scripts/core/engine.js";
import type { FenceMode, ParitySource, WriteFence } from "../../scripts/core/ports.js";
import { startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { FakeClock, FakeWorld, testRollout } from "../support/fakes.js";
import { dropAllSubscriptions, eventually } from "./syncHelpers.js";

const REGION = "eu-west-1";
const arn = (name: string) => `arn:aws:secretsmanager:${REGION}:123456789012:secret:${name}`;
const ARNS = {
  master: { blue: arn("rds!db-blue-AbCdEf"), green: arn("rds!db-green-AbCdEf") },
  replication: { blue: arn("db-blue-replication-Gh1jKl"), green: arn("db-green-replication-Mn2oPq") },
} as const;
type Color = "blue" | "green";
const COLORS: Color[] = ["blue", "green"];

let servers: Record<Color, LocalPostgres> | undefined;
/** Temporary directories the tests made (removed in afterAll). */
const tempDirs: string[] = [];
/** What the fake Secrets Manager holds now (arn → SecretString). */
const secrets = new Map<string, string>();
/** The master password each server has now (rotated by the test). */
const masterPassword: Record<Color, string> = { blue: "", green: "" };
const secretsManager = mockClient(SecretsManagerClient);

const url = (color: Color, database = "app") =>
  `postgres://postgres:${encodeURIComponent(masterPassword[color])}@127.0.0.1:${servers![color].port}/${database}`;

async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(color: Color, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url(color) });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

function putMaster(color: Color): void {
  // What RDS keeps in its managed secret: username and password only.
  secrets.set(ARNS.master[color], JSON.stringify({ username: "postgres", password: masterPassword[color] }));
}

function putReplication(color: Color, password: string): void {
  secrets.set(
    ARNS.replication[color],
    JSON.stringify({ engine: "postgres", username: "bluegreen_replication", password, host: "127.0.0.1", port: servers![color].port, dbname: "app" }),
  );
}

const replicationPassword = (color: Color) => (JSON.parse(secrets.get(ARNS.replication[color])!) as { password: string }).password;

/** RDS rotating the master secret: the role's password changes, then the secret. */
async function rotateMaster(color: Color, next: string): Promise<void> {
  await sql(color, `ALTER ROLE postgres PASSWORD '${next}'`);
  masterPassword[color] = next;
  putMaster(color);
}

/** Drop every walsender on `color`: its subscribers must log in again (with whatever they store). */
async function dropReplicationConnections(color: Color): Promise<number> {
  const rows = await sql<{ n: string }>(color, "SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_replication");
  return Number(rows[0]!.n);
}

function stackOutputs() {
  return {
    databaseMode: "paired",
    databaseName: "app",
    databaseEndpoints: { blue: `127.0.0.1:${servers!.blue.port}`, green: `127.0.0.1:${servers!.green.port}` },
    databaseSecretArns: ARNS.master,
    replicationSecretArns: ARNS.replication,
  };
}

/** A fresh wiring per command run, as each `npm run cutover` / `rollback` process reads the secrets anew. */
function replicationPort() {
  return lazyReplication({ rawOutputs: stackOutputs(), source: "test outputs", sslmode: "disable", replicationSslmode: "disable" });
}

/**
 * The application: inserts one order at a time into the color that takes traffic, and counts
 * only what committed (the acknowledged writes). While the fence is up its writes are refused
 * (the ALB answers 503) and not counted; raising the fence waits for the write in flight (the
 * fence's drain), as AlbFence does with rollout.fenceDrainSeconds.
 */
class Writer {
  readonly acknowledged: { color: Color; id: string }[] = [];
  refused = 0;
  private inFlight: Promise<void> = Promise.resolve();
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  constructor(
    private readonly live: () => Color,
    private readonly fenceMode: () => FenceMode,
  ) {}
  start(): void {
    this.stopped = false;
    this.loop = (async () => {
      for (let i = 0; i < 100_000 && !this.stopped; i++) {
        if (this.fenceMode() !== "off") this.refused++;
        else {
          this.inFlight = this.writeOne();
          await this.inFlight;
        }
        await new Promise((done) => setTimeout(done, 2));
      }
    })();
  }
  async writeOne(color: Color = this.live()): Promise<void> {
    const rows = await sql<{ id: string }>(color, "INSERT INTO orders (note) VALUES ($1) RETURNING id::text", [`${color} write`]);
    this.acknowledged.push({ color, id: rows[0]!.id });
  }
  drain(): Promise<void> {
    return this.inFlight;
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

class DrainingFence implements WriteFence {
  mode: FenceMode = "off";
  readonly history: FenceMode[] = [];
  constructor(private readonly writer: () => Writer | null) {}
  async set(mode: FenceMode): Promise<void> {
    this.mode = mode;
    this.history.push(mode);
    if (mode !== "off") await this.writer()?.drain();
  }
  async read(): Promise<FenceMode> {
    return this.mode;
  }
}

const rollout = (): RolloutConfig => testRollout({ strategy: { type: "all-at-once" }, bakeSeconds: 0, monitorSeconds: 60, pollIntervalSeconds: 60 });

async function ids(color: Color): Promise<Set<string>> {
  return new Set((await sql<{ id: string }>(color, "SELECT id::text FROM orders")).map((r) => r.id));
}

describe("replication survives password rotation; paired switch and rollback lose no write", () => {
  beforeAll(async () => {
    const [blue, green] = await Promise.all([startPostgres({ label: "rotation-blue" }), startPostgres({ label: "rotation-green" })]);
    servers = { blue, green };
    for (const color of COLORS) {
      masterPassword[color] = servers[color].password;
      const admin = new pg.Client({ connectionString: url(color, "postgres") });
      await admin.connect();
      try {
        await admin.query("CREATE DATABASE app");
      } finally {
        await admin.end();
      }
      await sql(color, "CREATE TABLE orders (id bigserial PRIMARY KEY, note text NOT NULL, at timestamptz NOT NULL DEFAULT now())");
      putMaster(color);
      putReplication(color, `repl${color}A1b2C3d4E5f6G7h8J9k0`);
    }
    await sql("blue", "INSERT INTO orders (note) SELECT 'seed ' || g FROM generate_series(1, 200) g");
    secretsManager.on(GetSecretValueCommand).callsFake((input: { SecretId?: string }) => {
      const value = input.SecretId === undefined ? undefined : secrets.get(input.SecretId);
      if (value === undefined) throw Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: "ResourceNotFoundException" });
      return { ARN: input.SecretId, SecretString: value };
    });
  }, 120_000);

  afterAll(async () => {
    secretsManager.restore();
    await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
    if (!servers) return;
    for (const color of COLORS) for (const database of ["app", "cli"]) await dropAllSubscriptions(url(color, database)).catch(() => undefined);
    await Promise.all(COLORS.map((color) => servers![color].stop()));
  }, 60_000);

  it("`npm run sync -- start --outputs FILE` creates the role from its secret and subscribes as it; stop cleans up", async () => {
    // A database of its own (cli) on the same servers, so the story below starts from nothing.
    for (const color of COLORS) {
      const admin = new pg.Client({ connectionString: url(color, "postgres") });
      await admin.connect();
      try {
        await admin.query("CREATE DATABASE cli");
      } finally {
        await admin.end();
      }
      const db = new pg.Client({ connectionString: url(color, "cli") });
      await db.connect();
      try {
        await db.query("CREATE TABLE items (id bigserial PRIMARY KEY, label text NOT NULL)");
        if (color === "blue") await db.query("INSERT INTO items (label) SELECT 'item ' || g FROM generate_series(1, 25) g");
      } finally {
        await db.end();
      }
    }
    const outputsDir = await mkdtemp(join(tmpdir(), "rotation-outputs-"));
    tempDirs.push(outputsDir);
    const outputsFile = join(outputsDir, "outputs.json");
    const cliReplication = { blue: arn("db-blue-cli-replication"), green: arn("db-green-cli-replication") };
    for (const color of COLORS) {
      secrets.set(
        cliReplication[color],
        JSON.stringify({
          username: "bluegreen_replication",
          password: `cli${color}Q9w8E7r6T5y4U3i2`,
          host: "127.0.0.1",
          port: servers![color].port,
          dbname: "cli",
        }),
      );
    }
    await writeFile(outputsFile, JSON.stringify({ ...stackOutputs(), databaseName: "cli", replicationSecretArns: cliReplication }));
    const cli = (args: string[]) => syncMain([...args, "--outputs", outputsFile, "--sslmode", "disable", "--json"]);
    const output: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => output.push(String(chunk)) > 0) as typeof process.stdout.write;
    let started: number;
    try {
      started = await cli(["start", "--timeout", "60"]);
    } finally {
      process.stdout.write = write;
    }
    expect(started, output.join("")).toBe(0);
    const result = JSON.parse(output.join("")) as { notes: string[]; initialCopyDone: boolean; statements: Array<{ sql: string }> };
    expect(result.initialCopyDone).toBe(true);
    expect(result.notes[0]).toMatch(/^role bluegreen_replication (created|updated) on the blue database \(REPLICATION\); the subscription connects as it$/);
    // What the CLI prints never holds a password: the master's, nor the role's.
    expect(output.join("")).not.toContain(masterPassword.blue);
    expect(output.join("")).not.toContain("cliblueQ9w8E7r6T5y4U3i2");
    const client = new pg.Client({ connectionString: url("green", "cli") });
    await client.connect();
    try {
      const { rows } = await client.query<{ subconninfo: string }>("SELECT subconninfo FROM pg_subscription WHERE subname = 'bluegreen_blue_to_green'");
      expect(rows[0]!.subconninfo).toContain("user='bluegreen_replication' password='cliblueQ9w8E7r6T5y4U3i2'");
      expect((await client.query("SELECT count(*)::int AS n FROM items")).rows[0].n).toBe(25);
    } finally {
      await client.end();
    }
    process.stdout.write = ((chunk: string) => output.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      expect(await cli(["stop"])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
  }, 120_000);

  it("runs the whole story", async () => {
    // 1. sync start, as `npm run sync -- start --stack`: the role is created from its secret and
    //    the subscription connects as it, not as the master user.
    const setup = replicationPort();
    await setup.start("blue-to-green", { copyData: true });
    await eventually(async () => (await ids("green")).size === 200, "the initial copy reaches green");
    await setup.close();
    const [stored] = await sql<{ subconninfo: string }>("green", "SELECT subconninfo FROM pg_subscription WHERE subname = 'bluegreen_blue_to_green'");
    expect(stored!.subconninfo).toContain("user='bluegreen_replication'");
    expect(stored!.subconninfo).not.toContain(masterPassword.blue);
    const [role] = await sql<{ rolreplication: boolean; rolcanlogin: boolean; rolpassword: string }>(
      "blue",
      "SELECT rolreplication, rolcanlogin, rolpassword FROM pg_authid WHERE rolname = 'bluegreen_replication'",
    );
    expect(role).toMatchObject({ rolreplication: true, rolcanlogin: true });
    expect(role!.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);

    // 2. RDS rotates both master secrets; every replication connection has to log in again.
    for (const color of COLORS) await rotateMaster(color, `rotated-${color}-1-${Date.now()}`);
    expect(await dropReplicationConnections("blue")).toBeGreaterThan(0);
    await sql("blue", "INSERT INTO orders (note) SELECT 'after master rotation ' || g FROM generate_series(1, 20) g");
    await eventually(async () => (await ids("green")).size === 220, "replication reconnects as its own role after the master rotation");

    // 3. The paired switch, with the application writing until the fence goes up and on green after.
    const world = new FakeWorld({ clock: new FakeClock(Date.now()) });
    let writer: Writer | null = null;
    const fence = new DrainingFence(() => writer);
    writer = new Writer(
      () => (world.router.current().green === 100 ? "green" : "blue"),
      () => fence.mode,
    );
    const switchPort = replicationPort();
    // `npm run parity` before the cutover, while nothing writes: its stored result feeds the preflight.
    const latestParity = await switchPort.parity();
    expect(latestParity.identical).toBe(true);
    const parity: ParitySource = { latest: async () => latestParity };
    writer.start();
    await eventually(async () => writer!.acknowledged.length >= 10, "the application writes on blue before the switch", 10_000, 10);
    const cutover = await runCutover(world.deps({ replication: switchPort, parity, fence }), {
      rollout: rollout(),
      databaseMode: "paired",
      owner: "ana@ops pid 1",
    });
    await writer.stop();
    await switchPort.close();
    expect(cutover.outcome, JSON.stringify(world.events.slice(-6))).toBe("succeeded");
    expect(world.router.current()).toEqual({ blue: 0, green: 100 });
    expect(fence.history).toEqual(["writes", "off"]);
    // The reverse subscription (on blue) was created by the switch, as green's replication role.
    const [created] = await sql<{ subconninfo: string }>("blue", "SELECT subconninfo FROM pg_subscription WHERE subname = 'bluegreen_green_to_blue'");
    expect(created!.subconninfo).toContain("user='bluegreen_replication'");
    expect(created!.subconninfo).toContain(replicationPassword("green"));
    for (let i = 0; i < 30; i++) await writer.writeOne("green");

    // 4. While green is live: another master rotation, and the replication secrets rotate too (a
    //    replaced RandomPassword). The role on green still has the old password, so the reverse
    //    subscriber cannot log in again until the refresh at the start of the rollback's catch-up.
    for (const color of COLORS) await rotateMaster(color, `rotated-${color}-2-${Date.now()}`);
    putReplication("blue", "replblueRotatedZ9y8X7w6V5u4T3s2");
    putReplication("green", "replgreenRotatedQ1w2E3r4T5y6U7i8");
    expect(await dropReplicationConnections("green")).toBeGreaterThan(0);
    await writer.writeOne("green");

    // 5. The lossless rollback, the application writing on green until the fence and on blue after.
    const rollbackPort = replicationPort();
    const blueBefore = writer.acknowledged.filter((w) => w.color === "blue").length;
    writer.start();
    await eventually(
      async () => writer!.acknowledged.filter((w) => w.color === "green").length >= 40,
      "the application writes on green before the rollback",
      10_000,
      10,
    );
    const rollback = await runRollback(world.deps({ replication: rollbackPort, parity, fence }), {
      owner: "ana@ops pid 2",
      databaseMode: "paired",
    });
    await eventually(
      async () => writer!.acknowledged.filter((w) => w.color === "blue").length > blueBefore,
      "the application writes on blue after the rollback",
      10_000,
      10,
    );
    await writer.stop();
    await rollbackPort.close();
    expect(rollback.outcome).toBe("rolled-back");
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    const [reverse] = await sql<{ subconninfo: string }>("blue", "SELECT subconninfo FROM pg_subscription WHERE subname = 'bluegreen_green_to_blue'");
    expect(reverse!.subconninfo).toContain("user='bluegreen_replication'");
    expect(reverse!.subconninfo).toContain(replicationPassword("green"));

    // 6. Zero lost writes: every acknowledged write, wherever it was taken, is on blue.
    const onBlue = await ids("blue");
    const lost = writer.acknowledged.filter((w) => !onBlue.has(w.id));
    expect(writer.acknowledged.filter((w) => w.color === "green").length).toBeGreaterThanOrEqual(40);
    expect(writer.acknowledged.filter((w) => w.color === "blue").length).toBeGreaterThanOrEqual(10);
    expect(lost).toEqual([]);
  }, 180_000);
});
