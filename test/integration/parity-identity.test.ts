// Data parity must never call two different databases identical: wide tables, values whose type's
// own equality is coarser than their identity, names that collide when joined with a dot, a
// database whose search_path differs, row-level security, large objects and differences a reader
// cannot see. Two real servers; each case has an identical variant (a "_same" schema: identical,
// exit 0) and a planted one (a "_diff" schema: different, naming the key).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { CannotCompareError, runParity, type ParityReport, type TableResult } from "../../scripts/postgres/parity/index.js";
import { createDatabases, execSql, runScript, type ScriptRun } from "../support/postgres.js";

let blue: LocalPostgres;
let green: LocalPostgres;
let cwd: string;

const both = (sql: string, db = "postgres") => Promise.all([execSql(blue.url(db), sql), execSql(green.url(db), sql)]);
const run = (include: string[], db = "postgres") => runParity({ blueUrl: blue.url(db), greenUrl: green.url(db), include });
const cli = (args: string[]): Promise<ScriptRun> => runScript("parity", ["--no-save", ...args], cwd);

function table(report: ParityReport, name: string): TableResult {
  const t = report.tables.find((x) => x.table === name);
  if (!t) throw new Error(`no result for ${name}: ${report.tables.map((x) => x.table).join(", ")}`);
  return t;
}
const changedCols = (t: TableResult) => Object.fromEntries(t.changed.rows.map((r) => [Object.values(r.key).join("|"), r.columns.map((c) => c.column)]));

/** The same DDL and rows in `<name>_same` and `<name>_diff`. */
const twin = (name: string, sql: (schema: string) => string) => [`${name}_same`, `${name}_diff`].map((s) => `CREATE SCHEMA ${s}; ${sql(s)}`).join("\n");

/** SQL that builds a table of `id` plus `n` columns named `<prefix>1..n` of `type`, and three rows. */
function wide(schema: string, n: number, prefix: string, type: string, value: string): string {
  return `DO $$ BEGIN
    EXECUTE 'CREATE TABLE ${schema}.t (id int PRIMARY KEY, ' || (SELECT string_agg(format('${prefix}%s ${type}', g), ', ') FROM generate_series(1, ${n}) g) || ')';
    EXECUTE 'INSERT INTO ${schema}.t SELECT r, ' || (SELECT string_agg(format('${value}', g), ', ') FROM generate_series(1, ${n}) g) || ' FROM generate_series(1, 3) r';
  END $$;`;
}

const SETUP = [
  twin("w", (s) => wide(s, 1599, "c", "int", "r + %s")),
  twin("n", (s) => wide(s, 900, "n", "numeric", "1.5")),
  twin(
    "iv",
    (s) => `CREATE TABLE ${s}.t (id int PRIMARY KEY, d interval, ds interval[]);
    INSERT INTO ${s}.t VALUES (1, '1 mon', NULL), (2, '1 day', NULL), (3, NULL, '{1 mon}');`,
  ),
  twin(
    "ar",
    (s) => `CREATE TABLE ${s}.t (id int PRIMARY KEY, a int[], b text[]);
    INSERT INTO ${s}.t VALUES (1, '{{11,12},{13,14}}', '{a,b}'), (2, '{1,2}', '[0:1]={a,b}');`,
  ),
  ...["sdot", "ddot"].map(
    (s) => `CREATE SCHEMA ${s}; CREATE SCHEMA "${s}.x";
    CREATE TABLE ${s}."x.t" (id int PRIMARY KEY, v text); CREATE TABLE "${s}.x".t (id int PRIMARY KEY, v text);
    INSERT INTO ${s}."x.t" SELECT g, 'v' || g FROM generate_series(1, 10) g; INSERT INTO "${s}.x".t SELECT g, 'v' || g FROM generate_series(1, 10) g;`,
  ),
  twin(
    "sp",
    (s) => `CREATE TYPE ${s}.mood AS ENUM ('happy', 'sad');
    CREATE TABLE ${s}.t (id int PRIMARY KEY, m ${s}.mood, r regclass);
    INSERT INTO ${s}.t VALUES (1, 'happy', '${s}.t'), (2, 'happy', '${s}.t');`,
  ),
  twin(
    "ci",
    (s) => `CREATE COLLATION ${s}.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
    CREATE TABLE ${s}.t (id int PRIMARY KEY, c public.citext, n text COLLATE ${s}.ci);
    INSERT INTO ${s}.t VALUES (1, 'Abc', 'Abc'), (2, 'Abc', 'Abc');`,
  ),
  twin(
    "inv",
    (s) => `CREATE TABLE ${s}.t (id int PRIMARY KEY, v text);
    INSERT INTO ${s}.t VALUES (1, U&'caf\\00e9'), (2, 'ab'), (3, 'a b');`,
  ),
  twin(
    "rls",
    (s) => `CREATE TABLE ${s}.t (id int PRIMARY KEY, v text);
    INSERT INTO ${s}.t SELECT g, 'v' || g FROM generate_series(1, 5) g;
    ALTER SCHEMA ${s} OWNER TO rls_owner; ALTER TABLE ${s}.t OWNER TO rls_owner;
    ALTER TABLE ${s}.t ENABLE ROW LEVEL SECURITY; ALTER TABLE ${s}.t FORCE ROW LEVEL SECURITY;
    CREATE POLICY low_ids ON ${s}.t USING (id < 3);`,
  ),
].join("\n");

