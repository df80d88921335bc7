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
// Everything here is loaded on first use, so a paired rollback still reaches its first AWS call
// (the lock) before pg, the replication code and the Secrets Manager SDK are loaded.

import { readFile } from "node:fs/promises";
import type { DataReplication, ParityResult, ParitySource, ReplicationDirection } from "../core/ports.js";
import { UsageError } from "./common.js";

export interface PairedWiring {
  /** The stack outputs as read (JSON), and where they came from (for messages). */
  rawOutputs: unknown;
  source: string;
  /** config database.databaseName (may still be loading: rollback reads the config after its first call). */
  databaseName?: string | Promise<string | undefined>;
}

async function databaseUrls(wiring: PairedWiring): Promise<{ blue: string; green: string }> {
  const { connectionsFromOutputs } = await import("../postgres/stackDatabases.js");
  const database = await wiring.databaseName;
  const connections = await connectionsFromOutputs(
    { raw: wiring.rawOutputs, source: wiring.source },
    { ...(database ? { database } : {}), purpose: "the paired switch" },
  );
  return { blue: connections.blue.url, green: connections.green.url };
}

/** A DataReplication that loads pg, the sync code and the database credentials on first use. */
export function lazyReplication(wiring: PairedWiring): DataReplication {
  let instance: Promise<DataReplication> | null = null;
  const load = () =>
    (instance ??= (async () => {
      const [{ PostgresDataReplication }, urls] = await Promise.all([import("../postgres/replication.js"), databaseUrls(wiring)]);
      return new PostgresDataReplication({ blueUrl: urls.blue, greenUrl: urls.green });
    })());
  return {
    status: async (direction: ReplicationDirection) => (await load()).status(direction),
    waitForCatchUp: async (direction, timeoutMs) => (await load()).waitForCatchUp(direction, timeoutMs),
    parity: async () => (await load()).parity(),
    copySequences: async (direction) => (await load()).copySequences(direction),
    start: async (direction, options) => (await load()).start(direction, options),
    stop: async (direction) => (await load()).stop(direction),
  };
}

interface ParityReportFile {
  kind?: string;
  finishedAt?: string;
  summary?: string;
  totals?: { tablesDifferent?: number; schemaDifferences?: number; missingOnGreen?: number; extraOnGreen?: number; changed?: number; sequencesBehind?: number };
}

/**
 * The newest `npm run parity` result. Rows and schema decide: logical replication does not carry
 * sequence values, so sequences behind on green are expected while blue → green replication runs
 * (the switch copies and verifies them under the fence), exactly as the replication adapter judges.
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
      let report: ParityReportFile;
      try {
        report = JSON.parse(text) as ParityReportFile;
      } catch {
        throw new UsageError(`${path} is not a parity report (invalid JSON); run \`npm run parity\` again`);
      }
      const t = report.totals;
      const checkedAt = Date.parse(report.finishedAt ?? "");
      if (report.kind !== "parity" || !t || !Number.isFinite(checkedAt)) throw new UsageError(`${path} is not a parity report; run \`npm run parity\` again`);
      const identical = !t.tablesDifferent && !t.schemaDifferences && !t.missingOnGreen && !t.extraOnGreen && !t.changed;
      const sequences = t.sequencesBehind ? ` (${t.sequencesBehind} sequence(s) behind on green: copied under the fence)` : "";
      return { identical, checkedAt, summary: `${report.summary ?? (identical ? "identical" : "different")}${identical ? sequences : ""}` };
    },
  };
}
