// A zero is not a NULL, wherever the float sits: in an array (any shape), behind a domain, in an
// array of a domain, in a domain over an array. PostgreSQL's float hash returns its seed for 0
// and the record and array hashes count a NULL element as 0, so with seed 0 they read the same.
// The documented -0 = 0 rule holds in all of them. Also the neighbours of the same kind: numeric
// NaN against NULL (in arrays, behind a domain), ranges of float, a composite with float fields.
// One real server, two databases: "_same" tables identical (green holds -0 where blue holds 0:
// exit 0), "_diff" tables with one planted change per row (exit 1, each key named).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { runParity, type TableResult } from "../../scripts/postgres/parity/index.js";
import { createDatabases, execSql, runScript } from "../support/postgres.js";

let server: LocalPostgres;
let cwd: string;

const TYPES = `
CREATE DOMAIN public.amount AS float8;
CREATE DOMAIN public.ratio AS float4;
CREATE DOMAIN public.vec AS float4[];
CREATE DOMAIN public.quantity AS numeric;
CREATE TYPE public.floatrange AS RANGE (subtype = float8);
CREATE TYPE public.point2 AS (x float8, y float8);`;

/** Each row holds a 0 (or NaN) where a planted change puts a NULL, or the reverse. */
const TABLES = (t: string) => `
CREATE TABLE public.${t} (id int PRIMARY KEY, a float8[], b float4[], d public.amount, f public.ratio, da public.amount[],
  dv public.vec, n numeric[], q public.quantity, r public.floatrange, c public.point2);
INSERT INTO public.${t} VALUES
  (1, '{0}', NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL),
  (2, '{1,NULL,0}', '{{0,NULL},{NULL,0}}', NULL, NULL, '{0,0}', '{0}', NULL, NULL, NULL, NULL),
  (3, '{NULL}', '[0:1]={0,1}', NULL, 0, '{NULL}', '{{0},{NULL}}', '{NaN}', 'NaN', '[0,1)', '(0,)'),
  (4, '{0,0,0}', '{0}', 0, NULL, '{0}', '{NULL}', '{NULL,0}', NULL, '(,1)', '(,0)');`;

const FLOATS = ["a", "b", "d", "f", "da", "dv"];

beforeAll(async () => {
  server = await startPostgres({ label: "parity-zero-null" });
  cwd = await mkdtemp(join(tmpdir(), "parity-zero-null-"));
  await createDatabases(server, "blue_db", "green_db");
  await Promise.all(["blue_db", "green_db"].map((db) => execSql(server.url(db), `${TYPES} ${TABLES("zsame")} ${TABLES("zdiff")}`)));
  // -0 where blue holds 0: the same value under the float rule, in every place a float can sit but the composite.
  await execSql(
    server.url("green_db"),
    `UPDATE public.zsame SET a = '{-0}', d = '-0', f = '-0' WHERE id = 1;
     UPDATE public.zsame SET a = '{1,NULL,-0}', b = '{{-0,NULL},{NULL,-0}}', da = '{-0,0}', dv = '{-0}' WHERE id = 2;
     UPDATE public.zsame SET b = '[0:1]={-0,1}', f = '-0', dv = '{{-0},{NULL}}', r = '[-0,1)' WHERE id = 3;
     UPDATE public.zsame SET a = '{0,-0,0}', b = '{-0}', d = '-0', da = '{-0}' WHERE id = 4;
     UPDATE public.zdiff SET a = '{NULL}', d = NULL, f = NULL WHERE id = 1;
     UPDATE public.zdiff SET a = '{1,NULL,NULL}', b = '{{NULL,0},{0,NULL}}', da = '{0,NULL}', dv = '{NULL}' WHERE id = 2;
     UPDATE public.zdiff SET a = '{0}', da = '{0}', dv = '{{NULL},{0}}', n = '{NULL}', q = NULL, r = '(,1)', c = '(-0,)' WHERE id = 3;
     UPDATE public.zdiff SET a = '{0,NULL,0}', b = '{NULL}', d = NULL, dv = '{0}', n = '{NULL,NaN}', c = '(0,)' WHERE id = 4;`,
  );
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (cwd) await rm(cwd, { recursive: true, force: true });
}, 30_000);

const run = (table: string) => runParity({ blueUrl: server.url("blue_db"), greenUrl: server.url("green_db"), include: [`public.${table}`] });
const changed = (t: TableResult) => Object.fromEntries(t.changed.rows.map((r) => [r.key.id!, r.columns.map((c) => c.column)]));

describe("a float zero is never a NULL, and -0 stays 0", () => {
  it("identical: -0 against 0 in arrays, multidimensional arrays, domains, arrays of a domain, a domain over an array and a range", async () => {
    const report = await run("zsame");
    expect(report.hashMode).toBe("server");
    expect(report.schemaDifferences).toEqual([]);
    expect(report.tables.map((t) => [t.table, t.status])).toEqual([["public.zsame", "identical"]]);
    expect(report.identical).toBe(true);
  }, 60_000);

  it("different: every 0 ↔ NULL and NaN ↔ NULL named by key and column, the range's bound, the composite's -0 (compared as text)", async () => {
    const report = await run("zdiff");
    expect(report.identical).toBe(false);
    const [t] = report.tables;
    expect(changed(t!)).toEqual({
      "1": ["a", "d", "f"],
      "2": ["a", "b", "da", "dv"],
      "3": ["a", "da", "dv", "n", "q", "r", "c"],
      "4": ["a", "b", "d", "dv", "n", "c"],
    });
    const row1 = t!.changed.rows[0]!.columns;
    expect(row1.map((c) => [c.blue, c.green])).toEqual([
      ["{0}", "{NULL}"],
      ["0", null],
      ["0", null],
    ]);
    expect(t!.equalityRules).toEqual(expect.arrayContaining([{ rule: "float", columns: ["d", "f"] }]));
    expect(FLOATS.every((c) => t!.comparedColumns.includes(c))).toBe(true);
  }, 60_000);

  it("the command line: exit 0 for the -0 twins, exit 1 naming each changed key", async () => {
    const args = (table: string) => ["--no-save", "--blue", server.url("blue_db"), "--green", server.url("green_db"), "--include", `public.${table}`];
    const same = await runScript("parity", args("zsame"), cwd);
    expect(same.code, same.stderr).toBe(0);
    const diff = await runScript("parity", args("zdiff"), cwd);
    expect(diff.code, diff.stderr).toBe(1);
    for (const id of ["1", "2", "3", "4"]) expect(diff.stdout).toMatch(new RegExp(`id=${id}\\b`));
  }, 90_000);
});