const PLANTED = `
  UPDATE w_diff.t SET c1500 = -1 WHERE id = 2;
  UPDATE n_diff.t SET n800 = 1.50 WHERE id = 1;
  UPDATE iv_diff.t SET d = '30 days' WHERE id = 1;
  UPDATE iv_diff.t SET d = '24 hours' WHERE id = 2;
  UPDATE iv_diff.t SET ds = '{30 days}' WHERE id = 3;
  UPDATE ar_diff.t SET a = '{11,12,13,14}' WHERE id = 1;
  UPDATE ar_diff.t SET b = '{a,b}' WHERE id = 2;
  UPDATE "ddot.x".t SET v = 'changed' WHERE id = 5;
  UPDATE sp_diff.t SET m = 'sad' WHERE id = 2;
  UPDATE ci_diff.t SET c = 'abc' WHERE id = 1;
  UPDATE ci_diff.t SET n = 'abc' WHERE id = 2;
  UPDATE inv_diff.t SET v = U&'cafe\\0301' WHERE id = 1;
  UPDATE inv_diff.t SET v = U&'a\\200bb' WHERE id = 2;
  UPDATE inv_diff.t SET v = U&'a\\00a0b' WHERE id = 3;
  UPDATE rls_diff.t SET v = 'changed' WHERE id = 4;`;

const RLS_PASSWORD = "pw-rls-owner-only-on-loopback";
const asRlsOwner = (server: LocalPostgres) => {
  const url = new URL(server.url());
  url.username = "rls_owner";
  url.password = RLS_PASSWORD;
  return url.toString();
};

beforeAll(async () => {
  [blue, green] = await Promise.all([startPostgres({ label: "parity-id-blue" }), startPostgres({ label: "parity-id-green" })]);
  cwd = await mkdtemp(join(tmpdir(), "parity-identity-"));
  // Shift green's OIDs so enum values and types get different OIDs on the two servers.
  await execSql(green.url(), "CREATE TYPE public.oid_shift AS ENUM ('x'); CREATE TABLE public.oid_shift_t (a int)");
  await both(`CREATE ROLE rls_owner LOGIN PASSWORD '${RLS_PASSWORD}'; CREATE EXTENSION citext;`);
  await both(SETUP);
  await execSql(green.url(), PLANTED);
  // Blue's database resolves names through a search_path of its own: parity must not depend on it.
  await execSql(blue.url(), "ALTER DATABASE postgres SET search_path = sp_same, sp_diff, public");
  for (const db of ["lo_same", "lo_diff"]) await Promise.all([createDatabases(blue, db), createDatabases(green, db)]);
  await both("SELECT lo_from_bytea(424242, 'hello'), lo_from_bytea(424243, 'world')", "lo_same");
  await execSql(blue.url("lo_diff"), "SELECT lo_from_bytea(424242, 'hello'), lo_from_bytea(424243, 'world')");
  await execSql(green.url("lo_diff"), "SELECT lo_from_bytea(424242, 'hellO'), lo_from_bytea(424244, 'extra')");
}, 240_000);

