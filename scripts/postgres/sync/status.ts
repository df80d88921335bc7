// `sync status` and the bounded wait until the target has applied everything the source had
// committed (used by `sync start` for the initial copy and by the paired switch behind the fence).

import type pg from "pg";
import { UsageError } from "../../core/errors.js";
import { findSlots, listSubscriptions, publicationTables, serverInfo, type SlotRow } from "./catalog.js";
import { withClient, type Db } from "./connect.js";
import { displayName, SYNC_NAMES, validateSyncName } from "./sql.js";

export type TableSyncState = "init" | "copying" | "synchronized" | "ready" | "unknown";

/** pg_subscription_rel.srsubstate: i init, d data copy, f finished copy (15+), s synchronized, r ready. */
export function tableState(code: string): TableSyncState {
  switch (code) {
    case "i":
      return "init";
    case "d":
      return "copying";
    case "f":
    case "s":
      return "synchronized";
    case "r":
      return "ready";
    default:
      return "unknown";
  }
}

export interface TableStatus {
  table: string;
  state: TableSyncState;
  /** The raw srsubstate letter. */
  code: string;
}

export interface SlotStatus {
  name: string;
  active: boolean;
  activePid: number | null;
  /** reserved / extended / unreserved / lost: `lost` means the subscription cannot continue. */
  walStatus: string | null;
  /** Bytes of WAL that may still be written before the slot is in danger of losing WAL; null = unlimited. */
  safeWalSizeBytes: number | null;
  /** WAL the source keeps for this slot (current LSN - restart_lsn). */
  retainedBytes: number | null;
  confirmedFlushLsn: string | null;
}

export interface SyncStatus {
  name: string;
  /** The subscription exists on the target. */
  subscription: { exists: boolean; enabled: boolean; origin: string | null };
  /** The apply worker runs (pg_stat_subscription.pid is not NULL). */
  workerRunning: boolean;
  workerPid: number | null;
  publication: { exists: boolean; tables: string[] };
  tables: TableStatus[];
  tablesReady: number;
  tablesTotal: number;
  lag: {
    /** pg_current_wal_lsn() - confirmed_flush_lsn of the slot, on the source. */
    bytes: number | null;
    /**
     * Seconds: 0 when nothing is outstanding (bytes = 0); otherwise the source walsender's
     * replay_lag (time from a WAL flush on the source to the target confirming it applied);
     * null when PostgreSQL has no figure yet.
     */
    seconds: number | null;
  };
  /** Seconds since the target last heard from the source's walsender (keepalives included). */
  lastMessageAgeSeconds: number | null;
  slot: SlotStatus | null;
  /** Other slots of this subscription (initial-copy slots, pg_<oid>_sync_<relid>_<sysid>). */
  syncSlots: SlotStatus[];
  /** Cumulative apply / initial-copy errors (pg_stat_subscription_stats, PostgreSQL 15+). */
  errors: { apply: number; sync: number } | null;
  sourceLsn: string;
  /** Running, slot healthy, every table ready. */
  healthy: boolean;
  /** Why not healthy, one line each. */
  problems: string[];
}

export interface StatusOptions {
  sourceUrl: Db;
  targetUrl: Db;
  /** Default `bluegreen_blue_to_green`. */
  name?: string;
  sourceLabel?: string;
  targetLabel?: string;
  /** Abandons both connections when it aborts (status --deadline). */
  signal?: AbortSignal;
}

function slotStatus(row: SlotRow): SlotStatus {
  return {
    name: row.name,
    active: row.active,
    activePid: row.activePid,
    walStatus: row.walStatus,
    safeWalSizeBytes: row.safeWalSizeBytes,
    retainedBytes: row.retainedBytes,
    confirmedFlushLsn: row.confirmedFlushLsn,
  };
}

interface TargetSide {
  exists: boolean;
  enabled: boolean;
  origin: string | null;
  oid: number | undefined;
  slotName: string | null;
  workerPid: number | null;
  lastMessageAgeSeconds: number | null;
  latestEndLsn: string | null;
  tables: TableStatus[];
  errors: { apply: number; sync: number } | null;
}

