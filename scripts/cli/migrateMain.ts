// `npm run migrate -- <status|lint|plan|up|contract>`: schema migrations through the blue/green
// cycle, over scripts/postgres/migrate/ (subcommands and flags in migrateProgram.ts, databases
// and the stack in migrateTargets.ts). See docs/migrations.md.

import { resolve } from "node:path";
import { ExitCode, UsageError, outputMode, type OutputMode } from "./common.js";
import { parse, processIo, type Io } from "./args.js";
import { HELP, SUBCOMMANDS, migrateProgram, type MigrateFlags, type Subcommand } from "./migrateProgram.js";
import { loadStackContext, targetsFrom, type StackContext } from "./migrateTargets.js";
import type { MigrateTargets, Phase } from "../postgres/migrate/index.js";

type MigrateModule = typeof import("../postgres/migrate/index.js");

function write(io: Io, text: string): void {
  io.stdout.write(text);
}

export async function migrateMain(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    write(io, `Usage: npm run migrate -- <${SUBCOMMANDS.join("|")}> [options]  (each with --help)\n\n${HELP}\n`);
    return first === undefined ? ExitCode.badInput : ExitCode.ok;
  }
  if (!(SUBCOMMANDS as readonly string[]).includes(first))
    throw new UsageError(`unknown subcommand ${JSON.stringify(first)}: one of ${SUBCOMMANDS.join(", ")} (see --help)`);
  const sub = first as Subcommand;
  const parsed = parse<MigrateFlags>(migrateProgram(sub, io), rest);
  if (!parsed) return ExitCode.ok;
  const flags = parsed.options;
  const mode = outputMode({ json: flags.json }, io.stdout as NodeJS.WriteStream);
  const m = await import("../postgres/migrate/index.js");
  const { formatRun, formatStatus } = await import("../postgres/migrate/format.js");
  let dir = resolve(io.cwd, flags.dir ?? "migrations");
  if (sub === "lint") return lint(m, flags, parsed.args, dir, mode, io);

  const phase: Phase = sub === "contract" ? "contract" : sub === "plan" ? (flags.phase ?? "expand") : "expand";
  const dryRun = sub === "plan" || flags.dryRun === true;
  let stackContext: StackContext | null = null;
  // With a stack: its config (rollout.migrationsDir; contract: the journal, contractAfterSeconds, the snapshot).
  if (flags.stack || (sub === "contract" && flags.outputs)) {
    stackContext = await loadStackContext(flags, io);
    if (flags.dir === undefined) dir = resolve(io.cwd, stackContext.config.rollout.migrationsDir);
  }
  const targets = await targetsFrom(flags, phase, io, stackContext?.raw);
  if (sub === "status") {
    const report = await m.migrationStatus(targets, dir);
    write(io, mode.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report, { color: mode.color }));
    return ExitCode.ok;
  }
  if (sub === "contract" && !dryRun && !(await closeRollbackPath(m, targets, stackContext, flags, io))) return ExitCode.failed;
  const log = mode.json ? undefined : (line: string) => io.stderr.write(`${line}\n`);
  const report = await m.runMigrations(targets, { dir, phase, dryRun, squawk: flags.squawk, ...(log ? { log } : {}) });
  write(io, mode.json ? `${JSON.stringify(report, null, 2)}\n` : formatRun(report, { color: mode.color }));
  return report.ok ? ExitCode.ok : ExitCode.failed;
}

/** `migrate lint [FILE...]`: the named files (phase by folder or --phase), else every file in DIR. */
async function lint(m: MigrateModule, flags: MigrateFlags, args: string[], dir: string, mode: OutputMode, io: Io): Promise<ExitCode> {
  const { formatLint } = await import("../postgres/migrate/format.js");
  let files;
  if (args.length > 0) {
    files = await Promise.all(
      args.map((f) => {
        const phase = flags.phase ?? m.phaseOfPath(f);
        if (!phase) throw new UsageError(`${f}: not in an expand/ or contract/ folder: give --phase expand or --phase contract`);
        return m.readMigrationFile(resolve(io.cwd, f), phase);
      }),
    );
  } else {
    // --phase with a directory: that phase's folder only (DIR/expand or DIR/contract).
    const all = await m.loadMigrations(dir);
    files = flags.phase ? all[flags.phase] : [...all.expand, ...all.contract];
  }
  const report = await m.lintMigrations(files, { squawk: flags.squawk });
  write(io, mode.json ? `${JSON.stringify(report, null, 2)}\n` : formatLint(report, { color: mode.color }));
  return report.ok ? ExitCode.ok : ExitCode.failed;
}

/**
 * Before contract: with a stack, the cutover journal's gate and a snapshot of the writer; without,
 * the operator's --confirm-no-rollback. Paired: reverse replication stopped. False when refused.
 */
async function closeRollbackPath(m: MigrateModule, targets: MigrateTargets, stackContext: StackContext | null, flags: MigrateFlags, io: Io): Promise<boolean> {
  const closing = `contract closes the rollback path: blue's version cannot run on the contracted schema${targets.mode === "paired" ? ", and reverse replication (green → blue) is stopped" : ""}`;
  if (stackContext) {
    const gate = await stackContext.gate();
    if (!gate.allowed) {
      io.stderr.write(`contract refused: ${gate.reason}\n`);
      return false;
    }
    io.stderr.write(`contract: ${gate.reason}\ncontract: ${closing}\n`);
    const snapshot = await stackContext.snapshot(targets.mode === "paired" ? targets.writer : "blue");
    io.stderr.write(`contract: snapshot ${snapshot} available before anything changes\n`);
  } else {
    if (!flags.confirmNoRollback) {
      throw new UsageError(
        `${closing}. Give --confirm-no-rollback once the cutover is verified and the rollback window (rollout.contractAfterSeconds) is over, or --stack NAME to have the cutover journal checked`,
      );
    }
    io.stderr.write(`contract: ${closing}; no snapshot is taken with database URLs: take one first if you have not\n`);
  }
  if (targets.mode === "paired") {
    const stopped = await m.closeRollbackPath(targets);
    for (const line of stopped) io.stderr.write(`contract: ${line}\n`);
  }
  return true;
}
