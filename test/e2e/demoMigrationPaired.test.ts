// `npm run demo -- --migration --database paired`, end to end: two PostgreSQL servers with
// replication, the load writing the whole time. Expand (a new column v2 writes, a new table a
// trigger writes) is applied to both sides in the order the replication needs, in the first
// cutover's migrating phase; the fenced switch, green's fault, the fenced rollback; a second
// cutover; contract. Asserted on outcomes, counts and order, never on elapsed time (printed).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemo, silentPrinter, summaryLines, type DemoResource, type DemoResult } from "../../scripts/demo/demo.js";
import { expectRunGone, portFree } from "./leftovers.js";

let reportsDir: string;
const id = `e2emigpaired${process.pid}${Math.random().toString(36).slice(2, 7)}`;
let result: DemoResult;
const lines: string[] = [];
const resources: DemoResource[] = [];

beforeAll(async () => {
  reportsDir = await mkdtemp(join(tmpdir(), "bluegreen-e2e-migration-paired-reports-"));
  const printer = { ...silentPrinter, line: (text: string) => lines.push(text) };
  result = await runDemo({ runId: id, migration: true, database: "paired", reportsDir, printer, onResource: (r) => resources.push(r) });
  process.stdout.write(
    `\npaired migration demo (${(result.durationMs / 1000).toFixed(1)} s)\n${lines.filter((l) => /lint|migrat|contract|rollback|writes lost|parity/.test(l)).join("\n")}\n${summaryLines(result).join("\n")}\n`,
  );
}, 420_000);

afterAll(async () => {
  if (reportsDir) await rm(reportsDir, { recursive: true, force: true });
});

describe("npm run demo -- --migration --database paired", () => {
  it("behaves as the scenario expects", () => {
    expect(result.asExpected, JSON.stringify({ migration: result.migration, unexpected: result.unexpectedFailures, reason: result.reason })).toBe(true);
    expect(result.exitCode).toBe(0);
    expect(result.database).toBe("paired");
  });

  it("expand ran in cutover 1's migrating phase, each file on green (the subscriber) before blue", () => {
    const m = result.migration!;
    expect(m.lintOk).toBe(true);
    expect(m.lintRefused).toContain("drop-column-default");
    expect(m.expandApplied).toEqual(["001_bookings_note", "002_booking_audit"]);
    expect(m.paired!.applied).toEqual([
      "green:expand/001_bookings_note",
      "blue:expand/001_bookings_note",
      "green:expand/002_booking_audit",
      "blue:expand/002_booking_audit",
      "green:contract/001_bookings_note_required",
      "blue:contract/001_bookings_note_required",
    ]);
    // migrate itself counted the trigger-written table on both sides before it said OK.
    expect(m.paired!.expandSummary).toMatch(/new tables hold every row \("public"\."booking_audit": \d+\/\d+\)/);
  });

  it("the fenced switch met the fault and the fenced rollback took traffic back to blue, on the expanded schema on both sides", () => {
    const m = result.migration!;
    expect(m.firstCutover).toBe("rolled-back");
    expect(result.rollback).not.toBeNull();
    expect(result.rollback!.afterRollback.green).toBe(0);
    expect(m.paired!.expandedSchemaKept).toEqual({ blue: true, green: true });
    expect(result.paired!.rollbackFenceMs).not.toBeNull();
  });

  it("loses no acknowledged write at any step, on the serving side or the other", () => {
    const checkpoints = result.migration!.paired!.checkpoints;
    expect(checkpoints.map((c) => [c.label, c.serving])).toEqual([
      ["after expand (before the switch)", "blue"],
      ["after cutover 1 (rolled-back)", "blue"],
      ["after cutover 2 (succeeded)", "green"],
      ["after contract", "green"],
      ["at the end (load stopped)", "green"],
    ]);
    for (const c of checkpoints) {
      expect(c.caughtUpMs, c.label).not.toBeNull();
      expect([c.label, c.lostOnServing, c.lostOnOther]).toEqual([c.label, 0, 0]);
      expect(c.acknowledged).toBeGreaterThan(0);
    }
    expect(checkpoints.at(-1)!.acknowledged).toBe(result.load.writesAcknowledged);
    expect(result.dataCheck).toMatchObject({ database: "green", missing: [], mismatched: [] });
    expect(result.paired!.writesOnOtherSide).toMatchObject({ database: "blue", missing: [], mismatched: [] });
    expect(result.paired!.duplicates).toEqual({ blue: 0, green: 0 });
    expect(result.paired!.rejectedApplied).toEqual([]);
    expect(result.unexpectedFailures).toBe(0);
  });

  it("the trigger-written rows are on both sides, every booking since the trigger has one", () => {
    const p = result.migration!.paired!;
    expect(p.audit.blue).toBeGreaterThan(0);
    expect(p.audit.green).toBe(p.audit.blue);
    expect(p.audit.sameIds).toBe(true);
    expect(p.audit.unaudited).toEqual({ blue: 0, green: 0 });
    const rows = Object.fromEntries(p.tables.map((t) => [t.table, t]));
    expect(Object.keys(rows)).toEqual(expect.arrayContaining(["bookings", "booking_audit", "clients", "pets"]));
    for (const t of p.tables) expect(t.green, t.table).toBe(t.blue);
  });

  it("contract applied on both sides after the gate and a snapshot; every v2 booking has its note", () => {
    const m = result.migration!;
    expect(m.secondCutover).toBe("succeeded");
    expect(m.contract).toMatchObject({ ran: true, ok: true });
    expect(m.contract.snapshotId).not.toBeNull();
    expect(m.paired!.noteRequired).toEqual({ blue: true, green: true });
    expect(m.v2Bookings).toBeGreaterThan(0);
    expect(m.v2BookingsWithNote).toBe(m.v2Bookings);
    expect(m.nullNotes).toBe(0);
  });

  it("ends with the parity library's verdict: identical, printed in the summary", () => {
    expect(result.migration!.paired!.parity.identical, result.migration!.paired!.parity.summary).toBe(true);
    const summary = summaryLines(result);
    expect(summary.some((l) => /parity \(blue vs green, at the end\): IDENTICAL/.test(l))).toBe(true);
    expect(summary.some((l) => /^ {2}at the end \(load stopped\)\s+green\s+\d+\s+0\s+0$/.test(l))).toBe(true);
  });

  it("leaves nothing behind: processes, directories, ports", async () => {
    await expectRunGone(id);
    for (const r of resources.filter((x) => x.kind === "port")) expect(await portFree(r.port), `${r.label} port ${r.port}`).toBe(true);
  });
});
