// Where blue and green are and how to reach them: explicit URLs or stack outputs plus
// Secrets Manager. Passwords never leave this module except inside pg's ClientConfig.

import { readFile } from "node:fs/promises";
import { rootCertificates } from "node:tls";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { UnreachableError, UsageError } from "../../cli/common.js";

export type Side = "blue" | "green";

export interface Target {
  side: Side;
  /** Safe to print: postgres://user:***@host:port/db */
  display: string;
  config: pg.ClientConfig;
}

const RDS_HOST = /\.rds\.amazonaws\.com(\.cn)?$/i;

/** postgres://user:***@host:port/db?params — never includes the password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString().replace("%2A%2A%2A", "***");
  } catch {
    // Unparseable: strip anything between "//user:" and "@".
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
  }
}

/** Remove a password (and any URL carrying one) from free text, e.g. an error message. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, "$1***@");
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join("***");
  }
  return out;
}

function systemCa(): string[] {
  // Node's bundled roots plus the system bundle, where operators install the RDS CA bundle.
  return [...rootCertificates];
}

async function systemCaWithFiles(): Promise<string[]> {
  const roots = systemCa();
  for (const file of [process.env.PGSSLROOTCERT, "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]) {
    if (!file) continue;
    try {
      roots.push(await readFile(file, "utf8"));
      break;
    } catch {
      // try the next one
    }
  }
  return roots;
}

/** Parse `--blue`/`--green`; bad URLs are bad input (exit 2). */
export async function targetFromUrl(side: Side, url: string): Promise<Target> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--${side}: not a valid URL (expected postgres://user:password@host:port/database): ${redactUrl(url)}`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new UsageError(`--${side}: expected a postgres:// or postgresql:// URL, got ${parsed.protocol}// in ${redactUrl(url)}`);
  }
  if (parsed.hostname === "") throw new UsageError(`--${side}: the URL names no host: ${redactUrl(url)}`);
  if (parsed.port !== "" && !/^\d+$/.test(parsed.port)) throw new UsageError(`--${side}: bad port in ${redactUrl(url)}`);
  const config: pg.ClientConfig = { connectionString: url };
  const sslmode = parsed.searchParams.get("sslmode");
  if (sslmode === null && RDS_HOST.test(parsed.hostname)) {
    // RDS: TLS with certificate and host verification against the system's CA store.
    config.ssl = { rejectUnauthorized: true, ca: await systemCaWithFiles(), servername: parsed.hostname };
  }
  return { side, display: redactUrl(url), config };
}

export interface StackOutputs {
  endpoints: Record<Side, string>;
  secretArns: Record<Side, string>;
  databaseName?: string;
}

