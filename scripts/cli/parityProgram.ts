// `npm run parity`'s flags: the commander program, and the flags turned into runParity's options
// (databases from --blue/--green, their -env variables, or the stack's outputs).

import { Command, InvalidArgumentError, Option } from "commander";
import { UsageError } from "./common.js";
import { urlFromEnv } from "./argvSecrets.js";
import { DEFAULT_REPORT_PATH, targetFromConnection, type ParityOptions } from "../postgres/parity/index.js";

export interface ParityFlags {
  blue?: string;
  green?: string;
  blueEnv?: string;
  greenEnv?: string;
  stack?: string;
  outputs?: string;
  allowUnverifiedStack?: boolean;
  database?: string;
  include: string[];
  exclude: string[];
  limit: number;
  parallel: number;
  json?: boolean;
  report?: string;
  save: boolean;
  strictPrivileges?: boolean;
  /** Hidden, for tests: every row's hash sleeps this long on the server, so a run lasts until Ctrl-C. */
  secondsPerRow?: number;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    }
    return Number(value);
  };
}

function seconds(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) > 10) throw new InvalidArgumentError("must be a number of seconds from 0 to 10");
  return Number(value);
}

export function buildProgram(): Command {
  return new Command("npm run parity --")
    .description(
      "Compare blue's and green's PostgreSQL databases: schema, per-table counts and checksums, differing rows by key, sequences.\n" +
        "Read-only; each database is read in one REPEATABLE READ snapshot. Ctrl-C cancels the queries running on both servers.\n" +
        "Exit codes: 0 identical, 1 differences, 2 bad input, 3 a database unreachable or login refused,\n" +
        "4 cannot compare (a table the role may not read in full, a server error: no verdict), 130 interrupted.",
    )
    .option("--blue <url>", "blue's database URL, postgres://user:password@host:port/db (or env BLUE_DATABASE_URL)")
    .option("--green <url>", "green's database URL (or env GREEN_DATABASE_URL)")
    .option("--blue-env <var>", "blue's database URL from this environment variable (a URL with a password is refused on the command line)")
    .option("--green-env <var>", "green's database URL from this environment variable")
    .option("--stack <name>", "read endpoints and secret ARNs from this stack's outputs (pulumi stack output --json; TLS verify-full, see docs/parity.md)")
    .option(
      "--outputs <file>",
      "stack outputs JSON file (databaseEndpoints, databaseSecretArns) instead of calling pulumi; with --stack it must be that stack's (pulumiStack)",
    )
    .option(
      "--allow-unverified-stack",
      "with --stack: accept an --outputs FILE that does not name its stack (outputs of a stack older than pulumiProject/pulumiStack)",
    )
    .option("--database <name>", "database name with --stack/--outputs (default: outputs databaseName, else the secret's dbname, else app)")
    .option("--include <pattern>", "only tables matching this glob on schema.table (repeatable)", collect, [])
    .option("--exclude <pattern>", "skip tables matching this glob on schema.table (repeatable)", collect, [])
    .option("--limit <n>", "differing keys listed per table", wholeNumber(0, 1_000_000), 100)
    .option("--parallel <n>", "connections per database (bounded parallelism)", wholeNumber(1, 64), 2)
    .option("--strict-privileges", "privilege differences on tables and sequences (roles on both sides) are differences, not warnings")
    .option("--json", "print the report as JSON on stdout")
    .option("--report <file>", "also write the JSON report to this file")
    .option("--no-save", `do not write ${DEFAULT_REPORT_PATH}`)
    .addOption(new Option("--seconds-per-row <s>", "every row's hash sleeps this long on the server (tests of Ctrl-C)").argParser(seconds).hideHelp())
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // runMain prints the one error line; commander's own copy would repeat it.
      outputError: () => undefined,
    });
}

/** runParity's options from the flags; the databases from URLs, their variables, or the stack's outputs. */
export async function parityOptions(flags: ParityFlags, env: NodeJS.ProcessEnv): Promise<ParityOptions> {
  flags.blue ??= urlFromEnv(flags.blueEnv, "--blue-env", env);
  flags.green ??= urlFromEnv(flags.greenEnv, "--green-env", env);
  const blueUrl = flags.blue ?? env.BLUE_DATABASE_URL;
  const greenUrl = flags.green ?? env.GREEN_DATABASE_URL;
  const options: ParityOptions = {
    include: flags.include,
    exclude: flags.exclude,
    limit: flags.limit,
    parallelism: flags.parallel,
    ...(flags.strictPrivileges ? { strictPrivileges: true } : {}),
    ...(flags.secondsPerRow !== undefined ? { tuning: { secondsPerRow: flags.secondsPerRow } } : {}),
  };
  if (flags.stack || flags.outputs) {
    if (flags.blue || flags.green) throw new UsageError("give either --blue/--green or --stack/--outputs, not both");
    const [{ loadRawOutputs, validateStackName }, { connectionsFromOutputs }] = await Promise.all([
      import("../app/stackOutputs.js"),
      import("../postgres/stackDatabases.js"),
    ]);
    // With --stack, the outputs must be that stack's (loadRawOutputs checks it before any connection): exit 2 otherwise.
    const raw = await loadRawOutputs({
      stack: flags.stack === undefined ? undefined : validateStackName(flags.stack),
      outputsFile: flags.outputs,
      allowUnverified: flags.allowUnverifiedStack === true,
    });
    const connections = await connectionsFromOutputs(raw, { database: flags.database, purpose: "parity" });
    options.blue = targetFromConnection(connections.blue);
    options.green = targetFromConnection(connections.green);
  } else {
    if (!blueUrl || !greenUrl) throw new UsageError("give --blue URL and --green URL (or --stack NAME [--outputs FILE])");
    options.blueUrl = blueUrl;
    options.greenUrl = greenUrl;
  }
  return options;
}
