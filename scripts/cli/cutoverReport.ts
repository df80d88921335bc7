// How a cutover ended, for the operator: the report files, the outcome line, how to continue a
// paused rollout, and the exit code (130 after a Ctrl-C that got traffic back on blue).

import type { OperatorPolicyResult } from "../app/policies/cutoverInterrupt.js";
import type { Journal } from "../core/journal.js";
import type { Io } from "./args.js";
import { ExitCode } from "./common.js";

/** How to continue a paused rollout (the cutover exits 0 there). */
export function pausedHint(pause: { step: number; until: number | null } | undefined): string {
  const at = pause ? ` at step ${pause.step + 1}` : "";
  const when = pause?.until ? ` after ${new Date(pause.until).toISOString()} (or now with \`npm run promote -- --now\`)` : "";
  return `paused${at}: nothing of this process keeps running; the guard watches green's alarms. Continue with \`npm run promote\`${when}, or send traffic back with \`npm run rollback\``;
}

export interface CutoverEndOptions {
  stack: string;
  reports: string;
  json: boolean;
  io: Pick<Io, "stdout" | "stderr" | "cwd">;
  pausesOf: (journal: Journal) => { step: number; until: number | null }[];
  outcomeExitCode: (outcome: OperatorPolicyResult["cutover"]["outcome"]) => ExitCode;
}

/** Print the end of a cutover (and of the rollback a Ctrl-C started) and say the exit code. */
export async function printCutoverEnd(policy: OperatorPolicyResult, options: CutoverEndOptions): Promise<ExitCode> {
  const { io } = options;
  const result = policy.cutover;
  if (result.outcome === "cancelled" || (result.outcome === "interrupted" && result.journal === null)) {
    io.stderr.write(`cutover ${policy.interrupted ? "interrupted" : "cancelled"}: nothing was changed\n`);
    return policy.interrupted ? ExitCode.interrupted : ExitCode.ok;
  }
  const journal = policy.rollback?.journal ?? result.journal;
  if (journal) {
    const { reportLine, reportPaths, writeReports } = await import("./reports.js");
    const report = await writeReports(journal, {
      stack: options.stack,
      dir: options.reports.startsWith("/") ? options.reports : `${io.cwd}/${options.reports}`,
    });
    const outcome = policy.rollback?.outcome ?? result.outcome;
    if (options.json) io.stdout.write(`${JSON.stringify({ type: "report", ...reportPaths(report), outcome })}\n`);
    else io.stderr.write(reportLine(report));
  }
  if (policy.rollback) {
    // Ctrl-C: 130 once traffic is back on blue; 1 when the rollback did not get it there.
    return policy.rollback.outcome === "rolled-back" ? ExitCode.interrupted : ExitCode.failed;
  }
  if (!options.json) {
    const ttr = result.timeToRollbackMs !== null ? `; traffic back on blue ${result.timeToRollbackMs} ms after the breach was observed` : "";
    io.stderr.write(`cutover ${result.outcome}${result.reason ? `: ${result.reason}` : ""}${ttr}\n`);
    if (result.outcome === "paused") io.stderr.write(`${pausedHint(result.journal ? options.pausesOf(result.journal).at(-1) : undefined)}\n`);
  }
  return options.outcomeExitCode(result.outcome);
}
