// `npm run migrate -- <status|lint|plan|up|contract>`: schema migrations through the blue/green
// cycle, over scripts/postgres/migrate/. See docs/migrations.md.

import { Command, Option } from "commander";
import { resolve } from "node:path";
import { ExitCode, UsageError, outputMode } from "./common.js";
import { parse, processIo, type Io } from "./args.js";
import type { MigrateDatabase, MigrateTargets, Phase } from "../postgres/migrate/index.js";

const SUBCOMMANDS = ["status", "lint", "plan", "up", "contract"] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

interface Flags {
  dir: string;
  databaseUrl?: string;
  blue?: string;
  green?: string;
  stack?: string;
  outputs?: string;
  database?: string;
  writer?: "blue" | "green";
  phase?: Phase;
  dryRun?: boolean;
  json?: boolean;
  squawk: boolean;
  confirmNoRollback?: boolean;
}

const HELP = `Schema migrations through the blue/green cycle (docs/migrations.md).

Migrations are SQL files in DIR/expand/ (additive: applied before traffic moves, blue keeps
working) and DIR/contract/ (destructive: only after a verified cutover), applied in name order.

Subcommands:
  status                  what each database has applied and what is pending
  lint [FILE...]          blue/green compatibility rules + squawk; default: every file in DIR
  plan [--phase P]        what up (expand, default) or contract would run, in order
  up                      lint, then apply pending expand migrations (paired: both sides, then schema parity)
  contract                apply pending contract migrations: closes the rollback path

Exit codes: 0 ok, 1 refused by the lint / a migration failed / schemas differ / contract not allowed yet,
2 bad input (nothing changed), 3 a database unreachable or login refused.`;

function buildProgram(sub: Subcommand, io: Io): Command {
  const cmd = new Command(`npm run migrate -- ${sub}`)
    .description(HELP)
    .helpOption("-h, --help", "show this help")
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t), outputError: () => undefined })
    .option("--dir <dir>", "migrations directory (DIR/expand, DIR/contract)", "migrations")
    .option("--json", "machine output (one JSON document) on stdout")
    .option("--no-squawk", "lint with our rules only (squawk's locking warnings left out)");
  if (sub === "lint") {
    cmd.argument("[files...]").addOption(new Option("--phase <phase>", "lint FILEs as this phase (default: by folder)").choices(["expand", "contract"]));
    return cmd;
  }
  cmd.allowExcessArguments(false);
  cmd
    .option("--database-url <url>", "the one database (database.mode shared), or env DATABASE_URL")
    .option("--blue <url>", "blue's database (database.mode paired), or env BLUE_DATABASE_URL")
    .option("--green <url>", "green's database (paired), or env GREEN_DATABASE_URL")
    .option("--stack <name>", "databases from this stack's outputs (endpoints + Secrets Manager secrets, TLS verify-full)")
    .option("--outputs <file>", "stack outputs JSON instead of calling pulumi")
    .option("--database <name>", "database name with --stack/--outputs")
    .addOption(new Option("--writer <color>", "paired: the color serving writes now (default: blue for expand, green for contract)").choices(["blue", "green"]));
  if (sub === "plan") cmd.addOption(new Option("--phase <phase>", "which phase to plan").choices(["expand", "contract"]).default("expand"));
  if (sub === "up" || sub === "contract") cmd.option("--dry-run", "print what would run; change nothing");
  if (sub === "contract") cmd.option("--confirm-no-rollback", "without --stack: you confirm the cutover was verified and the rollback window is over");
  return cmd;
}

