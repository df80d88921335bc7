// Pure parts of parity: patterns, redaction, stack outputs, type classes, SQL builders, report text.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { mockClient } from "aws-sdk-client-mock";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { matchesPattern, selectTables } from "../../scripts/postgres/parity/glob.js";
import { redact, redactUrl } from "../../scripts/core/redact.js";
import { targetFromConnection, targetFromUrl } from "../../scripts/postgres/parity/connection.js";
import { databaseConnections, parseStackDatabases } from "../../scripts/postgres/stackDatabases.js";
import { classifyType, type ColumnInfo } from "../../scripts/postgres/parity/catalog.js";
import { columnParts, hashOf, keyHashOf, quoteIdent, RECORD_SEED, rowHashOf } from "../../scripts/postgres/parity/sql.js";
import { bitsFor, compareKeyText } from "../../scripts/postgres/parity/compare.js";
import { formatReport } from "../../scripts/postgres/parity/report.js";
import type { ParityReport } from "../../scripts/postgres/parity/types.js";
import { UsageError } from "../../scripts/cli/common.js";

const typeRow = (over: Partial<Parameters<typeof classifyType>[0]>) => ({
  typid: "1",
  name: "int8",
  typtype: "b",
  category: "N",
  collatable: false,
  fn: "hashint8extended",
  elem_name: null,
  elem_typtype: null,
  elem_hashable: null,
  ...over,
});

describe("table patterns", () => {
  it("globs on schema.table; a bare name matches in any schema", () => {
    expect(matchesPattern("public.orders", "public.*")).toBe(true);
    expect(matchesPattern("public.orders", "orders")).toBe(true);
    expect(matchesPattern("sales.orders", "ord?rs")).toBe(true);
    expect(matchesPattern("public.orders", "sales.*")).toBe(false);
    expect(matchesPattern("public.order_items", "public.orders")).toBe(false);
  });

  it("a literal name always matches itself, whatever characters it holds", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => !/[*?]/.test(s)),
        fc.string({ minLength: 1 }).filter((s) => !/[*?]/.test(s)),
        (schema, table) => {
          expect(matchesPattern(`${schema}.${table}`, `${schema}.${table}`)).toBe(true);
        },
      ),
    );
  });

  it("reports patterns that match nothing", () => {
    const sel = selectTables(["public.a", "public.b", "x.c"], ["public.*", "nope"], ["b"]);
    expect(sel.selected).toEqual(["public.a"]);
    expect(sel.unmatched).toEqual(["nope"]);
  });
});

describe("secrets stay out of text", () => {
  it("redacts URL passwords", () => {
    expect(redactUrl("postgres://app:s3cr%40t@db.example.com:5432/app?sslmode=require")).toBe("postgres://app:***@db.example.com:5432/app?sslmode=require");
    expect(redactUrl("postgres://app@h/db")).toBe("postgres://app@h/db");
    expect(redactUrl("garbage://u:pw@")).not.toContain("pw@");
    expect(redact("failed for postgres://u:hunter2@h/db and hunter2", ["hunter2"])).toBe("failed for postgres://u:***@h/db and ***");
  });

  it("rejects bad URLs as bad input, without echoing the password", async () => {
    await expect(targetFromUrl("blue", "http://u:pw123@h/db")).rejects.toBeInstanceOf(UsageError);
    await expect(targetFromUrl("blue", "http://u:pw123@h/db")).rejects.not.toThrow(/pw123/);
    await expect(targetFromUrl("green", "::")).rejects.toThrow(/--green: not a valid URL/);
  });

  it("uses TLS with verification for RDS endpoints and respects sslmode otherwise", async () => {
    const rds = await targetFromUrl("blue", "postgres://u:p@blue.abc.eu-west-1.rds.amazonaws.com:5432/app");
    // node-postgres sets servername (SNI and the host-name check) to the host itself.
    expect(rds.config.ssl).toMatchObject({ rejectUnauthorized: true });
    const local = await targetFromUrl("blue", "postgres://u:p@127.0.0.1:5432/app");
    expect(local.config.ssl).toBeUndefined();
    const explicit = await targetFromUrl("blue", "postgres://u:p@blue.abc.eu-west-1.rds.amazonaws.com/app?sslmode=disable");
    expect(explicit.config.ssl).toBeUndefined();
    expect(explicit.config.connectionString).toContain("sslmode=disable");
  });
});

