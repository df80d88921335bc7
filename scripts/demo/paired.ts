// Scenario: paired databases (one per color, replicated both ways). The default runs
// cutover → rollback → cutover in one go, each switch behind the write fence, with the writer
// and readers running through the router the whole time, and checks after every switch that no
// acknowledged write was lost. With `pairedDataChecksOnly` it stops after proving the data path
// (writes land on blue and replicate to green, parity holds). A fault in paired mode takes the
// single-cutover scenario (shared.ts).

import { runCutover, runRollback, type CutoverRequest, type CutoverResult, type RollbackRequest, type RollbackResult } from "../core/engine.js";
import type { Journal } from "../core/journal.js";
import type { Color } from "../core/ports.js";
import { SYNC_NAMES } from "../postgres/sync/index.js";
import { connectClient } from "../net/pgConnection.js";
import { verifyAcknowledgedWrites, type AcknowledgedWrite, type LoadFailure, type LoadResult } from "../local/load.js";
import { readRecordedWeights } from "../local/weightFile.js";
import { demoOwner, type ScenarioContext } from "./context.js";
import { fenceWindows, pairedLoadFigures, sameSet, stripLoad } from "./figures.js";
import { finishDemo, scenarioResult } from "./summary.js";
import type { DemoResult, PairedLeg, PairedSwitch } from "./types.js";

/** Paired, data path only: writes through the router land on blue and replicate to green; parity holds. */
export async function runPairedDataChecks(ctx: ScenarioContext): Promise<DemoResult> {
  const { sandbox, runId, database, fault, say, started, startupMs, policy } = ctx;
  const load = sandbox.load!;
  const replication = sandbox.replication!;
  const { blueUrl, greenUrl } = sandbox;
  const abortable = <T>(promise: Promise<T>) => sandbox.step(promise);
  const initialParity = sandbox.initialParity;
  await sandbox.sleep(1500);
  const loadResult = await load.stop();
  const caught = await abortable(replication.waitForCatchUp("blue-to-green", 30_000));
  const parity = await abortable(replication.parity());
  const onBlue = await verifyAcknowledgedWrites(blueUrl, loadResult.acknowledged);
  const onGreen = await verifyAcknowledgedWrites(greenUrl, loadResult.acknowledged);
  const note = "data checks only (--data-checks-only): stopping after the replication, parity and write checks; nothing was switched";
  say(`${loadResult.writesAcknowledged} writes acknowledged by blue; green caught up in ${caught.waitedMs} ms; parity: ${parity.summary}`);
  say(`acknowledged writes present: blue ${onBlue.present}/${onBlue.acknowledged}, green ${onGreen.present}/${onGreen.acknowledged}`);
  say(note);
  const asExpected = parity.identical && onBlue.missing.length === 0 && onGreen.missing.length === 0 && loadResult.failures.length === 0;
  return {
    runId,
    database,
    outcome: "data-checks-only",
    asExpected,
    exitCode: asExpected ? 0 : 1,
    reason: asExpected ? note : `data checks failed: ${parity.summary}; missing on green ${onGreen.missing.length}`,
    durationMs: Date.now() - started,
    phasesMs: { startup: startupMs, cutover: 0, checks: Date.now() - started - startupMs },
    pollMs: policy.rollout.pollIntervalSeconds * 1000,
    steps: [],
    load: { ...stripLoad(loadResult) },
    unexpectedFailures: loadResult.failures.length,
    injectedFailures: 0,
    dataCheck: { ...onBlue, database: "blue" },
    rollback: null,
    decisions: [],
    fault,
    backgroundErrorRate: ctx.backgroundErrorRate,
    paired: {
      initialParity,
      parityAfterWrites: parity.summary,
      writesOnOtherSide: { ...onGreen, database: "green" },
      switchFenceMs: null,
      rollbackFenceMs: null,
      writesRejectedByFence: loadResult.fenced,
      note,
      ...(await abortable(pairedLoadFigures(loadResult, blueUrl, greenUrl))),
    },
    reportPaths: null,
    weightsRecorded: await readRecordedWeights(sandbox.weightsFile),
  };
}

