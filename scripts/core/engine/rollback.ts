// Rollback: all traffic back to blue, verified by reading back, from any state. Paired mode
// first fences writes and lets blue catch up with green (so no write green acknowledged is
// lost), flips, lifts the fence, and lists the keys that exist only on green when it could not.

import { BLUE_ONLY, formatDuration } from "../plan.js";
import { restoreBlueBeforeRollback } from "./capacity.js";
import { expandedSchemaNote } from "./migrate.js";
import { fenceOff, fenceOn } from "./pairedSwitch.js";

import type { RouteWeights } from "../ports.js";
import { describeRoutes, maxStickiness } from "./routes.js";
import { JournalWriteError, messageOf, type Run } from "./run.js";
import type { RollbackDeps } from "./types.js";

/** A rollback works on a rollback's ports only (a cutover's run is one too). */
type RollbackRun = Run<RollbackDeps>;
import { recordWeights } from "./step.js";
import { ENGINE_DEFAULTS } from "../../../infra/vocabulary/rolloutDefaults.js";

const ROLLBACK_ATTEMPTS = 3;

interface RollbackSettings {
  verifyTimeoutMs: number;
  verifyIntervalMs: number;
  catchUpTimeoutMs: number;
  /** Paired databases and the ports to fence and replicate. */
  paired: boolean;
}

/** What the paired preparation found: whether green served traffic, and whether blue caught up with it. */
interface PairedPreparation {
  greenServing: boolean;
  caughtUp: boolean;
}

/** Phase "rolling-back": prepare (paired), flip, verify, tidy up, finish. */
export async function rollbackTraffic(run: RollbackRun): Promise<void> {
  const j = run.journal;
  const failure = j.failure ?? { reason: "rollback", breachObservedAt: run.now(), phase: j.phase, step: j.step };
  const settings = settingsOf(run);
  j.rollback = { startedAt: run.now(), verifiedAt: null, timeToRollbackMs: null, attempts: 0, fenceMs: null, onlyOnGreen: null, detail: "" };

  await restoreBlueBeforeRollback(run); // only when a successful cutover scaled blue down
  const prepared: PairedPreparation = settings.paired ? await prepareBlue(run, settings) : { greenServing: false, caughtUp: false };
  const flip = await flipToBlue(run, settings);
  if (!flip.verified) {
    j.rollback.detail =
      `traffic NOT verified on blue after ${j.rollback.attempts} write attempt(s): ${flip.lastError}` +
      (settings.paired && j.fence.onAt !== null ? "; the write fence stays on to avoid split-brain writes" : "");
    run.emit({
      type: "rollback-complete",
      ok: false,
      reason: failure.reason,
      timeToRollbackMs: null,
      weights: BLUE_ONLY,
      routes: run.lastRoutes,
      fenceMs: null,
      onlyOnGreen: null,
      detail: j.rollback.detail,
    });
    return run.finish("failed-rollback", j.rollback.detail);
  }

  const verifiedAt = run.now();
  j.rollback.verifiedAt = verifiedAt;
  j.rollback.timeToRollbackMs = verifiedAt - failure.breachObservedAt;
  await run.persist(); // traffic is on blue: record it before anything slower

  if (settings.paired) await tidyUpPaired(run, prepared);

  await recordWeights(run, BLUE_ONLY, null);
  const sticky = maxStickiness(run.lastRoutes);
  if (sticky) run.emit({ type: "warning", message: `stickiness is on: clients may stay on green for up to ${formatDuration(sticky * 1000)}` });
  const expanded = expandedSchemaNote(j);
  if (expanded) run.emit({ type: "warning", message: expanded });
  // A `rollback` command is the operator's request, not a breach: say which clock started.
  const since = run.options.operation === "rollback" ? "the rollback was requested" : "the breach was observed";
  j.rollback.detail = `blue 100 / green 0 verified ${j.rollback.timeToRollbackMs} ms after ${since}`;
  run.emit({
    type: "rollback-complete",
    ok: true,
    reason: failure.reason,
    requested: run.options.operation === "rollback",
    timeToRollbackMs: j.rollback.timeToRollbackMs,
    weights: BLUE_ONLY,
    routes: run.lastRoutes,
    fenceMs: j.rollback.fenceMs,
    onlyOnGreen: j.rollback.onlyOnGreen,
    detail: j.rollback.detail,
  });
  await run.finish("rolled-back", failure.reason);
}

