// `npm run migrate -- <status|lint|plan|up|contract>`: schema migrations through the blue/green
// cycle, over scripts/postgres/migrate/. See docs/migrations.md.

import { Command, Option } from "commander";
import { resolve } from "node:path";
import { urlFromEnv } from "./argvSecrets.js";
import { ExitCode, UsageError, outputMode } from "./common.js";
import { parse, processIo, type Io } from "./args.js";
import type { MigrateDatabase, MigrateTargets, Phase } from "../postgres/migrate/index.js";
import type { ContractGate } from "../core/engine/migrate.js";
import type { StackConfig } from "../../infra/config.js";

const SUBCOMMANDS = ["status", "lint", "plan", "up", "contract"] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

interface Flags {
  dir?: string;
  databaseUrl?: string;
  databaseUrlEnv?: string;
  blueEnv?: string;
  greenEnv?: string;
  config?: string;
  blue?: string;
  green?: string;
  stack?: string;
  outputs?: string;
  allowUnverifiedStack?: boolean;
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
    .description("Schema migrations through the blue/green cycle (docs/migrations.md).")
    .addHelpText("after", `\n${HELP}`)
    .helpOption("-h, --help", "show this help")
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t), outputError: () => undefined })
    .option("--dir <dir>", "migrations directory (DIR/expand, DIR/contract); default rollout.migrationsDir with --stack, else migrations")
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
    .option("--database-url-env <var>", "the one database's URL from this environment variable (a URL with a password is refused on the command line)")
    .option("--blue-env <var>", "blue's database URL from this environment variable")
    .option("--green-env <var>", "green's database URL from this environment variable")
    .option(
      "--stack <name>",
      "databases from this stack's outputs (endpoints + Secrets Manager secrets, TLS verify-full) unless URLs are given; its config and (contract) its cutover journal",
    )
    .option("--outputs <file>", "stack outputs JSON instead of calling pulumi; with --stack it must be that stack's (pulumiStack)")
    .option(
      "--allow-unverified-stack",
      "with --stack: accept an --outputs FILE that does not name its stack (outputs of a stack older than pulumiProject/pulumiStack)",
    )
    .option("--database <name>", "database name with --stack/--outputs")
    .option("--config <file>", "stack config file with --stack (default: Pulumi.<stack>.yaml): rollout.migrationsDir, rollout.contractAfterSeconds")
    .addOption(
      new Option("--writer <color>", "paired: the color serving writes now (default: blue for expand, green for contract)").choices(["blue", "green"]),
    );
  // Without --writer, the replication observed orders the sides wherever it runs one way.
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

