// Which databases migrations run on, from the stack outputs (as parity and sync read them:
// scripts/postgres/stackDatabases.ts, TLS verify-full, secrets from Secrets Manager): the one
// database of database.mode shared, or blue's and green's of paired.

import { UsageError } from "../../core/errors.js";
import { connectionsFromOutputs, databaseConnections } from "../stackDatabases.js";
import type { MigrateTargets } from "./database.js";

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/;

export interface OutputsTargetOptions {
  /** Database name (default: outputs databaseName, else the secret's dbname, else app). */
  database?: string | undefined;
  /** Paired: the color serving writes now. */
  writer: "blue" | "green";
  /** "default" when nobody named the writer: the replication observed then orders the sides. */
  writerFrom?: "flag" | "default";
  sslmode?: string;
}

export async function targetsFromOutputs(raw: unknown, source: string, options: OutputsTargetOptions): Promise<MigrateTargets> {
  const o = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const connection = { ...(options.database ? { database: options.database } : {}), ...(options.sslmode ? { sslmode: options.sslmode } : {}) };
  if (o.databaseMode === "shared") {
    // One database for both colors: blue's endpoint and secret name it.
    const endpoint = (o.databaseEndpoints as Record<string, unknown> | undefined)?.blue;
    const arn = (o.databaseSecretArns as Record<string, unknown> | undefined)?.blue;
    const m = typeof endpoint === "string" ? HOST_PORT.exec(endpoint.trim()) : null;
    if (!m || typeof arn !== "string") {
      throw new UsageError(`${source}: databaseEndpoints.blue ("host:port") and databaseSecretArns.blue are needed for the shared database`);
    }
    const where = { host: (m[1] ?? m[2])!, port: m[3] ? Number(m[3]) : 5432 };
    const name = typeof o.databaseName === "string" && o.databaseName ? { databaseName: o.databaseName } : {};
    const db = await databaseConnections({ endpoints: { blue: where, green: where }, secretArns: { blue: arn, green: arn }, ...name, source }, connection);
    return { mode: "shared", database: { label: "database", display: db.blue.display, config: db.blue.config } };
  }
  const c = await connectionsFromOutputs({ raw, source }, { ...connection, purpose: "migrate" });
  return {
    mode: "paired",
    writer: options.writer,
    ...(options.writerFrom ? { writerFrom: options.writerFrom } : {}),
    blue: { label: "blue", display: c.blue.display, config: c.blue.config },
    green: { label: "green", display: c.green.display, config: c.green.config },
  };
}
