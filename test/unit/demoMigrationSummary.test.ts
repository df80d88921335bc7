// The migration demos' lines in the closing summary: what a reader must not miss shows up
// (lost writes per checkpoint and side, a side that did not catch up, a table whose counts differ,
// the parity verdict last), for the shared scenario and the paired one.

import { describe, expect, it } from "vitest";
import { migrationSummaryLines } from "../../scripts/demo/migrateSummary.js";
import type { DemoMigration, PairedMigration } from "../../scripts/demo/types.js";

const shared: DemoMigration = {
  expandApplied: ["001_bookings_note"],
  firstCutover: "rolled-back",
  columnKeptAfterRollback: true,
  secondCutover: "succeeded",
  contract: { ran: true, ok: true, summary: "applied 1 contract migration", snapshotId: "snap-1" },
  v2Bookings: 10,
  v2BookingsWithNote: 10,
  nullNotes: 0,
  noteRequired: true,
  lintRefused: ["drop-column-default"],
  lintOk: true,
};

const paired = (over: Partial<PairedMigration> = {}): PairedMigration => ({
  applied: ["green:expand/001_bookings_note", "blue:expand/001_bookings_note"],
  expandSummary: 'applied 1 expand migration (2 steps); new tables hold every row ("public"."booking_audit": 12/10)',
  expandedSchemaKept: { blue: true, green: true },
  checkpoints: [
    { label: "after expand (before the switch)", serving: "blue", acknowledged: 100, lostOnServing: 0, lostOnOther: 0, caughtUpMs: 12 },
    { label: "at the end (load stopped)", serving: "green", acknowledged: 250, lostOnServing: 0, lostOnOther: 3, caughtUpMs: null },
  ],
  tables: [
    { table: "booking_audit", blue: 40, green: 40 },
    { table: "bookings", blue: 250, green: 247 },
  ],
  audit: { blue: 40, green: 40, sameIds: true, unaudited: { blue: 0, green: 0 } },
  noteRequired: { blue: true, green: true },
  parity: { identical: false, summary: "3 row(s) differ in public.bookings" },
  ...over,
});

describe("migration summary lines", () => {
  it("shared: what expand, the cutovers and contract did, and v2's notes; nothing paired", () => {
    const lines = migrationSummaryLines(shared);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain("cutover 1 rolled-back, cutover 2 succeeded; contract applied after snapshot snap-1");
    expect(lines[1]).toBe("  migration: v2 bookings 10 (10 with their note), NULL notes 0, note NOT NULL: true");
  });

  it("a contract that did not run says why", () => {
    const lines = migrationSummaryLines({ ...shared, contract: { ran: false, ok: false, summary: "refused: no cutover journal", snapshotId: null } });
    expect(lines[0]).toContain("contract NOT applied (refused: no cutover journal)");
  });

  it("paired: each checkpoint's losses on both sides, a side that did not catch up, a table that differs, parity last", () => {
    const lines = migrationSummaryLines({ ...shared, paired: paired() });
    expect(lines).toContain("  after expand (before the switch)     blue      100            0                 0");
    expect(lines).toContain("  at the end (load stopped)            green     250            0                 3 (replication did NOT catch up)");
    expect(lines).toContain("  booking_audit                        40           40");
    expect(lines).toContain("  bookings                             250          247  DIFFERENT");
    expect(
      lines.some((l) => l.includes('expand said: applied 1 expand migration (2 steps); new tables hold every row ("public"."booking_audit": 12/10)')),
    ).toBe(true);
    expect(lines.at(-1)).toBe("  parity (blue vs green, at the end): DIFFERENT — 3 row(s) differ in public.bookings");
  });

  it("paired: the trigger's rows, ids that differ, and the verdict when identical", () => {
    const lines = migrationSummaryLines({
      ...shared,
      paired: paired({
        audit: { blue: 40, green: 39, sameIds: false, unaudited: { blue: 0, green: 1 } },
        parity: { identical: true, summary: "rows and schema identical" },
      }),
    });
    expect(
      lines.some((l) => l.includes("40 row(s) on blue, 39 on green, DIFFERENT ids; bookings since the trigger without their audit row: blue 0, green 1")),
    ).toBe(true);
    expect(lines.at(-1)).toBe("  parity (blue vs green, at the end): IDENTICAL — rows and schema identical");
  });
});
