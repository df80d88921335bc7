// The paired migration scenario's data checks, on both databases: acknowledged writes at a
// checkpoint (on the serving side, then on the other once replication from the serving side has
// caught up), the expanded schema on each side, rows per table, the trigger-written table, and
// the order the migrations were applied in (from each side's migration journal).

import type { Color } from "../core/ports.js";
import { migrationStatus, type MigrateTargets } from "../postgres/migrate/index.js";
import { verifyAcknowledgedWrites } from "../local/load.js";
import type { Sandbox } from "./sandbox.js";
import { columnExists, query } from "./migrateSteps.js";
import type { MigrationCheckpoint, PairedMigration } from "./types.js";

export const otherColor = (color: Color): Color => (color === "blue" ? "green" : "blue");
export const urlOf = (sandbox: Sandbox, color: Color): string => (color === "blue" ? sandbox.blueUrl : sandbox.greenUrl);

/**
 * Every write acknowledged so far must be on the serving side now, and on the other side once it
 * has applied everything the serving side had committed (the writes are taken before the wait, so
 * each of them lies before the position waited for).
 */
export async function checkpoint(sandbox: Sandbox, label: string, serving: Color, say: (text: string) => void): Promise<MigrationCheckpoint> {
  const other = otherColor(serving);
  const acknowledged = sandbox.load!.acknowledgedSoFar();
  const onServing = await sandbox.step(verifyAcknowledgedWrites(urlOf(sandbox, serving), acknowledged));
  const direction = serving === "blue" ? "blue-to-green" : "green-to-blue";
  const caught = await sandbox.step(sandbox.replication!.waitForCatchUp(direction, 30_000)).catch((error: unknown) => error as Error);
  const onOther = await sandbox.step(verifyAcknowledgedWrites(urlOf(sandbox, other), acknowledged));
  const figures: MigrationCheckpoint = {
    label,
    serving,
    acknowledged: acknowledged.length,
    lostOnServing: onServing.missing.length,
    lostOnOther: onOther.missing.length,
    caughtUpMs: caught instanceof Error ? null : caught.waitedMs,
  };
  say(
    `writes lost ${label}: ${figures.lostOnServing} on ${serving} (serving), ${figures.lostOnOther} on ${other} ` +
      `(${figures.caughtUpMs === null ? `replication ${direction} did NOT catch up: ${(caught as Error).message}` : `caught up in ${figures.caughtUpMs} ms`}) ` +
      `of ${figures.acknowledged} acknowledged`,
  );
  return figures;
}

export const checkpointOk = (c: MigrationCheckpoint): boolean => c.lostOnServing === 0 && c.lostOnOther === 0 && c.caughtUpMs !== null;

/** bookings.note, booking_audit and the trigger that writes it, on one side. */
export async function expandedSchemaOn(url: string): Promise<boolean> {
  const [note, audit] = await Promise.all([
    columnExists(url, "bookings", "note"),
    query<{ table: string | null; triggers: string }>(
      url,
      `SELECT to_regclass('public.booking_audit')::text AS table,
              (SELECT count(*)::text FROM pg_trigger WHERE tgrelid = 'public.bookings'::regclass AND tgname = 'bookings_audit') AS triggers`,
    ),
  ]);
  return note && audit[0]?.table !== null && audit[0]?.triggers === "1";
}

async function rowsPerTable(url: string): Promise<Map<string, number>> {
  const tables = await query<{ name: string }>(
    url,
    "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1",
  );
  const counts = new Map<string, number>();
  for (const { name } of tables) {
    const rows = await query<{ n: string }>(url, `SELECT count(*)::text AS n FROM public."${name.replace(/"/g, '""')}"`);
    counts.set(name, Number(rows[0]?.n ?? 0));
  }
  return counts;
}

/** Rows per table of the public schema on both sides (-1: the table is missing on that side). */
export async function tableRows(blueUrl: string, greenUrl: string): Promise<PairedMigration["tables"]> {
  const [blue, green] = await Promise.all([rowsPerTable(blueUrl), rowsPerTable(greenUrl)]);
  const names = [...new Set([...blue.keys(), ...green.keys()])].sort();
  return names.map((table) => ({ table, blue: blue.get(table) ?? -1, green: green.get(table) ?? -1 }));
}

/**
 * The trigger-written table on both sides: its ids must be the same, and every booking inserted
 * since the trigger exists must have its audit row. Identity keys only grow, and CREATE TRIGGER
 * waits for the inserts in flight, so every booking from the first audited one on was inserted
 * with the trigger in place (on the writer; the subscriber receives the audit row by replication).
 */
export async function auditFigures(blueUrl: string, greenUrl: string): Promise<PairedMigration["audit"]> {
  const ids = async (url: string) => (await query<{ id: string }>(url, "SELECT id::text FROM booking_audit ORDER BY id")).map((r) => r.id);
  const unaudited = async (url: string) =>
    Number(
      (
        await query<{ n: string }>(
          url,
          `SELECT count(*)::text AS n FROM bookings b
            WHERE b.id >= (SELECT min(booking_id) FROM booking_audit) AND NOT EXISTS (SELECT 1 FROM booking_audit a WHERE a.booking_id = b.id)`,
        )
      )[0]?.n ?? -1,
    );
  const [blueIds, greenIds, blueUnaudited, greenUnaudited] = await Promise.all([ids(blueUrl), ids(greenUrl), unaudited(blueUrl), unaudited(greenUrl)]);
  const sameIds = blueIds.length === greenIds.length && blueIds.every((id, index) => id === greenIds[index]);
  return { blue: blueIds.length, green: greenIds.length, sameIds, unaudited: { blue: blueUnaudited, green: greenUnaudited } };
}

/** The migrations each side's journal holds, in the order they ran across both sides. */
export async function appliedOrder(targets: MigrateTargets, dir: string): Promise<string[]> {
  const status = await migrationStatus(targets, dir);
  const entries = status.databases.flatMap((db) =>
    (["expand", "contract"] as const).flatMap((phase) => db.applied[phase].map((entry) => ({ at: entry.runOn, what: `${db.label}:${phase}/${entry.name}` }))),
  );
  return entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).map((entry) => entry.what);
}

/** bookings.note NOT NULL on one side. */
export async function noteRequiredOn(url: string): Promise<boolean> {
  const rows = await query<{ not_null: boolean | null }>(
    url,
    "SELECT (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'bookings'::regclass AND attname = 'note') AS not_null",
  );
  return rows[0]?.not_null === true;
}
