// The databases a migration run talks to, and one connection at a time to each: errors mapped
// to the CLI's exit codes (unreachable or login refused: 3), passwords redacted from messages.

import pg from "pg";
import { UnreachableError } from "../../core/errors.js";
import { redact } from "../../core/redact.js";
import { connectClient, isUnreachable, isUnreachableCode } from "../../net/pgConnection.js";

export type Color = "blue" | "green";

export interface MigrateDatabase {
  /** "database" (shared), "blue" or "green". */
  label: "database" | Color;
  /** postgres://user:***@host:port/db: safe to print. */
  display: string;
  /** Connection, password included. Never print it. */
  config: pg.ClientConfig;
}

export type MigrateTargets =
  | { mode: "shared"; database: MigrateDatabase }
  /**
   * `writer`: the color serving writes now (blue before a cutover, green after). `writerFrom`:
   * "flag" (default) when someone named it, "default" when nobody did: the replication observed
   * then decides the order wherever it runs in one direction.
   */
  | { mode: "paired"; blue: MigrateDatabase; green: MigrateDatabase; writer: Color; writerFrom?: "flag" | "default" };

export type PairedTargets = Extract<MigrateTargets, { mode: "paired" }>;

export function secretsOf(db: MigrateDatabase): string[] {
  const p = db.config.password;
  return typeof p === "string" && p ? [p] : [];
}

/** An error of a database (`connecting`: of opening the connection) as the CLI's exit code needs it: unreachable (3) or failed (1). */
export function mapConnectError(db: MigrateDatabase, error: unknown, connecting = false): Error {
  const code = (error as { code?: string }).code;
  const message = redact((error as Error).message ?? String(error), secretsOf(db));
  // A database that does not exist is, for a migration run, one it cannot reach (exit 3).
  if (isUnreachableCode(code) || code === "3D000" || (connecting && isUnreachable(error)))
    return new UnreachableError(`${db.label} database ${db.display}: ${message}`);
  return new Error(`${db.label} database ${db.display}: ${message}`);
}

export async function withClient<T>(db: MigrateDatabase, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  let client: pg.Client;
  try {
    client = await connectClient(db.config, { applicationName: "bluegreen-migrate" });
  } catch (error) {
    throw mapConnectError(db, error, true);
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function sideOf(targets: PairedTargets, color: Color): MigrateDatabase {
  return color === "blue" ? targets.blue : targets.green;
}

export const otherColor = (c: Color): Color => (c === "blue" ? "green" : "blue");
