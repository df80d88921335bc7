// `npm run migrate`'s subcommands and their flags: one commander program per subcommand, and the help.

import { Command, Option } from "commander";
import type { Io } from "./args.js";
import type { Phase } from "../postgres/migrate/index.js";

export const SUBCOMMANDS = ["status", "lint", "plan", "up", "contract"] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

export interface MigrateFlags {
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

export const HELP = `Schema migrations through the blue/green cycle (docs/migrations.md).

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

export function migrateProgram(sub: Subcommand, io: Io): Command {
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
