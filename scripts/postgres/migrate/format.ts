// Human output of `npm run migrate`: lint findings with rule, statement and recipe; status per
// database; a run's steps, replication statements and schema parity.

import pc from "picocolors";
import type { LintReport } from "./lint.js";
import type { MigrateReport, StatusReport } from "./index.js";

export function formatLint(report: LintReport, options: { color?: boolean } = {}): string {
  const c = pc.createColors(options.color ?? false);
  const lines: string[] = [];
  for (const file of report.files) {
    const errors = file.findings.filter((f) => f.level === "error").length;
    const mark = errors > 0 ? c.red("✗") : c.green("✓");
    lines.push(`${mark} ${file.file}  (${file.phase}, ${file.statements} statement${file.statements === 1 ? "" : "s"})`);
    for (const f of file.findings) {
      const tag =
        f.level === "error"
          ? c.red("error")
          : f.level === "warning"
            ? c.yellow("warning")
            : f.allowedBecause !== undefined
              ? c.dim(`allowed (bluegreen:allow: ${f.allowedBecause})`)
              : c.dim("allowed in contract");
      const rule = f.source === "squawk" ? `squawk:${f.rule}` : `${f.rule}${f.squawk ? ` (squawk: ${f.squawk})` : ""}`;
      lines.push(`    ${tag} ${c.bold(rule)} at line ${f.line}: ${f.message}`);
      if (f.statement) lines.push(`      ${c.dim(f.statement)}`);
      if (f.recipe && f.level !== "allowed") lines.push(`      ${f.level === "error" ? "recipe" : "help"}: ${f.recipe}`);
    }
  }
  if (report.files.length === 0) lines.push("no migration files");
  const squawk = report.squawk.available ? `squawk ${report.squawk.version ?? ""}`.trim() : `squawk not run: ${report.squawk.reason ?? "unavailable"}`;
  lines.push("");
  lines.push(
    `${report.ok ? c.green(c.bold("SAFE")) : c.red(c.bold("UNSAFE"))}  ${report.errors} error${report.errors === 1 ? "" : "s"}, ${report.warnings} warning${report.warnings === 1 ? "" : "s"} in ${report.files.length} file${report.files.length === 1 ? "" : "s"}  (${squawk})`,
  );
  return `${lines.join("\n")}\n`;
}

export function formatStatus(report: StatusReport, options: { color?: boolean } = {}): string {
  const c = pc.createColors(options.color ?? false);
  const lines: string[] = [`Migrations in ${report.dir} (${report.mode} database${report.mode === "paired" ? "s" : ""})`];
  for (const db of report.databases) {
    lines.push("");
    lines.push(c.bold(`${db.label}  ${db.display}`));
    for (const phase of ["expand", "contract"] as const) {
      const applied = db.applied[phase];
      lines.push(`  ${phase}: ${applied.length} applied, ${db.pending[phase].length} pending`);
      for (const a of applied) lines.push(`    ${c.green("✓")} ${a.name}  ${c.dim(a.runOn)}`);
      for (const p of db.pending[phase]) lines.push(`    ${c.yellow("·")} ${p}  pending`);
      for (const m of db.missingFiles[phase]) lines.push(`    ${c.red("?")} ${m}  journaled but no file in ${report.dir}/${phase}/`);
    }
  }
  if (report.mode === "paired")
    lines.push(
      "",
      report.inStep
        ? "blue and green have applied the same migrations"
        : c.yellow("blue and green have applied different migrations: run `npm run migrate -- up` to bring them in step"),
    );
  return `${lines.join("\n")}\n`;
}

export function formatRun(report: MigrateReport, options: { color?: boolean } = {}): string {
  const c = pc.createColors(options.color ?? false);
  const lines: string[] = [];
  if (!report.lint.ok || report.lint.warnings > 0) lines.push(formatLint(report.lint, options).trimEnd(), "");
  lines.push(c.bold(`${report.dryRun ? "Plan" : "Applied"}: ${report.phase}${report.order.length > 1 ? ` (${report.order.join(" first, then ")})` : ""}`));
  for (const n of report.notes) lines.push(`  ${c.dim(n)}`);
  for (const s of report.steps) {
    const how = s.noTransaction ? "without a transaction (CONCURRENTLY)" : "in a transaction";
    lines.push(
      `  ${report.dryRun ? "·" : c.green("✓")} ${s.database.padEnd(8)} ${report.phase}/${s.migration}  ${s.statements} statement${s.statements === 1 ? "" : "s"}, ${how}${s.durationMs !== undefined ? `, ${s.durationMs} ms` : ""}`,
    );
  }
  if (report.steps.length === 0) lines.push("  (nothing)");
  if (report.replication.length > 0) {
    lines.push(c.bold("Replication"));
    for (const r of report.replication) lines.push(`  ${r.on.padEnd(8)} ${r.sql}`);
  }
  for (const e of report.replicationChecks)
    lines.push(`  ${e.ok ? c.green("✓") : c.red("✗")} ${e.subscription} (${e.publisher} → ${e.subscriber}) ${e.ok ? "applying" : "NOT applying"}: ${e.detail}`);
  for (const r of report.rowChecks) lines.push(`  ${r.ok ? c.green("✓") : c.red("✗")} ${r.table}: ${r.detail}`);
  for (const w of report.warnings) lines.push(`  ${c.yellow("!")} ${w}`);
  if (report.schemaDifferences) {
    lines.push(c.bold("Schema parity"));
    if (report.schemaDifferences.length === 0) lines.push(`  ${c.green("✓")} blue and green have the same schema`);
    for (const d of report.schemaDifferences) lines.push(`  ${c.red("✗")} ${d.message}`);
  }
  if (report.failure) lines.push(`${c.red("✗")} ${report.failure.database}: ${report.failure.migration}: ${report.failure.message}`);
  lines.push("", `${report.ok ? c.green(c.bold("OK")) : c.red(c.bold("FAILED"))}  ${report.summary}`);
  return `${lines.join("\n")}\n`;
}