async function urlDatabase(label: "database" | "blue" | "green", url: string): Promise<MigrateDatabase> {
  const { targetFromUrl } = await import("../postgres/parity/index.js");
  const target = await targetFromUrl(label === "database" ? "blue" : label, url).catch((error: Error) => {
    throw new UsageError(error.message.replace(/^--blue/, label === "database" ? "--database-url" : "--blue"));
  });
  return { label, display: target.display, config: target.config };
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/;

async function targetsFrom(flags: Flags, phase: Phase, io: Io): Promise<MigrateTargets> {
  const env = io.env;
  const url = flags.databaseUrl ?? (flags.blue || flags.green ? undefined : env.DATABASE_URL);
  const blue = flags.blue ?? (url ? undefined : env.BLUE_DATABASE_URL);
  const green = flags.green ?? (url ? undefined : env.GREEN_DATABASE_URL);
  const writer = flags.writer ?? (phase === "expand" ? "blue" : "green");
  if (flags.stack || flags.outputs) {
    if (flags.databaseUrl || flags.blue || flags.green) throw new UsageError("give either --stack/--outputs or database URLs, not both");
    const [{ loadRawOutputs, validateStackName }, { connectionsFromOutputs, databaseConnections }] = await Promise.all([
      import("./stackOutputs.js"),
      import("../postgres/stackDatabases.js"),
    ]);
    const raw = await loadRawOutputs({ stack: flags.stack === undefined ? undefined : validateStackName(flags.stack), outputsFile: flags.outputs });
    const o = (raw.raw ?? {}) as Record<string, unknown>;
    if (o.databaseMode === "shared") {
      // One database for both colors: blue's endpoint and secret name it.
      const endpoint = (o.databaseEndpoints as Record<string, unknown> | undefined)?.blue;
      const arn = (o.databaseSecretArns as Record<string, unknown> | undefined)?.blue;
      const m = typeof endpoint === "string" ? HOST_PORT.exec(endpoint.trim()) : null;
      if (!m || typeof arn !== "string") throw new UsageError(`${raw.source}: databaseEndpoints.blue ("host:port") and databaseSecretArns.blue are needed for the shared database`);
      const where = { host: (m[1] ?? m[2])!, port: m[3] ? Number(m[3]) : 5432 };
      const db = await databaseConnections(
        { endpoints: { blue: where, green: where }, secretArns: { blue: arn, green: arn }, ...(typeof o.databaseName === "string" ? { databaseName: o.databaseName } : {}), source: raw.source },
        { database: flags.database },
      );
      return { mode: "shared", database: { label: "database", display: db.blue.display, config: db.blue.config } };
    }
    const c = await connectionsFromOutputs(raw, { database: flags.database, purpose: "migrate" });
    return { mode: "paired", writer, blue: { label: "blue", display: c.blue.display, config: c.blue.config }, green: { label: "green", display: c.green.display, config: c.green.config } };
  }
  if (url) {
    if (blue || green) throw new UsageError("give --database-url (shared) or --blue and --green (paired), not both");
    return { mode: "shared", database: await urlDatabase("database", url) };
  }
  if (blue && green) return { mode: "paired", writer, blue: await urlDatabase("blue", blue), green: await urlDatabase("green", green) };
  if (blue || green) throw new UsageError("paired databases need both --blue and --green");
  throw new UsageError("which database? --database-url URL (shared), --blue URL --green URL (paired), or --stack NAME");
}

function write(io: Io, text: string): void {
  io.stdout.write(text);
}

export async function migrateMain(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    write(io, `Usage: npm run migrate -- <${SUBCOMMANDS.join("|")}> [options]  (each with --help)\n\n${HELP}\n`);
    return first === undefined ? ExitCode.badInput : ExitCode.ok;
  }
  if (!(SUBCOMMANDS as readonly string[]).includes(first)) throw new UsageError(`unknown subcommand ${JSON.stringify(first)}: one of ${SUBCOMMANDS.join(", ")} (see --help)`);
  const sub = first as Subcommand;
  const parsed = parse<Flags>(buildProgram(sub, io), rest);
  if (!parsed) return ExitCode.ok;
  const flags = parsed.options;
  const mode = outputMode({ json: flags.json }, io.stdout as NodeJS.WriteStream);
  const m = await import("../postgres/migrate/index.js");
  const { formatLint, formatRun, formatStatus } = await import("../postgres/migrate/format.js");
  const dir = resolve(io.cwd, flags.dir);

  if (sub === "lint") {
    let files;
    if (parsed.args.length > 0) {
      files = await Promise.all(
        parsed.args.map((f) => {
          const phase = flags.phase ?? m.phaseOfPath(f);
          if (!phase) throw new UsageError(`${f}: not in an expand/ or contract/ folder: give --phase expand or --phase contract`);
          return m.readMigrationFile(resolve(io.cwd, f), phase);
        }),
      );
    } else {
      const all = await m.loadMigrations(dir);
      files = [...all.expand, ...all.contract].map((f) => (flags.phase ? { ...f, phase: flags.phase } : f));
    }
    const report = await m.lintMigrations(files, { squawk: flags.squawk });
    write(io, mode.json ? `${JSON.stringify(report, null, 2)}\n` : formatLint(report, { color: mode.color }));
    return report.ok ? ExitCode.ok : ExitCode.failed;
  }

  const phase: Phase = sub === "contract" ? "contract" : sub === "plan" ? (flags.phase ?? "expand") : "expand";
  const targets = await targetsFrom(flags, phase, io);
  if (sub === "status") {
    const report = await m.migrationStatus(targets, dir);
    write(io, mode.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report, { color: mode.color }));
    return ExitCode.ok;
  }
  const dryRun = sub === "plan" || flags.dryRun === true;
  if (sub === "contract" && !dryRun) {
    if (!flags.confirmNoRollback) {
      throw new UsageError(
        "contract closes the rollback path (blue can no longer run on the contracted schema" +
          `${targets.mode === "paired" ? "; reverse replication green → blue is stopped" : ""}). ` +
          "Give --confirm-no-rollback once the cutover is verified and the rollback window (rollout.contractAfterSeconds) is over",
      );
    }
    io.stderr.write(`contract: this closes the rollback path${targets.mode === "paired" ? " and stops reverse replication" : ""}; take a snapshot of the database first if you have not\n`);
    if (targets.mode === "paired") {
      const stopped = await m.closeRollbackPath(targets);
      for (const line of stopped) io.stderr.write(`contract: ${line}\n`);
    }
  }
  const log = mode.json ? undefined : (line: string) => io.stderr.write(`${line}\n`);
  const report = await m.runMigrations(targets, { dir, phase, dryRun, squawk: flags.squawk, ...(log ? { log } : {}) });
  write(io, mode.json ? `${JSON.stringify(report, null, 2)}\n` : formatRun(report, { color: mode.color }));
  return report.ok ? ExitCode.ok : ExitCode.failed;
}
