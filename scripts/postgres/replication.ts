// DataReplication (core/ports.ts) over two PostgreSQL URLs: the adapter the paired-database
// switch uses in the sandbox AND on AWS (it needs nothing but blue's and green's database URLs).
// It stands on the same libraries as `npm run sync` (scripts/postgres/sync) and `npm run parity`
// (scripts/postgres/parity). Blue → green is the forward subscription, green → blue the reverse
// one (the lossless rollback).
//
// The split of duties between the engine's steps, decided here once for every caller:
//
//   parity()         judges ROWS and SCHEMA only. Logical replication does not carry sequence
//                    values, so under the fence the target's sequences are expected to lag; they
//                    are reported (how many, which) in the summary and in sequencesBehind, never
//                    counted as a difference. runParity itself counts "sequences behind" as a
//                    difference: that is right for `npm run parity` on its own, not for this step.
//                    judgeForSwitch(report) is that verdict, for a ParitySource reading a stored report.
//   copySequences()  copies every sequence source → target, then VERIFIES: re-reads both sides
//                    and fails (SequencesBehindError, naming each one) when a target sequence is
//                    still behind the source's or would hand out a key its table already holds.
//                    The engine's switch fails on that error (it rolls back) instead of letting
//                    the new color reissue keys.

import pg from "pg";
import type { DataReplication, ParityResult, ParitySource, ReplicationDirection, ReplicationStatus } from "../core/ports.js";
import { copySequences, openClient, startSync, stopSync, syncName, syncStatus, waitForCatchUp, type Db, type SequenceCopy } from "./sync/index.js";
import { runParity, type ParityReport } from "./parity/index.js";
import {
  ensureReplicationRole,
  refreshSubscriptionConnection,
  replicationConninfo,
  waitForApplyWorker,
  type ReplicationLogin,
} from "./sync/replicationRole.js";

export interface PostgresReplicationOptions {
  blueUrl: string;
  greenUrl: string;
  /** Keys listed per table and difference kind by parity (onlyOnGreen after a rollback); default 100 000. */
  parityKeyLimit?: number;
  /** Catch-up poll period, ms; default 20 (the wait runs behind the write fence). */
  catchUpPollMs?: number;
  /** Connections per database for parity; default 2. */
  parityParallelism?: number;
  /**
   * Each database's replication role (infra/database.ts: the secret of `bluegreen_replication`).
   * With one for the direction's source, start() creates/updates that role on the source and the
   * subscription connects as it; waitForCatchUp() first brings the role's password and the
   * subscription's connection in line with the secret as it is now (a rotation is picked up
   * before every switch and rollback). Without: subscriptions connect with the source URL's user.
   */
  replicationLogins?: Partial<Record<"blue" | "green", ReplicationLogin>>;
  /** sslmode of the subscription's connection as the replication role; default "require". */
  replicationSslmode?: string;
  /** How long a refreshed subscription's worker may take to run again, ms; default 15 000. */
  refreshWaitMs?: number;
  /**
   * The kept hot-path connections close after this long unused (ms; default 1000), so a caller
   * that never calls close() (a CLI that just returns) is not held open by them.
   */
  idleCloseMs?: number;
}

/** One sequence that is still behind after the copy. */
export interface SequenceBehind {
  sequence: string;
  /** Why: behind the source's value, missing on the target, or below the largest key of its column. */
  problem: string;
}

export class SequencesBehindError extends Error {
  override name = "SequencesBehindError";
  constructor(
    readonly direction: ReplicationDirection,
    readonly behind: SequenceBehind[],
  ) {
    super(
      `${behind.length} sequence(s) still behind on the ${direction === "blue-to-green" ? "green" : "blue"} database after the copy: ` +
        behind.map((b) => `${b.sequence} (${b.problem})`).join("; "),
    );
  }
}

export interface SequenceCopyReport {
  direction: ReplicationDirection;
  copied: SequenceCopy[];
  /** The post-copy check: empty when every sequence is in place. */
  behind: SequenceBehind[];
  checked: number;
}

