// Scenario: one cutover by the production engine under steady load — the shared database's
// canary (5% → 25% → 100%, monitored), or, with --fault, the same cutover with green breaking
// mid-way so that the engine rolls back on its own (paired databases take this path with a
// fault too). Then the data checks: every acknowledged write is in the serving database.

import { runCutover, type CutoverRequest } from "../core/engine.js";
import type { Color } from "../core/ports.js";
import { expectsCapacityRefusal } from "../local/capacity.js";
import { verifyAcknowledgedWrites } from "../local/load.js";
import { demoOwner, type ScenarioContext } from "./context.js";
import { injectedFailure, rollbackFigures } from "./faults.js";
import { pairedLoadFigures } from "./figures.js";
import { finishDemo, scenarioResult } from "./summary.js";
import type { DemoResult, DemoRollback } from "./types.js";

export async function runSingleCutover(ctx: ScenarioContext): Promise<DemoResult> {
  const { sandbox, database, fault, policy, runId } = ctx;
  const load = sandbox.load!;
  const replication = sandbox.replication;
  const green = sandbox.apps!.green;

  const cutoverStarted = Date.now();
  const request: CutoverRequest = { rollout: policy.rollout, databaseMode: database, owner: demoOwner(), stack: "demo", runId };
  const result = await ctx.engine.run((signal) => runCutover(ctx.deps, { ...request, signal }, ctx.settings));
  const cutoverEnded = Date.now();
  await ctx.injector?.settled();

  // After a rollback, keep the load running a moment to show every new request lands on blue.
  if (result.outcome === "rolled-back") {
    ctx.phase("after-rollback");
    await sandbox.sleep(1500);
  }
  ctx.phase("checks");
  const loadResult = await load.stop();
  const checksStarted = Date.now();

  // The serving database at the end: the shared one, or in paired mode green after a switch
  // and blue after a rollback. Paired: the other side must hold every write too (replication).
  const servingColor: Color = result.outcome === "succeeded" ? "green" : "blue";
  const servingUrl = database === "shared" ? sandbox.blueUrl : servingColor === "green" ? sandbox.greenUrl : sandbox.blueUrl;
  let paired: DemoResult["paired"] = null;
  if (database === "paired" && replication) {
    const direction = servingColor === "green" ? "green-to-blue" : "blue-to-green";
    const otherUrl = servingColor === "green" ? sandbox.blueUrl : sandbox.greenUrl;
    const caught = await sandbox.step(replication.waitForCatchUp(direction, 30_000)).catch((error: unknown) => error as Error);
    const parity = await sandbox.step(replication.parity());
    const other = await sandbox.step(verifyAcknowledgedWrites(otherUrl, loadResult.acknowledged));
    paired = {
      initialParity: sandbox.initialParity,
      parityAfterWrites: parity.summary,
      writesOnOtherSide: { ...other, database: servingColor === "green" ? "blue" : "green" },
      switchFenceMs: result.switchFenceMs,
      rollbackFenceMs: result.rollbackFenceMs,
      writesRejectedByFence: loadResult.fenced,
      ...(await sandbox.step(pairedLoadFigures(loadResult, sandbox.blueUrl, sandbox.greenUrl))),
      note:
        caught instanceof Error
          ? `replication ${direction} did not catch up at the end: ${caught.message}`
          : `writes fenced ${result.switchFenceMs ?? "n/a"} ms for the switch${result.rollbackFenceMs !== null ? `, ${result.rollbackFenceMs} ms for the rollback` : ""}; ` +
            `${loadResult.fenced} write(s) rejected by the fence; ${direction} replication caught up in ${caught.waitedMs} ms; parity: ${parity.summary}`,
    };
  }
  const dataCheck = {
    ...(await sandbox.step(verifyAcknowledgedWrites(servingUrl, loadResult.acknowledged))),
    database: database === "shared" ? "shared" : servingColor,
  };

  let rollback: DemoRollback | null = null;
  if (result.outcome === "rolled-back" || result.outcome === "failed-rollback" || ctx.events.some((event) => event.type === "rollback-started")) {
    rollback = rollbackFigures(ctx.events, loadResult, green.faultOnset(), result.timeToRollbackMs, result.reason);
  }

  // The injected errors (background, the fault's, a crash's) are the point; anything else is not.
  const injected = loadResult.failures.filter((failure) => injectedFailure(failure, fault, green)).length;
  const unexpectedFailures = loadResult.failures.length - injected;
  const dataOk =
    dataCheck.missing.length === 0 &&
    dataCheck.mismatched.length === 0 &&
    (paired === null || (paired.writesOnOtherSide.missing.length === 0 && paired.writesOnOtherSide.mismatched.length === 0));
  const asExpected =
    dataOk &&
    unexpectedFailures === 0 &&
    // A green too small for its next share (--green-instances below --blue-instances) must be stopped like a fault.
    (fault || expectsCapacityRefusal(ctx.options)
      ? result.outcome === "rolled-back" && rollback !== null && rollback.afterRollback.green === 0
      : result.outcome === "succeeded");

  const demo = await scenarioResult(ctx, loadResult, {
    database,
    outcome: result.outcome,
    asExpected,
    reason: result.reason,
    cutoverMs: cutoverEnded - cutoverStarted,
    pollMs: result.plan.pollMs,
    unexpectedFailures,
    injectedFailures: injected,
    dataCheck,
    rollback,
    fault,
    paired,
  });
  return finishDemo(ctx, demo, result.journal, checksStarted);
}