async function readTarget(target: pg.ClientBase, name: string): Promise<TargetSide> {
  const info = await serverInfo(target);
  const sub = (await listSubscriptions(target, info.versionNum)).find((s) => s.name === name);
  if (!sub) {
    return {
      exists: false,
      enabled: false,
      origin: null,
      oid: undefined,
      slotName: null,
      workerPid: null,
      lastMessageAgeSeconds: null,
      latestEndLsn: null,
      tables: [],
      errors: null,
    };
  }
  const tables = await target.query<{ schema: string; name: string; code: string }>(
    `SELECT n.nspname AS schema, c.relname AS name, sr.srsubstate::text AS code
       FROM pg_subscription_rel sr
       JOIN pg_class c ON c.oid = sr.srrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE sr.srsubid = $1
      ORDER BY 1, 2`,
    [sub.oid],
  );
  // The apply worker is the row without relid; 16+ also lists parallel apply workers (leader_pid set).
  const leaderFilter = info.versionNum >= 160000 ? "AND leader_pid IS NULL" : "";
  const worker = await target.query<{ pid: number | null; age: string | null; latest_end_lsn: string | null }>(
    `SELECT pid, extract(epoch FROM now() - last_msg_receipt_time)::float8::text AS age, latest_end_lsn::text AS latest_end_lsn
       FROM pg_stat_subscription
      WHERE subid = $1 AND relid IS NULL ${leaderFilter}
      ORDER BY pid NULLS LAST LIMIT 1`,
    [sub.oid],
  );
  let errors: TargetSide["errors"] = null;
  if (info.versionNum >= 150000) {
    const stats = await target.query<{ apply: string; sync: string }>(
      "SELECT apply_error_count::text AS apply, sync_error_count::text AS sync FROM pg_stat_subscription_stats WHERE subid = $1",
      [sub.oid],
    );
    const row = stats.rows[0];
    if (row) errors = { apply: Number(row.apply), sync: Number(row.sync) };
  }
  const w = worker.rows[0];
  return {
    exists: true,
    enabled: sub.enabled,
    origin: sub.origin,
    oid: sub.oid,
    slotName: sub.slotName,
    workerPid: w?.pid ?? null,
    lastMessageAgeSeconds: w?.age == null ? null : Math.max(0, Number(w.age)),
    latestEndLsn: w?.latest_end_lsn ?? null,
    tables: tables.rows.map((row) => ({ table: displayName(row), state: tableState(row.code), code: row.code })),
    errors,
  };
}

