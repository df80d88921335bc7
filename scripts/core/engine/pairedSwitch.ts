// Paired databases: the fenced, lossless switch. Raise the write fence, wait until green has
// caught up with blue, prove exact parity, copy the sequences, start green → blue replication
// (for a lossless rollback); the fence is lifted once the switch's weights are verified.

import { formatDuration } from "../plan.js";
import { Breach, messageOf, type Run } from "./run.js";
import type { RollbackDeps } from "./types.js";

/** Raise the write fence and record when it went on (the first raise wins). */
export async function fenceOn(run: Run<RollbackDeps>, purpose: "switch" | "rollback"): Promise<void> {
  const fence = run.deps.fence!;
  // Timed from the call, not its return: set() also waits for writes already inside the
  // apps to finish, and clients see 503s from the moment the fence takes effect.
  const requestedAt = run.now();
  await fence.set("writes");
  const j = run.journal;
  if (j.fence.onAt === null) j.fence.onAt = requestedAt;
  if (j.fence.purpose === null) j.fence.purpose = purpose;
  run.emit({ type: "fence", mode: "writes", ok: true, detail: `writes answered 503 (${purpose})` });
}

/** Lift the fence this journal put up; returns how long it was on. */
export async function fenceOff(run: Run<RollbackDeps>): Promise<number | null> {
  const fence = run.deps.fence!;
  await fence.set("off");
  const j = run.journal;
  let duration: number | null = null;
  if (j.fence.onAt !== null) {
    const offAt = run.now();
    duration = offAt - j.fence.onAt;
    j.fence.periods.push({ purpose: j.fence.purpose ?? "switch", onAt: j.fence.onAt, offAt, durationMs: duration });
    j.fence.onAt = null;
    j.fence.purpose = null;
  }
  run.emit({ type: "fence", mode: "off", ok: true, detail: duration !== null ? `writes flow again after ${duration} ms` : "writes flow" });
  return duration;
}

/** Phase "catching-up": green must hold every write blue acknowledged before the fence. */
export async function catchUp(run: Run): Promise<void> {
  const timeoutMs = run.plan.catchUpTimeoutMs;
  try {
    const { waitedMs } = await run.deps.replication!.waitForCatchUp("blue-to-green", timeoutMs, run.signal);
    run.emit({ type: "replication", action: "catch-up", direction: "blue-to-green", ok: true, detail: `green caught up with blue in ${waitedMs} ms` });
  } catch (error) {
    run.throwIfAborted(); // stopped waiting because the caller aborted: not a breach
    run.emit({ type: "replication", action: "catch-up", direction: "blue-to-green", ok: false, detail: messageOf(error) });
    throw new Breach(`green did not catch up with blue within ${formatDuration(timeoutMs)}: ${messageOf(error)}`, run.now());
  }
}

/** Phase "parity": exact parity under the fence, or no switch. */
export async function proveParity(run: Run): Promise<void> {
  const result = await run.deps.replication!.parity();
  run.emit({ type: "replication", action: "parity", direction: null, ok: result.identical, detail: result.summary });
  if (!result.identical) throw new Breach(`exact parity failed under the write fence: ${result.summary}`, run.now());
}

/** Phase "sequences": sequences do not travel by replication. */
export async function copySequences(run: Run): Promise<void> {
  await run.deps.replication!.copySequences("blue-to-green");
  run.emit({ type: "replication", action: "copy-sequences", direction: "blue-to-green", ok: true, detail: "sequences copied to green" });
}

/** Phase "reverse-replication": green → blue, so a rollback loses no write green acknowledged. */
export async function startReverseReplication(run: Run): Promise<void> {
  await run.deps.replication!.start("green-to-blue", { copyData: false });
  run.emit({ type: "replication", action: "start", direction: "green-to-blue", ok: true, detail: "green → blue replication started (no initial copy)" });
}