afterAll(async () => {
  await Promise.all([blue?.stop(), green?.stop()]);
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

async function expectIdentical(include: string[], tables: number): Promise<ParityReport> {
  const report = await run(include);
  expect(report.schemaDifferences).toEqual([]);
  expect(report.tables.map((t) => [t.table, t.status])).toEqual(report.tables.map((t) => [t.table, "identical"]));
  expect(report.tables).toHaveLength(tables);
  expect(report.identical).toBe(true);
  return report;
}

describe("tables as wide as PostgreSQL allows", () => {
  it("1,600 columns: identical, then the one changed column named", async () => {
    await expectIdentical(["w_same.*"], 1);
    const report = await run(["w_diff.*"]);
    expect(report.identical).toBe(false);
    expect(changedCols(table(report, "w_diff.t"))).toEqual({ "2": ["c1500"] });
    expect(table(report, "w_diff.t").changed.rows[0]!.columns[0]).toEqual({ column: "c1500", blue: "1502", green: "-1" });
  });

  it("900 unconstrained numeric columns (value and scale: 1,800 hashed parts)", async () => {
    await expectIdentical(["n_same.*"], 1);
    const report = await run(["n_diff.*"]);
    expect(changedCols(table(report, "n_diff.t"))).toEqual({ "1": ["n800"] });
  });
});

describe("each type by its identity", () => {
  it("interval by (months, days, microseconds): '1 mon' ≠ '30 days', '1 day' ≠ '24 hours', also inside arrays", async () => {
    const same = await expectIdentical(["iv_same.*"], 1);
    expect(same.equalityRules?.map((r) => r.rule)).toContain("interval-fields");
    const t = table(await run(["iv_diff.*"]), "iv_diff.t");
    expect(changedCols(t)).toEqual({ "1": ["d"], "2": ["d"], "3": ["ds"] });
    expect(t.changed.rows[0]!.columns[0]).toMatchObject({ blue: "1 mon", green: "30 days" });
  });

  it("arrays with their dimensions and lower bounds", async () => {
    await expectIdentical(["ar_same.*"], 1);
    const t = table(await run(["ar_diff.*"]), "ar_diff.t");
    expect(changedCols(t)).toEqual({ "1": ["a"], "2": ["b"] });
    expect(t.changed.rows[1]!.columns[0]).toMatchObject({ blue: "[0:1]={a,b}", green: "{a,b}" });
  });

  it("citext and a nondeterministic collation: byte for byte, and the report says so", async () => {
    const same = await expectIdentical(["ci_same.*"], 1);
    expect(same.equalityRules?.map((r) => r.rule)).toEqual(expect.arrayContaining(["citext-bytes", "collation-bytes"]));
    const report = await run(["ci_diff.*"]);
    const t = table(report, "ci_diff.t");
    expect(changedCols(t)).toEqual({ "1": ["c"], "2": ["n"] });
    expect(t.equalityRules).toEqual(
      expect.arrayContaining([
        { rule: "citext-bytes", columns: ["c"] },
        { rule: "collation-bytes", columns: ["n"] },
      ]),
    );
  });
});

describe("names and the reading session", () => {
  it('a."b.c" and "a.b".c are two tables', async () => {
    const same = await expectIdentical(["*sdot*"], 2);
    expect(same.tables.map((t) => [t.table, t.schema, t.name])).toEqual([
      ['"sdot.x".t', "sdot.x", "t"],
      ['sdot."x.t"', "sdot", "x.t"],
    ]);
    const report = await run(["*ddot*"]);
    expect(report.tables.map((t) => [t.table, t.status])).toEqual([
      ['"ddot.x".t', "different"],
      ['ddot."x.t"', "identical"],
    ]);
    expect(changedCols(table(report, '"ddot.x".t'))).toEqual({ "5": ["v"] });
  });

  it("a database's own search_path changes nothing: no false type or regclass difference, the real one found", async () => {
    await expectIdentical(["sp_same.*"], 1);
    const report = await run(["sp_diff.*"]);
    expect(report.schemaDifferences).toEqual([]);
    const t = table(report, "sp_diff.t");
    expect(t.notes.join(" ")).not.toMatch(/not compared/);
    expect(changedCols(t)).toEqual({ "2": ["m"] });
  });

  it("row-level security cannot hide rows: as a role the policies filter, the table is an error naming it", async () => {
    // A superuser reads every row: the identical variant is identical, the planted row (hidden by the policy) is found.
    await expectIdentical(["rls_same.*"], 1);
    expect(changedCols(table(await run(["rls_diff.*"]), "rls_diff.t"))).toEqual({ "4": ["v"] });
    // As the owner under FORCE ROW LEVEL SECURITY: never a smaller answer.
    const owner = runParity({ blueUrl: asRlsOwner(blue), greenUrl: asRlsOwner(green), include: ["rls_diff.*"] });
    await expect(owner).rejects.toBeInstanceOf(CannotCompareError);
    await expect(owner).rejects.toThrow(/rls_diff\.t.*row-level security/);
  });
});

describe("large objects", () => {
  it("compared per OID: identical, then changed, missing and extra named", async () => {
    const same = await run([], "lo_same");
    expect(same.identical).toBe(true);
    expect(same.largeObjects).toEqual({ blue: 2, green: 2, compared: true });
    const diff = await run([], "lo_diff");
    expect(diff.identical).toBe(false);
    expect(diff.schemaDifferences.map((d) => `${d.kind} ${d.object}`)).toEqual([
      "large-object-content large object 424242",
      "large-object-only-on-blue large object 424243",
      "large-object-only-on-green large object 424244",
    ]);
  });
});

describe("differences a reader cannot see", () => {
  it("NFC vs NFD, a zero-width space, a no-break space: first differing byte and escaped forms", async () => {
    await expectIdentical(["inv_same.*"], 1);
    const t = table(await run(["inv_diff.*"]), "inv_diff.t");
    const inv = Object.fromEntries(t.changed.rows.map((r) => [r.key.id, r.columns[0]!.invisible]));
    expect(inv).toEqual({
      "1": { firstDifferentByte: 3, blueEscaped: "caf\\u00e9", greenEscaped: "cafe\\u0301" },
      "2": { firstDifferentByte: 1, blueEscaped: "ab", greenEscaped: "a\\u200bb" },
      "3": { firstDifferentByte: 1, blueEscaped: "a b", greenEscaped: "a\\u00a0b" },
    });
  });
});

describe("the command line", () => {
  it("exit 0 and the equality rules printed; exit 1 with escaped forms; exit 4 (cannot compare) naming the table", async () => {
    const same = await cli(["--blue", blue.url(), "--green", green.url(), "--include", "ci_same.*"]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain("citext: byte for byte");
    const diff = await cli(["--blue", blue.url(), "--green", green.url(), "--include", "inv_diff.*"]);
    expect(diff.code, diff.stderr).toBe(1);
    expect(diff.stdout).toContain('the values print the same; they differ from byte 1: blue "ab" → green "a\\u200bb"');
    const rls = await cli(["--blue", asRlsOwner(blue), "--green", asRlsOwner(green), "--include", "rls_same.*"]);
    expect(rls.code, rls.stderr).toBe(4);
    expect(rls.stderr).toMatch(/cannot compare: .*rls_same\.t/);
    expect(rls.stderr).not.toContain(RLS_PASSWORD);
  }, 90_000);
});
