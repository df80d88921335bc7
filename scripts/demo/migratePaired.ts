// Scenario `--migration --database paired`: one PostgreSQL server per color, blue → green
// replication running, the load writing through the router the whole time. Green's v2 writes
// bookings.note; expand adds it and also creates booking_audit, a table a trigger on bookings
// writes. Logical replication carries no DDL, so the cutover's migrating phase applies each file
// to both sides in the order the replication observed requires (expand: the subscriber, green,
// first), brings the new table into the replication with every row the writer had, and proves
// schema parity. Then the fenced switch to green on the expanded schema; green's fault; the fenced
// rollback to blue; a second fenced cutover that succeeds; contract after the journal gate and a
// snapshot of green's database, with green → blue replication still running (contract goes to
// the publisher, green, first). After every one of these the acknowledged writes are looked for
// on both sides: lost must be 0. The end: rows per table on both sides, the trigger's rows on
// both, and the parity library's verdict.

import type { CutoverResult } from "../core/engine.js";
import type { Color } from "../core/ports.js";
import { join } from "node:path";
import { LocalSnapshotter } from "../local/adapters.js";
import { verifyAcknowledgedWrites, type LoadResult } from "../local/load.js";
import type { ScenarioContext } from "./context.js";
import { injectedFailure } from "./faults.js";
import { pairedLoadFigures } from "./figures.js";
import {
  NOTE_CONTRACT,
  NOTE_EXPAND,
  NOTE_UNSAFE,
  REJECTED_FILE,
  contractAfterGate,
  demoCutover,
  firstRollback,
  lintDemoMigrations,
  noteFigures,
  notesAsExpected,
  pairedTargets,
  refusedRules,
  settleFault,
  withMigrator,
  writeMigrationSet,
  type ContractStep,
  type DemoLint,
} from "./migrateSteps.js";
import { appliedOrder, auditFigures, checkpoint, checkpointOk, expandedSchemaOn, noteRequiredOn, otherColor, tableRows, urlOf } from "./migrateChecks.js";
import { finishDemo, scenarioResult } from "./summary.js";
import type { DemoMigration, DemoResult, MigrationCheckpoint, PairedMigration } from "./types.js";

/** Expand: a table written by a trigger on bookings (blue v1's inserts and green v2's alike). */
export const AUDIT_EXPAND = `SET lock_timeout = '5s';
CREATE TABLE IF NOT EXISTS booking_audit (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  booking_id  bigint      NOT NULL,
  app_version text        NOT NULL,
  written_at  timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION booking_audit_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO booking_audit (booking_id, app_version) VALUES (NEW.id, NEW.app_version);
  RETURN NEW;
END
$$;
CREATE TRIGGER bookings_audit AFTER INSERT ON bookings FOR EACH ROW EXECUTE FUNCTION booking_audit_write();
`;

/**
 * Blue serves alone this long after the rollback before the next switch. An all-at-once switch
 * judges green at 100% against blue's own recent windows (its level and how much it moves): the
 * expand's brief locks on bookings and the writes that return after the rollback's fence make
 * those windows jumpy, and an operator waits for blue to settle before trying again.
 */
const SETTLE_AFTER_ROLLBACK_MS = 6000;

const PAIRED_SET = {
  "expand/001_bookings_note.sql": NOTE_EXPAND,
  "expand/002_booking_audit.sql": AUDIT_EXPAND,
  "contract/001_bookings_note_required.sql": NOTE_CONTRACT,
  [REJECTED_FILE]: NOTE_UNSAFE,
};

/** What the switches and the contract did, before the end's checks. */
interface PairedRun {
  dir: string;
  lint: DemoLint;
  /** What the migrating phase's expand said (null: it applied nothing). */
  expandSummary: string | null;
  first: CutoverResult;
  firstEvents: number;
  expandedSchemaKept: Record<Color, boolean>;
  second: CutoverResult;
  secondStarted: number;
  contract: ContractStep;
  checkpoints: MigrationCheckpoint[];
  started: number;
  ended: number;
}

export async function runPairedMigrationScenario(ctx: ScenarioContext): Promise<DemoResult> {
  if (ctx.database !== "paired" || !ctx.sandbox.replication) throw new RangeError("runPairedMigrationScenario runs on paired databases");
  const run = await switchesAndContract(ctx);
  return pairedChecks(ctx, run);
}

