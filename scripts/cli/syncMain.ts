// `npm run sync -- <command>`: PostgreSQL logical replication between blue's and green's databases.
// A thin command line over scripts/postgres/sync/; see docs/sync.md.

import { Command, CommanderError } from "commander";
import pc from "picocolors";
import { createLogUpdate } from "log-update";
import { ExitCode, UsageError, outputMode, type OutputMode } from "./common.js";
import { urlFromEnv } from "./argvSecrets.js";
import { checkCommandLine } from "./flagValues.js";
import {
  copySequences,
  reverseSync,
  startSync,
  stopSync,
  syncStatus,
  waitForCatchUp,
  SYNC_NAMES,
  type PlannedStatement,
  type StartSyncResult,
} from "../postgres/sync/index.js";
import { formatStatus } from "../postgres/sync/format.js";
import type { ReplicationLogin } from "../postgres/sync/replicationRole.js";

interface ConnectionFlags {
  blue?: string;
  green?: string;
  blueEnv?: string;
  greenEnv?: string;
  stack?: string;
  outputs?: string;
  allowUnverifiedStack?: boolean;
  database?: string;
  sslmode?: string;
  json?: boolean;
}

interface Direction {
  sourceUrl: string;
  targetUrl: string;
  sourceLabel: string;
  targetLabel: string;
  source: "blue" | "green";
  target: "blue" | "green";
  name: string;
  /** The source database's replication role (from the stack's replicationSecretArns): the subscription connects as it. */
  login?: ReplicationLogin;
}

function addConnectionOptions(command: Command): Command {
  return command
    .option("--blue <url>", "blue's database URL (postgres://user:password@host:port/db); or env BLUE_DATABASE_URL")
    .option("--green <url>", "green's database URL; or env GREEN_DATABASE_URL")
    .option("--blue-env <var>", "blue's database URL from this environment variable (a URL with a password is refused on the command line)")
    .option("--green-env <var>", "green's database URL from this environment variable")
    .option("--stack <name>", "read endpoints and Secrets Manager secrets from this stack's outputs (pulumi stack output --json)")
    .option(
      "--outputs <file>",
      "JSON of `pulumi stack output --json` (databaseEndpoints, databaseSecretArns) instead of calling pulumi; with --stack it must be that stack's (pulumiStack)",
    )
    .option(
      "--allow-unverified-stack",
      "with --stack: accept an --outputs FILE that does not name its stack (outputs of a stack older than pulumiProject/pulumiStack)",
    )
    .option("--database <name>", "database name with --stack/--outputs (default: outputs databaseName, else the secret's dbname, else app)")
    .option(
      "--sslmode <mode>",
      "sslmode for connections built from the stack outputs (default verify-full; CA from PGSSLROOTCERT, NODE_EXTRA_CA_CERTS or the system bundle)",
    )
    .option("--json", "machine output: one JSON document on stdout");
}

async function resolveUrls(flags: ConnectionFlags): Promise<{ blue: string; green: string; logins?: Partial<Record<"blue" | "green", ReplicationLogin>> }> {
  const blue = flags.blue ?? urlFromEnv(flags.blueEnv, "--blue-env", process.env) ?? process.env.BLUE_DATABASE_URL;
  const green = flags.green ?? urlFromEnv(flags.greenEnv, "--green-env", process.env) ?? process.env.GREEN_DATABASE_URL;
  if (flags.sslmode !== undefined && !SSLMODES.includes(flags.sslmode))
    throw new UsageError(`--sslmode ${flags.sslmode}: must be one of ${SSLMODES.join(", ")}`);
  if (flags.outputs || flags.stack) {
    if (blue || green) throw new UsageError("give either --blue/--green or --stack/--outputs, not both");
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
    const connections = await connectionsFromOutputs(raw, { database: flags.database, sslmode: flags.sslmode, purpose: "sync" });
    const logins: Partial<Record<"blue" | "green", ReplicationLogin>> = {};
    if (connections.blue.replication) logins.blue = connections.blue.replication;
    if (connections.green.replication) logins.green = connections.green.replication;
    return { blue: connections.blue.url, green: connections.green.url, logins };
  }
  if (!blue || !green) {
    throw new UsageError("both databases are needed: --blue URL --green URL (or --stack NAME, optionally with --outputs FILE)");
  }
  // Both checked before anything connects, and every problem named (not only the first side's).
  const problems = [urlProblem("--blue", blue), urlProblem("--green", green)].filter((p): p is string => p !== null);
  if (problems.length > 0) throw new UsageError(problems.join("; "));
  return { blue, green };
}

const SSLMODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full", "no-verify"];

/** What is wrong with a database URL given on the command line, or null; never prints the password. */
function urlProblem(flag: string, url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${flag}: not a valid URL; expected postgres://user:password@host:port/database`;
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:")
    return `${flag}: URL scheme must be postgres:// or postgresql://, got ${parsed.protocol}//`;
  const sslmode = parsed.searchParams.get("sslmode");
  if (sslmode !== null && !SSLMODES.includes(sslmode)) return `${flag}: sslmode=${sslmode} is not one of ${SSLMODES.join(", ")}`;
  return null;
}

async function direction(flags: ConnectionFlags, reverse: boolean, name?: string): Promise<Direction> {
  const urls = await resolveUrls(flags);
  const dir: Direction = reverse
    ? {
        sourceUrl: urls.green,
        targetUrl: urls.blue,
        sourceLabel: "green database",
        targetLabel: "blue database",
        source: "green",
        target: "blue",
        name: name ?? SYNC_NAMES.reverse,
      }
    : {
        sourceUrl: urls.blue,
        targetUrl: urls.green,
        sourceLabel: "blue database",
        targetLabel: "green database",
        source: "blue",
        target: "green",
        name: name ?? SYNC_NAMES.forward,
      };
  const login = urls.logins?.[dir.source];
  return login ? { ...dir, login } : dir;
}

/**
 * With the stack's replication secrets (and no --source-url-for-target): create or update the
 * source's replication role from its secret, connected as the master user (the only use of the
 * master secret for replication), and return the conninfo the subscription connects with.
 * Dry run: nothing is changed, a note says what would be.
 */
async function replicationConnection(
  dir: Direction,
  flags: { sourceUrlForTarget?: string; dryRun?: boolean; sslmode?: string },
  notes: string[],
): Promise<string | undefined> {
  if (flags.sourceUrlForTarget || !dir.login) return flags.sourceUrlForTarget;
  const [{ ensureReplicationRole, refreshSubscriptionConnection, replicationConninfo }, { withClient }] = await Promise.all([
    import("../postgres/sync/replicationRole.js"),
    import("../postgres/sync/connect.js"),
  ]);
  // TLS required between the servers (RDS forces it), unless the operator said the servers have none.
  const conninfo = replicationConninfo(dir.login, flags.sslmode === "disable" ? "disable" : "require");
  if (flags.dryRun) {
    notes.push(`would create or update role ${dir.login.username} on the ${dir.source} database from its replication secret; the subscription connects as it`);
  } else {
    const login = dir.login;
    const result = await withClient(dir.sourceUrl, dir.sourceLabel, (master) => ensureReplicationRole(master, login));
    notes.push(
      `role ${login.username} ${result.created ? "created" : "updated"} on the ${dir.source} database (${result.replicationGrant}); the subscription connects as it`,
    );
    // An existing subscription (start is idempotent) picks up a rotated replication secret here.
    const refreshed = await withClient(dir.targetUrl, dir.targetLabel, (target) => refreshSubscriptionConnection(target, dir.name, conninfo));
    if (refreshed === "updated") notes.push(`subscription ${dir.name} on the ${dir.target} database now connects with the current replication secret`);
  }
  return conninfo;
}

