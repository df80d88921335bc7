// The SchemaMigrator port (scripts/core/ports.ts) over this module: the cutover's migrating
// phase applies the pending expand migrations of rollout.migrationsDir, blue still the writer.

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { SchemaMigrationResult, SchemaMigrator } from "../../core/ports.js";
import { migrationStatus, runMigrations, type MigrateReport, type MigrateTargets } from "./index.js";

export interface SchemaMigratorOptions {
  /** The migrations directory (holding expand/ and contract/). */
  dir: string;
  /** Resolved on first use, so a cutover without pending migrations opens no connection early. */
  targets: () => Promise<MigrateTargets>;
  /** Run squawk in the lint (default true). */
  squawk?: boolean;
  log?: (line: string) => void;
}

function describeFailure(report: MigrateReport): string {
  if (!report.lint.ok) {
    const errors = report.lint.files.flatMap((f) => f.findings.filter((x) => x.level === "error").map((x) => `${f.name}: ${x.rule} at line ${x.line}`));
    return `${report.summary} (${errors.slice(0, 3).join("; ")}${errors.length > 3 ? `; ${errors.length - 3} more` : ""}; see \`npm run migrate -- lint\`)`;
  }
  if (report.schemaDifferences && report.schemaDifferences.length > 0) {
    return `${report.summary}: ${report.schemaDifferences
      .slice(0, 3)
      .map((d) => d.message)
      .join("; ")}`;
  }
  return report.summary;
}

export class PostgresSchemaMigrator implements SchemaMigrator {
  private targets: Promise<MigrateTargets> | null = null;

  constructor(private readonly options: SchemaMigratorOptions) {}

  private resolveTargets(): Promise<MigrateTargets> {
    return (this.targets ??= this.options.targets());
  }

  async pendingExpand(): Promise<string[]> {
    const status = await migrationStatus(await this.resolveTargets(), this.options.dir);
    const pending = new Set(status.databases.flatMap((d) => d.pending.expand));
    return [...pending].sort();
  }

  async expand(signal?: AbortSignal): Promise<SchemaMigrationResult> {
    const report = await runMigrations(await this.resolveTargets(), {
      ...(signal ? { signal } : {}),
      dir: this.options.dir,
      phase: "expand",
      squawk: this.options.squawk !== false,
      ...(this.options.log ? { log: this.options.log } : {}),
    });
    const applied = [...new Set(report.steps.map((s) => s.migration))];
    return { ok: report.ok, applied, summary: report.ok ? report.summary : describeFailure(report) };
  }
}

/** True when DIR/expand holds at least one .sql file: only then does the cutover get a migrating phase. */
export async function hasExpandMigrations(dir: string): Promise<boolean> {
  try {
    return (await readdir(join(dir, "expand"))).some((f) => f.toLowerCase().endsWith(".sql") && !f.startsWith("."));
  } catch {
    return false;
  }
}