function settingsOf(run: RollbackRun): RollbackSettings {
  const j = run.journal;
  const opts = run.rollbackOptions;
  return {
    verifyTimeoutMs: j.plan?.verifyTimeoutMs ?? opts.verifyTimeoutMs ?? ENGINE_DEFAULTS.verifyTimeoutMs,
    verifyIntervalMs: j.plan?.verifyIntervalMs ?? opts.verifyIntervalMs ?? ENGINE_DEFAULTS.verifyIntervalMs,
    catchUpTimeoutMs: opts.catchUpTimeoutMs ?? j.plan?.catchUpTimeoutMs ?? ENGINE_DEFAULTS.catchUpTimeoutMs,
    paired: (j.databaseMode === "paired" || opts.databaseMode === "paired") && run.deps.fence !== undefined && run.deps.replication !== undefined,
  };
}

/** Paired: green may hold writes that blue lacks only if green has served traffic. */
async function prepareBlue(run: RollbackRun, settings: RollbackSettings): Promise<PairedPreparation> {
  const greenServing = await isGreenServing(run);
  if (!greenServing) return { greenServing, caughtUp: false };
  await raiseRollbackFence(run);
  const caughtUp = await catchBlueUp(run, settings.catchUpTimeoutMs);
  if (!caughtUp) {
    run.emit({ type: "warning", message: "green → blue replication is not healthy: flipping anyway, then listing the keys that exist only on green" });
    // Sequences do not travel by replication and need none: copy them anyway (best effort).
    // Otherwise blue hands out keys green already used: they collide with the rows only on
    // green (which then show as changed, not as only on green) and break blue → green replication.
    await copySequencesToBlue(run, "sequences copied to blue (replication unhealthy)");
  }
  return { greenServing, caughtUp };
}

async function isGreenServing(run: RollbackRun): Promise<boolean> {
  try {
    const routes = await run.deps.router.readWeights();
    return routes.length === 0 || routes.some((r) => r.weights.green > 0);
  } catch (error) {
    run.emit({ type: "warning", message: `could not read weights before the paired rollback (${messageOf(error)}): fencing anyway` });
    return true; // unknown: assume the worst
  }
}

/** Fence writes for the rollback; a fence that fails is reported and the rollback goes on. */
async function raiseRollbackFence(run: RollbackRun): Promise<void> {
  try {
    await fenceOn(run, "rollback");
    await run.persist();
  } catch (error) {
    if (error instanceof JournalWriteError) throw error;
    run.emit({ type: "fence", mode: "writes", ok: false, detail: messageOf(error) });
  }
}

/** Wait for green → blue replication and copy the sequences; false when blue may lack green's writes. */
async function catchBlueUp(run: RollbackRun, timeoutMs: number): Promise<boolean> {
  const replication = run.deps.replication!;
  let caughtUp = false;
  try {
    const status = await replication.status("green-to-blue");
    run.emit({ type: "replication", action: "status", direction: "green-to-blue", ok: status.running, detail: status.detail });
    if (status.running) {
      const { waitedMs } = await replication.waitForCatchUp("green-to-blue", timeoutMs, run.signal);
      caughtUp = true;
      run.emit({ type: "replication", action: "catch-up", direction: "green-to-blue", ok: true, detail: `blue caught up with green in ${waitedMs} ms` });
      await replication.copySequences("green-to-blue");
      run.emit({ type: "replication", action: "copy-sequences", direction: "green-to-blue", ok: true, detail: "sequences copied to blue" });
    }
  } catch (error) {
    run.throwIfAborted(); // the caller aborted: stop here, `rollback` continues
    run.emit({ type: "replication", action: caughtUp ? "copy-sequences" : "catch-up", direction: "green-to-blue", ok: false, detail: messageOf(error) });
  }
  return caughtUp;
}

async function copySequencesToBlue(run: RollbackRun, detail: string): Promise<void> {
  try {
    await run.deps.replication!.copySequences("green-to-blue");
    run.emit({ type: "replication", action: "copy-sequences", direction: "green-to-blue", ok: true, detail });
  } catch (error) {
    run.emit({ type: "replication", action: "copy-sequences", direction: "green-to-blue", ok: false, detail: messageOf(error) });
  }
}

