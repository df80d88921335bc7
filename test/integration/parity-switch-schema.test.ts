// The schema objects a switch depends on, against real PostgreSQL: domains, composite types,
// persistence, row-level security and policies, trigger state, index validity, replica identity,
// extensions, and privileges (a warning class of their own; --strict-privileges makes them a
// difference). One server holds a "blue" and a "green" database; each case lives in a "_same"
// schema (built alike on both: identical) and a "_diff" schema (one planted difference, named).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { runParity } from "../../scripts/postgres/parity/index.js";
import { createDatabases, execSql, runScript, withDb, type ScriptRun } from "../support/postgres.js";

let server: LocalPostgres;
let cwd: string;
const blueUrl = (db = "blue_db") => server.url(db);
const greenUrl = (db = "green_db") => server.url(db);
const cli = (args: string[]): Promise<ScriptRun> => runScript("parity", ["--no-save", ...args], cwd);

interface Case {
  name: string;
  /** Built on both sides of both variants first. */
  common?: (s: string) => string;
  /** Blue's side (and both sides of the identical variant). */
  blue: (s: string) => string;
  green: (s: string) => string;
  kind: string;
  object: (s: string) => string;
}

const table = (s: string) => `CREATE TABLE ${s}.t (id int PRIMARY KEY, v int); INSERT INTO ${s}.t SELECT g, g FROM generate_series(1, 20) g;`;

const CASES: Case[] = [
  {
    name: "dom_check",
    blue: (s) => `CREATE DOMAIN ${s}.qty AS int CHECK (VALUE > 0)`,
    green: (s) => `CREATE DOMAIN ${s}.qty AS int CHECK (VALUE >= 0)`,
    kind: "domain-definition",
    object: (s) => `${s}.qty`,
  },
  {
    name: "dom_default",
    blue: (s) => `CREATE DOMAIN ${s}.qty AS int DEFAULT 1`,
    green: (s) => `CREATE DOMAIN ${s}.qty AS int DEFAULT 2`,
    kind: "domain-definition",
    object: (s) => `${s}.qty`,
  },
  {
    name: "dom_base",
    blue: (s) => `CREATE DOMAIN ${s}.qty AS int NOT NULL`,
    green: (s) => `CREATE DOMAIN ${s}.qty AS bigint NOT NULL`,
    kind: "domain-definition",
    object: (s) => `${s}.qty`,
  },
  {
    name: "composite",
    blue: (s) => `CREATE TYPE ${s}.addr AS (street text, zip int)`,
    green: (s) => `CREATE TYPE ${s}.addr AS (street text, zip bigint)`,
    kind: "composite-type-definition",
    object: (s) => `${s}.addr`,
  },
  {
    name: "unlogged",
    blue: (s) => `CREATE TABLE ${s}.t (id int PRIMARY KEY, v int)`,
    green: (s) => `CREATE UNLOGGED TABLE ${s}.t (id int PRIMARY KEY, v int)`,
    kind: "table-persistence",
    object: (s) => `${s}.t`,
  },
  {
    name: "rls_on",
    common: table,
    blue: (s) => `ALTER TABLE ${s}.t ENABLE ROW LEVEL SECURITY`,
    green: () => "SELECT 1",
    kind: "row-security",
    object: (s) => `${s}.t`,
  },
  {
    name: "rls_force",
    common: (s) => `${table(s)} ALTER TABLE ${s}.t ENABLE ROW LEVEL SECURITY;`,
    blue: (s) => `ALTER TABLE ${s}.t FORCE ROW LEVEL SECURITY`,
    green: () => "SELECT 1",
    kind: "row-security",
    object: (s) => `${s}.t`,
  },
  {
    name: "policy",
    common: table,
    blue: (s) => `CREATE POLICY mine ON ${s}.t USING (v > 0)`,
    green: () => "SELECT 1",
    kind: "policy-only-on-blue",
    object: (s) => `${s}.t`,
  },
  {
    name: "policy_def",
    common: table,
    blue: (s) => `CREATE POLICY mine ON ${s}.t USING (v > 0)`,
    green: (s) => `CREATE POLICY mine ON ${s}.t USING (v > 1)`,
    kind: "policy-definition",
    object: (s) => `${s}.t`,
  },
  {
    name: "trig_off",
    common: (s) => `${table(s)} CREATE FUNCTION ${s}.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
      CREATE TRIGGER keep BEFORE UPDATE ON ${s}.t FOR EACH ROW EXECUTE FUNCTION ${s}.noop();`,
    blue: () => "SELECT 1",
    green: (s) => `ALTER TABLE ${s}.t DISABLE TRIGGER keep`,
    kind: "trigger-enabled",
    object: (s) => `${s}.t`,
  },
  {
    name: "replident",
    common: table,
    blue: (s) => `ALTER TABLE ${s}.t REPLICA IDENTITY FULL`,
    green: () => "SELECT 1",
    kind: "replica-identity",
    object: (s) => `${s}.t`,
  },
  {
    // The index is built on both sides; on green a CREATE INDEX CONCURRENTLY fails half-way (below).
    name: "invalid_idx",
    common: (s) => `${table(s)} CREATE FUNCTION ${s}.checked(x int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$
      BEGIN IF current_setting('parity_test.fail', true) = 'on' THEN RAISE EXCEPTION 'index build fails'; END IF; RETURN x; END $$;`,
    blue: () => "SELECT 1",
    green: () => "SELECT 1",
    kind: "index-validity",
    object: (s) => `${s}.t`,
  },
];

async function buildIndex(url: string, schema: string, fail: boolean): Promise<void> {
  await withDb(url, async (client) => {
    if (fail) await client.query("SET parity_test.fail = 'on'");
    await client.query(`CREATE INDEX CONCURRENTLY t_checked ON ${schema}.t ((${schema}.checked(v)))`).catch((error: Error) => {
      if (!fail) throw error;
    });
  });
}

