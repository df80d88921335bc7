// database.mode paired on AWS: the ports the fenced switch and the lossless rollback need beyond
// the ALB ones: logical replication both ways (scripts/postgres/replication.ts, the same adapter
// the sandbox uses) and the newest parity result (reports/parity-latest.json, written by
// `npm run parity`).
//
// The database connections come from the stack outputs (endpoints, secret ARNs) and the
// RDS-managed Secrets Manager secrets (credentials) through scripts/postgres/stackDatabases.ts,
// the one module that does this (parity, sync and status use it too; its TLS policy is
// verify-full). The URLs carry passwords: they stay in memory, never in events, journals,
// reports or logs.
//
// Subscriptions connect as each database's replication role (replicationSecretArns, infra/
// database.ts), not as the master user: before every paired switch and rollback the adapter
// refreshes the role's password and the subscription's connection from that secret as it is then
// (PostgresDataReplication.waitForCatchUp), so a rotated master or replication secret never
// leaves the catch-up or the lossless rollback without a working subscription.
//
// Everything here is loaded on first use, so a paired rollback still reaches its first AWS call
// (the lock) before pg, the replication code and the Secrets Manager SDK are loaded.

import { readFile } from "node:fs/promises";
import type { DataReplication, ParityResult, ParitySource, ReplicationDirection } from "../core/ports.js";
import type { ParityReport } from "../postgres/parity/index.js";
import type { PostgresDataReplication } from "../postgres/replication.js";
import type { ReplicationLogin } from "../postgres/sync/replicationRole.js";
import { UsageError } from "./common.js";

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
  const { connectionsFromOutputs } = await import("../postgres/stackDatabases.js");
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
      const [{ PostgresDataReplication }, urls] = await Promise.all([import("../postgres/replication.js"), databaseUrls(wiring)]);
      return new PostgresDataReplication({
        blueUrl: urls.blue,
        greenUrl: urls.green,
        replicationLogins: urls.logins,
        ...(wiring.replicationSslmode ? { replicationSslmode: wiring.replicationSslmode } : {}),
      });
    })());
  return {
    status: async (direction: ReplicationDirection) => (await load()).status(direction),
    waitForCatchUp: async (direction, timeoutMs) => (await load()).waitForCatchUp(direction, timeoutMs),
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

/**
 * The newest `npm run parity` result, judged as the switch judges it (judgeForSwitch in
 * scripts/postgres/replication.ts): rows and schema decide; sequences behind on green are expected
 * while blue → green replication runs (logical replication does not carry them) and are copied
 * and verified under the fence.
 */
export function fileParitySource(path: string): ParitySource {
  return {
    latest: async (): Promise<ParityResult | null> => {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw error;
      }
      let report: Partial<ParityReport>;
      try {
        report = JSON.parse(text) as Partial<ParityReport>;
      } catch {
        throw new UsageError(`${path} is not a parity report (invalid JSON); run \`npm run parity\` again`);
      }
      if (report.kind !== "parity" || !report.totals || !Array.isArray(report.tables) || !Array.isArray(report.sequences) || !Number.isFinite(Date.parse(report.finishedAt ?? ""))) {
        throw new UsageError(`${path} is not a parity report; run \`npm run parity\` again`);
      }
      const { judgeForSwitch } = await import("../postgres/replication.js");
      const verdict = judgeForSwitch(report as ParityReport);
      return { identical: verdict.identical, checkedAt: verdict.checkedAt, summary: verdict.summary };
    },
  };
}
