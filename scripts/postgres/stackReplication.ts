// The DataReplication of a paired stack, built from its outputs: blue's and green's connections
// (scripts/postgres/stackDatabases.ts: endpoints and secret ARNs from the outputs, credentials
// from the RDS-managed Secrets Manager secrets, TLS verify-full) behind PostgresDataReplication
// (./replication.ts), the adapter the sandbox uses too. `npm run cutover` / `rollback` (through
// scripts/cli/pairedDeps.ts) and the AWS guard (scripts/aws/guard/guard.ts) wire it the same way.
//
// Subscriptions connect as each database's replication role (replicationSecretArns, infra/
// database.ts), not as the master user: before every paired switch and rollback the adapter
// refreshes the role's password and the subscription's connection from that secret as it is then
// (PostgresDataReplication.waitForCatchUp), so a rotated master or replication secret never
// leaves the catch-up or the lossless rollback without a working subscription.
//
// Loaded on first use: a paired rollback reaches its first AWS call (the lock) before pg, the
// replication code and the Secrets Manager SDK are loaded. The URLs carry passwords: they stay
// in memory, never in events, journals, reports or logs.

import type { DataReplication, ReplicationDirection } from "../core/ports.js";
import type { PostgresDataReplication } from "./replication.js";
import type { ReplicationLogin } from "./sync/replicationRole.js";

export interface PairedWiring {
  /** The stack outputs as read (JSON), and where they came from (for messages). */
  rawOutputs: unknown;
  source: string;
  /** config database.databaseName (may still be loading: rollback reads the config after its first call). */
  databaseName?: string | Promise<string | undefined>;
  /** TLS of the operator's connections (default verify-full) and of the subscriptions' (default require): tests against a local server without TLS set "disable". */
  sslmode?: string;
  replicationSslmode?: string;
}

async function databaseUrls(wiring: PairedWiring): Promise<{ blue: string; green: string; logins: Partial<Record<"blue" | "green", ReplicationLogin>> }> {
  const { connectionsFromOutputs } = await import("./stackDatabases.js");
  const database = await wiring.databaseName;
  const connections = await connectionsFromOutputs(
    { raw: wiring.rawOutputs, source: wiring.source },
    { ...(database ? { database } : {}), ...(wiring.sslmode ? { sslmode: wiring.sslmode } : {}), purpose: "the paired switch" },
  );
  const logins: Partial<Record<"blue" | "green", ReplicationLogin>> = {};
  if (connections.blue.replication) logins.blue = connections.blue.replication;
  if (connections.green.replication) logins.green = connections.green.replication;
  return { blue: connections.blue.url, green: connections.green.url, logins };
}

/** A DataReplication that loads pg, the sync code and the database credentials on first use. */
export function lazyReplication(wiring: PairedWiring): DataReplication & { close(): Promise<void> } {
  let instance: Promise<PostgresDataReplication> | null = null;
  const load = () =>
    (instance ??= (async () => {
      const [{ PostgresDataReplication }, urls] = await Promise.all([import("./replication.js"), databaseUrls(wiring)]);
      return new PostgresDataReplication({
        blueUrl: urls.blue,
        greenUrl: urls.green,
        replicationLogins: urls.logins,
        ...(wiring.replicationSslmode ? { replicationSslmode: wiring.replicationSslmode } : {}),
      });
    })());
  return {
    status: async (direction: ReplicationDirection) => (await load()).status(direction),
    waitForCatchUp: async (direction, timeoutMs, signal) => (await load()).waitForCatchUp(direction, timeoutMs, signal),
    parity: async () => (await load()).parity(),
    copySequences: async (direction) => (await load()).copySequences(direction),
    start: async (direction, options) => (await load()).start(direction, options),
    stop: async (direction) => (await load()).stop(direction),
    /** Close the kept connections, if any were opened. */
    close: async () => {
      if (instance) await (await instance.catch(() => null))?.close();
    },
  };
}
