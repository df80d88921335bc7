// The migration scenarios' lines in the demo's closing summary: what was applied, contract, v2's
// notes; paired databases also the writes lost at each checkpoint on both sides (must be 0), the
// rows per table on both sides, the trigger-written table, and the parity verdict, last.

import type { DemoMigration, PairedMigration } from "./types.js";

export function migrationSummaryLines(m: DemoMigration): string[] {
  const lines = [
    `  migration: expand ${m.expandApplied.join(", ") || "(none)"} in cutover 1's migrating phase; cutover 1 ${m.firstCutover}, cutover 2 ${m.secondCutover}; ` +
      `contract ${m.contract.ok ? "applied" : `NOT applied (${m.contract.summary})`}${m.contract.snapshotId ? ` after snapshot ${m.contract.snapshotId}` : ""}`,
    `  migration: v2 bookings ${m.v2Bookings} (${m.v2BookingsWithNote} with their note), NULL notes ${m.nullNotes}, note NOT NULL: ${m.noteRequired}`,
  ];
  return m.paired ? [...lines, ...pairedLines(m.paired)] : lines;
}

function pairedLines(p: PairedMigration): string[] {
  const lines = [`  migration: applied in this order: ${p.applied.join(", ")}`];
  if (p.expandSummary) lines.push(`  migration: expand said: ${p.expandSummary}`);
  lines.push("  writes lost                          serving   acknowledged   lost on serving   lost on the other side");
  for (const c of p.checkpoints) {
    lines.push(
      `  ${c.label.padEnd(36)} ${c.serving.padEnd(9)} ${String(c.acknowledged).padEnd(14)} ${String(c.lostOnServing).padEnd(17)} ${c.lostOnOther}${c.caughtUpMs === null ? " (replication did NOT catch up)" : ""}`,
    );
  }
  lines.push("  rows per table                       blue         green");
  for (const t of p.tables) lines.push(`  ${t.table.padEnd(36)} ${String(t.blue).padEnd(12)} ${t.green}${t.blue === t.green ? "" : "  DIFFERENT"}`);
  lines.push(
    `  trigger-written booking_audit: ${p.audit.blue} row(s) on blue, ${p.audit.green} on green, ${p.audit.sameIds ? "the same ids" : "DIFFERENT ids"}; ` +
      `bookings since the trigger without their audit row: blue ${p.audit.unaudited.blue}, green ${p.audit.unaudited.green}; note NOT NULL: blue ${p.noteRequired.blue}, green ${p.noteRequired.green}`,
  );
  lines.push(`  parity (blue vs green, at the end): ${p.parity.identical ? "IDENTICAL" : "DIFFERENT"} — ${p.parity.summary}`);
  return lines;
}