describe("stack outputs", () => {
  const arn = (c: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${c}`;

  it("reads databaseEndpoints / databaseSecretArns and names what is missing", () => {
    const db = parseStackDatabases({ databaseEndpoints: { blue: "b:5432", green: "g:5432" }, databaseSecretArns: { blue: arn("b"), green: arn("g") } }, "f");
    expect(db.endpoints).toEqual({ blue: { host: "b", port: 5432 }, green: { host: "g", port: 5432 } });
    expect(() => parseStackDatabases({}, "outputs.json", "parity")).toThrow(/outputs.json are not what parity needs:\n  databaseEndpoints: is missing/);
  });

  it("reads the password from Secrets Manager and never shows it", async () => {
    const sm = mockClient(SecretsManagerClient);
    sm.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => ({
      SecretString: JSON.stringify({ username: "app", password: `pw-${input.SecretId.slice(-1)}-very-secret` }),
    }));
    try {
      const db = parseStackDatabases(
        {
          databaseEndpoints: { blue: "blue.x.eu-west-1.rds.amazonaws.com:5432", green: "green.x.eu-west-1.rds.amazonaws.com:6543" },
          databaseSecretArns: { blue: arn("b"), green: arn("g") },
        },
        "f",
      );
      const connections = await databaseConnections(db, { database: "shop" });
      const targets = { blue: targetFromConnection(connections.blue), green: targetFromConnection(connections.green) };
      expect(
        sm
          .commandCalls(GetSecretValueCommand)
          .map((c) => c.args[0].input.SecretId)
          .sort(),
      ).toEqual([arn("b"), arn("g")]);
      expect(targets.green.config).toMatchObject({
        host: "green.x.eu-west-1.rds.amazonaws.com",
        port: 6543,
        user: "app",
        password: "pw-g-very-secret",
        database: "shop",
      });
      expect(targets.green.config.ssl).toMatchObject({ rejectUnauthorized: true });
      expect(targets.blue.display).toBe("postgres://app:***@blue.x.eu-west-1.rds.amazonaws.com:5432/shop");
      expect(targets.blue.side).toBe("blue");
    } finally {
      sm.restore();
    }
  });
});

describe("how columns are hashed", () => {
  it("classifies types", () => {
    expect(classifyType(typeRow({})).hashClass).toBe("plain");
    expect(classifyType(typeRow({ name: "numeric", fn: "hash_numeric_extended" })).hashClass).toBe("numeric");
    expect(classifyType(typeRow({ name: "json", fn: null })).hashClass).toBe("text");
    expect(classifyType(typeRow({ name: "mood", typtype: "e", fn: null })).hashClass).toBe("text");
    expect(classifyType(typeRow({ name: "point", fn: null })).hashClass).toBe("text");
    expect(classifyType(typeRow({ name: "regclass" })).hashClass).toBe("text");
    expect(classifyType(typeRow({ name: "_int4", category: "A", fn: null, elem_name: "int4", elem_typtype: "b", elem_hashable: true })).hashClass).toBe(
      "plain",
    );
    expect(classifyType(typeRow({ name: "_mood", category: "A", fn: null, elem_name: "mood", elem_typtype: "e", elem_hashable: false })).hashClass).toBe(
      "text",
    );
    expect(classifyType(typeRow({ name: "_numeric", category: "A", fn: null, elem_name: "numeric", elem_typtype: "b", elem_hashable: true })).hashClass).toBe(
      "text",
    );
  });

  // format_type's name of typeRow's default type (int8); the numeric and text cases here do not depend on it.
  const col = (name: string, over: Partial<Parameters<typeof classifyType>[0]> = {}, type = "bigint"): ColumnInfo => ({
    name,
    num: 1,
    type,
    notNull: false,
    typeInfo: classifyType(typeRow(over)),
  });

  it("builds unambiguous SQL for awkward names", () => {
    expect(quoteIdent('we"ird name')).toBe('"we""ird name"');
    expect(columnParts(col("Amount", { name: "numeric", fn: "hash_numeric_extended" }))).toEqual(['"Amount"', 'scale("Amount")']);
    expect(columnParts({ ...col("price", { name: "numeric", fn: "hash_numeric_extended" }), type: "numeric(12,2)" })).toEqual(['"price"']);
    expect(columnParts(col("t", { name: "text", collatable: true, fn: "hashtextextended" }), "t.")).toEqual(['(t."t" COLLATE "C")']);
    expect(columnParts(col("j", { name: "json", fn: null }))).toEqual(['("j"::text COLLATE "C")']);
    expect(hashOf(['"a"', '"b"'], "server")).toBe('hash_record_extended(ROW("a", "b"), 0)');
    expect(hashOf(['"a"'], "canonical")).toContain('md5(ROW("a")::text)');
    expect(keyHashOf([col("id")], "server")).toBe('hashint8extended("id", 0)');
    expect(keyHashOf([col("a"), col("b")], "server")).toBe('hash_record_extended(ROW("a", "b"), 0)');
  });

  it("hashes a single key through a function that takes its type by name, else through the record hash", () => {
    const tstz = col("at", { name: "timestamptz", fn: "timestamp_hash_extended" }, "timestamp with time zone");
    // timestamptz's, date's and boolean's opclass functions take timestamp, int4 and "char": called by name they do not resolve.
    expect(keyHashOf([tstz], "server")).toBe('hash_record_extended(ROW("at"), 0)');
    expect(keyHashOf([col("d", { name: "date", fn: "hashint4extended" }, "date")], "server")).toBe('hash_record_extended(ROW("d"), 0)');
    expect(keyHashOf([col("b", { name: "bool", fn: "hashcharextended" }, "boolean")], "server")).toBe('hash_record_extended(ROW("b"), 0)');
    expect(keyHashOf([col("v", { name: "varchar", collatable: true, fn: "hashtextextended" }, "character varying(20)")], "server")).toBe(
      'hashtextextended(("v" COLLATE "C"), 0)',
    );
  });

  it("row hash: each column by its own function, seeded by position with a NULL of its own, XORed with the record hash of the rest", () => {
    const columns = [
      col("id"),
      col("amount", { name: "numeric", fn: "hash_numeric_extended" }, "numeric"),
      col("flag", { name: "bool", fn: "hashcharextended" }, "boolean"),
      col("doc", { name: "jsonb", fn: "jsonb_hash_extended" }, "jsonb"),
    ];
    const sql = rowHashOf(columns, "server");
    expect(sql).toContain('coalesce(hashint8extended("id", 2), ');
    expect(sql).toContain('coalesce(hash_numeric_extended("amount", 4), ');
    expect(sql).toContain(
      'coalesce(hashint4extended(coalesce(scale("amount"), CASE WHEN "amount" = \'NaN\' THEN -1 WHEN "amount" > 0 THEN -2 WHEN "amount" < 0 THEN -3 END), 5), ',
    );
    expect(sql).toContain('coalesce(hashtextextended(("doc"::text COLLATE "C"), 8), ');
    // The rest's record hash is seeded (odd, non-zero): float 0 and numeric NaN in it no longer hash like NULL.
    expect(sql).toContain(`hash_record_extended(ROW("flag"), ${RECORD_SEED})`);
    expect(sql.match(/::int8/g)).toHaveLength(4);
    expect(new Set(sql.match(/'-?\d+'::int8/g)).size).toBe(4);
    expect(rowHashOf(columns, "canonical")).toBe(
      hashOf(
        columns.flatMap((c) => columnParts(c)),
        "canonical",
      ),
    );
    expect(rowHashOf([], "server")).toBe("0::int8");
    // 1,600 columns: a balanced XOR tree, nested about log2(n) deep.
    const wide = rowHashOf(
      Array.from({ length: 1600 }, (_, i) => col(`c${i}`)),
      "server",
    );
    let depth = 0;
    let deepest = 0;
    for (const ch of wide.replace(/\([^()]*\)/g, "")) {
      if (ch === "(") deepest = Math.max(deepest, ++depth);
      if (ch === ")") depth--;
    }
    expect(deepest).toBeLessThanOrEqual(12);
  });
});

describe("segments and ordering", () => {
  it("sizes the first pass by expected rows", () => {
    expect(bitsFor(0)).toBe(0);
    expect(bitsFor(2048)).toBe(0);
    expect(bitsFor(2_000_000)).toBe(10);
    expect(bitsFor(1e12)).toBe(10);
  });

  it("orders keys numerically when numeric, else by text", () => {
    expect([["10"], ["9"], ["-1"]].sort(compareKeyText)).toEqual([["-1"], ["9"], ["10"]]);
    expect(
      [
        ["b", "2"],
        ["a", "10"],
        ["a", "9"],
      ].sort(compareKeyText),
    ).toEqual([
      ["a", "9"],
      ["a", "10"],
      ["b", "2"],
    ]);
  });
});

describe("human report", () => {
  it("shows differences, flags and the summary", () => {
    const report: ParityReport = {
      kind: "parity",
      version: 1,
      identical: false,
      startedAt: "2026-01-01T00:00:00.000Z",
      finishedAt: "2026-01-01T00:00:01.000Z",
      durationMs: 1000,
      blue: { target: "postgres://app:***@blue:5432/app", serverVersion: "16.4" },
      green: { target: "postgres://app:***@green:5432/app", serverVersion: "16.4" },
      hashMode: "server",
      options: { include: [], exclude: [], limit: 100, parallel: 2 },
      schemaDifferences: [
        { kind: "index-only-on-green", object: "public.orders", green: "orders_x", message: "public.orders: index orders_x exists on green only" },
      ],
      tables: [
        {
          table: "public.orders",
          status: "different",
          key: ["id"],
          noPrimaryKey: false,
          comparedColumns: ["id", "note"],
          blueRows: 3,
          greenRows: 3,
          missingOnGreen: { count: 1, keys: [{ id: "2" }] },
          extraOnGreen: { count: 1, keys: [{ id: "4" }] },
          changed: { count: 1, rows: [{ key: { id: "1" }, columns: [{ column: "note", blue: null, green: "" }] }] },
          truncated: false,
          notes: [],
        },
      ],
      sequences: [],
      totals: {
        tables: 1,
        tablesIdentical: 0,
        tablesDifferent: 1,
        rowsHashed: 6,
        missingOnGreen: 1,
        extraOnGreen: 1,
        changed: 1,
        schemaDifferences: 1,
        sequencesBehind: 0,
      },
      summary: "different: 1 of 1 table differ (1 missing on green, 1 extra on green, 1 changed); 1 schema difference",
    };
    const text = formatReport(report);
    expect(text).toContain("index orders_x exists on green only");
    expect(text).toMatch(/- missing on green\s+id=2/);
    expect(text).toMatch(/\+ extra on green\s+id=4/);
    expect(text).toContain('note: blue NULL → green ""');
    expect(text).toContain("DIFFERENT  different: 1 of 1 table differ");
    expect(text).not.toMatch(/\u001b\[/);
  });
});