/** Per-table state, worker, lag and slot health of one direction. Reads only. */
export async function syncStatus(options: StatusOptions): Promise<SyncStatus> {
  const name = options.name ?? SYNC_NAMES.forward;
  const nameProblem = validateSyncName(name);
  if (nameProblem) throw new UsageError(nameProblem);
  return withClient(
    options.targetUrl,
    options.targetLabel ?? "target database",
    async (target) => {
      const t = await readTarget(target, name);
      return withClient(
        options.sourceUrl,
        options.sourceLabel ?? "source database",
        async (source) => {
          const slotName = t.slotName ?? name;
          const slots = await findSlots(source, [slotName], t.oid);
          const main = slots.find((s) => s.name === slotName) ?? null;
          const syncSlots = slots.filter((s) => s.name !== slotName);
          const pub = await publicationTables(source, name);
          const lsn = await source.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
          let seconds: number | null = null;
          if (main?.lagBytes === 0) {
            seconds = 0;
          } else if (main?.activePid) {
            const lag = await source.query<{ s: string | null }>(
              "SELECT extract(epoch FROM replay_lag)::float8::text AS s FROM pg_stat_replication WHERE pid = $1",
              [main.activePid],
            );
            const value = lag.rows[0]?.s;
            seconds = value == null ? null : Number(value);
          }
          const problems: string[] = [];
          if (!t.exists) problems.push(`no subscription ${name} on the target`);
          else {
            if (!t.enabled) problems.push(`subscription ${name} is disabled`);
            else if (t.workerPid === null) problems.push(`subscription ${name} has no running apply worker (see the target's server log)`);
          }
          if (!pub) problems.push(`no publication ${name} on the source`);
          if (!main) {
            if (t.exists) problems.push(`slot ${slotName} is missing on the source: the subscription cannot stream`);
          } else {
            if (!main.active && t.exists) problems.push(`slot ${slotName} is not in use by the subscription`);
            if (main.walStatus === "lost") problems.push(`slot ${slotName} has lost required WAL: stop and start sync again`);
            else if (main.walStatus === "unreserved") problems.push(`slot ${slotName} is about to lose WAL (wal_status unreserved)`);
          }
          const ready = t.tables.filter((x) => x.state === "ready").length;
          if (t.exists && ready < t.tables.length) problems.push(`${t.tables.length - ready} of ${t.tables.length} tables not ready yet`);
          return {
            name,
            subscription: { exists: t.exists, enabled: t.enabled, origin: t.origin },
            workerRunning: t.workerPid !== null,
            workerPid: t.workerPid,
            publication: { exists: pub !== undefined, tables: pub ?? [] },
            tables: t.tables,
            tablesReady: ready,
            tablesTotal: t.tables.length,
            lag: { bytes: main?.lagBytes ?? null, seconds },
            lastMessageAgeSeconds: t.lastMessageAgeSeconds,
            slot: main ? slotStatus(main) : null,
            syncSlots: syncSlots.map(slotStatus),
            errors: t.errors,
            sourceLsn: lsn.rows[0]?.lsn ?? "0/0",
            healthy: problems.length === 0,
            problems,
          };
        },
        options.signal,
      );
    },
    options.signal,
  );
}

export interface WaitOptions extends StatusOptions {
  /** Give up after this long; default 60 s. */
  timeoutMs?: number;
  /** Poll interval; default 50 ms. */
  pollMs?: number;
  /** Called after every poll (progress views). */
  onProgress?: (progress: { tablesReady: number; tablesTotal: number; appliedLsn: string | null; targetLsn: string }) => void;
  /** Only wait for the initial copy (every table ready), not for a WAL position. */
  tablesOnly?: boolean;
  /** Stop waiting at once when this aborts (the pause between polls ends too): throws its reason. */
  signal?: AbortSignal;
}

