// The lint on expand migrations of the kinds teams write (test/fixtures/migrations/teams/expand):
// each file says on its first line what the lint must make of it, `-- expect: refused RULE`,
// `-- expect: warned RULE` or `-- expect: accepted`. Refused: at least one error, RULE among
// them. Warned: no error, RULE among the warnings. Accepted: no error, no warning. Our rules
// only (squawk off): this runs without a server and without the squawk binary. A
// `-- live-type: table.column TYPE` line stands for the column type `up` reads from the database.

import { describe, expect, it } from "vitest";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { lintMigrations, type FileLint, type MigrationFile } from "../../scripts/postgres/migrate/index.js";
import { parseFormattedType, type ColumnType } from "../../scripts/postgres/migrate/columnTypes.js";
import { PassThrough } from "node:stream";
import { migrateMain } from "../../scripts/cli/migrateMain.js";

const DIR = resolve(import.meta.dirname, "../fixtures/migrations/teams/expand");

interface Fixture {
  file: MigrationFile;
  verdict: "refused" | "warned" | "accepted";
  rule: string | null;
  live: Map<string, ColumnType>;
}

async function fixtures(): Promise<Fixture[]> {
  const names = (await readdir(DIR)).filter((f) => f.endsWith(".sql")).sort();
  return Promise.all(
    names.map(async (name) => {
      const path = join(DIR, name);
      const sql = await readFile(path, "utf8");
      const m = /^-- expect: (refused|warned|accepted)(?: ([a-z-]+))?$/m.exec(sql);
      if (!m) throw new Error(`${name}: no "-- expect:" line`);
      const live = new Map<string, ColumnType>();
      for (const l of sql.matchAll(/^-- live-type: (\S+) (.+)$/gm)) live.set(l[1]!, parseFormattedType(l[2]!));
      return { file: { name: name.replace(/\.sql$/, ""), phase: "expand" as const, path, sql }, verdict: m[1] as Fixture["verdict"], rule: m[2] ?? null, live };
    }),
  );
}

function verdictOf(lint: FileLint): Fixture["verdict"] {
  if (lint.findings.some((f) => f.level === "error")) return "refused";
  if (lint.findings.some((f) => f.level === "warning")) return "warned";
  return "accepted";
}

const all = await fixtures();

describe("the lint on expand migrations teams write", () => {
  it("holds at least 40 files: 14+ unsafe, 14+ safe, 12+ hazards", () => {
    const count = (v: Fixture["verdict"]) => all.filter((f) => f.verdict === v).length;
    expect(all.length).toBeGreaterThanOrEqual(40);
    expect(count("refused")).toBeGreaterThanOrEqual(14);
    expect(count("accepted")).toBeGreaterThanOrEqual(14);
    expect(count("warned")).toBeGreaterThanOrEqual(12);
  });

  it.each(all.map((f) => [f.file.name, f] as const))("%s", async (_name, fixture) => {
    // Each file on its own: what one file creates must not excuse another.
    const report = await lintMigrations([fixture.file], { squawk: false, columnTypes: fixture.live });
    const lint = report.files[0]!;
    const detail = JSON.stringify(lint.findings.map((f) => [f.level, f.rule, f.line]));
    expect(verdictOf(lint), detail).toBe(fixture.verdict);
    if (fixture.verdict === "refused")
      expect(
        lint.findings.filter((f) => f.level === "error").map((f) => f.rule),
        detail,
      ).toContain(fixture.rule);
    if (fixture.verdict === "warned")
      expect(
        lint.findings.filter((f) => f.level === "warning").map((f) => f.rule),
        detail,
      ).toContain(fixture.rule);
    // Every refusal and warning carries its recipe.
    for (const f of lint.findings.filter((x) => x.level !== "allowed")) expect(f.recipe, `${f.rule} has no recipe`).toBeTruthy();
  });

  it("counts per verdict: every unsafe file refused, every safe one accepted, every hazard warned", async () => {
    const tally = { refused: { of: 0, got: 0 }, accepted: { of: 0, got: 0 }, warned: { of: 0, got: 0 } };
    for (const fixture of all) {
      const report = await lintMigrations([fixture.file], { squawk: false, columnTypes: fixture.live });
      tally[fixture.verdict].of++;
      if (verdictOf(report.files[0]!) === fixture.verdict) tally[fixture.verdict].got++;
    }
    console.log(
      `lint on ${all.length} expand fixtures: unsafe refused ${tally.refused.got}/${tally.refused.of}, safe accepted ${tally.accepted.got}/${tally.accepted.of}, hazards warned ${tally.warned.got}/${tally.warned.of}`,
    );
    expect(tally.refused.got).toBe(tally.refused.of);
    expect(tally.accepted.got).toBe(tally.accepted.of);
    expect(tally.warned.got).toBe(tally.warned.of);
  });
});