/** Blue-only on every route: green's raw weight exactly 0 (and blue's above 0, or the ALB answers 503). */
function isBlueOnly(routes: readonly RouteWeights[]): boolean {
  return routes.length > 0 && routes.every((r) => r.weights.green === 0 && r.weights.blue > 0);
}

/**
 * The flip: one write per route, then read back until every route is blue-only. Bounded by
 * ROLLBACK_ATTEMPTS writes, each followed by up to verifyTimeoutMs of read-back, and by the
 * rollback's deadline (deps.rollbackDeadline) overall.
 * - A write that failed is retried; after it the live weights are read once, for the report.
 * - A write that succeeded is not repeated while the read-back is pending: it only re-reads.
 *   Only when the verify window has passed and the routes still show an action other than blue
 *   only (ours was lost or overwritten) is it written again.
 */
async function flipToBlue(run: RollbackRun, settings: RollbackSettings): Promise<{ verified: boolean; lastError: string }> {
  const record = run.journal.rollback!;
  const deadline = run.deps.rollbackDeadline;
  const stopped = () => deadline?.aborted === true;
  let lastError = "";
  for (let attempt = 1; attempt <= ROLLBACK_ATTEMPTS && !stopped(); attempt++) {
    record.attempts = attempt;
    try {
      await run.deps.router.writeWeights(BLUE_ONLY);
      run.emit({ type: "weights-written", step: null, weights: BLUE_ONLY, attempt });
    } catch (error) {
      lastError = `write failed: ${messageOf(error)}`;
      run.emit({ type: "warning", message: `rollback write attempt ${attempt} failed: ${messageOf(error)}` });
      if (!stopped()) await readLive(run); // what traffic does now, for the report
      if (attempt < ROLLBACK_ATTEMPTS && !stopped()) await pause(run, settings.verifyIntervalMs);
      continue;
    }
    const windowMs = verifyWindowMs(settings, run.rollbackOptions.deadlineAt, run.now(), ROLLBACK_ATTEMPTS - attempt + 1);
    const result = await readBackBlueOnly(run, { ...settings, verifyTimeoutMs: windowMs });
    if (result.ok) return { verified: true, lastError };
    lastError = stopped()
      ? `stopped at the deadline before the read-back showed blue only: ${result.error}`
      : `did not read back within ${formatDuration(windowMs)}: ${result.error}`;
    // A read-back that never answered says nothing about our write: do not write again over it.
    if (result.unread) break;
  }
  if (stopped() && !lastError.startsWith("stopped")) lastError = `stopped at the deadline: ${lastError || "nothing was written"}`;
  return { verified: false, lastError };
}

/** Read-backs that must fit in one verify window (with the interval between them). */
const READ_BACKS_PER_WINDOW = 3;

/**
 * How long to re-read after a write before writing again. Without a deadline: the configured
 * verify timeout. With one, the time left is shared among the writes still allowed, so a write
 * that AWS accepted but did not apply is written again while the deadline still leaves room
 * (never shorter than a few read-backs, never longer than configured).
 */
export function verifyWindowMs(
  settings: Pick<RollbackSettings, "verifyTimeoutMs" | "verifyIntervalMs">,
  deadlineAt: number | undefined,
  now: number,
  attemptsLeft: number,
): number {
  if (deadlineAt === undefined) return settings.verifyTimeoutMs;
  const share = Math.floor((deadlineAt - now) / Math.max(1, attemptsLeft));
  const floor = READ_BACKS_PER_WINDOW * settings.verifyIntervalMs;
  return Math.min(settings.verifyTimeoutMs, Math.max(floor, share));
}

/** Read the live weights once; failures are only remembered (the report says what was last read). */
async function readLive(run: RollbackRun): Promise<void> {
  try {
    run.lastRoutes = await run.deps.router.readWeights();
  } catch {
    // unknown: keep what was last read
  }
}

