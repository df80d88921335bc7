// database.mode paired on AWS: the ports the fenced switch and the lossless rollback need beyond
// the ALB ones: logical replication both ways (scripts/postgres/replication.ts, the same adapter
// the sandbox uses) and the newest parity result (reports/parity-latest.json, written by
// `npm run parity`).
//
// The database URLs are built from the stack outputs (endpoints) and the RDS-managed Secrets
// Manager secrets (credentials) by scripts/postgres/sync/stackOutputs.ts. They carry passwords:
// they stay in memory, never in events, journals, reports or logs. TLS is verify-full: trust the
// RDS CA with NODE_EXTRA_CA_CERTS=global-bundle.pem.
//
// Everything here is loaded on first use, so a paired rollback still reaches its first AWS call
// (the lock) before pg and the replication code are loaded.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DataReplication, ParityResult, ParitySource, ReplicationDirection } from "../core/ports.js";
import { UsageError } from "./common.js";

export interface PairedWiring {
  stack: string;
  /** The stack outputs as read (JSON). */
  rawOutputs: unknown;
  region: string;
  /** config database.databaseName (may still be loading: rollback reads the config after its first call). */
  databaseName?: string | Promise<string | undefined>;
}

async function databaseUrls(wiring: PairedWiring): Promise<{ blue: string; green: string }> {
  const { urlsFromStack } = await import("../postgres/sync/stackOutputs.js");
  const dir = await mkdtemp(join(tmpdir(), "bluegreen-outputs-"));
  const file = join(dir, "outputs.json");
  // The sync helper reads the outputs from a file; outputs hold ARNs and endpoints, no secrets.
  await writeFile(file, JSON.stringify(wiring.rawOutputs), { mode: 0o600 });
  process.env.AWS_REGION ??= wiring.region;
  try {
    const database = await wiring.databaseName;
    const urls = await urlsFromStack({ file, stack: wiring.stack, ...(database ? { database } : {}) });
    return { blue: urls.blue, green: urls.green };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
