// `npm run parity`: proves green's database holds the same data as blue's, or names the
// exact keys where it does not. A thin command line over scripts/postgres/parity/; see docs/parity.md.

import { Command, InvalidArgumentError } from "commander";
import { createLogUpdate } from "log-update";
import { ExitCode, UnreachableError, UsageError, outputMode } from "./common.js";
import { urlFromEnv } from "./argvSecrets.js";
import { checkCommandLine } from "./flagValues.js";
import {
  DEFAULT_REPORT_PATH,
  formatReport,
  runParity,
  targetFromConnection,
  writeReport,
  type ParityOptions,
  type ParityProgress,
} from "../postgres/parity/index.js";

interface Flags {
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

export function buildProgram(): Command {
  return new Command("npm run parity --")
    .description(
      "Compare blue's and green's PostgreSQL databases: schema, per-table counts and checksums, differing rows by key, sequences.\n" +
        "Read-only; each database is read in one REPEATABLE READ snapshot.\n" +
        "Exit codes: 0 identical, 1 differences, 2 bad input, 3 a database unreachable or login refused,\n" +
        "4 cannot compare (a table the role may not read in full, a server error: no verdict).",
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
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // runMain prints the one error line; commander's own copy would repeat it.
      outputError: () => undefined,
    });
}

function progressLine(p: ParityProgress): string {
  const rows = p.rowsHashed.toLocaleString("en-US");
  switch (p.phase) {
    case "connect":
      return "parity: connecting to blue and green";
    case "schema":
      return "parity: reading schemas";
    case "hash":
    case "diff":
      return `parity: tables ${p.tablesDone}/${p.tablesTotal}, rows hashed ${rows}${p.table ? `, last ${p.table}` : ""}`;
    case "sequences":
      return `parity: tables ${p.tablesDone}/${p.tablesTotal}, rows hashed ${rows}; checking sequences`;
    case "done":
      return `parity: done, rows hashed ${rows}`;
  }
}

/** `args`: the command line after the script name (process.argv.slice(2)). */
export async function parityMain(args: string[]): Promise<ExitCode> {
  const program = buildProgram();
  checkCommandLine(program, args);
  try {
    program.parse(args, { from: "user" });
  } catch (error) {
    const e = error as { code?: string; exitCode?: number };
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return ExitCode.ok;
    throw new UsageError((error as Error).message.replace(/^error: /, ""));
  }
  const flags = program.opts<Flags>();
  const mode = outputMode({ json: flags.json });
  flags.blue ??= urlFromEnv(flags.blueEnv, "--blue-env", process.env);
  flags.green ??= urlFromEnv(flags.greenEnv, "--green-env", process.env);
  const blueUrl = flags.blue ?? process.env.BLUE_DATABASE_URL;
  const greenUrl = flags.green ?? process.env.GREEN_DATABASE_URL;

  const options: ParityOptions = {
    include: flags.include,
    exclude: flags.exclude,
    limit: flags.limit,
    parallelism: flags.parallel,
    ...(flags.strictPrivileges ? { strictPrivileges: true } : {}),
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

  // Progress on stderr: redrawn on a terminal, plain lines (at most one a second) otherwise.
  const stderrMode = outputMode({ json: false }, process.stderr);
  const live = stderrMode.live ? createLogUpdate(process.stderr) : null;
  let lastPlain = 0;
  let lastPhase = "";
  options.onProgress = (p) => {
    const line = progressLine(p);
    const now = Date.now();
    if (live) {
      // Redraw at most ten times a second, and on every phase change.
      if (p.phase !== lastPhase || now - lastPlain >= 100) {
        live(line);
        lastPlain = now;
        lastPhase = p.phase;
      }
      return;
    }
    if (p.phase !== lastPhase || now - lastPlain >= 1000 || (p.phase === "hash" && p.tablesDone === p.tablesTotal)) {
      if (p.phase === "done") return;
      process.stderr.write(`${line}\n`);
      lastPlain = now;
      lastPhase = p.phase;
    }
  };

  let report;
  try {
    report = await runParity(options);
    if (flags.report) await writeReport(report, flags.report);
    if (flags.save) await writeReport(report, DEFAULT_REPORT_PATH);
  } catch (error) {
    // Bad input (2) and an unreachable database (3) keep their codes; anything else leaves no
    // verdict and must never read as "different" (1).
    if (error instanceof UsageError || error instanceof UnreachableError) throw error;
    process.stderr.write(`error: cannot compare: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.cannotCompare;
  } finally {
    live?.clear();
    live?.done();
  }
  if (mode.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(formatReport(report, { color: mode.color }));
  return report.identical ? ExitCode.ok : ExitCode.failed;
}
