// database.mode paired: the newest parity result as a ParitySource, read from the report
// `npm run parity` writes (reports/parity-latest.json). The AWS wiring gives it to the cutover's
// preflight; replication both ways is scripts/postgres/stackReplication.ts.

import { readFile } from "node:fs/promises";
import type { ParityResult, ParitySource } from "../../core/ports.js";
import type { ParityReport } from "../../postgres/parity/index.js";
import { UsageError } from "../../core/errors.js";

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
      if (
        report.kind !== "parity" ||
        !report.totals ||
        !Array.isArray(report.tables) ||
        !Array.isArray(report.sequences) ||
        !Number.isFinite(Date.parse(report.finishedAt ?? ""))
      ) {
        throw new UsageError(`${path} is not a parity report; run \`npm run parity\` again`);
      }
      const { judgeForSwitch } = await import("../../postgres/replication.js");
      const verdict = judgeForSwitch(report as ParityReport);
      return { identical: verdict.identical, checkedAt: verdict.checkedAt, summary: verdict.summary };
    },
  };
}