function pick(obj: unknown, path: string[]): unknown {
  let cur: unknown = obj;
  for (const part of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Accepts { databaseEndpoints: {blue, green}, databaseSecretArns: {blue, green} } or { database: { blue: { endpoint, secretArn } } }. */
export function parseStackOutputs(json: unknown, source: string): StackOutputs {
  const endpoints = {} as Record<Side, string>;
  const secretArns = {} as Record<Side, string>;
  for (const side of ["blue", "green"] as const) {
    const endpoint =
      pick(json, ["databaseEndpoints", side]) ?? pick(json, ["database", side, "endpoint"]) ?? pick(json, [`database.${side}.endpoint`]);
    const arn =
      pick(json, ["databaseSecretArns", side]) ?? pick(json, ["database", side, "secretArn"]) ?? pick(json, [`database.${side}.secretArn`]);
    if (typeof endpoint !== "string" || endpoint === "") {
      throw new UsageError(`${source}: missing databaseEndpoints.${side} (the ${side} database endpoint, host:port)`);
    }
    if (typeof arn !== "string" || !arn.startsWith("arn:")) {
      throw new UsageError(`${source}: missing databaseSecretArns.${side} (the ARN of the ${side} database's Secrets Manager secret)`);
    }
    endpoints[side] = endpoint;
    secretArns[side] = arn;
  }
  const name = pick(json, ["databaseName"]);
  return { endpoints, secretArns, databaseName: typeof name === "string" ? name : undefined };
}

export async function readStackOutputs(options: { stack?: string; outputs?: string }): Promise<StackOutputs> {
  if (options.outputs) {
    let text: string;
    try {
      text = await readFile(options.outputs, "utf8");
    } catch (error) {
      throw new UsageError(`--outputs ${options.outputs}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UsageError(`--outputs ${options.outputs}: not valid JSON`);
    }
    return parseStackOutputs(json, options.outputs);
  }
  if (!options.stack) throw new UsageError("give --blue URL --green URL, or --stack NAME (optionally with --outputs FILE)");
  try {
    const { stdout } = await promisify(execFile)("pulumi", ["stack", "output", "--json", "--stack", options.stack], { maxBuffer: 16 << 20 });
    return parseStackOutputs(JSON.parse(stdout), `pulumi stack output --stack ${options.stack}`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `could not read the outputs of stack ${options.stack} with \`pulumi stack output --json\`; pass --outputs FILE instead (${(error as Error).message.split("\n")[0]})`,
    );
  }
}

/** Build targets from stack outputs; passwords come from the RDS-managed secrets. */
export async function targetsFromStack(outputs: StackOutputs, database?: string): Promise<Record<Side, Target>> {
  // Lazy: the SDK is only loaded on this path.
  const { SecretsManagerClient, GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
  const client = new SecretsManagerClient({});
  const result = {} as Record<Side, Target>;
  await Promise.all(
    (["blue", "green"] as const).map(async (side) => {
      let secret: { username?: unknown; password?: unknown; dbname?: unknown };
      try {
        const response = await client.send(new GetSecretValueCommand({ SecretId: outputs.secretArns[side] }));
        secret = JSON.parse(response.SecretString ?? "{}") as typeof secret;
      } catch (error) {
        throw new UnreachableError(`could not read the ${side} database secret ${outputs.secretArns[side]}: ${(error as Error).name}: ${(error as Error).message}`);
      }
      if (typeof secret.username !== "string" || typeof secret.password !== "string") {
        throw new UsageError(`the ${side} database secret ${outputs.secretArns[side]} holds no username/password JSON`);
      }
      const dbName = database ?? outputs.databaseName ?? (typeof secret.dbname === "string" ? secret.dbname : "app");
      const [host, portText] = outputs.endpoints[side].split(":");
      const port = portText ? Number(portText) : 5432;
      if (!host || !Number.isInteger(port)) throw new UsageError(`bad ${side} database endpoint: ${outputs.endpoints[side]}`);
      const ssl = RDS_HOST.test(host) ? { rejectUnauthorized: true, ca: await systemCaWithFiles(), servername: host } : undefined;
      result[side] = {
        side,
        display: `postgres://${encodeURIComponent(secret.username)}:***@${host}:${port}/${dbName}`,
        config: { host, port, user: secret.username, password: secret.password, database: dbName, ssl },
      };
    }),
  );
  client.destroy();
  return result;
}

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
]);

/** Open one connection; failures to reach or log in become UnreachableError (exit 3) with a redacted message. */
export async function connect(target: Target, applicationName = "bluegreen-parity"): Promise<pg.Client> {
  const client = new pg.Client({
    connectionTimeoutMillis: 15_000,
    ...target.config,
    application_name: applicationName,
  });
  // A connection dropped mid-run surfaces as a query error; do not crash on the 'error' event.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    const err = error as { code?: string; message?: string };
    const secrets = typeof target.config.password === "string" ? [target.config.password] : [];
    const detail = redactText(err.message ?? String(error), secrets);
    let why = detail;
    if (err.code === "28P01") why = `authentication failed (${detail})`;
    else if (err.code === "28000") why = `not allowed to connect (${detail})`;
    else if (err.code === "3D000") why = `database does not exist (${detail})`;
    else if (err.code && UNREACHABLE_CODES.has(err.code)) why = `cannot reach the server (${err.code})`;
    throw new UnreachableError(`${target.side} database ${target.display}: ${why}`);
  }
  return client;
}