/** The parity result the switch uses: rows and schema decide; sequences reported. */
export interface SwitchParity extends ParityResult {
  onlyOnGreen: string[];
  /** Keys only on green were listed up to the limit: more may exist. */
  onlyOnGreenTruncated: boolean;
  /** Sequences parity found behind on green (expected under the fence: the next step copies them). */
  sequencesBehind: string[];
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

export class PostgresDataReplication implements DataReplication {
  /** The latest full parity report (for reports and the demo's output). */
  lastParity: ParityReport | null = null;
  /** The latest sequence copy and its verification. */
  lastSequenceCopy: SequenceCopyReport | null = null;
  private lastResult: ParityResult | null = null;
  private readonly blueUrl: string;
  private readonly greenUrl: string;
  /** One open connection per database for the fenced hot path (status, catch-up, sequences); see close(). */
  private hot: { blue: Promise<pg.Client> | null; green: Promise<pg.Client> | null } = { blue: null, green: null };
  private hotActive = 0;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: PostgresReplicationOptions) {
    this.blueUrl = options.blueUrl;
    this.greenUrl = options.greenUrl;
  }

  /** Close the connections kept for the hot path (they reopen on the next call). Call once done. */
  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const open = [this.hot.blue, this.hot.green];
    this.hot = { blue: null, green: null };
    await Promise.all(open.map(async (client) => (client ? (await client.catch(() => null))?.end().catch(() => undefined) : undefined)));
  }

  /**
   * Run `fn` on the kept connections, source and target of `direction`. Behind the fence every
   * millisecond counts, and a new connection costs a TCP + SCRAM handshake per call. On any error
   * the connections are dropped, so the next call starts from fresh ones.
   */
  private async onHot<T>(
    direction: ReplicationDirection,
    fn: (ends: ReturnType<PostgresDataReplication["ends"]> & { source: Db; target: Db }) => Promise<T>,
  ): Promise<T> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.hotActive++;
    try {
      this.hot.blue ??= openClient(this.blueUrl, { label: "blue database" });
      this.hot.green ??= openClient(this.greenUrl, { label: "green database" });
      const [blue, green] = await Promise.all([this.hot.blue, this.hot.green]);
      const ends = this.ends(direction);
      return await fn(direction === "blue-to-green" ? { ...ends, source: blue, target: green } : { ...ends, source: green, target: blue });
    } catch (error) {
      await this.close();
      throw error;
    } finally {
      this.hotActive--;
      if (this.hotActive === 0 && (this.hot.blue || this.hot.green)) {
        this.idleTimer = setTimeout(() => void this.close(), this.options.idleCloseMs ?? 1000);
        this.idleTimer.unref();
      }
    }
  }

  private ends(direction: ReplicationDirection) {
    return direction === "blue-to-green"
      ? { sourceUrl: this.blueUrl, targetUrl: this.greenUrl, name: syncName(direction), sourceLabel: "blue database", targetLabel: "green database" }
      : { sourceUrl: this.greenUrl, targetUrl: this.blueUrl, name: syncName(direction), sourceLabel: "green database", targetLabel: "blue database" };
  }

  /**
   * Once per direction and adapter (one command run), on its first status or catch-up: bring the
   * replication role's password (on the source, as the master user) and the subscription's stored
   * connection (on the target) in line with the replication secret as it is now. A connection that
   * changed restarts the apply worker: wait (bounded) for it, so the status read next is honest.
   */
  private async refresh(direction: ReplicationDirection, ends: { source: Db; target: Db; name: string }): Promise<void> {
    const login = this.loginFor(direction);
    if (!login || this.lastRefresh[direction] !== undefined) return;
    await ensureReplicationRole(ends.source as pg.ClientBase, login, { grantSelect: false });
    const outcome = await refreshSubscriptionConnection(ends.target as pg.ClientBase, ends.name, replicationConninfo(login, this.options.replicationSslmode));
    this.lastRefresh[direction] = outcome;
    if (outcome === "updated") await waitForApplyWorker(ends.target as pg.ClientBase, ends.name, this.options.refreshWaitMs ?? 15_000);
  }

  async status(direction: ReplicationDirection): Promise<ReplicationStatus> {
    const status = await this.onHot(direction, async (ends) => {
      await this.refresh(direction, ends);
      return syncStatus({ ...ends, sourceUrl: ends.source, targetUrl: ends.target });
    });
    const running = status.subscription.exists && status.subscription.enabled && status.workerRunning;
    return {
      direction,
      running,
      lagBytes: status.lag.bytes,
      detail: running
        ? `${status.tablesReady}/${status.tablesTotal} table(s) ready, lag ${status.lag.bytes ?? "unknown"} byte(s)`
        : !status.subscription.exists
          ? `no subscription ${status.name}`
          : !status.subscription.enabled
            ? `subscription ${status.name} is disabled`
            : `subscription ${status.name} exists but its worker is not running`,
    };
  }

  /** The replication login of the direction's source database, if the stack declares one. */
  private loginFor(direction: ReplicationDirection): ReplicationLogin | undefined {
    return this.options.replicationLogins?.[direction === "blue-to-green" ? "blue" : "green"];
  }

  /** How the last refresh went ("absent" / "unchanged" / "updated"), per direction: for tests and reports. */
  readonly lastRefresh: Partial<Record<ReplicationDirection, "absent" | "unchanged" | "updated">> = {};

  /** Bounded by timeoutMs; when `signal` aborts, the polling stops at once and this throws the signal's reason. */
  async waitForCatchUp(direction: ReplicationDirection, timeoutMs: number, signal?: AbortSignal): Promise<{ waitedMs: number }> {
    const result = await this.onHot(direction, async (ends) => {
      // Before the switch and the rollback: the replication secret as it is now (see refresh).
      await this.refresh(direction, ends);
      return waitForCatchUp({
        ...ends,
        sourceUrl: ends.source,
        targetUrl: ends.target,
        timeoutMs,
        pollMs: this.options.catchUpPollMs ?? 20,
        ...(signal ? { signal } : {}),
      });
    });
    if (!result.caughtUp) throw new Error(`${direction} replication did not catch up within ${timeoutMs} ms: ${result.reason ?? "unknown reason"}`);
    return { waitedMs: Math.round(result.elapsedMs) };
  }

  async parity(): Promise<SwitchParity> {
    const report = await runParity({
      blueUrl: this.blueUrl,
      greenUrl: this.greenUrl,
      limit: this.options.parityKeyLimit ?? 100_000,
      ...(this.options.parityParallelism !== undefined ? { parallelism: this.options.parityParallelism } : {}),
    });
    this.lastParity = report;
    const verdict = judgeForSwitch(report);
    this.lastResult = { identical: verdict.identical, checkedAt: verdict.checkedAt, summary: verdict.summary };
    return verdict;
  }

  /** The newest parity result this adapter produced (the sandbox's preflight reads it; AWS reads reports/parity-latest.json). */
  paritySource(): ParitySource {
    return { latest: async () => this.lastResult };
  }

  /** Copy sequences source → target, then verify every target sequence is in place (throws SequencesBehindError). */
  async copySequences(direction: ReplicationDirection): Promise<void> {
    const copied = await this.onHot(direction, (ends) =>
      copySequences(ends.source, ends.target, { sourceLabel: ends.sourceLabel, targetLabel: ends.targetLabel }),
    );
    const check = await this.verifySequences(direction);
    this.lastSequenceCopy = { direction, copied, behind: check.behind, checked: check.checked };
    if (check.behind.length > 0) throw new SequencesBehindError(direction, check.behind);
  }

  /**
   * The post-copy check, read-only. A target sequence is behind when a copy would still change it
   * (a dry run of the copy plans a setval: the target is below the source), when it is missing on
   * the target, or when its next value is not past the largest key of the column it feeds there.
   */
  async verifySequences(direction: ReplicationDirection): Promise<{ behind: SequenceBehind[]; checked: number }> {
    return this.onHot(direction, async (ends) => {
      const plan = await copySequences(ends.source, ends.target, { dryRun: true, sourceLabel: ends.sourceLabel, targetLabel: ends.targetLabel });
      const behind: SequenceBehind[] = [];
      for (const seq of plan) {
        if (seq.action === "set")
          behind.push({
            sequence: seq.sequence,
            problem: `target ${seq.targetBefore} (is_called ${seq.targetIsCalledBefore}) is behind the source's ${seq.sourceValue}`,
          });
        if (seq.action === "missing-on-target") behind.push({ sequence: seq.sequence, problem: "missing on the target" });
      }
      behind.push(...(await sequencesBelowTheirKeys(ends.target as pg.ClientBase)));
      return { behind, checked: plan.length };
    });
  }

  async start(direction: ReplicationDirection, options: { copyData: boolean }): Promise<void> {
    const login = this.loginFor(direction);
    const ends = this.ends(direction);
    if (!login) {
      await startSync({ ...ends, copyData: options.copyData });
      return;
    }
    await this.onHot(direction, (hot) => ensureReplicationRole(hot.source as pg.ClientBase, login));
    await startSync({ ...ends, copyData: options.copyData, connectUrlForTarget: replicationConninfo(login, this.options.replicationSslmode) });
  }

  async stop(direction: ReplicationDirection): Promise<void> {
    await stopSync(this.ends(direction));
  }
}