describe("the lint's context", () => {
  const file = (sql: string, name = "m"): MigrationFile => ({ name, phase: "expand", path: `/virtual/expand/${name}.sql`, sql });
  const rules = async (sql: string, live?: Map<string, ColumnType>) =>
    (await lintMigrations([file(sql)], { squawk: false, ...(live ? { columnTypes: live } : {}) })).files[0]!.findings.map((f) => `${f.level}:${f.rule}`);

  it("a type change is a widening only against the live type: varchar(100) → varchar(200) yes, numeric(12,2) → numeric(14,4) no, varchar → int no", async () => {
    expect(await rules("ALTER TABLE t ALTER COLUMN c TYPE varchar(200);", new Map([["t.c", parseFormattedType("character varying(100)")]]))).toEqual([]);
    expect(await rules("ALTER TABLE t ALTER COLUMN c TYPE varchar(50);", new Map([["t.c", parseFormattedType("character varying(100)")]]))).toEqual([
      "error:change-column-type",
    ]);
    expect(await rules("ALTER TABLE t ALTER COLUMN n TYPE numeric(14,4);", new Map([["t.n", parseFormattedType("numeric(12,2)")]]))).toEqual([
      "error:change-column-type",
    ]);
    expect(await rules("ALTER TABLE t ALTER COLUMN n TYPE numeric;", new Map([["t.n", parseFormattedType("numeric(12,2)")]]))).toEqual([]);
    expect(await rules("ALTER TABLE t ALTER COLUMN c TYPE varchar(200) USING c::varchar(200);")).toEqual(["error:change-column-type"]);
  });

  it("a DO block allowed without a reason is refused; an allowance cannot lift a rule about what breaks blue", async () => {
    expect(await rules("-- bluegreen:allow do-block\nDO $$ BEGIN PERFORM 1; END $$;")).toEqual(["error:allow-directive", "error:do-block"]);
    expect(await rules("-- bluegreen:allow drop-column: we are sure\nALTER TABLE t DROP COLUMN c;")).toEqual(["error:allow-directive", "error:drop-column"]);
    expect(await rules("-- bluegreen:allow do-block: one-off seed\nDO $$ BEGIN ALTER TABLE t DROP COLUMN c; END $$;")).toEqual([
      "error:drop-column",
      "allowed:do-block",
    ]);
  });

  it("in a file without a transaction (CONCURRENTLY) an enum value may be used after it is added", async () => {
    expect(await rules("ALTER TYPE s ADD VALUE 'x';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (c) WHERE s = 'x';")).toEqual([]);
  });

  it("changes to tables the set created, and revokes from roles it created, are not blue's concern", async () => {
    expect(
      await rules(
        "CREATE TABLE n (id int PRIMARY KEY, a int);\nUPDATE n SET a = 1;\nDELETE FROM n;\nCREATE INDEX n_a ON n (a);\nALTER TABLE n ENABLE ROW LEVEL SECURITY;",
      ),
    ).toEqual([]);
    expect(await rules("CREATE ROLE etl;\nREVOKE ALL ON bookings FROM etl;")).toEqual([]);
    expect(await rules("REVOKE app_writer FROM app;")).toEqual(["error:revoke-privilege"]);
  });

  it("transaction control and an enum value used before commit are refused in contract too", async () => {
    const contract = await lintMigrations([{ ...file("BEGIN;\nALTER TABLE t DROP COLUMN c;\nCOMMIT;"), phase: "contract" }], { squawk: false });
    expect(contract.files[0]!.findings.map((f) => `${f.level}:${f.rule}`)).toEqual([
      "error:transaction-control",
      "allowed:drop-column",
      "error:transaction-control",
    ]);
  });
});

describe("migrate lint --phase expand --dir DIR", () => {
  it("lints DIR/expand only, never DIR/contract as expand", async () => {
    const stdout = new PassThrough();
    let text = "";
    stdout.on("data", (d: Buffer) => (text += d.toString()));
    const io = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {}, cwd: process.cwd() };
    const code = await migrateMain(["lint", "--phase", "expand", "--dir", resolve(DIR, ".."), "--no-squawk", "--json"], io);
    const report = JSON.parse(text) as { files: Array<{ phase: string; file: string }> };
    expect(code).toBe(1); // the unsafe fixtures
    expect(report.files).toHaveLength(all.length);
    expect(report.files.every((f) => f.phase === "expand" && f.file.includes("/expand/"))).toBe(true);
  });
});