/** Paired, the full story: fenced switches in one run (default cutover → rollback → cutover). */
export async function runPairedSwitches(ctx: ScenarioContext): Promise<DemoResult> {
  const { sandbox, options, runId, say, policy } = ctx;
  const load = sandbox.load!;
  const legs = options.pairedScenario ?? ["cutover", "rollback", "cutover"];
  const owner = demoOwner();
  const switches: PairedSwitch[] = [];
  const state: ServingState = { serving: "blue", servingSince: 0 }; // blue has served since the load started
  let last: LegOutcome | null = null;
  const scenarioStarted = Date.now();
  for (const [index, kind] of legs.entries()) {
    // Let the serving color take traffic (and writes) before the next switch.
    if (index > 0) {
      ctx.phase("paired:pause");
      await sandbox.sleep(options.pairedPauseMs ?? 1500);
    }
    if (kind === "rollback" && options.breakReverseReplication) {
      await sandbox.step(disableSubscription(sandbox.blueUrl, SYNC_NAMES.reverse));
      say(`>>> green → blue replication broken on purpose: ALTER SUBSCRIPTION ${SYNC_NAMES.reverse} DISABLE on blue`);
    }
    const legRunId = `${runId}-${index + 1}-${kind}`;
    const fenceLogBefore = sandbox.router!.fenceHistory().length;
    const legStarted = Date.now();
    say(`--- switch ${index + 1}/${legs.length}: ${kind === "cutover" ? "cutover blue → green" : "rollback green → blue"} (fenced) ---`);
    last = await runLeg(ctx, kind, legRunId, owner);
    const figures = await legFigures(ctx, { index: index + 1, kind, runId: legRunId, leg: last, state, fenceLogBefore, legStarted });
    switches.push(figures);
    say(switchLine(figures));
    if (last.to !== state.serving) state.servingSince = legStarted + figures.durationMs;
    state.serving = last.to;
    if (!last.ok) break;
  }
  const scenarioEnded = Date.now();
  const scenarioOk = last?.ok ?? true;
  if (scenarioOk) await sandbox.sleep(500); // the last serving color takes writes once the fence is off
  const loadResult = await load.stop();
  const checksStarted = Date.now();
  const checks = await finalChecks(ctx, state.serving, switches, loadResult);
  const asExpected = scenarioOk && switches.length === legs.length && checks.dataOk && checks.unexpectedFailures.length === 0;
  const first = (kind: PairedLeg) => switches.find((sw) => sw.kind === kind)?.fenceMs ?? null;
  const demo = await scenarioResult(ctx, loadResult, {
    database: ctx.database,
    outcome: last?.engineOutcome ?? "succeeded",
    asExpected,
    reason: last?.reason ?? null,
    cutoverMs: scenarioEnded - scenarioStarted,
    pollMs: policy.rollout.pollIntervalSeconds * 1000,
    unexpectedFailures: checks.unexpectedFailures.length,
    injectedFailures: checks.injected.length,
    dataCheck: checks.dataCheck,
    rollback: null,
    fault: null,
    paired: {
      initialParity: sandbox.initialParity,
      parityAfterWrites: checks.parity.summary,
      writesOnOtherSide: checks.other,
      switchFenceMs: first("cutover"),
      rollbackFenceMs: first("rollback"),
      writesRejectedByFence: loadResult.fenced,
      note: checks.note,
      ...checks.figures,
      switches,
    },
  });
  return finishDemo(ctx, demo, last?.journal ?? null, checksStarted);
}

/** Which color serves writes now, and since when (epoch ms; 0: since the load started). */
interface ServingState {
  serving: Color;
  servingSince: number;
}

/** How one fenced switch ended. */
interface LegOutcome {
  outcome: string;
  /** The engine's outcome as a cutover reports it (a rollback's rolled-back/failed carried as is). */
  engineOutcome: CutoverResult["outcome"];
  reason: string | null;
  fenceMs: number | null;
  onlyOnGreen: string[] | null;
  to: Color;
  journal: Journal | null;
  /** The switch did what it was asked (a cutover succeeded, a rollback rolled back). */
  ok: boolean;
}