/**
 * The paired switch's verdict on a parity report: rows and schema decide; sequences behind on
 * green are reported, not counted (the switch copies and verifies them next). Shared by this
 * adapter and by any ParitySource that feeds the paired preflight from a stored report (on AWS,
 * reports/parity-latest.json): there, runParity's own `identical` would stay false for as long as
 * blue takes writes, because green's sequences are only copied at the switch.
 */
export function judgeForSwitch(report: ParityReport): SwitchParity {
  const onlyOnGreen = report.tables.flatMap((table) =>
    table.extraOnGreen.keys.map(
      (key) =>
        `${table.table}(${Object.entries(key)
          .map(([column, value]) => `${column}=${value}`)
          .join(", ")})`,
    ),
  );
  const onlyOnGreenTruncated = report.tables.some((table) => table.truncated && table.extraOnGreen.count > table.extraOnGreen.keys.length);
  const t = report.totals;
  const rowsIdentical = t.tablesDifferent === 0 && t.schemaDifferences === 0 && t.missingOnGreen === 0 && t.extraOnGreen === 0 && t.changed === 0;
  const sequencesBehind = report.sequences.filter((seq) => seq.status === "behind").map((seq) => seq.sequence);
  let summary: string;
  if (!rowsIdentical) {
    // runParity's own summary names what differs (and counts sequences too: say they are not the reason).
    summary = report.summary + (sequencesBehind.length > 0 ? " (sequences are copied by the next step and not judged here)" : "");
  } else {
    summary =
      `rows and schema identical (${t.tables} table(s), ${t.rowsHashed.toLocaleString("en-US")} rows hashed); ` +
      (sequencesBehind.length === 0
        ? `${report.sequences.length} sequence(s) in step`
        : `${sequencesBehind.length} of ${report.sequences.length} sequence(s) behind on green (${sequencesBehind.join(", ")}): copied and verified by the next step`);
  }
  return { identical: rowsIdentical, checkedAt: Date.parse(report.finishedAt), summary, onlyOnGreen, onlyOnGreenTruncated, sequencesBehind };
}

