// The PostgreSQL integration suites' common ground: one-shot SQL against a real server (the client
// is always closed, also on failure), databases made on an embedded server, and one of the
// repository's command lines (scripts/<name>.ts) run as its own process through tsx.

import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import pg from "pg";
import type { LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { secretsToEnv } from "./secretArgs.js";

const ROOT = resolve(import.meta.dirname, "../..");
const TSX = join(ROOT, "node_modules/.bin/tsx");

/** `use` with a client of its own, closed after, also on failure. */
export async function withDb<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Runs `sql` (one or several statements) on a connection of its own. */
export function execSql(url: string, sql: string): Promise<void> {
  return withDb(url, async (client) => void (await client.query(sql)));
}

/** The rows of one query, on a connection of its own. */
export function queryRows<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  return withDb(url, async (client) => (await client.query<T>(sql)).rows);
}

/** CREATE DATABASE for each name, in order, on `server`. */
export async function createDatabases(server: LocalPostgres, ...names: string[]): Promise<void> {
  for (const name of names) await execSql(server.url(), `CREATE DATABASE ${name}`);
}

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `tsx scripts/<name>.ts args…` in `cwd`, without colour, as CI would run it. */
export function runScript(name: string, args: readonly string[], cwd: string): Promise<ScriptRun> {
  return new Promise((done, fail) => {
    const secret = secretsToEnv(args);
    const child = spawn(TSX, [join(ROOT, "scripts", `${name}.ts`), ...secret.args], { cwd, env: { ...process.env, NO_COLOR: "1", CI: "true", ...secret.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}