/** One fenced switch through the production engine: a cutover blue → green or a rollback green → blue. */
async function runLeg(ctx: ScenarioContext, kind: PairedLeg, legRunId: string, owner: string): Promise<LegOutcome> {
  const { deps, database, policy } = ctx;
  if (kind === "cutover") {
    const request: CutoverRequest = { rollout: policy.rollout, databaseMode: database, owner, stack: "demo", runId: legRunId };
    const result = await ctx.engine.run((signal) => runCutover(deps, { ...request, signal }, ctx.settings));
    return {
      outcome: result.outcome,
      engineOutcome: result.outcome,
      reason: result.reason,
      fenceMs: result.switchFenceMs,
      onlyOnGreen: null,
      to: result.outcome === "succeeded" ? "green" : "blue",
      journal: result.journal,
      ok: result.outcome === "succeeded",
    };
  }
  const request: RollbackRequest = {
    owner,
    databaseMode: database,
    stack: "demo",
    reason: "demo: operator rollback after the switch",
    catchUpTimeoutMs: 30_000,
    runId: legRunId,
  };
  const result: RollbackResult = await ctx.engine.run((signal) => runRollback(deps, { ...request, signal }, ctx.settings));
  return {
    outcome: result.outcome,
    engineOutcome: result.outcome,
    reason: result.outcome === "rolled-back" ? null : result.reason,
    fenceMs: result.fenceMs,
    onlyOnGreen: result.onlyOnGreen,
    to: "blue",
    journal: result.journal,
    ok: result.outcome === "rolled-back",
  };
}

/** One switch's figures: the fence as the router saw it, reads and writes during it, and every acknowledged write checked on the color now serving. */
async function legFigures(
  ctx: ScenarioContext,
  leg: { index: number; kind: PairedLeg; runId: string; leg: LegOutcome; state: ServingState; fenceLogBefore: number; legStarted: number },
): Promise<PairedSwitch> {
  const { sandbox } = ctx;
  const load = sandbox.load!;
  const { serving, servingSince } = leg.state;
  const { to } = leg.leg;
  const legEnded = Date.now();
  const windows = fenceWindows(sandbox.router!.fenceHistory().slice(leg.fenceLogBefore), legEnded);
  const routerFenceMs = windows.length > 0 ? windows.reduce((sum, w) => sum + (w.off - w.on), 0) : null;
  const timeline = load.timelineSoFar().filter((entry) => entry.sentAt >= leg.legStarted && entry.sentAt <= legEnded);
  const inFence = (at: number) => windows.some((w) => at >= w.on && at < w.off);
  const readsInFence = timeline.filter((entry) => !entry.write && inFence(entry.sentAt));
  const acknowledged = load.acknowledgedSoFar();
  const check = await sandbox.step(verifyAcknowledgedWrites(to === "blue" ? sandbox.blueUrl : sandbox.greenUrl, acknowledged));
  const missing = new Set(check.missing);
  const previous = acknowledged.filter((write) => write.color === serving && write.at >= servingSince);
  const lostWrites: AcknowledgedWrite[] = acknowledged.filter((write) => missing.has(write.requestId));
  return {
    index: leg.index,
    kind: leg.kind,
    runId: leg.runId,
    outcome: leg.leg.outcome,
    reason: leg.leg.reason,
    from: serving,
    to,
    fenceMs: leg.leg.fenceMs,
    routerFenceMs,
    writesRejected: timeline.filter((entry) => entry.write && entry.fenced).length,
    readsDuringFence: readsInFence.filter((entry) => entry.ok).length,
    readFailuresDuringFence: readsInFence.filter((entry) => !entry.ok).length,
    acknowledgedSoFar: acknowledged.length,
    lost: check.missing.length,
    lostRequestIds: check.missing.slice(0, 50),
    carriedOver: { color: serving, acknowledged: previous.length, present: previous.filter((write) => !missing.has(write.requestId)).length },
    onlyOnGreen: leg.leg.onlyOnGreen,
    lostKeys: lostWrites.map((write) => `public.bookings(id=${write.id})`),
    durationMs: legEnded - leg.legStarted,
  };
}

