// `npm run demo -- --migration`, end to end: green's v2 writes bookings.note, which only an expand
// migration adds. Lint refuses the one-step version; the cutover's migrating phase applies
// expand before any weight moves; the canary meets the fault and rolls back while blue (v1)
// serves on the expanded schema; a clean cutover; contract after the journal gate. Asserted on
// outcomes, the engine's event order and counts, never on elapsed time (printed).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemo, silentPrinter, summaryLines, type DemoResult } from "../../scripts/demo/demo.js";
import { expectRunGone } from "../e2e/leftovers.js";

let reportsDir: string;
const id = `migratedemo${process.pid}${Math.random().toString(36).slice(2, 7)}`;
let result: DemoResult;
const lines: string[] = [];

beforeAll(async () => {
  reportsDir = await mkdtemp(join(tmpdir(), "bluegreen-migrate-demo-reports-"));
  const printer = { ...silentPrinter, line: (text: string) => lines.push(text) };
  result = await runDemo({ runId: id, migration: true, reportsDir, printer });
  process.stdout.write(
    `\nmigration demo (${(result.durationMs / 1000).toFixed(1)} s)\n${lines.filter((l) => /lint|migrat|contract|rollback/.test(l)).join("\n")}\n${summaryLines(result).join("\n")}\n`,
  );
}, 420_000);

afterAll(async () => {
  if (reportsDir) await rm(reportsDir, { recursive: true, force: true });
});

describe("npm run demo -- --migration", () => {
  it("behaves as the scenario expects", () => {
    expect(result.asExpected, JSON.stringify({ migration: result.migration, unexpected: result.unexpectedFailures, reason: result.reason })).toBe(true);
    expect(result.exitCode).toBe(0);
  });

  it("lint refuses the one-step migration and passes the expand/contract pair", () => {
    expect(result.migration!.lintRefused).toContain("drop-column-default");
    expect(result.migration!.lintOk).toBe(true);
    expect(lines.some((l) => /lint \(expand\) refuses the one-step migration: drop-column-default/.test(l))).toBe(true);
  });

  it("expand ran in the first cutover's migrating phase; the fault rolled it back; the column stayed", () => {
    const m = result.migration!;
    expect(m.expandApplied).toEqual(["001_bookings_note"]);
    expect(m.firstCutover).toBe("rolled-back");
    expect(m.columnKeptAfterRollback).toBe(true);
    expect(result.rollback).not.toBeNull();
    expect(result.rollback!.afterRollback.green).toBe(0);
    expect(lines.some((l) => /blue v1 serves on the expanded schema/.test(l))).toBe(true);
  });

  it("then a clean cutover and contract: every v2 booking has its note, the column is required", () => {
    const m = result.migration!;
    expect(m.secondCutover).toBe("succeeded");
    expect(result.outcome).toBe("succeeded");
    expect(m.contract).toMatchObject({ ran: true, ok: true });
    expect(m.contract.snapshotId).not.toBeNull();
    expect(m.v2Bookings).toBeGreaterThan(0);
    expect(m.v2BookingsWithNote).toBe(m.v2Bookings);
    expect(m.nullNotes).toBe(0);
    expect(m.noteRequired).toBe(true);
  });

  it("no failed request outside the injected fault, no lost write", () => {
    expect(result.unexpectedFailures).toBe(0);
    expect(result.dataCheck.missing).toEqual([]);
    expect(result.dataCheck.mismatched).toEqual([]);
  });

  it("leaves nothing behind", async () => {
    await expectRunGone(id);
  });
});