/** Sequences owned by a column (serial or identity) whose next value is not past that column's extreme value. */
async function sequencesBelowTheirKeys(client: pg.ClientBase): Promise<SequenceBehind[]> {
  {
    const { rows } = await client.query<{ seq_schema: string; seq_name: string; tbl_schema: string; tbl_name: string; col: string; increment: string }>(
      `SELECT sn.nspname AS seq_schema, sc.relname AS seq_name, tn.nspname AS tbl_schema, t.relname AS tbl_name, a.attname AS col, s.seqincrement::text AS increment
         FROM pg_sequence s
         JOIN pg_class sc ON sc.oid = s.seqrelid
         JOIN pg_namespace sn ON sn.oid = sc.relnamespace
         JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
         JOIN pg_class t ON t.oid = d.refobjid
         JOIN pg_namespace tn ON tn.oid = t.relnamespace
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE sn.nspname NOT IN ('pg_catalog', 'information_schema')
        ORDER BY 1, 2`,
    );
    const behind: SequenceBehind[] = [];
    for (const row of rows) {
      const seq = `${ident(row.seq_schema)}.${ident(row.seq_name)}`;
      const descending = BigInt(row.increment) < 0n;
      const { rows: values } = await client.query<{ last_value: string; is_called: boolean; extreme: string | null }>(
        `SELECT last_value::text, is_called, (SELECT ${descending ? "min" : "max"}(${ident(row.col)})::text FROM ${ident(row.tbl_schema)}.${ident(row.tbl_name)}) AS extreme FROM ${seq}`,
      );
      const v = values[0];
      if (!v || v.extreme === null || !/^-?\d+$/.test(v.extreme)) continue;
      const next = v.is_called ? BigInt(v.last_value) + BigInt(row.increment) : BigInt(v.last_value);
      const extreme = BigInt(v.extreme);
      if (descending ? next >= extreme : next <= extreme) {
        behind.push({
          sequence: `${row.seq_schema}.${row.seq_name}`,
          problem: `its next value ${next} is not past the ${descending ? "smallest" : "largest"} ${row.tbl_schema}.${row.tbl_name}.${row.col} = ${extreme}`,
        });
      }
    }
    return behind;
  }
}
