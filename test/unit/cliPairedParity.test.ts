// The paired cutover's preflight reads the newest `npm run parity` report from disk and judges it
// as the switch does: rows and schema decide, sequences behind on green do not (they are copied
// and verified under the fence).

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileParitySource } from "../../scripts/app/wiring/parityFile.js";
import type { ParityReport } from "../../scripts/postgres/parity/index.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bluegreen-parity-source-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function report(overrides: Partial<ParityReport["totals"]>, sequences: ParityReport["sequences"] = []): ParityReport {
  const totals = {
    tables: 2,
    tablesIdentical: 2,
    tablesDifferent: 0,
    rowsHashed: 1000,
    missingOnGreen: 0,
    extraOnGreen: 0,
    changed: 0,
    schemaDifferences: 0,
    sequencesBehind: 0,
    ...overrides,
  };
  return {
    kind: "parity",
    version: 1,
    identical: false,
    startedAt: "2026-11-21T10:00:00.000Z",
    finishedAt: "2026-11-21T10:00:01.000Z",
    durationMs: 1000,
    blue: { target: "postgres://app:***@blue:5432/app", serverVersion: "17" },
    green: { target: "postgres://app:***@green:5432/app", serverVersion: "17" },
    hashMode: "server",
    options: { include: [], exclude: [], limit: 100, parallel: 2 },
    schemaDifferences: [],
    tables: [],
    sequences,
    totals,
    summary: "different",
  };
}

async function latest(name: string, content: unknown) {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return fileParitySource(path).latest();
}

describe("fileParitySource", () => {
  it("passes identical rows and schema even with sequences behind, naming them", async () => {
    const sequences = [{ sequence: "public.bookings_id_seq", status: "behind" }] as unknown as ParityReport["sequences"];
    const result = await latest("seq.json", report({ sequencesBehind: 1 }, sequences));
    expect(result?.identical).toBe(true);
    expect(result?.checkedAt).toBe(Date.parse("2026-11-21T10:00:01.000Z"));
    expect(result?.summary).toMatch(/public\.bookings_id_seq/);
  });

  it("fails on differing rows or schema", async () => {
    expect((await latest("rows.json", report({ tablesDifferent: 1, missingOnGreen: 3 })))?.identical).toBe(false);
    expect((await latest("schema.json", report({ schemaDifferences: 1 })))?.identical).toBe(false);
  });

  it("no file is no result; a file that is not a parity report is bad input", async () => {
    await expect(fileParitySource(join(dir, "missing.json")).latest()).resolves.toBeNull();
    await expect(latest("garbage.json", "{not json")).rejects.toThrow(/not a parity report \(invalid JSON\)/);
    await expect(latest("other.json", { kind: "journal" })).rejects.toThrow(/not a parity report/);
  });
});
