// Shared by the sync integration suites: a schema both servers hold, table comparison in plain SQL
// and through parity's runParity (both must agree), and running the CLI as a process.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { runParity, type ParityReport } from "../../scripts/postgres/parity/index.js";
import { withDb } from "../support/postgres.js";
import { secretsToEnv } from "../support/secretArgs.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export const SCHEMA = `
  CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer text NOT NULL,
    amount numeric(12, 2),
    note text,
    created timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE order_lines (
    order_id bigint NOT NULL,
    line int NOT NULL,
    sku text NOT NULL,
    qty int NOT NULL,
    PRIMARY KEY (order_id, line)
  );
  CREATE SCHEMA "App Data";
  CREATE TABLE "App Data"."Events ü" (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    "Payload" jsonb,
    tags text[]
  );
  CREATE TABLE audit_log (
    at timestamptz NOT NULL DEFAULT now(),
    message text
  );
  ALTER TABLE audit_log REPLICA IDENTITY FULL;
  CREATE SEQUENCE invoice_numbers START 1000;
`;

export const TABLES = ["public.orders", "public.order_lines", '"App Data"."Events ü"', "public.audit_log"];

export { withDb };

/** Per table: row count and an md5 of all rows in a stable order. */
/**
 * Drop every subscription in the database at `url` without touching the publisher (slot_name =
 * NONE first), so servers can be stopped in any order after a test. Best effort: for afterAll.
 */
export async function dropAllSubscriptions(url: string): Promise<void> {
  await withDb(url, async (db) => {
    const subs = await db.query<{ subname: string }>("SELECT subname FROM pg_subscription");
    for (const { subname } of subs.rows) {
      await db.query(`ALTER SUBSCRIPTION "${subname}" DISABLE`).catch(() => undefined);
      await db.query(`ALTER SUBSCRIPTION "${subname}" SET (slot_name = NONE)`).catch(() => undefined);
      await db.query(`DROP SUBSCRIPTION "${subname}"`).catch(() => undefined);
    }
  }).catch(() => undefined);
}

export async function fingerprint(url: string): Promise<Record<string, string>> {
  return withDb(url, async (client) => {
    const out: Record<string, string> = {};
    for (const table of TABLES) {
      const { rows } = await client.query<{ n: string; h: string | null }>(
        `SELECT count(*)::text AS n, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS h FROM ${table} t`,
      );
      out[table] = `${rows[0]?.n}:${rows[0]?.h ?? "empty"}`;
    }
    return out;
  });
}

/**
 * True when both databases hold the same rows: the plain SQL fingerprint above AND parity's
 * runParity must both say so. Parity is mandatory: an error from runParity fails the test (it is
 * not caught here), so a sync test can never pass on a broken parity.
 */
export async function sameData(
  blueUrl: string,
  greenUrl: string,
  options: { sequencesToo?: boolean } = {},
): Promise<{ identical: boolean; how: string; detail: unknown }> {
  const [a, b, report] = await Promise.all([fingerprint(blueUrl), fingerprint(greenUrl), runParity({ blueUrl, greenUrl })]);
  const sqlEqual = JSON.stringify(a) === JSON.stringify(b);
  // Sequences are only equal after `sync sequences`; before that, compare the tables alone.
  const tablesEqual = report.tables.length > 0 && report.tables.every((t) => t.status === "identical") && report.schemaDifferences.length === 0;
  const parityEqual = options.sequencesToo ? report.identical : tablesEqual;
  const detail: { sql: unknown; parity: ParityReport } = { sql: { blue: a, green: b }, parity: report };
  return { identical: sqlEqual && parityEqual, how: "sql + runParity", detail };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `scripts/sync.ts` through tsx, bounded in time. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const secret = secretsToEnv(args);
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "sync.ts"), ...secret.args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", CI: "true", ...env, ...secret.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`sync ${args[0]} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Poll until fn returns true, bounded in attempts and time. */
export async function eventually(fn: () => Promise<boolean>, what: string, timeoutMs = 30_000, intervalMs = 100): Promise<void> {
  const started = Date.now();
  const maxAttempts = Math.ceil(timeoutMs / intervalMs) + 1;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (await fn()) return;
    if (Date.now() - started > timeoutMs) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