/** Lint; cutover 1 (expand, the fenced switch, the fault, the fenced rollback); cutover 2; contract. */
async function switchesAndContract(ctx: ScenarioContext): Promise<PairedRun> {
  const { sandbox, say } = ctx;
  const dir = await writeMigrationSet(sandbox.runDir, PAIRED_SET);
  const lint = await lintDemoMigrations(ctx, dir, PAIRED_SET);
  const checkpoints: MigrationCheckpoint[] = [];
  let expandSummary: string | null = null;
  // Blue takes the writes during expand; the replication observed (blue → green) orders the sides.
  // Right after expand, before the fence: every acknowledged write on both sides.
  const deps = withMigrator(ctx, dir, pairedTargets(sandbox.blueUrl, sandbox.greenUrl, "blue", "default"), async (result) => {
    expandSummary = result.summary;
    checkpoints.push(await checkpoint(sandbox, "after expand (before the switch)", "blue", say));
  });
  const started = Date.now();

  ctx.phase("migration:cutover-with-fault");
  const first = await demoCutover(ctx, deps, 1);
  await settleFault(ctx);
  const firstServing: Color = first.outcome === "succeeded" ? "green" : "blue";
  checkpoints.push(await checkpoint(sandbox, `after cutover 1 (${first.outcome})`, firstServing, say));
  const [blueKept, greenKept] = await Promise.all([expandedSchemaOn(sandbox.blueUrl), expandedSchemaOn(sandbox.greenUrl)]);
  const expandedSchemaKept = { blue: blueKept, green: greenKept };
  say(
    `after the rollback: bookings.note, booking_audit and its trigger ${blueKept && greenKept ? "are still there on both sides" : `kept on blue: ${blueKept}, on green: ${greenKept}`}; blue v1 serves on the expanded schema`,
  );
  await sandbox.sleep(SETTLE_AFTER_ROLLBACK_MS);

  ctx.phase("migration:cutover");
  const secondStarted = Date.now();
  const firstEvents = ctx.events.length;
  const second = await demoCutover(ctx, deps, 2);
  const serving: Color = second.outcome === "succeeded" ? "green" : "blue";
  checkpoints.push(await checkpoint(sandbox, `after cutover 2 (${second.outcome})`, serving, say));

  // Green serves and green → blue runs beside blue → green: the writer decides the order.
  const snapshotter = new LocalSnapshotter(urlOf(sandbox, serving), join(sandbox.runDir, "snapshots"));
  const contractTargets = pairedTargets(sandbox.blueUrl, sandbox.greenUrl, serving, "flag");
  const contract = await contractAfterGate(ctx, contractTargets, dir, snapshotter);
  checkpoints.push(await checkpoint(sandbox, "after contract", serving, say));
  await sandbox.sleep(1000);
  return { dir, lint, expandSummary, first, firstEvents, expandedSchemaKept, second, secondStarted, contract, checkpoints, started, ended: Date.now() };
}

/** The load stopped: the last checkpoint, rows per table, the trigger's rows, notes, parity. */
async function endFigures(ctx: ScenarioContext, run: PairedRun, serving: Color): Promise<PairedMigration> {
  const { sandbox, say } = ctx;
  const { blueUrl, greenUrl } = sandbox;
  const checkpoints = [...run.checkpoints, await checkpoint(sandbox, "at the end (load stopped)", serving, say)];
  const targets = pairedTargets(blueUrl, greenUrl, serving, "flag");
  const [applied, tables, audit, blueRequired, greenRequired] = await Promise.all([
    appliedOrder(targets, run.dir),
    tableRows(blueUrl, greenUrl),
    auditFigures(blueUrl, greenUrl),
    noteRequiredOn(blueUrl),
    noteRequiredOn(greenUrl),
  ]);
  const parity = await sandbox.step(sandbox.replication!.parity());
  say(`parity at the end (blue vs green): ${parity.summary}`);
  return {
    applied,
    expandSummary: run.expandSummary,
    expandedSchemaKept: run.expandedSchemaKept,
    checkpoints,
    tables,
    audit,
    noteRequired: { blue: blueRequired, green: greenRequired },
    parity: { identical: parity.identical, summary: parity.summary },
  };
}

/** Everything the scenario promises, held. */
function pairedAsExpected(run: PairedRun, migration: DemoMigration, p: PairedMigration, extra: { unexpectedFailures: number; dataOk: boolean }): boolean {
  const expectedTables = p.tables.every((t) => t.blue === t.green && t.blue >= 0);
  return (
    extra.dataOk &&
    extra.unexpectedFailures === 0 &&
    run.lint.lint.ok &&
    !run.lint.unsafe.ok &&
    run.first.outcome === "rolled-back" &&
    p.expandedSchemaKept.blue &&
    p.expandedSchemaKept.green &&
    run.second.outcome === "succeeded" &&
    run.contract.contract.ok &&
    p.checkpoints.every(checkpointOk) &&
    expectedTables &&
    p.audit.blue > 0 &&
    p.audit.sameIds &&
    p.audit.unaudited.blue === 0 &&
    p.audit.unaudited.green === 0 &&
    p.noteRequired.blue &&
    p.noteRequired.green &&
    p.parity.identical &&
    notesAsExpected(migration)
  );
}

