// `npm run sync`'s connection flags and what they resolve to: both databases' URLs (given, from
// the environment, or from the stack's outputs and secrets), the direction of a replication, and
// the replication role's conninfo from the stack's replication secret.

import { Command } from "commander";
import { UsageError } from "./common.js";
import { urlFromEnv } from "./argvSecrets.js";
import { SYNC_NAMES } from "../postgres/sync/index.js";
import type { ReplicationLogin } from "../postgres/sync/replicationRole.js";

export interface ConnectionFlags {
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

export interface Direction {
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

export function addConnectionOptions(command: Command): Command {
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

export async function direction(flags: ConnectionFlags, reverse: boolean, name?: string): Promise<Direction> {
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
export async function replicationConnection(
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
export function syncOptions(
  dir: Direction,
  flags: { tables?: string; sourceUrlForTarget?: string; dryRun?: boolean },
  connectUrlForTarget: string | undefined,
) {
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

export function parseSeconds(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number of seconds, got "${value}"`);
  return n;
}
