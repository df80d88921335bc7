// The row hash calls each common type's own hash function directly (seeded by column position,
// with a NULL of its own) and the key hash takes a single key column by its type: on real
// PostgreSQL, a NULL against a zero or an empty string, numeric's NaN against ±Infinity, two values
// swapped between columns of one type, and tables keyed by timestamptz, date and boolean narrowed down to the exact key through
// the grouped (key-hash) passes. Identical data → identical; each planted change → named.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { runParity, type TableResult } from "../../scripts/postgres/parity/index.js";
import { createDatabases, execSql } from "../support/postgres.js";

let server: LocalPostgres;

const SCHEMA = `
CREATE TABLE public.nulls (id int PRIMARY KEY, a int, b text, c numeric, d timestamptz, e double precision, f bigint, g uuid, h varchar(10), i char(3), j smallint, k real, l timestamp);
INSERT INTO public.nulls SELECT g, 0, '', 0, 'epoch', 0, 0, '00000000-0000-0000-0000-000000000000', '', '', 0, 0, 'epoch' FROM generate_series(1, 30) g;
CREATE TABLE public.specials (id int PRIMARY KEY, n numeric, m numeric(10,2));
INSERT INTO public.specials VALUES (1, 'NaN', 'NaN'), (2, 'Infinity', 1), (3, '-Infinity', 1), (4, 'NaN', 1), (5, 0, 0);
CREATE TABLE public.swaps (id int PRIMARY KEY, x int, y int, s text, t text);
INSERT INTO public.swaps SELECT g, g, g + 1, 'a' || g, 'b' || g FROM generate_series(1, 30) g;
CREATE TABLE public.by_time (at timestamptz PRIMARY KEY, v int);
INSERT INTO public.by_time SELECT '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 minute', g FROM generate_series(1, 3000) g;
CREATE TABLE public.by_date (d date PRIMARY KEY, v int);
INSERT INTO public.by_date SELECT '2000-01-01'::date + g, g FROM generate_series(1, 3000) g;
CREATE TABLE public.by_flag (b boolean PRIMARY KEY, v int);
INSERT INTO public.by_flag VALUES (false, 1), (true, 2);
ANALYZE;`;

beforeAll(async () => {
  server = await startPostgres({ label: "parity-rowhash" });
  await createDatabases(server, "blue_db", "green_db");
  await Promise.all(["blue_db", "green_db"].map((db) => execSql(server.url(db), SCHEMA)));
}, 120_000);

afterAll(async () => {
  await server?.stop();
}, 30_000);

/** Small segments, so even these tables go through the grouped passes over the key hash. */
const run = () =>
  runParity({
    blueUrl: server.url("blue_db"),
    greenUrl: server.url("green_db"),
    include: ["public.*"],
    parallelism: 1,
    tuning: { targetSegmentRows: 4, fetchMaxRows: 8 },
  });

const table = (tables: TableResult[], name: string) => tables.find((t) => t.table === name)!;
const changedKeys = (t: TableResult) => t.changed.rows.map((r) => JSON.stringify(r.key));

describe("row and key hashes through each type's own function", () => {
  it("identical data is identical", async () => {
    const report = await run();
    expect(report.hashMode).toBe("server");
    expect(report.summary).toMatch(/^identical: 6 tables/);
  }, 60_000);

  it("a NULL against a zero or empty value in every directly hashed type, and swapped values, are changes named by key", async () => {
    const columns = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"];
    await execSql(
      server.url("green_db"),
      columns.map((c, i) => `UPDATE public.nulls SET ${c} = NULL WHERE id = ${i + 1};`).join("\n") +
        "UPDATE public.swaps SET x = y, y = x WHERE id = 7; UPDATE public.swaps SET s = t, t = s WHERE id = 9;" +
        "UPDATE public.specials SET n = 'Infinity' WHERE id = 1; UPDATE public.specials SET n = '-Infinity' WHERE id = 2;" +
        "UPDATE public.specials SET n = NULL WHERE id = 4; UPDATE public.specials SET m = NULL WHERE id = 1;",
    );
    const report = await run();
    const nulls = table(report.tables, "public.nulls");
    expect(nulls.changed.count).toBe(columns.length);
    expect(nulls.changed.rows.map((r) => r.columns.map((c) => c.column).join())).toEqual(columns);
    const swaps = table(report.tables, "public.swaps");
    expect(changedKeys(swaps)).toEqual(['{"id":"7"}', '{"id":"9"}']);
    expect(swaps.changed.rows.map((r) => r.columns.map((c) => c.column).join())).toEqual(["x,y", "s,t"]);
    // numeric: NaN, Infinity, -Infinity and NULL all different (the type's own hash gives the first three one value).
    const specials = table(report.tables, "public.specials");
    expect(specials.changed.rows.map((r) => `${r.key.id}:${r.columns.map((c) => c.column).join()}`)).toEqual(["1:n,m", "2:n", "4:n"]);
  }, 60_000);

  it("tables keyed by timestamptz, date and boolean: changed, missing and extra rows found by their keys", async () => {
    await execSql(
      server.url("green_db"),
      `UPDATE public.by_time SET v = -1 WHERE v = 1234; DELETE FROM public.by_time WHERE v = 2000;
       UPDATE public.by_date SET v = -1 WHERE v = 777; INSERT INTO public.by_date VALUES ('1999-01-01', 0);
       UPDATE public.by_flag SET v = 3 WHERE b;`,
    );
    const report = await run();
    const byTime = table(report.tables, "public.by_time");
    expect(changedKeys(byTime)).toEqual(['{"at":"2024-01-01 20:34:00+00"}']);
    expect(byTime.missingOnGreen.keys).toEqual([{ at: "2024-01-02 09:20:00+00" }]);
    const byDate = table(report.tables, "public.by_date");
    expect(changedKeys(byDate)).toEqual(['{"d":"2002-02-16"}']);
    expect(byDate.extraOnGreen.keys).toEqual([{ d: "1999-01-01" }]);
    expect(changedKeys(table(report.tables, "public.by_flag"))).toEqual(['{"b":"true"}']);
  }, 60_000);
});
