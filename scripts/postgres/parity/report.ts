// The human report (stdout) and the JSON report file the engine's preflight reads.

import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import pc from "picocolors";
import type { ColumnChange, ParityReport, RowKey } from "./types.js";
import { escapeText } from "./changedRows.js";

/** Where the newest parity result lives; the cutover preflight reads it. */
export const DEFAULT_REPORT_PATH = "reports/parity-latest.json";

/** Write atomically (temp file + rename), creating the directory. */
export async function writeReport(report: ParityReport, file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(report, null, 2)}\n`);
  await rename(tmp, file);
}

/** Key values with characters a reader cannot see (or a decomposed form) get their escaped form beside them. */
function keyText(key: RowKey): string {
  return Object.entries(key)
    .map(([k, v]) => (v.normalize("NFC") !== v || /[\p{Cf}\p{Cc}\u00a0\u2000-\u200b\u3000]/u.test(v) ? `${k}=${v} ("${escapeText(v)}")` : `${k}=${v}`))
    .join(", ");
}

function value(v: string | null): string {
  return v === null ? "NULL" : JSON.stringify(v);
}

/** A changed column's values, and for values that print the same, where they differ and their escaped forms. */
function changeLines(col: ColumnChange): string[] {
  const lines = [`          ${col.column}: blue ${value(col.blue)} → green ${value(col.green)}`];
  const inv = col.invisible;
  if (inv) {
    const where = inv.firstDifferentByte === null ? "beyond the first 200 characters shown" : `from byte ${inv.firstDifferentByte}`;
    lines.push(`            (the values print the same; they differ ${where}: blue "${inv.blueEscaped}" → green "${inv.greenEscaped}")`);
  }
  return lines;
}

function ruleLines(report: ParityReport): string[] {
  if (!report.equalityRules || report.equalityRules.length === 0) return [];
  const lines = ["Equality rules applied (docs/parity.md)"];
  for (const r of report.equalityRules) {
    const tables = r.tables.length > 5 ? `${r.tables.slice(0, 5).join(", ")} and ${r.tables.length - 5} more` : r.tables.join(", ");
    lines.push(`  · ${r.text} — ${tables}`);
  }
  return [...lines, ""];
}

export function formatReport(report: ParityReport, options: { color?: boolean } = {}): string {
  const c = pc.createColors(options.color ?? false);
  const lines: string[] = [];
  lines.push(c.bold("Parity: blue → green"));
  lines.push(`  blue   ${report.blue.target}  (PostgreSQL ${report.blue.serverVersion})`);
  lines.push(`  green  ${report.green.target}  (PostgreSQL ${report.green.serverVersion})`);
  lines.push(
    `  hashes ${report.hashMode === "server" ? "server-side (hash_record_extended)" : "canonical text (md5)"}${report.hashModeReason ? ` — ${report.hashModeReason}` : ""}`,
  );
  lines.push("");
  if (report.schemaDifferences.length > 0) {
    lines.push(c.bold("Schema differences"));
    for (const d of report.schemaDifferences) lines.push(`  ${c.yellow("!")} ${d.message}`);
    lines.push("");
  }
  if (report.privilegeWarnings && report.privilegeWarnings.length > 0) {
    lines.push(c.bold("Privilege warnings (roles on both sides; --strict-privileges makes them differences)"));
    for (const d of report.privilegeWarnings) lines.push(`  ${c.yellow("?")} ${d.message}`);
    lines.push("");
  }
  if (report.largeObjects) {
    const lo = report.largeObjects;
    lines.push(
      lo.compared
        ? `Large objects: ${lo.blue} on blue, ${lo.green} on green (owner, privileges and content compared per OID)`
        : `Large objects: ${lo.note ?? "not compared"}`,
    );
    lines.push("");
  }
  lines.push(...ruleLines(report));
  lines.push(c.bold("Tables"));
  const width = Math.max(10, ...report.tables.map((t) => t.table.length));
  for (const t of report.tables) {
    const mark = t.status === "identical" ? c.green("✓") : c.red("✗");
    const rows =
      t.blueRows === t.greenRows
        ? `${t.blueRows.toLocaleString("en-US")} rows`
        : `${t.blueRows.toLocaleString("en-US")} rows on blue, ${t.greenRows.toLocaleString("en-US")} on green`;
    const flag = t.noPrimaryKey ? c.yellow("  [no primary key: count + checksum only]") : "";
    lines.push(`  ${mark} ${t.table.padEnd(width)}  ${rows}${flag}`);
    if (t.status === "different" && t.key) {
      const kinds = [
        t.missingOnGreen.count > 0 ? `${t.missingOnGreen.count} missing on green` : "",
        t.extraOnGreen.count > 0 ? `${t.extraOnGreen.count} extra on green` : "",
        t.changed.count > 0 ? `${t.changed.count} changed` : "",
        ...(["blue", "green"] as const).map((side) => {
          const n = t.duplicateKeys?.[side].count ?? 0;
          return n > 0 ? `${n} key${n === 1 ? "" : "s"} duplicated on ${side}` : "";
        }),
      ].filter(Boolean);
      lines.push(`      ${kinds.join(", ")}${t.truncated ? " (at least; listing stopped at --limit)" : ""}`);
      for (const side of ["blue", "green"] as const) {
        for (const d of t.duplicateKeys?.[side].keys ?? [])
          lines.push(`      ${c.yellow(`= duplicated on ${side.padEnd(5)}`)}  ${keyText(d.key)} (${d.rows} rows)`);
      }
      for (const k of t.missingOnGreen.keys) lines.push(`      ${c.red("- missing on green")}  ${keyText(k)}`);
      for (const k of t.extraOnGreen.keys) lines.push(`      ${c.green("+ extra on green  ")}  ${keyText(k)}`);
      for (const r of t.changed.rows) {
        lines.push(`      ${c.yellow("~ changed         ")}  ${keyText(r.key)}: ${r.columns.map((col) => col.column).join(", ")}`);
        for (const col of r.columns) lines.push(...changeLines(col));
      }
    } else if (t.status === "different") {
      lines.push(`      checksums differ${t.blueRows !== t.greenRows ? " and counts differ" : ""}; rows cannot be named without a key`);
    }
    for (const note of t.notes) if (!(t.noPrimaryKey && note.startsWith("no primary key"))) lines.push(`      ${c.dim(`note: ${note}`)}`);
  }
  if (report.tables.length === 0) lines.push("  (no tables compared)");
  if (report.sequences.length > 0) {
    lines.push("");
    lines.push(c.bold("Sequences"));
    for (const s of report.sequences) {
      const mark = s.status === "ok" ? c.green("✓") : c.red("✗");
      const detail =
        s.status === "ok"
          ? `green ${s.greenLastValue}, blue ${s.blueLastValue ?? "—"}${s.greenMaxKey !== null ? `, max key ${s.greenMaxKey}` : ""}`
          : (s.message ?? "behind");
      lines.push(`  ${mark} ${s.sequence}  ${detail}`);
    }
  }
  lines.push("");
  const seconds = (report.durationMs / 1000).toFixed(2);
  lines.push(`${report.identical ? c.green(c.bold("IDENTICAL")) : c.red(c.bold("DIFFERENT"))}  ${report.summary}  (${seconds} s)`);
  return `${lines.join("\n")}\n`;
}