function parseTables(value: string | undefined): string[] | "all" {
  if (value === undefined || value.trim() === "" || value.trim() === "all") return "all";
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** What `start` and `reverse` pass alike: the direction's two ends and the flags both commands take. */
function syncOptions(dir: Direction, flags: { tables?: string; sourceUrlForTarget?: string; dryRun?: boolean }, connectUrlForTarget: string | undefined) {
  return {
    sourceUrl: dir.sourceUrl,
    targetUrl: dir.targetUrl,
    sourceLabel: dir.sourceLabel,
    targetLabel: dir.targetLabel,
    name: dir.name,
    tables: parseTables(flags.tables),
    connectUrlForTarget,
    dryRun: flags.dryRun,
  };
}

function parseSeconds(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number of seconds, got "${value}"`);
  return n;
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function printStatements(statements: PlannedStatement[], dir: Direction, mode: OutputMode): void {
  const c = pc.createColors(mode.color);
  if (statements.length === 0) {
    process.stdout.write("-- nothing to run\n");
    return;
  }
  for (const s of statements) {
    const side = s.on === "source" ? dir.source : dir.target;
    process.stdout.write(`${c.dim(`-- on ${side}`)}\n${s.sql};\n`);
  }
}

function printStartResult(result: StartSyncResult, dir: Direction, mode: OutputMode): void {
  const c = pc.createColors(mode.color);
  for (const w of result.warnings) process.stderr.write(`${c.yellow("warning:")} ${w}\n`);
  if (result.dryRun) {
    process.stdout.write(`${c.bold(`sync ${result.name}`)} ${dir.source} → ${dir.target} (dry run: nothing changed)\n`);
    process.stdout.write(`tables: ${result.tables.join(", ")}\n`);
    for (const note of result.notes) process.stdout.write(`note: ${note}\n`);
    printStatements(result.statements, dir, mode);
    return;
  }
  if (result.alreadyRunning) {
    process.stdout.write(`${c.bold(`sync ${result.name}`)}: already running ${dir.source} → ${dir.target}\n`);
  } else {
    process.stdout.write(
      `${c.bold(`sync ${result.name}`)}: started ${dir.source} → ${dir.target}, ${result.tables.length} table(s), ` +
        `initial copy ${result.copyData ? "on" : "off"}, origin ${result.origin}\n`,
    );
  }
  for (const note of result.notes) process.stdout.write(`  ${note}\n`);
}

function progressReporter(mode: OutputMode): { update(text: string): void; done(): void } {
  if (mode.json) return { update: () => undefined, done: () => undefined };
  if (mode.live) {
    const log = createLogUpdate(process.stderr);
    return { update: (text) => log(text), done: () => log.done() };
  }
  let last = "";
  return {
    update: (text) => {
      if (text !== last) process.stderr.write(`${text}\n`);
      last = text;
    },
    done: () => undefined,
  };
}

async function waitForCopy(dir: Direction, mode: OutputMode, timeoutSeconds: number): Promise<boolean> {
  const progress = progressReporter(mode);
  const result = await waitForCatchUp({
    sourceUrl: dir.sourceUrl,
    targetUrl: dir.targetUrl,
    sourceLabel: dir.sourceLabel,
    targetLabel: dir.targetLabel,
    name: dir.name,
    tablesOnly: true,
    timeoutMs: timeoutSeconds * 1000,
    pollMs: 500,
    onProgress: (p) => progress.update(`initial copy: ${p.tablesReady}/${p.tablesTotal} tables ready`),
  });
  progress.done();
  if (!mode.json) {
    process.stdout.write(
      result.caughtUp
        ? `initial copy done: ${result.tablesReady}/${result.tablesTotal} tables ready in ${(result.elapsedMs / 1000).toFixed(1)} s\n`
        : `initial copy not finished: ${result.reason}; it continues in the background (see sync status)\n`,
    );
  }
  return result.caughtUp;
}

function buildProgram(setCode: (code: ExitCode) => void): Command {
  const program = new Command("npm run sync --")
    .description("Keep green's database in step with blue's through PostgreSQL logical replication (and the reverse for a lossless rollback).")
    .showHelpAfterError()
    .exitOverride();

  const start = addConnectionOptions(
    new Command("start").description("publication on blue, subscription on green with an initial copy; waits for the copy").exitOverride(),
  )
    .option("--tables <list>", "comma-separated tables or patterns (orders, app.*); default all user tables")
    .option("--no-copy-data", "do not copy existing rows (green already holds them)")
    .option("--source-url-for-target <url>", "how green's server reaches blue's, when it differs from --blue (URL or libpq conninfo)")
    .option("--name <name>", `publication/subscription/slot name (default ${SYNC_NAMES.forward})`)
    .option("--dry-run", "check and print the SQL that would run (passwords redacted); change nothing")
    .option("--no-wait", "return once the subscription exists, without waiting for the initial copy")
    .option("--timeout <seconds>", "how long to wait for the initial copy", "600")
    .action(
      async (
        flags: ConnectionFlags & {
          tables?: string;
          copyData: boolean;
          sourceUrlForTarget?: string;
          name?: string;
          dryRun?: boolean;
          wait: boolean;
          timeout: string;
        },
      ) => {
        const mode = outputMode(flags);
        const timeout = parseSeconds(flags.timeout, "--timeout");
        const dir = await direction(flags, false, flags.name);
        const roleNotes: string[] = [];
        const connection = await replicationConnection(dir, flags, roleNotes);
        const result = await startSync({ ...syncOptions(dir, flags, connection), copyData: flags.copyData });
        result.notes.unshift(...roleNotes);
        if (!mode.json) printStartResult(result, dir, mode);
        let copied = true;
        if (!result.dryRun && flags.wait && result.copyData) copied = await waitForCopy(dir, mode, timeout);
        if (mode.json) printJson({ ...result, initialCopyDone: result.dryRun || !flags.wait ? null : copied });
        setCode(copied ? ExitCode.ok : ExitCode.failed);
      },
    );

  const reverse = addConnectionOptions(
    new Command("reverse").description("replicate green → blue (copy_data = false, origin = none) so writes taken on green survive a rollback").exitOverride(),
  )
    .option("--tables <list>", "comma-separated tables or patterns; default all user tables")
    .option("--source-url-for-target <url>", "how blue's server reaches green's, when it differs from --green (URL or libpq conninfo)")
    .option("--name <name>", `publication/subscription/slot name (default ${SYNC_NAMES.reverse})`)
    .option("--dry-run", "check and print the SQL that would run (passwords redacted); change nothing")
    .action(async (flags: ConnectionFlags & { tables?: string; sourceUrlForTarget?: string; name?: string; dryRun?: boolean }) => {
      const mode = outputMode(flags);
      const dir = await direction(flags, true, flags.name);
      const roleNotes: string[] = [];
      const connection = await replicationConnection(dir, flags, roleNotes);
      const result = await reverseSync(syncOptions(dir, flags, connection));
      result.notes.unshift(...roleNotes);
      if (mode.json) printJson(result);
      else printStartResult(result, dir, mode);
      setCode(ExitCode.ok);
    });

  const status = addConnectionOptions(
    new Command("status").description("per-table state, apply worker, lag in bytes and seconds, slot health; exit 1 when not healthy").exitOverride(),
  )
    .option("--reverse", "the green → blue direction")
    .option("--name <name>", "publication/subscription/slot name")
    .action(async (flags: ConnectionFlags & { reverse?: boolean; name?: string }) => {
      const mode = outputMode(flags);
      const dir = await direction(flags, flags.reverse === true, flags.name);
      const result = await syncStatus({
        sourceUrl: dir.sourceUrl,
        targetUrl: dir.targetUrl,
        sourceLabel: dir.sourceLabel,
        targetLabel: dir.targetLabel,
        name: dir.name,
      });
      if (mode.json) printJson(result);
      else process.stdout.write(formatStatus(result, dir, mode.color));
      setCode(result.healthy ? ExitCode.ok : ExitCode.failed);
    });

  const sequences = addConnectionOptions(
    new Command("sequences").description("copy sequence values blue → green (logical replication does not carry them)").exitOverride(),
  )
    .option("--reverse", "green → blue")
    .option("--allow-decrease", "also move a sequence that is ahead on the target back to the source's value")
    .option("--dry-run", "report what would be set; change nothing")
    .action(async (flags: ConnectionFlags & { reverse?: boolean; allowDecrease?: boolean; dryRun?: boolean }) => {
      const mode = outputMode(flags);
      const dir = await direction(flags, flags.reverse === true);
      const report = await copySequences(dir.sourceUrl, dir.targetUrl, {
        allowDecrease: flags.allowDecrease,
        dryRun: flags.dryRun,
        sourceLabel: dir.sourceLabel,
        targetLabel: dir.targetLabel,
      });
      const missing = report.filter((r) => r.action === "missing-on-target");
      if (mode.json) printJson({ dryRun: flags.dryRun === true, sequences: report });
      else {
        const c = pc.createColors(mode.color);
        const width = Math.max(8, ...report.map((r) => r.sequence.length));
        process.stdout.write(`sequences ${dir.source} → ${dir.target}${flags.dryRun ? " (dry run)" : ""}: ${report.length}\n`);
        for (const r of report) {
          const what =
            r.action === "set"
              ? `${flags.dryRun ? "would set" : "set"} ${r.targetBefore} → ${r.sourceValue}${r.sourceIsCalled ? "" : " (not yet called)"}`
              : r.action === "unchanged"
                ? `unchanged at ${r.sourceValue}`
                : r.action === "kept-target-ahead"
                  ? `kept: ${dir.target} at ${r.targetBefore} is ahead of ${dir.source} at ${r.sourceValue} (--allow-decrease to force)`
                  : c.red(`missing on ${dir.target}`);
          process.stdout.write(`  ${r.sequence.padEnd(width)}  ${what}\n`);
        }
      }
      setCode(missing.length > 0 ? ExitCode.failed : ExitCode.ok);
    });

  const stop = addConnectionOptions(
    new Command("stop").description("drop the subscription and its slot, verify no slot is left on the source, drop the publication").exitOverride(),
  )
    .option("--reverse", "the green → blue direction")
    .option("--name <name>", "publication/subscription/slot name")
    .option("--force", "go on when one side is unreachable (says exactly what is left to drop by hand)")
    .option("--dry-run", "print the SQL that would run; change nothing")
    .action(async (flags: ConnectionFlags & { reverse?: boolean; name?: string; force?: boolean; dryRun?: boolean }) => {
      const mode = outputMode(flags);
      const dir = await direction(flags, flags.reverse === true, flags.name);
      const result = await stopSync({
        sourceUrl: dir.sourceUrl,
        targetUrl: dir.targetUrl,
        sourceLabel: dir.sourceLabel,
        targetLabel: dir.targetLabel,
        name: dir.name,
        force: flags.force,
        dryRun: flags.dryRun,
      });
      if (mode.json) printJson(result);
      else if (result.dryRun) {
        process.stdout.write(`sync ${result.name} stop (dry run: nothing changed)\n`);
        for (const m of result.messages) process.stdout.write(`note: ${m}\n`);
        printStatements(result.statements, dir, mode);
      } else {
        const c = pc.createColors(mode.color);
        process.stdout.write(
          `sync ${result.name} ${dir.source} → ${dir.target}: ${result.leftoverSlots.length === 0 ? c.green("stopped, no slot left") : c.red("stopped with slots left")}\n`,
        );
        process.stdout.write(
          `  subscription ${result.droppedSubscription ? "dropped" : "none"}; publication ${result.droppedPublication ? "dropped" : "none"}`,
        );
        process.stdout.write(`${result.droppedSlots.length ? `; slots dropped directly: ${result.droppedSlots.join(", ")}` : ""}\n`);
        for (const m of result.messages) process.stdout.write(`  ${m}\n`);
      }
      setCode(result.leftoverSlots.length === 0 ? ExitCode.ok : ExitCode.failed);
    });

  for (const command of [start, status, sequences, stop, reverse]) program.addCommand(command);
  program.addHelpText(
    "after",
    `\nExamples:\n  npm run sync -- start --blue-env BLUE_URL --green-env GREEN_URL\n  npm run sync -- status --stack prod\n  npm run sync -- status --stack prod --outputs outputs.json\n\nExit codes: 0 ok, 1 not healthy / not converged / slot left, 2 bad input, 3 a database unreachable.`,
  );
  return program;
}

/** `args`: the command line after the script name (process.argv.slice(2)). */
export async function syncMain(args: string[]): Promise<ExitCode> {
  let code: ExitCode = ExitCode.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  checkCommandLine(program, args);
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (error) {
    // Commander already printed its own message (or the help) for its errors.
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
    }
    throw error;
  }
  return code;
}
