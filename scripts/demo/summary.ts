// What the demo prints and writes: the plain and silent printers, the closing summary, and the
// report (the demo's summary followed by the engine's own cutover report from the journal).

import { formatPercent } from "../core/format.js";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { Journal } from "../core/journal.js";
import { formatEvent } from "../core/events.js";
import { buildReport } from "../core/report.js";
import { describeFault } from "../../sample-app/faults.js";
import type { LoadResult } from "../local/load.js";
import { readRecordedWeights } from "../local/weightFile.js";
import { judgeDecisions, stripLoad, summarizeSteps, timestamp } from "./figures.js";
import { migrationSummaryLines } from "./migrateSummary.js";
import type { ScenarioContext } from "./context.js";
import type { DemoPrinter, DemoResult } from "./types.js";

/** What a scenario itself found; scenarioResult() adds what every scenario records the same way. */
export type ScenarioFindings = Pick<
  DemoResult,
  | "database"
  | "outcome"
  | "asExpected"
  | "reason"
  | "pollMs"
  | "unexpectedFailures"
  | "injectedFailures"
  | "dataCheck"
  | "rollback"
  | "fault"
  | "paired"
  | "migration"
> & { cutoverMs: number };

/** A scenario's result: its findings, plus the steps the router saw, the load, the judge's decisions and the recorded weights. */
export async function scenarioResult(ctx: ScenarioContext, loadResult: LoadResult, findings: ScenarioFindings): Promise<DemoResult> {
  const { cutoverMs, ...found } = findings;
  return {
    runId: ctx.runId,
    ...found,
    exitCode: found.asExpected ? 0 : 1,
    durationMs: 0,
    phasesMs: { startup: ctx.startupMs, cutover: cutoverMs, checks: 0 },
    steps: summarizeSteps(ctx.sandbox.router!.epochs(), loadResult, Date.now()),
    load: stripLoad(loadResult),
    decisions: judgeDecisions(ctx.events),
    backgroundErrorRate: ctx.backgroundErrorRate,
    reportPaths: null,
    weightsRecorded: await readRecordedWeights(ctx.sandbox.weightsFile).catch(() => null),
  };
}

/** Plain lines: one per engine event (no ticks) and one per narration line. */
export function plainPrinter(write: (text: string) => void = (text) => process.stdout.write(text)): DemoPrinter {
  return {
    event: (event) => {
      if (event.type !== "tick") write(`  ${formatEvent(event)}\n`);
    },
    line: (text) => write(`${text}\n`),
    close: () => undefined,
  };
}

export const silentPrinter: DemoPrinter = { event: () => undefined, line: () => undefined, close: () => undefined };

const pct = (value: number | null) => formatPercent(value, { scale: "percent", decimals: 2, fixed: true });
const secs = (ms: number | null) => (ms === null ? "n/a" : `${(ms / 1000).toFixed(2)} s`);