async function targetsFrom(flags: Flags, phase: Phase, io: Io, raw?: { raw: unknown; source: string }): Promise<MigrateTargets> {
  const env = io.env;
  flags.databaseUrl ??= urlFromEnv(flags.databaseUrlEnv, "--database-url-env", env);
  flags.blue ??= urlFromEnv(flags.blueEnv, "--blue-env", env);
  flags.green ??= urlFromEnv(flags.greenEnv, "--green-env", env);
  const url = flags.databaseUrl ?? (flags.blue || flags.green ? undefined : env.DATABASE_URL);
  const blue = flags.blue ?? (url ? undefined : env.BLUE_DATABASE_URL);
  const green = flags.green ?? (url ? undefined : env.GREEN_DATABASE_URL);
  const writer = flags.writer ?? (phase === "expand" ? "blue" : "green");
  // URLs name the databases even with --stack (which then gives the config, the journal and the snapshot).
  if (!url && !blue && !green && (raw || flags.stack || flags.outputs)) {
    const { loadRawOutputs, validateStackName } = await import("../app/stackOutputs.js");
    const outputs =
      raw ??
      (await loadRawOutputs({
        stack: flags.stack === undefined ? undefined : validateStackName(flags.stack),
        outputsFile: flags.outputs,
        cwd: io.cwd,
        env: io.env,
        allowUnverified: flags.allowUnverifiedStack === true,
        warn: (line) => io.stderr.write(line),
      }));
    const { targetsFromOutputs } = await import("../postgres/migrate/targets.js");
    return targetsFromOutputs(outputs.raw, outputs.source, { database: flags.database, writer, writerFrom: flags.writer ? "flag" : "default" });
  }
  if (url) {
    if (blue || green) throw new UsageError("give --database-url (shared) or --blue and --green (paired), not both");
    return { mode: "shared", database: await urlDatabase("database", url) };
  }
  if (blue && green)
    return {
      mode: "paired",
      writer,
      writerFrom: flags.writer ? "flag" : "default",
      blue: await urlDatabase("blue", blue),
      green: await urlDatabase("green", green),
    };
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
  if (!(SUBCOMMANDS as readonly string[]).includes(first))
    throw new UsageError(`unknown subcommand ${JSON.stringify(first)}: one of ${SUBCOMMANDS.join(", ")} (see --help)`);
  const sub = first as Subcommand;
  const parsed = parse<Flags>(buildProgram(sub, io), rest);
  if (!parsed) return ExitCode.ok;
  const flags = parsed.options;
  const mode = outputMode({ json: flags.json }, io.stdout as NodeJS.WriteStream);
  const m = await import("../postgres/migrate/index.js");
  const { formatLint, formatRun, formatStatus } = await import("../postgres/migrate/format.js");
  let dir = resolve(io.cwd, flags.dir ?? "migrations");

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
      // --phase with a directory: that phase's folder only (DIR/expand or DIR/contract).
      const all = await m.loadMigrations(dir);
      files = flags.phase ? all[flags.phase] : [...all.expand, ...all.contract];
    }
    const report = await m.lintMigrations(files, { squawk: flags.squawk });
    write(io, mode.json ? `${JSON.stringify(report, null, 2)}\n` : formatLint(report, { color: mode.color }));
    return report.ok ? ExitCode.ok : ExitCode.failed;
  }

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
  if (sub === "contract" && !dryRun) {
    const closing = `contract closes the rollback path: blue's version cannot run on the contracted schema${targets.mode === "paired" ? ", and reverse replication (green → blue) is stopped" : ""}`;
    if (stackContext) {
      const gate = await stackContext.gate();
      if (!gate.allowed) {
        io.stderr.write(`contract refused: ${gate.reason}\n`);
        return ExitCode.failed;
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
  }
  const log = mode.json ? undefined : (line: string) => io.stderr.write(`${line}\n`);
  const report = await m.runMigrations(targets, { dir, phase, dryRun, squawk: flags.squawk, ...(log ? { log } : {}) });
  write(io, mode.json ? `${JSON.stringify(report, null, 2)}\n` : formatRun(report, { color: mode.color }));
  return report.ok ? ExitCode.ok : ExitCode.failed;
}

interface StackContext {
  raw: { raw: unknown; source: string };
  config: StackConfig;
  /** The cutover journal read through the JournalStore, judged by contractGate. */
  gate(): Promise<ContractGate>;
  /** Snapshot the writer's database instance and wait until it is available; its id. */
  snapshot(color: "blue" | "green"): Promise<string>;
}

/** --stack: the config (rollout.migrationsDir, contractAfterSeconds), the journal store, an RDS snapshotter. */
async function loadStackContext(flags: Flags, io: Io): Promise<StackContext> {
  const { openStack } = await import("../app/stack.js");
  const opened = await openStack(flags, io);
  const config = await opened.config();
  const outputs = opened.outputs();
  const raw = opened.raw;
  return {
    raw,
    config,
    gate: async () => {
      const [{ awsCutoverDeps }, { parseJournal }, { contractGate }] = await Promise.all([
        import("../app/wiring/aws.js"),
        import("../core/journal.js"),
        import("../core/engine/migrate.js"),
      ]);
      const deps = await awsCutoverDeps(opened, outputs, { cwd: io.cwd });
      const loaded = await deps.journal.load();
      return contractGate(loaded === null ? null : parseJournal(loaded), Date.now(), config.rollout.contractAfterSeconds * 1000);
    },
    snapshot: async (color) => {
      const instanceId = outputs.databaseInstanceIds[color];
      if (!instanceId) throw new UsageError(`${raw.source}: databaseInstanceIds.${color} is missing: no database instance to snapshot before contract`);
      const [{ rdsSdk }, { clientConfig }, { RdsSnapshotter }] = await Promise.all([
        import("../aws/sdk.js"),
        import("../aws/errors.js"),
        import("../aws/rdsSnapshot.js"),
      ]);
      const rds = new (rdsSdk().RDSClient)(clientConfig(outputs.region));
      const snap = await new RdsSnapshotter(rds, { stack: opened.short, instanceId }).snapshot(
        "bluegreen-contract",
        config.rollout.snapshot.timeoutSeconds * 1000,
      );
      return snap.id;
    },
  };
}