beforeAll(async () => {
  server = await startPostgres({ label: "parity-switch-schema" });
  cwd = await mkdtemp(join(tmpdir(), "parity-switch-schema-"));
  await createDatabases(server, "blue_db", "green_db", "ext_same_blue", "ext_same_green", "ext_diff_blue", "ext_diff_green");
  const side = (which: "blue" | "green") =>
    CASES.flatMap((c) =>
      [`${c.name}_same`, `${c.name}_diff`].map((s) => {
        const planted = s.endsWith("_diff") && which === "green" ? c.green(s) : c.blue(s);
        return `CREATE SCHEMA ${s}; ${c.common ? c.common(s) : ""}; ${planted};`;
      }),
    ).join("\n");
  const privileges = `CREATE SCHEMA priv_same; CREATE SCHEMA priv_diff;
    CREATE TABLE priv_same.t (id serial PRIMARY KEY); CREATE TABLE priv_diff.t (id serial PRIMARY KEY);
    GRANT SELECT, INSERT ON priv_same.t TO parity_app; GRANT USAGE ON SEQUENCE priv_same.t_id_seq TO parity_app;`;
  await execSql(server.url(), "CREATE ROLE parity_app");
  await execSql(
    blueUrl(),
    `${side("blue")} ${privileges} GRANT SELECT, INSERT ON priv_diff.t TO parity_app; GRANT USAGE ON SEQUENCE priv_diff.t_id_seq TO parity_app;`,
  );
  await execSql(greenUrl(), `${side("green")} ${privileges} GRANT SELECT ON priv_diff.t TO parity_app;`);
  for (const s of ["invalid_idx_same", "invalid_idx_diff"]) {
    await buildIndex(blueUrl(), s, false);
    await buildIndex(greenUrl(), s, s.endsWith("_diff"));
  }
  await execSql(blueUrl("ext_same_blue"), "CREATE EXTENSION citext");
  await execSql(greenUrl("ext_same_green"), "CREATE EXTENSION citext");
  await execSql(blueUrl("ext_diff_blue"), "CREATE EXTENSION citext VERSION '1.5'; CREATE EXTENSION hstore");
  await execSql(greenUrl("ext_diff_green"), "CREATE EXTENSION citext");
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

describe("schema objects a switch depends on", () => {
  it.each(CASES.map((c) => [c.kind, c.name, c] as const))("%s (%s): identical variant identical, planted one named", async (_kind, name, c) => {
    const same = await runParity({ blueUrl: blueUrl(), greenUrl: greenUrl(), include: [`${name}_same.*`] });
    expect(same.schemaDifferences).toEqual([]);
    expect(same.identical).toBe(true);
    const schema = `${name}_diff`;
    const diff = await runParity({ blueUrl: blueUrl(), greenUrl: greenUrl(), include: [`${schema}.*`] });
    expect(diff.identical).toBe(false);
    expect(diff.schemaDifferences.map((d) => `${d.kind} ${d.object}`)).toEqual([`${c.kind} ${c.object(schema)}`]);
    expect(diff.schemaDifferences[0]!.message).toContain(c.object(schema));
  });

  it("extensions by name and version, over the whole database", async () => {
    const same = await runParity({ blueUrl: blueUrl("ext_same_blue"), greenUrl: greenUrl("ext_same_green") });
    expect(same.identical).toBe(true);
    const diff = await runParity({ blueUrl: blueUrl("ext_diff_blue"), greenUrl: greenUrl("ext_diff_green") });
    expect(diff.schemaDifferences.map((d) => `${d.kind} ${d.object}`).sort()).toEqual(["extension-only-on-blue hstore", "extension-version citext"]);
    expect(diff.schemaDifferences.find((d) => d.kind === "extension-version")!.message).toMatch(/1\.5.*1\.6/);
  });
});

describe("privileges", () => {
  it("a role that lost INSERT (and a sequence's USAGE) is a warning; --strict-privileges makes it a difference", async () => {
    const same = await runParity({ blueUrl: blueUrl(), greenUrl: greenUrl(), include: ["priv_same.*"], strictPrivileges: true });
    expect(same.identical).toBe(true);
    const warned = await runParity({ blueUrl: blueUrl(), greenUrl: greenUrl(), include: ["priv_diff.*"] });
    expect(warned.identical).toBe(true);
    expect(warned.privilegeWarnings!.map((d) => `${d.object} ${d.role}: ${d.message}`)).toEqual([
      "priv_diff.t parity_app: table priv_diff.t: role parity_app has INSERT on blue only",
      "priv_diff.t_id_seq parity_app: sequence priv_diff.t_id_seq: role parity_app has USAGE on blue only",
    ]);
    const strict = await runParity({ blueUrl: blueUrl(), greenUrl: greenUrl(), include: ["priv_diff.*"], strictPrivileges: true });
    expect(strict.identical).toBe(false);
    expect(strict.schemaDifferences.map((d) => `${d.kind} ${d.object} ${d.role}`)).toEqual([
      "privileges priv_diff.t parity_app",
      "privileges priv_diff.t_id_seq parity_app",
    ]);
  });

  it("the command line: exit 0 with the warning printed, exit 1 under --strict-privileges", async () => {
    const args = ["--blue", blueUrl(), "--green", greenUrl(), "--include", "priv_diff.*"];
    const warned = await cli(args);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stdout).toContain("role parity_app has INSERT on blue only");
    const strict = await cli([...args, "--strict-privileges"]);
    expect(strict.code, strict.stderr).toBe(1);
    expect(strict.stdout).toContain("role parity_app has INSERT on blue only");
  }, 60_000);
});