/** The rollback's waits end early at its deadline (and on the caller's abort). */
async function pause(run: RollbackRun, ms: number): Promise<void> {
  const deadline = run.deps.rollbackDeadline;
  if (run.signal && deadline) {
    const either = eitherSignal(run.signal, deadline);
    try {
      await run.clock.sleep(ms, either.signal);
    } finally {
      either.dispose(); // one pause per read-back interval: listeners left behind would pile up
    }
  } else {
    await run.clock.sleep(ms, run.signal ?? deadline);
  }
  run.throwIfAborted(); // the caller's abort stops the rollback here (`rollback` continues it); an aborted sleep must not spin
}

function eitherSignal(a: AbortSignal, b: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (a.aborted || b.aborted) abort();
  a.addEventListener("abort", abort, { once: true });
  b.addEventListener("abort", abort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      a.removeEventListener("abort", abort);
      b.removeEventListener("abort", abort);
    },
  };
}

/** Re-read (never re-write) until every route is blue-only, the verify window passes, or the deadline. */
async function readBackBlueOnly(run: RollbackRun, settings: RollbackSettings): Promise<{ ok: boolean; error: string; unread: boolean }> {
  const started = run.now();
  const until = started + settings.verifyTimeoutMs;
  const deadline = run.deps.rollbackDeadline;
  let error: string | null = null;
  let everRead = false;
  for (;;) {
    try {
      run.lastRoutes = await run.deps.router.readWeights();
      everRead = true;
      error = null;
    } catch (e) {
      error = messageOf(e);
    }
    const ok = error === null && isBlueOnly(run.lastRoutes);
    if (ok || run.now() >= until || deadline?.aborted) {
      const routes = everRead ? run.lastRoutes : [];
      run.emit({ type: "weights-verified", step: null, weights: BLUE_ONLY, ok, routes, waitedMs: run.now() - started });
      return { ok, error: ok ? "" : (error ?? (routes.length === 0 ? "no routes" : describeRoutes(routes))), unread: !everRead };
    }
    await pause(run, Math.max(1, Math.min(settings.verifyIntervalMs, until - run.now())));
  }
}

/** Paired, traffic verified on blue: lift our fence, list green-only keys if blue could not catch up, stop reverse replication if asked. */
async function tidyUpPaired(run: RollbackRun, prepared: PairedPreparation): Promise<void> {
  await liftRollbackFence(run);
  if (prepared.greenServing && !prepared.caughtUp) await listOnlyOnGreen(run);
  if (run.rollbackOptions.stopReverseReplication) await stopReverseReplication(run);
}

async function liftRollbackFence(run: RollbackRun): Promise<void> {
  const j = run.journal;
  if (j.fence.onAt !== null) {
    try {
      j.rollback!.fenceMs = await fenceOff(run);
    } catch (error) {
      run.emit({ type: "fence", mode: "off", ok: false, detail: messageOf(error) });
      run.emit({ type: "warning", message: `could not lift the write fence: ${messageOf(error)}; run \`npm run maintenance -- off\`` });
    }
    return;
  }
  try {
    const mode = await run.deps.fence!.read();
    if (mode !== "off") run.emit({ type: "warning", message: `the fence is "${mode}" and was not set by this run: left as it is` });
  } catch {
    // informational only
  }
}

async function listOnlyOnGreen(run: RollbackRun): Promise<void> {
  const record = run.journal.rollback!;
  try {
    const parity = await run.deps.replication!.parity();
    const keys = parity.onlyOnGreen ?? [];
    record.onlyOnGreen = keys;
    run.emit({ type: "replication", action: "parity", direction: null, ok: keys.length === 0, detail: parity.summary });
    if (keys.length > 0) {
      run.emit({ type: "warning", message: `${keys.length} key(s) exist only on green: ${keys.slice(0, 20).join(", ")}${keys.length > 20 ? ", …" : ""}` });
    }
  } catch (error) {
    run.emit({ type: "warning", message: `could not compare the databases after the rollback: ${messageOf(error)}` });
  }
}

async function stopReverseReplication(run: RollbackRun): Promise<void> {
  try {
    await run.deps.replication!.stop("green-to-blue");
    run.emit({ type: "replication", action: "stop", direction: "green-to-blue", ok: true, detail: "stopped after the rollback" });
  } catch (error) {
    run.emit({ type: "replication", action: "stop", direction: "green-to-blue", ok: false, detail: messageOf(error) });
  }
}