export interface WaitResult {
  caughtUp: boolean;
  /** Milliseconds from the call to the target having applied the source's position (or to the timeout). */
  elapsedMs: number;
  /**
   * The source's pg_current_wal_insert_lsn() when the wait began: the end of every record inserted
   * so far, so every commit acknowledged before the call. (pg_current_wal_lsn() is the write
   * position, which lags committed records under synchronous_commit = off.)
   */
  targetLsn: string;
  /** What the target had confirmed when the wait ended (slot confirmed_flush_lsn or the apply worker's latest_end_lsn, whichever is further). */
  appliedLsn: string | null;
  tablesReady: number;
  tablesTotal: number;
  /** When not caught up: why. */
  reason?: string;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

const abortReason = (signal: AbortSignal): Error => (signal.reason instanceof Error ? signal.reason : new Error("the catch-up wait was aborted"));

/**
 * Wait, bounded, until the target has applied everything the source had committed when this
 * was called: every table ready, and the source's WAL insert position captured at the start
 * (it lies past every commit acknowledged before the call) reached by either
 * the slot's confirmed_flush_lsn (the target applied and flushed it) or the apply worker's
 * latest_end_lsn (a walsender keepalive past that position has been processed; the apply worker
 * handles messages in order, so every earlier commit is applied and visible). Never throws on
 * timeout: returns caughtUp false with the reason. Pass open clients to keep each poll cheap.
 */
export async function waitForCatchUp(options: WaitOptions): Promise<WaitResult> {
  const name = options.name ?? SYNC_NAMES.forward;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const pollMs = Math.max(5, options.pollMs ?? 50);
  const maxPolls = Math.ceil(timeoutMs / pollMs) + 2;
  const started = performance.now();
  return withClient(options.sourceUrl, options.sourceLabel ?? "source database", (source) =>
    withClient(options.targetUrl, options.targetLabel ?? "target database", async (target) => {
      const info = await serverInfo(target);
      const sub = (await listSubscriptions(target, info.versionNum)).find((s) => s.name === name);
      const lsnRow = await source.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn");
      const targetLsn = lsnRow.rows[0]?.lsn ?? "0/0";
      if (!sub) {
        return {
          caughtUp: false,
          elapsedMs: performance.now() - started,
          targetLsn,
          appliedLsn: null,
          tablesReady: 0,
          tablesTotal: 0,
          reason: `no subscription ${name} on the target`,
        };
      }
      const slotName = sub.slotName ?? name;
      let last: Omit<WaitResult, "caughtUp" | "elapsedMs" | "targetLsn"> = { appliedLsn: null, tablesReady: 0, tablesTotal: 0 };
      for (let poll = 0; poll < maxPolls; poll++) {
        if (options.signal?.aborted) throw abortReason(options.signal);
        const t = await target.query<{ total: string; ready: string; latest: string | null; reached: boolean | null; pid: number | null; enabled: boolean }>(
          `SELECT (SELECT count(*) FROM pg_subscription_rel WHERE srsubid = $1)::text AS total,
                  (SELECT count(*) FROM pg_subscription_rel WHERE srsubid = $1 AND srsubstate = 'r')::text AS ready,
                  w.latest_end_lsn::text AS latest, w.latest_end_lsn >= $2::pg_lsn AS reached, w.pid,
                  (SELECT subenabled FROM pg_subscription WHERE oid = $1) AS enabled
             FROM (SELECT 1) one
             LEFT JOIN LATERAL (SELECT latest_end_lsn, pid FROM pg_stat_subscription
                                 WHERE subid = $1 AND relid IS NULL AND pid IS NOT NULL
                                 ORDER BY latest_end_lsn DESC NULLS LAST LIMIT 1) w ON true`,
          [sub.oid, targetLsn],
        );
        const row = t.rows[0];
        const tablesTotal = Number(row?.total ?? 0);
        const tablesReady = Number(row?.ready ?? 0);
        let appliedLsn = row?.latest ?? null;
        let reached = row?.reached === true;
        if (!options.tablesOnly && !reached) {
          const s = await source.query<{ lsn: string | null; reached: boolean | null }>(
            "SELECT confirmed_flush_lsn::text AS lsn, confirmed_flush_lsn >= $2::pg_lsn AS reached FROM pg_replication_slots WHERE slot_name = $1",
            [slotName, targetLsn],
          );
          const slot = s.rows[0];
          if (slot?.reached) {
            reached = true;
            appliedLsn = slot.lsn;
          } else if (appliedLsn === null) {
            appliedLsn = slot?.lsn ?? null;
          }
        }
        last = { appliedLsn, tablesReady, tablesTotal };
        options.onProgress?.({ tablesReady, tablesTotal, appliedLsn, targetLsn });
        if (tablesReady === tablesTotal && (options.tablesOnly || reached)) {
          return { caughtUp: true, elapsedMs: performance.now() - started, targetLsn, ...last };
        }
        if (row?.enabled === false) {
          return { caughtUp: false, elapsedMs: performance.now() - started, targetLsn, ...last, reason: `subscription ${name} is disabled` };
        }
        if (performance.now() - started >= timeoutMs) break;
        await sleep(Math.min(pollMs, Math.max(0, timeoutMs - (performance.now() - started))), options.signal);
      }
      const reason =
        last.tablesReady < last.tablesTotal
          ? `${last.tablesTotal - last.tablesReady} of ${last.tablesTotal} tables still copying after ${Math.round(timeoutMs / 1000)} s`
          : `the target had applied up to ${last.appliedLsn ?? "nothing"} of ${targetLsn} after ${Math.round(timeoutMs / 1000)} s`;
      return { caughtUp: false, elapsedMs: performance.now() - started, targetLsn, ...last, reason };
    }),
  );
}
