// Text rendering of a sync status, for `sync status` and for other commands that show replication.

import pc from "picocolors";
import type { SyncStatus } from "./status.js";

export function bytes(n: number | null): string {
  if (n === null) return "unknown";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** A status as aligned lines; `dir` names the colors (source → target). */
export function formatStatus(status: SyncStatus, dir: { source: string; target: string }, color = false): string {
  const c = pc.createColors(color);
  const lines: string[] = [];
  lines.push(`${c.bold(`sync ${status.name}`)} ${dir.source} → ${dir.target}: ${status.healthy ? c.green("healthy") : c.red("NOT healthy")}`);
  const sub = status.subscription;
  lines.push(
    `  subscription  ${sub.exists ? `${sub.enabled ? "enabled" : c.red("disabled")}, ${status.workerRunning ? `apply worker pid ${status.workerPid}` : c.red("no apply worker")}, origin ${sub.origin ?? "any"}` : c.red(`missing on ${dir.target}`)}`,
  );
  lines.push(`  publication   ${status.publication.exists ? `${status.publication.tables.length} table(s)` : c.red(`missing on ${dir.source}`)}`);
  lines.push(`  tables        ${status.tablesReady}/${status.tablesTotal} ready`);
  const width = Math.max(0, ...status.tables.map((t) => t.table.length));
  for (const t of status.tables) {
    const state = t.state === "ready" ? c.green(t.state) : c.yellow(t.state);
    lines.push(`    ${t.table.padEnd(width)}  ${state}`);
  }
  const secs = status.lag.seconds === null ? "unknown" : `${status.lag.seconds.toFixed(1)} s`;
  const age = status.lastMessageAgeSeconds === null ? "" : ` (last message from ${dir.source} ${status.lastMessageAgeSeconds.toFixed(1)} s ago)`;
  lines.push(`  lag           ${bytes(status.lag.bytes)}, ${secs}${age}`);
  if (status.slot) {
    const s = status.slot;
    lines.push(
      `  slot          ${s.name} on ${dir.source}: ${s.active ? "active" : c.red("inactive")}, wal_status ${s.walStatus ?? "unknown"}, ` +
        `retains ${bytes(s.retainedBytes)}, safe_wal_size ${s.safeWalSizeBytes === null ? "unlimited" : bytes(s.safeWalSizeBytes)}`,
    );
  } else {
    lines.push(`  slot          ${c.red(`none on ${dir.source}`)}`);
  }
  for (const s of status.syncSlots) lines.push(`                initial-copy slot ${s.name} (${s.active ? "active" : "inactive"})`);
  if (status.errors) lines.push(`  errors        apply ${status.errors.apply}, initial copy ${status.errors.sync}`);
  for (const p of status.problems) lines.push(`  ${c.red("!")} ${p}`);
  return `${lines.join("\n")}\n`;
}