function switchLine(figures: PairedSwitch): string {
  const { onlyOnGreen } = figures;
  return (
    `switch ${figures.index} ${figures.kind} ${figures.from} → ${figures.to}: ${figures.outcome}; fence ${figures.fenceMs ?? "n/a"} ms; ` +
    `${figures.writesRejected} write(s) rejected by the fence; ${figures.readsDuringFence} read(s) answered during the fence, ${figures.readFailuresDuringFence} failed; ` +
    `${figures.carriedOver.acknowledged} write(s) acknowledged by ${figures.carriedOver.color} carried over, ${figures.carriedOver.present} present on ${figures.to}; ` +
    `writes lost ${figures.lost}` +
    (onlyOnGreen && onlyOnGreen.length > 0 ? `; ${onlyOnGreen.length} key(s) reported only on green` : "")
  );
}

/** After the load stopped: replication caught up, parity, every acknowledged write on both databases, and which failures were expected. */
async function finalChecks(ctx: ScenarioContext, serving: Color, switches: PairedSwitch[], loadResult: LoadResult) {
  const { sandbox, options } = ctx;
  const abortable = <T>(promise: Promise<T>) => sandbox.step(promise);
  const urlOf = (color: Color) => (color === "blue" ? sandbox.blueUrl : sandbox.greenUrl);
  const replication = sandbox.replication!;
  const otherColor: Color = serving === "green" ? "blue" : "green";
  const direction = serving === "green" ? "green-to-blue" : "blue-to-green";
  const caught = await abortable(replication.waitForCatchUp(direction, 30_000)).catch((error: unknown) => error as Error);
  const parity = await abortable(replication.parity());
  const dataCheck = { ...(await abortable(verifyAcknowledgedWrites(urlOf(serving), loadResult.acknowledged))), database: serving };
  const other = { ...(await abortable(verifyAcknowledgedWrites(urlOf(otherColor), loadResult.acknowledged))), database: otherColor };
  const figures = await abortable(pairedLoadFigures(loadResult, sandbox.blueUrl, sandbox.greenUrl));
  const broken = options.breakReverseReplication === true;
  // With reverse replication broken on purpose, the writes green acknowledged after the break
  // are lost to blue: the point is that the rollback NAMES exactly those keys.
  const lossAccounted = (sw: PairedSwitch) =>
    sw.lost === 0 || (broken && sw.kind === "rollback" && sw.onlyOnGreen !== null && sameSet(sw.onlyOnGreen, sw.lostKeys));
  const dataOk =
    switches.every(lossAccounted) &&
    (broken || dataCheck.missing.length === 0) &&
    dataCheck.mismatched.length === 0 &&
    other.missing.length === 0 &&
    other.mismatched.length === 0 &&
    figures.duplicates.blue === 0 &&
    figures.duplicates.green === 0 &&
    figures.rejectedApplied.length === 0;
  // With replication broken on purpose, reads of the keys lost to blue answer 404 there: expected, nothing else is.
  const lostIds = new Set(switches.flatMap((sw) => sw.lostKeys.map((key) => key.replace(/^public\.bookings\(id=(\d+)\)$/, "$1"))));
  const expectedLoss = (failure: LoadFailure) =>
    broken && failure.method === "GET" && failure.status === 404 && lostIds.has(failure.path.replace(/^\/bookings\//, ""));
  const injected = loadResult.failures.filter((failure) => failure.injected === "background");
  const unexpectedFailures = loadResult.failures.filter((failure) => failure.injected !== "background" && !expectedLoss(failure));
  const note =
    `${switches.length} fenced switch(es): ${switches.map((sw) => `${sw.kind} ${sw.fenceMs ?? "n/a"} ms`).join(", ")}; ` +
    `${loadResult.fenced} write(s) rejected by the fence in all; ` +
    (caught instanceof Error
      ? `${direction} replication did not catch up at the end: ${caught.message}; `
      : `${direction} replication caught up in ${caught.waitedMs} ms; `) +
    `parity: ${parity.summary}`;
  return { parity, dataCheck, other, figures, dataOk, injected, unexpectedFailures, note };
}

/** Break a subscription on purpose (tests): its worker stops, the slot stays. */
async function disableSubscription(url: string, name: string): Promise<void> {
  const client = await connectClient({ connectionString: url }, { applicationName: "bluegreen-demo" });
  try {
    await client.query(`ALTER SUBSCRIPTION "${name.replace(/"/g, '""')}" DISABLE`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
