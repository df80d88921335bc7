// How a rollback ended, for the operator: the stickiness warning, the report files and the outcome line.

import type { RollbackResult } from "../core/engine.js";
import type { Io } from "./args.js";

const describeRoutes = (routes: RollbackResult["routes"]) =>
  routes.map((r) => `${r.route.split("/").slice(-2).join("/")} blue ${r.weights.blue} / green ${r.weights.green}`).join(", ") || "no routes read back";

export interface RollbackEndOptions {
  stack: string;
  reports: string;
  json: boolean;
  /** Wall time from process start to the verified flip. */
  wallMs: number;
  io: Pick<Io, "stdout" | "stderr" | "cwd">;
}

/** Print the rollback's result and write its reports. */
export async function printRollbackResult(result: RollbackResult, options: RollbackEndOptions): Promise<void> {
  const { io, wallMs } = options;
  if (result.stickinessSeconds !== null && result.stickinessSeconds > 0) {
    const minutes = Math.ceil(result.stickinessSeconds / 60);
    io.stderr.write(
      `warning: target group stickiness is on (${result.stickinessSeconds}s): clients that were pinned to green may keep reaching green for up to ${minutes} minute(s)\n`,
    );
  }
  const { reportLine, reportPaths, writeReports } = await import("./reports.js");
  const report = await writeReports(result.journal, {
    stack: options.stack,
    dir: options.reports.startsWith("/") ? options.reports : `${io.cwd}/${options.reports}`,
    suffix: "-rollback",
  });
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify({ type: "rollback-result", outcome: result.outcome, wallMs, engineMs: result.wallMs, timeToRollbackMs: result.timeToRollbackMs, routes: result.routes, brokeLock: result.brokeLock, stickinessSeconds: result.stickinessSeconds, report: reportPaths(report) })}\n`,
    );
  } else {
    io.stderr.write(reportLine(report));
    io.stderr.write(`rollback ${result.outcome}: ${describeRoutes(result.routes)}; wall time ${wallMs} ms from process start (engine ${result.wallMs} ms)\n`);
  }
}
