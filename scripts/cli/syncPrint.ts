// `npm run sync`'s output: the planned SQL, a start's result, a stop's and the sequences' report,
// and the initial copy's progress (redrawn on a terminal, one line per change otherwise).

import pc from "picocolors";
import { createLogUpdate } from "log-update";
import type { OutputMode } from "./common.js";
import type { Direction } from "./syncConnections.js";
import {
  waitForCatchUp,
  type PlannedStatement,
  type SequenceCopy,
  type StartSyncResult,
  type StopSyncResult,
  type SyncStatus,
} from "../postgres/sync/index.js";
import { formatStatus } from "../postgres/sync/format.js";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printStatements(statements: PlannedStatement[], dir: Direction, mode: OutputMode): void {
  const c = pc.createColors(mode.color);
  if (statements.length === 0) {
    process.stdout.write("-- nothing to run\n");
    return;
  }
  for (const s of statements) {
    const side = s.on === "source" ? dir.source : dir.target;
    process.stdout.write(`${c.dim(`-- on ${side}`)}\n${s.sql};\n`);
  }
}

export function printStartResult(result: StartSyncResult, dir: Direction, mode: OutputMode): void {
  const c = pc.createColors(mode.color);
  for (const w of result.warnings) process.stderr.write(`${c.yellow("warning:")} ${w}\n`);
  if (result.dryRun) {
    process.stdout.write(`${c.bold(`sync ${result.name}`)} ${dir.source} → ${dir.target} (dry run: nothing changed)\n`);
    process.stdout.write(`tables: ${result.tables.join(", ")}\n`);
    for (const note of result.notes) process.stdout.write(`note: ${note}\n`);
    printStatements(result.statements, dir, mode);
    return;
  }
  if (result.alreadyRunning) {
    process.stdout.write(`${c.bold(`sync ${result.name}`)}: already running ${dir.source} → ${dir.target}\n`);
  } else {
    process.stdout.write(
      `${c.bold(`sync ${result.name}`)}: started ${dir.source} → ${dir.target}, ${result.tables.length} table(s), ` +
        `initial copy ${result.copyData ? "on" : "off"}, origin ${result.origin}\n`,
    );
  }
  for (const note of result.notes) process.stdout.write(`  ${note}\n`);
}

function progressReporter(mode: OutputMode): { update(text: string): void; done(): void } {
  if (mode.json) return { update: () => undefined, done: () => undefined };
  if (mode.live) {
    const log = createLogUpdate(process.stderr);
    return { update: (text) => log(text), done: () => log.done() };
  }
  let last = "";
  return {
    update: (text) => {
      if (text !== last) process.stderr.write(`${text}\n`);
      last = text;
    },
    done: () => undefined,
  };
}

export async function waitForCopy(dir: Direction, mode: OutputMode, timeoutSeconds: number): Promise<boolean> {
  const progress = progressReporter(mode);
  const result = await waitForCatchUp({
    sourceUrl: dir.sourceUrl,
    targetUrl: dir.targetUrl,
    sourceLabel: dir.sourceLabel,
    targetLabel: dir.targetLabel,
    name: dir.name,
    tablesOnly: true,
    timeoutMs: timeoutSeconds * 1000,
    pollMs: 500,
    onProgress: (p) => progress.update(`initial copy: ${p.tablesReady}/${p.tablesTotal} tables ready`),
  });
  progress.done();
  if (!mode.json) {
    process.stdout.write(
      result.caughtUp
        ? `initial copy done: ${result.tablesReady}/${result.tablesTotal} tables ready in ${(result.elapsedMs / 1000).toFixed(1)} s\n`
        : `initial copy not finished: ${result.reason}; it continues in the background (see sync status)\n`,
    );
  }
  return result.caughtUp;
}

/** `sync sequences`: one line per sequence, what was (or would be) set. */
export function printSequences(report: SequenceCopy[], dir: Direction, mode: OutputMode, dryRun: boolean): void {
  const c = pc.createColors(mode.color);
  const width = Math.max(8, ...report.map((r) => r.sequence.length));
  process.stdout.write(`sequences ${dir.source} → ${dir.target}${dryRun ? " (dry run)" : ""}: ${report.length}\n`);
  for (const r of report) {
    const what =
      r.action === "set"
        ? `${dryRun ? "would set" : "set"} ${r.targetBefore} → ${r.sourceValue}${r.sourceIsCalled ? "" : " (not yet called)"}`
        : r.action === "unchanged"
          ? `unchanged at ${r.sourceValue}`
          : r.action === "kept-target-ahead"
            ? `kept: ${dir.target} at ${r.targetBefore} is ahead of ${dir.source} at ${r.sourceValue} (--allow-decrease to force)`
            : c.red(`missing on ${dir.target}`);
    process.stdout.write(`  ${r.sequence.padEnd(width)}  ${what}\n`);
  }
}

/** `sync stop`: what was dropped and whether a slot is left (dry run: the SQL it would run). */
export function printStopResult(result: StopSyncResult, dir: Direction, mode: OutputMode): void {
  if (result.dryRun) {
    process.stdout.write(`sync ${result.name} stop (dry run: nothing changed)\n`);
    for (const m of result.messages) process.stdout.write(`note: ${m}\n`);
    printStatements(result.statements, dir, mode);
    return;
  }
  const c = pc.createColors(mode.color);
  process.stdout.write(
    `sync ${result.name} ${dir.source} → ${dir.target}: ${result.leftoverSlots.length === 0 ? c.green("stopped, no slot left") : c.red("stopped with slots left")}\n`,
  );
  process.stdout.write(`  subscription ${result.droppedSubscription ? "dropped" : "none"}; publication ${result.droppedPublication ? "dropped" : "none"}`);
  process.stdout.write(`${result.droppedSlots.length ? `; slots dropped directly: ${result.droppedSlots.join(", ")}` : ""}\n`);
  for (const m of result.messages) process.stdout.write(`  ${m}\n`);
}

/** `sync status` in words. */
export function printStatus(result: SyncStatus, dir: Direction, mode: OutputMode): void {
  process.stdout.write(formatStatus(result, dir, mode.color));
}
