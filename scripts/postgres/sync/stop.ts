// `sync stop`: drop the subscription (which drops its slot on the source), verify that no slot of
// ours is left on the source holding WAL, then drop the publication.

import type pg from "pg";
import { UnreachableError, UsageError } from "../../core/errors.js";
import { findSlots, listSubscriptions, serverInfo } from "./catalog.js";
import { redact } from "../../core/redact.js";
import { mapError, openClient, passwordOf, type Db } from "./connect.js";
import { ident, literal, SYNC_NAMES, validateSyncName } from "./sql.js";
import type { PlannedStatement } from "./start.js";

export interface StopSyncOptions {
  sourceUrl: Db;
  targetUrl: Db;
  /** Default `bluegreen_blue_to_green`. */
  name?: string;
  dryRun?: boolean;
  /**
   * Go on when one side is unreachable: with the source down, detach and drop the subscription
   * and report the slot left on the source; with the target down, drop the (inactive) slot and
   * the publication on the source. Default false: an unreachable side is an error and nothing changes.
   */
  force?: boolean;
  /** Bound on waiting for a slot to be released; default 30 s. */
  timeoutMs?: number;
  sourceLabel?: string;
  targetLabel?: string;
}

export interface StopSyncResult {
  name: string;
  dryRun: boolean;
  statements: PlannedStatement[];
  droppedSubscription: boolean;
  droppedPublication: boolean;
  droppedSlots: string[];
  /** Slots of ours still on the source after the stop; empty when clean. */
  leftoverSlots: string[];
  /** What happened and, for leftovers, exactly how to finish by hand. */
  messages: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function connectOrNull(db: Db, label: string): Promise<Connection> {
  if (typeof db !== "string") return { client: db, owned: false };
  try {
    return { client: await openClient(db, { label }), owned: true };
  } catch (error) {
    if (error instanceof UnreachableError) return { client: null, owned: false, error };
    throw error;
  }
}

/** One stop in progress: both ends (null when unreachable), the result being filled, and how statements run. */
interface Stop {
  name: string;
  options: StopSyncOptions;
  secrets: Array<string | undefined>;
  tgt: Connection;
  src: Connection;
  result: StopSyncResult;
  /** Record a statement and run it (not in a dry run). */
  run(client: pg.ClientBase, on: "source" | "target", sql: string): Promise<void>;
}

type Connection = { client: pg.ClientBase | null; owned: boolean; error?: Error };

const dropSlotSql = (slot: string) => `SELECT pg_drop_replication_slot(${literal(slot)})`;

export async function stopSync(options: StopSyncOptions): Promise<StopSyncResult> {
  const name = options.name ?? SYNC_NAMES.forward;
  const nameProblem = validateSyncName(name);
  if (nameProblem) throw new UsageError(nameProblem);
  const sourceLabel = options.sourceLabel ?? "source database";
  const targetLabel = options.targetLabel ?? "target database";
  const secrets = [
    typeof options.sourceUrl === "string" ? passwordOf(options.sourceUrl) : undefined,
    typeof options.targetUrl === "string" ? passwordOf(options.targetUrl) : undefined,
  ];

  const tgt = await connectOrNull(options.targetUrl, targetLabel);
  const src = await connectOrNull(options.sourceUrl, sourceLabel);
  const result: StopSyncResult = {
    name,
    dryRun: options.dryRun === true,
    statements: [],
    droppedSubscription: false,
    droppedPublication: false,
    droppedSlots: [],
    leftoverSlots: [],
    messages: [],
  };
  const stop: Stop = {
    name,
    options,
    secrets,
    tgt,
    src,
    result,
    run: async (client, on, sql) => {
      result.statements.push({ on, sql });
      if (!options.dryRun) await client.query(sql);
    },
  };
  try {
    if (!options.force) refuseUnreachable(tgt, src);
    if (!tgt.client && !src.client) throw tgt.error!;
    // 1. The subscription on the target.
    const subscription = await dropSubscription(stop);
    // 2. Slots and the publication on the source.
    if (src.client) await dropSlotsAndPublication(stop, src.client, subscription);
    return result;
  } catch (error) {
    throw mapError(error, "sync stop", secrets);
  } finally {
    if (tgt.owned) await (tgt.client as pg.Client | null)?.end().catch(() => undefined);
    if (src.owned) await (src.client as pg.Client | null)?.end().catch(() => undefined);
  }
}

/** Without --force an unreachable side changes nothing: say what to do instead. */
function refuseUnreachable(tgt: Connection, src: Connection): void {
  if (!tgt.client) {
    throw new UnreachableError(
      `${tgt.error!.message}; nothing was changed. Retry when the target is reachable, or use --force to drop the ` +
        `source's slot and publication anyway (the target's subscription is then left to drop later)`,
    );
  }
  if (!src.client) {
    throw new UnreachableError(
      `${src.error!.message}; DROP SUBSCRIPTION needs the source to drop its slot, so nothing was changed. ` +
        `Retry when the source is reachable, or use --force to detach the subscription and drop the slot on the source later by hand`,
    );
  }
}

/**
 * Drops the subscription on the target: with the source reachable DROP SUBSCRIPTION drops its slot
 * (detached first when the target cannot reach the source); with the source down it is detached
 * and its slot reported as left. Returns the subscription's oid and slot name for the source's clean-up.
 */
async function dropSubscription(stop: Stop): Promise<{ subOid: number | undefined; slotName: string }> {
  const { name, options, result, run, tgt, src } = stop;
  if (!tgt.client) {
    result.messages.push(
      `the target is unreachable (${tgt.error?.message}): its subscription ${name}, if any, is left; it will fail to stream once the slot is gone. Drop it there later with sync stop`,
    );
    return { subOid: undefined, slotName: name };
  }
  const target = tgt.client;
  const info = await serverInfo(target);
  const sub = (await listSubscriptions(target, info.versionNum)).find((s) => s.name === name);
  if (!sub) {
    result.messages.push(`no subscription ${name} on the target`);
    return { subOid: undefined, slotName: name };
  }
  const detachAndDrop = async () => {
    await run(target, "target", `ALTER SUBSCRIPTION ${ident(name)} DISABLE`);
    await run(target, "target", `ALTER SUBSCRIPTION ${ident(name)} SET (slot_name = NONE)`);
    await run(target, "target", `DROP SUBSCRIPTION ${ident(name)}`);
  };
  if (src.client) {
    try {
      await run(target, "target", `DROP SUBSCRIPTION ${ident(name)}`);
      result.droppedSubscription = !options.dryRun;
      if (sub.slotName) {
        result.messages.push(
          options.dryRun
            ? `DROP SUBSCRIPTION would also drop slot ${sub.slotName} on the source`
            : `subscription ${name} dropped; it dropped slot ${sub.slotName} on the source`,
        );
      }
    } catch (error) {
      // The target could not reach the source to drop the slot: detach, then drop the slot ourselves below.
      result.messages.push(
        `DROP SUBSCRIPTION could not drop the slot itself (${redact(String((error as Error).message), stop.secrets)}): detaching it and dropping the slot directly on the source`,
      );
      result.statements.pop();
      await detachAndDrop();
      result.droppedSubscription = true;
    }
  } else {
    await detachAndDrop();
    result.droppedSubscription = !options.dryRun;
    if (sub.slotName) {
      result.leftoverSlots.push(sub.slotName);
      result.messages.push(
        `the source is unreachable: slot ${sub.slotName} is left on it and holds WAL until dropped. ` +
          `When it is reachable run \`sync stop\` again, or on the source: ${dropSlotSql(sub.slotName)}; ` +
          `also drop any slot named pg_${sub.oid}_sync_% and DROP PUBLICATION ${ident(name)}`,
      );
    }
  }
  return { subOid: sub.oid, slotName: sub.slotName ?? name };
}

/** Drops our inactive slots on the source (waiting, bounded, for active ones to be released), reports any left, then drops the publication. */
async function dropSlotsAndPublication(
  stop: Stop,
  source: pg.ClientBase,
  { subOid, slotName }: { subOid: number | undefined; slotName: string },
): Promise<void> {
  const { name, options, result, run } = stop;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = performance.now() + timeoutMs;
  const maxPolls = Math.ceil(timeoutMs / 100) + 2;
  for (let poll = 0; poll < maxPolls; poll++) {
    const slots =
      options.dryRun && result.droppedSubscription === false && subOid !== undefined
        ? [] // a dry run's DROP SUBSCRIPTION would remove them
        : await findSlots(source, [slotName], subOid);
    const inactive = slots.filter((s) => !s.active);
    for (const slot of inactive) {
      try {
        await run(source, "source", dropSlotSql(slot.name));
        if (!options.dryRun) result.droppedSlots.push(slot.name);
      } catch (error) {
        // Became active or vanished between the read and the drop: look again.
        if ((error as { code?: string }).code !== "42704" && (error as { code?: string }).code !== "55006") throw error;
        result.statements.pop();
      }
    }
    const active = slots.filter((s) => s.active);
    if (active.length === 0 || options.dryRun) break;
    if (performance.now() >= deadline) break;
    await sleep(100);
  }
  if (!options.dryRun) {
    const left = await findSlots(source, [slotName], subOid);
    for (const slot of left) {
      result.leftoverSlots.push(slot.name);
      result.messages.push(
        `slot ${slot.name} is still on the source${slot.active ? ` and in use by pid ${slot.activePid} (another subscriber uses this name)` : ""}: ` +
          `stop its consumer, then on the source: ${dropSlotSql(slot.name)}`,
      );
    }
  }
  const pub = await source.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [name]);
  if ((pub.rowCount ?? 0) > 0) {
    await run(source, "source", `DROP PUBLICATION ${ident(name)}`);
    result.droppedPublication = !options.dryRun;
  }
}
