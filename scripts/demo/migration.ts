// Scenario `--migration` on the shared database: green's version (v2) writes bookings.note, a
// column the database does not have yet. The migrations live in the run directory: expand adds
// the column, contract makes it required. The demo lints them (and shows the unsafe one-step
// version refused), then runs the production engine with a migrator: its migrating phase applies
// expand before any weight moves; the canary meets the injected fault and rolls back on its own,
// and blue (v1) keeps serving on the expanded schema; then a clean cutover (expand already
// applied: nothing to do), and contract after the gate has read the journal, with a snapshot
// first. Then the data checks: every acknowledged write is in the database, v2's rows carry their
// note, and NOT NULL holds. The paired databases' variant is migratePaired.ts.

import type { CutoverResult } from "../core/engine.js";
import { verifyAcknowledgedWrites } from "../local/load.js";
import type { ScenarioContext } from "./context.js";
import { injectedFailure } from "./faults.js";
import {
  NOTE_CONTRACT,
  NOTE_EXPAND,
  NOTE_UNSAFE,
  REJECTED_FILE,
  columnExists,
  contractAfterGate,
  demoCutover,
  firstRollback,
  lintDemoMigrations,
  noteFigures,
  notesAsExpected,
  refusedRules,
  settleFault,
  sharedTargets,
  withMigrator,
  writeMigrationSet,
  type ContractStep,
  type DemoLint,
} from "./migrateSteps.js";
import { finishDemo, scenarioResult } from "./summary.js";
import type { DemoMigration, DemoResult } from "./types.js";

export { V2_NOTE } from "./migrateSteps.js";

const SHARED_SET = {
  "expand/001_bookings_note.sql": NOTE_EXPAND,
  "contract/001_bookings_note_required.sql": NOTE_CONTRACT,
  [REJECTED_FILE]: NOTE_UNSAFE,
};

/** What the cutovers and the contract did, before the checks. */
interface SharedRun {
  lint: DemoLint;
  first: CutoverResult;
  firstEvents: number;
  columnAfterRollback: boolean;
  second: CutoverResult;
  secondStarted: number;
  contract: ContractStep;
  started: number;
  ended: number;
}

export async function runMigrationScenario(ctx: ScenarioContext): Promise<DemoResult> {
  if (ctx.database !== "shared") throw new RangeError("runMigrationScenario runs on the shared database; paired databases: runPairedMigrationScenario");
  const run = await cutoversAndContract(ctx);
  return sharedChecks(ctx, run);
}

/** Lint, cutover with the fault (expand, rolled back), a clean cutover, contract. */
async function cutoversAndContract(ctx: ScenarioContext): Promise<SharedRun> {
  const { sandbox, say } = ctx;
  const url = sandbox.blueUrl;
  const dir = await writeMigrationSet(sandbox.runDir, SHARED_SET);
  const lint = await lintDemoMigrations(ctx, dir, SHARED_SET);
  const targets = sharedTargets(url);
  const deps = withMigrator(ctx, dir, targets);
  const started = Date.now();

  // Cutover with the fault: expand, then the canary meets the fault and rolls back.
  ctx.phase("migration:cutover-with-fault");
  const first = await demoCutover(ctx, deps, 1);
  await settleFault(ctx);
  const columnAfterRollback = await columnExists(url, "bookings", "note");
  say(`after the rollback: bookings.note ${columnAfterRollback ? "is still there" : "is GONE"}; blue v1 serves on the expanded schema`);
  await sandbox.sleep(1500);

  // The clean cutover: expand is already applied.
  ctx.phase("migration:cutover");
  const secondStarted = Date.now();
  const firstEvents = ctx.events.length;
  const second = await demoCutover(ctx, deps, 2);
  const contract = await contractAfterGate(ctx, targets, dir, ctx.deps.snapshotter);
  await sandbox.sleep(1000);
  return { lint, first, firstEvents, columnAfterRollback, second, secondStarted, contract, started, ended: Date.now() };
}

/** Every acknowledged write in the database, v2's notes, NOT NULL; the result and the report. */
async function sharedChecks(ctx: ScenarioContext, run: SharedRun): Promise<DemoResult> {
  const { sandbox, say } = ctx;
  const green = sandbox.apps!.green;
  const { lint, first, second, contract } = run;
  ctx.phase("checks");
  const loadResult = await sandbox.load!.stop();
  const checksStarted = Date.now();
  const dataCheck = { ...(await sandbox.step(verifyAcknowledgedWrites(sandbox.blueUrl, loadResult.acknowledged))), database: "shared" };
  const notes = await noteFigures(sandbox.blueUrl);
  const injected = loadResult.failures.filter((failure) => injectedFailure(failure, ctx.fault, green)).length;
  const unexpectedFailures = loadResult.failures.length - injected;
  const migration: DemoMigration = {
    expandApplied: first.journal?.migration?.applied ?? [],
    firstCutover: first.outcome,
    columnKeptAfterRollback: run.columnAfterRollback,
    secondCutover: second.outcome,
    contract: contract.contract,
    ...notes,
    lintRefused: refusedRules(lint.unsafe),
    lintOk: lint.lint.ok,
  };
  const dataOk = dataCheck.missing.length === 0 && dataCheck.mismatched.length === 0;
  const asExpected =
    dataOk &&
    unexpectedFailures === 0 &&
    lint.lint.ok &&
    !lint.unsafe.ok &&
    first.outcome === "rolled-back" &&
    run.columnAfterRollback &&
    second.outcome === "succeeded" &&
    contract.contract.ok &&
    notesAsExpected(notes);

  const demo = await scenarioResult(ctx, loadResult, {
    database: "shared",
    outcome: second.outcome,
    asExpected,
    reason: `cutover 1 ${first.outcome}${first.reason ? ` (${first.reason})` : ""}; cutover 2 ${second.outcome}; contract ${contract.contract.ok ? "applied" : contract.contract.summary}`,
    cutoverMs: run.ended - run.started,
    pollMs: second.plan.pollMs,
    unexpectedFailures,
    injectedFailures: injected,
    dataCheck,
    rollback: firstRollback(ctx, first, run.firstEvents, loadResult, run.secondStarted),
    fault: ctx.fault,
    paired: null,
    migration,
  });
  await finishDemo(ctx, demo, second.journal, checksStarted);
  say(
    `migration: expand ${migration.expandApplied.join(", ") || "(none)"} before the first weight; cutover 1 ${migration.firstCutover} (bookings.note kept), cutover 2 ${migration.secondCutover}, ` +
      `contract ${contract.contract.ok ? "applied" : "NOT applied"}${contract.contract.snapshotId ? ` after snapshot ${contract.contract.snapshotId}` : ""}; v2 bookings ${migration.v2Bookings} (${migration.v2BookingsWithNote} with their note), NULL notes ${migration.nullNotes}, note NOT NULL: ${migration.noteRequired}`,
  );
  return demo;
}
