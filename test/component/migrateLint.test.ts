// The compatibility lint: each unsafe expand migration refused with its rule (and a recipe), each
// safe one passing; contract allows the destructive ones; squawk's locking warnings come through
// with squawk's rule names. PostgreSQL's own parser (libpg-query) reads the SQL; squawk runs on
// real files.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lintMigrations, type MigrationFile, type Phase } from "../../scripts/postgres/migrate/index.js";

const file = (sql: string, phase: Phase = "expand", name = "m"): MigrationFile => ({ name, phase, path: `/virtual/${phase}/${name}.sql`, sql });

// [rule, SQL]: each breaks a blue that runs on the existing schema.
const UNSAFE: Array<[string, string]> = [
  ["drop-column", "ALTER TABLE orders DROP COLUMN note;"],
  ["drop-table", "DROP TABLE orders;"],
  ["rename-column", "ALTER TABLE orders RENAME COLUMN note TO remark;"],
  ["rename-table", "ALTER TABLE orders RENAME TO purchases;"],
  ["change-column-type", "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,4);"],
  ["set-not-null", "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;"],
  ["add-required-column", "ALTER TABLE orders ADD COLUMN region text NOT NULL;"],
  ["validated-constraint", "ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total > 0);"],
  ["validated-constraint", "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);"],
  ["validated-constraint", "ALTER TABLE orders ADD CONSTRAINT orders_ref_key UNIQUE (ref);"],
  ["drop-view", "DROP VIEW order_totals;"],
  ["drop-view", "DROP MATERIALIZED VIEW daily_sales;"],
  ["drop-function", "DROP FUNCTION order_total(bigint);"],
  ["drop-column-default", "ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;"],
  ["truncate-table", "TRUNCATE orders;"],
  ["rename-enum-value", "ALTER TYPE order_status RENAME VALUE 'paid' TO 'settled';"],
  ["move-object", "ALTER TABLE orders SET SCHEMA archive;"],
  ["drop-index", "DROP INDEX CONCURRENTLY orders_customer_idx;"],
  ["drop-identity", "ALTER TABLE orders ALTER COLUMN id DROP IDENTITY;"],
  ["drop-trigger", "DROP TRIGGER orders_audit ON orders;"],
  ["drop-schema", "DROP SCHEMA reporting CASCADE;"],
  ["syntax-error", "ALTER TABLE orders ADD COLUM x int;"],
];

// Additive changes blue cannot notice.
const SAFE: string[] = [
  "ALTER TABLE orders ADD COLUMN note text;",
  "ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';",
  "CREATE TABLE invoices (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id), total numeric(12,2) NOT NULL CHECK (total >= 0));",
  "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_region_idx ON orders (region);",
  "ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total > 0) NOT VALID;",
  "ALTER TABLE orders VALIDATE CONSTRAINT total_positive;",
  "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;",
  "CREATE OR REPLACE VIEW order_totals_v2 AS SELECT customer_id, sum(total) AS total FROM orders GROUP BY customer_id;",
  "ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded';",
  "CREATE TABLE t (id int PRIMARY KEY); ALTER TABLE t ADD COLUMN a int NOT NULL; ALTER TABLE t ADD CONSTRAINT a_pos CHECK (a > 0); DROP TABLE t;",
  "ALTER TABLE orders ADD CONSTRAINT orders_ref_key UNIQUE USING INDEX orders_ref_idx;",
];

describe("expand: unsafe migrations are refused with their rule", () => {
  it.each(UNSAFE)("%s: %s", async (rule, sql) => {
    const report = await lintMigrations([file(sql)], { squawk: false });
    expect(report.ok).toBe(false);
    const errors = report.files[0]!.findings.filter((f) => f.level === "error");
    expect(errors.map((f) => f.rule)).toContain(rule);
    const hit = errors.find((f) => f.rule === rule)!;
    expect(hit.line).toBe(1);
    if (rule !== "syntax-error") {
      expect(hit.statement).toBe(sql.replace(/;$/, ""));
      expect(hit.recipe).toMatch(/expand|contract|NOT VALID|not a schema change/);
    }
  });

  it("names the line of the offending statement in a longer file", async () => {
    const report = await lintMigrations([file("ALTER TABLE orders ADD COLUMN a text;\n\n-- then\nALTER TABLE orders\n  DROP COLUMN note;\n")], {
      squawk: false,
    });
    expect(report.files[0]!.findings).toMatchObject([{ rule: "drop-column", line: 4, statement: "ALTER TABLE orders DROP COLUMN note" }]);
  });
});

describe("expand: safe migrations pass", () => {
  it.each(SAFE)("%s", async (sql) => {
    const report = await lintMigrations([file(sql)], { squawk: false });
    expect(
      report.files[0]!.findings.filter((f) => f.level === "error"),
      JSON.stringify(report.files[0]!.findings),
    ).toEqual([]);
    expect(report.ok).toBe(true);
  });
});

describe("contract allows the destructive operations", () => {
  it.each(UNSAFE.filter(([rule]) => rule !== "syntax-error"))("%s is allowed in contract", async (rule, sql) => {
    const report = await lintMigrations([file(sql, "contract")], { squawk: false });
    expect(report.ok).toBe(true);
    expect(report.files[0]!.findings.filter((f) => f.rule === rule).map((f) => f.level)).toEqual(["allowed"]);
  });

  it("a syntax error is refused in contract too", async () => {
    const report = await lintMigrations([file("DROP TABLEX orders;", "contract")], { squawk: false });
    expect(report.ok).toBe(false);
  });
});

describe("squawk's locking hazards are warnings with squawk's rule names", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "migrate-lint-"));
    await mkdir(join(dir, "expand"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("an index without CONCURRENTLY: exit 0 (no error), warning require-concurrent-index-creation", async () => {
    const path = join(dir, "expand", "001_index.sql");
    const sql = "CREATE INDEX orders_region_idx ON orders (region);\n";
    await writeFile(path, sql);
    const report = await lintMigrations([{ name: "001_index", phase: "expand", path, sql }]);
    expect(report.squawk.available).toBe(true);
    expect(report.ok).toBe(true);
    const warnings = report.files[0]!.findings.filter((f) => f.level === "warning");
    expect(warnings.map((w) => w.rule)).toContain("require-concurrent-index-creation");
    expect(warnings.every((w) => w.source === "squawk")).toBe(true);
  });

  it("a rewrite (volatile default) is a warning; our drop-column error names squawk's ban-drop-column once", async () => {
    const path = join(dir, "expand", "002_mixed.sql");
    const sql = "ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();\nALTER TABLE orders DROP COLUMN note;\n";
    await writeFile(path, sql);
    const report = await lintMigrations([{ name: "002_mixed", phase: "expand", path, sql }]);
    const findings = report.files[0]!.findings;
    expect(findings.filter((f) => f.level === "warning").map((w) => w.rule)).toContain("adding-field-with-default");
    expect(findings.filter((f) => f.level === "error")).toMatchObject([{ rule: "drop-column", squawk: "ban-drop-column", line: 2 }]);
    expect(findings.some((f) => f.source === "squawk" && f.rule === "ban-drop-column")).toBe(false);
  });
});