async function pairedChecks(ctx: ScenarioContext, run: PairedRun): Promise<DemoResult> {
  const { sandbox } = ctx;
  const { first, second } = run;
  const serving: Color = second.outcome === "succeeded" ? "green" : "blue";
  ctx.phase("checks");
  const loadResult = await sandbox.load!.stop();
  const checksStarted = Date.now();
  const paired = await endFigures(ctx, run, serving);
  const dataCheck = { ...(await sandbox.step(verifyAcknowledgedWrites(urlOf(sandbox, serving), loadResult.acknowledged))), database: serving };
  const other = {
    ...(await sandbox.step(verifyAcknowledgedWrites(urlOf(sandbox, otherColor(serving)), loadResult.acknowledged))),
    database: otherColor(serving),
  };
  const load = await sandbox.step(pairedLoadFigures(loadResult, sandbox.blueUrl, sandbox.greenUrl));
  const injected = loadResult.failures.filter((failure) => injectedFailure(failure, ctx.fault, sandbox.apps!.green)).length;
  const unexpectedFailures = loadResult.failures.length - injected;
  const migration: DemoMigration = {
    expandApplied: first.journal?.migration?.applied ?? [],
    firstCutover: first.outcome,
    columnKeptAfterRollback: paired.expandedSchemaKept.blue && paired.expandedSchemaKept.green,
    secondCutover: second.outcome,
    contract: run.contract.contract,
    ...(await noteFigures(urlOf(sandbox, serving))),
    lintRefused: refusedRules(run.lint.unsafe),
    lintOk: run.lint.lint.ok,
    paired,
  };
  const dataOk =
    [dataCheck, other].every((check) => check.missing.length === 0 && check.mismatched.length === 0) &&
    load.duplicates.blue === 0 &&
    load.duplicates.green === 0 &&
    load.rejectedApplied.length === 0;
  const rollback = firstRollback(ctx, first, run.firstEvents, loadResult, run.secondStarted);
  const asExpected = pairedAsExpected(run, migration, paired, { unexpectedFailures, dataOk }) && rollback !== null && rollback.afterRollback.green === 0;
  const demo = await scenarioResult(ctx, loadResult, {
    database: "paired",
    outcome: second.outcome,
    asExpected,
    reason: `cutover 1 ${first.outcome}${first.reason ? ` (${first.reason})` : ""}; cutover 2 ${second.outcome}; contract ${run.contract.contract.ok ? "applied" : run.contract.contract.summary}`,
    cutoverMs: run.ended - run.started,
    pollMs: second.plan.pollMs,
    unexpectedFailures,
    injectedFailures: injected,
    dataCheck,
    rollback,
    fault: ctx.fault,
    paired: pairedSection(ctx, run, loadResult, { other, load, parity: paired.parity.summary }),
    migration,
  });
  return finishDemo(ctx, demo, second.journal, checksStarted);
}

/** DemoResult.paired: the fences of both cutovers and the load-wide checks. */
function pairedSection(
  ctx: ScenarioContext,
  run: PairedRun,
  loadResult: LoadResult,
  found: {
    other: NonNullable<DemoResult["paired"]>["writesOnOtherSide"];
    load: Awaited<ReturnType<typeof pairedLoadFigures>>;
    parity: string;
  },
): NonNullable<DemoResult["paired"]> {
  const { other, load, parity } = found;
  return {
    initialParity: ctx.sandbox.initialParity,
    parityAfterWrites: parity,
    writesOnOtherSide: other,
    switchFenceMs: run.second.switchFenceMs,
    rollbackFenceMs: run.first.rollbackFenceMs,
    writesRejectedByFence: loadResult.fenced,
    note:
      `fences: cutover 1 ${run.first.switchFenceMs ?? "n/a"} ms, its rollback ${run.first.rollbackFenceMs ?? "n/a"} ms, cutover 2 ${run.second.switchFenceMs ?? "n/a"} ms; ` +
      `${loadResult.fenced} write(s) rejected by the fence in all`,
    ...load,
  };
}