/** The short summary printed at the end (plain text, one line per item). */
export function summaryLines(result: DemoResult): string[] {
  const lines: string[] = [];
  lines.push(`Summary (${result.runId}): ${result.outcome}${result.reason ? ` — ${result.reason}` : ""}`);
  if (result.steps.length > 0) {
    lines.push("  step                  configured (blue/green)   observed green   requests   failed");
    for (const step of result.steps) {
      const total = step.routed.blue + step.routed.green;
      lines.push(
        `  ${step.label.padEnd(21)} ${`${step.configured.blue}/${step.configured.green}`.padEnd(25)} ${pct(step.observedGreenPercent).padEnd(16)} ${String(total).padEnd(10)} ${step.failedRequests}`,
      );
    }
  }
  for (const decision of result.decisions) lines.push(`  evidence, ${decision.where}: ${decision.decision} — ${decision.reason}`);
  lines.push(
    `  load: ${result.load.completed} requests (${result.load.byColor.blue} blue, ${result.load.byColor.green} green), ${result.load.failed} failed` +
      (result.fault || result.backgroundErrorRate > 0 ? ` (${result.unexpectedFailures} other than those injected on purpose)` : "") +
      `, ${result.load.writesAcknowledged} writes acknowledged`,
  );
  lines.push(
    `  data: ${result.dataCheck.present}/${result.dataCheck.acknowledged} acknowledged writes present in the ${result.dataCheck.database} database` +
      (result.dataCheck.missing.length > 0 ? ` — ${result.dataCheck.missing.length} MISSING` : ", none lost"),
  );
  if (result.rollback) {
    const r = result.rollback;
    lines.push(
      `  rollback: fault onset → breach observed ${secs(r.detectionMs)} (poll interval ${secs(result.pollMs)}; ${r.pollsSeeingFault ?? "n/a"} poll(s) saw the fault, ${r.pollsWhollyAfterOnset ?? "n/a"} of them whole${typeof r.pollsTheRulesNeed === "number" ? `; the rules need ${r.pollsTheRulesNeed} at this traffic` : ""}), → traffic verified on blue ${secs(r.timeToRollbackMs)}; ` +
        `requests sent afterwards: ${r.afterRollback.blue} blue, ${r.afterRollback.green} green`,
    );
  }
  if (result.paired) {
    const other = result.paired.writesOnOtherSide;
    const p = result.paired;
    if (p.switches.length > 0) {
      lines.push(
        "  switch                       outcome       fence (router)    writes rejected   reads in fence (failed)   carried over (present)   writes lost",
      );
      for (const sw of p.switches) {
        lines.push(
          `  ${`${sw.index}. ${sw.kind} ${sw.from} → ${sw.to}`.padEnd(28)} ${sw.outcome.padEnd(13)} ${`${sw.fenceMs === null ? "n/a" : `${sw.fenceMs} ms`} (${sw.routerFenceMs ?? "n/a"})`.padEnd(17)} ` +
            `${String(sw.writesRejected).padEnd(17)} ${`${sw.readsDuringFence} (${sw.readFailuresDuringFence})`.padEnd(25)} ${`${sw.carriedOver.acknowledged} ${sw.carriedOver.color} (${sw.carriedOver.present})`.padEnd(24)} ${sw.lost}`,
        );
        if (sw.onlyOnGreen && sw.onlyOnGreen.length > 0) {
          lines.push(
            `     only on green (reported by the rollback): ${sw.onlyOnGreen.length} key(s): ${sw.onlyOnGreen.slice(0, 5).join(", ")}${sw.onlyOnGreen.length > 5 ? ", …" : ""}`,
          );
        }
      }
      lines.push(
        `  paired: ${p.writesPerSecond} acknowledged writes/s over the run; ${p.writesRejectedByFence} write(s) rejected by the fence in all; ` +
          `${p.readsCompleted} reads answered, ${p.readFailures} failed; duplicates blue ${p.duplicates.blue} / green ${p.duplicates.green}; ` +
          `fence-rejected writes applied anyway: ${p.rejectedApplied.length}`,
      );
    }
    lines.push(`  paired: ${result.paired.note}`);
    lines.push(
      `  paired: ${other.present}/${other.acknowledged} acknowledged writes also present in the ${other.database} database${other.missing.length > 0 ? ` — ${other.missing.length} MISSING` : ""}`,
    );
  }
  if (result.backgroundErrorRate > 0)
    lines.push(
      `  background: both colors answered ${pct(result.backgroundErrorRate * 100)} of requests 500 on purpose; ${result.injectedFailures} injected failure(s) in all`,
    );
  if (result.migration) lines.push(...migrationSummaryLines(result.migration));
  if (result.weightsRecorded)
    lines.push(`  weights recorded (run directory, weights.json): blue ${result.weightsRecorded.blue} / green ${result.weightsRecorded.green}`);
  lines.push(
    `  time: ${secs(result.durationMs)} total (start-up ${secs(result.phasesMs.startup)}, cutover ${secs(result.phasesMs.cutover)}, checks ${secs(result.phasesMs.checks)})`,
  );
  lines.push(
    result.asExpected
      ? `  result: as expected${
          result.reason?.startsWith("guard:")
            ? " — the cutover had paused and exited; the guard caught the fault and rolled back with no operator process"
            : result.reason?.startsWith("capacity before step")
              ? " — the capacity check stopped green before it got more than it can carry, and the engine rolled back"
              : result.fault
                ? " — the gates caught the fault and the engine rolled back on its own"
                : ""
        }`
      : "  result: NOT as expected (see above)",
  );
  // Last, so it is the line a reader copies: the page to open.
  if (result.reportPaths) {
    const { html, markdown } = result.reportPaths;
    lines.push(html ? `  report: ${html} (and .md, .json)` : `  report: ${markdown} (and .json)`);
  }
  return lines;
}

/**
 * A scenario's last step: its clock closed, its reports written (a report that cannot be written is
 * said, and the result stands), the clock closed again so the totals include the writing.
 */
export async function finishDemo(
  ctx: Pick<ScenarioContext, "options" | "started" | "say">,
  demo: DemoResult,
  journal: Journal | null,
  checksStarted: number,
): Promise<DemoResult> {
  const close = () => {
    demo.phasesMs.checks = Date.now() - checksStarted;
    demo.durationMs = Date.now() - ctx.started;
  };
  close();
  demo.reportPaths = await writeReports(ctx.options.reportsDir ?? "reports", ctx.started, demo, journal, ctx.say).catch((error: unknown) => {
    ctx.say(`could not write the report: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  });
  close();
  return demo;
}

export async function writeReports(
  dir: string,
  started: number,
  demo: DemoResult,
  journal: Journal | null,
  say: (line: string) => void = () => {},
): Promise<NonNullable<DemoResult["reportPaths"]>> {
  const directory = resolve(dir);
  await mkdir(directory, { recursive: true });
  let base = join(directory, `demo-${timestamp(started)}`);
  if (existsSync(`${base}.json`)) base = `${base}-${demo.runId}`;
  const engine = journal ? buildReport(journal) : null;
  const summary = summaryLines({ ...demo, reportPaths: null });
  const json = { format: "bluegreen-demo-report", version: 1, demo, summary, cutover: engine?.json ?? null };
  const markdown = (chart: string | null) =>
    [
      `# Demo ${demo.runId}: ${demo.outcome}`,
      "",
      `Run on ${new Date(started).toISOString()}, ${demo.database} database${demo.fault ? `, fault on green: ${describeFault(demo.fault)}` : demo.outcome === "paused" ? ", paused rollout" : ", happy path"}.`,
      "Observed split: requests the local router routed by weight while each set of weights was live.",
      "",
      ...(chart ? [`![Weights and phases](${encodeURI(basename(chart))})`, ""] : []),
      "```",
      ...summary,
      "```",
      "",
      "---",
      "",
      "The engine's report (the same report `npm run cutover` writes):",
      "",
      engine?.markdown ?? "(no journal: the run was cancelled before it started)",
      "",
    ].join("\n");
  await writeFile(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(`${base}.md`, markdown(null));
  let html: string | null = null;
  try {
    // The charting libraries load only when a page is drawn.
    const { readReportInput, writeHtmlReport } = await import("../report/write.js");
    const written = await writeHtmlReport(readReportInput(json), base);
    html = written.htmlPath;
    if (written.svgPath) await writeFile(`${base}.md`, markdown(written.svgPath));
  } catch (error) {
    say(`could not draw the HTML report: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { markdown: `${base}.md`, json: `${base}.json`, html };
}
