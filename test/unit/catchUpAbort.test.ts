// The catch-up wait (scripts/postgres/sync/status.ts waitForCatchUp, behind
// PostgresDataReplication.waitForCatchUp) honours its abort signal: it polls a bounded number of
// times and stops at once when the signal aborts, whether during a poll or in the pause between
// two. Over a fake client that answers the catalog queries the way a subscriber that never
// reaches the source's position does (enabled, its worker running, behind), counting polls.

import type pg from "pg";
import { describe, expect, it } from "vitest";
import { SYNC_NAMES, waitForCatchUp } from "../../scripts/postgres/sync/index.js";

/** A subscriber stuck behind the source: every poll says "not reached yet". `onPoll` runs after each. */
function stuckSubscriber(onPoll: (poll: number) => void = () => undefined): { client: pg.ClientBase; polls: () => number } {
  let polls = 0;
  const rows = (sql: string): Record<string, unknown>[] => {
    if (sql.includes("server_version_num")) {
      return [
        {
          version_num: "160004",
          version: "16.4",
          wal_level: "logical",
          database: "app",
          user: "app",
          superuser: true,
          replication: true,
          rds_replication: false,
          rds_superuser: false,
          create_subscription: true,
          create_db: true,
          max_slots: "10",
          used_slots: "1",
          max_senders: "10",
          max_sync: "2",
        },
      ];
    }
    if (sql.includes("pg_control_system")) return [{ id: "7301" }];
    if (sql.includes("FROM pg_subscription s"))
      return [{ oid: 16401, name: SYNC_NAMES.forward, enabled: true, slot: SYNC_NAMES.forward, publications: ["bluegreen"], origin: "none" }];
    if (sql.includes("pg_current_wal_insert_lsn")) return [{ lsn: "0/3000060" }];
    if (sql.includes("pg_subscription_rel")) {
      polls += 1;
      onPoll(polls);
      return [{ total: "2", ready: "2", latest: "0/3000000", reached: false, pid: 4242, enabled: true }];
    }
    if (sql.includes("pg_replication_slots")) return [{ lsn: "0/3000000", reached: false }];
    throw new Error(`unexpected query: ${sql}`);
  };
  const client = { query: async (sql: string) => ({ rows: rows(sql) }) } as unknown as pg.ClientBase;
  return { client, polls: () => polls };
}

describe("waitForCatchUp and its abort signal", () => {
  it("without a signal: bounded by its timeout, caughtUp false with the reason", async () => {
    const db = stuckSubscriber();
    const result = await waitForCatchUp({ sourceUrl: db.client, targetUrl: db.client, timeoutMs: 40, pollMs: 5 });
    expect(result.caughtUp).toBe(false);
    expect(result.reason).toMatch(/applied up to 0\/3000000 of 0\/3000060/);
    expect(db.polls()).toBeGreaterThan(0);
    expect(db.polls()).toBeLessThanOrEqual(Math.ceil(40 / 5) + 2);
  });

  it("an abort during the pause between polls ends the wait at once with the signal's reason", async () => {
    const controller = new AbortController();
    const reason = new Error("the guard's deadline has passed");
    // Abort once the first poll is done, while the wait sleeps before the second: its pause is 10 minutes.
    const db = stuckSubscriber((poll) => poll === 1 && setTimeout(() => controller.abort(reason), 0));
    await expect(waitForCatchUp({ sourceUrl: db.client, targetUrl: db.client, timeoutMs: 3_600_000, pollMs: 600_000, signal: controller.signal })).rejects.toBe(
      reason,
    );
    expect(db.polls()).toBe(1);
  }, 5_000);

  it("an abort during a poll stops before the next one", async () => {
    const controller = new AbortController();
    const db = stuckSubscriber();
    const query = db.client.query.bind(db.client) as (sql: string) => Promise<{ rows: unknown[] }>;
    (db.client as unknown as { query: (sql: string) => Promise<{ rows: unknown[] }> }).query = async (sql: string) => {
      const answer = await query(sql);
      if (sql.includes("pg_subscription_rel") && db.polls() === 2) controller.abort(); // mid-poll, before the pause
      return answer;
    };
    await expect(waitForCatchUp({ sourceUrl: db.client, targetUrl: db.client, timeoutMs: 3_600_000, pollMs: 5, signal: controller.signal })).rejects.toThrow();
    expect(db.polls()).toBe(2);
  });

  it("an aborted signal polls nothing", async () => {
    const db = stuckSubscriber();
    const reason = new Error("interrupted");
    await expect(waitForCatchUp({ sourceUrl: db.client, targetUrl: db.client, timeoutMs: 60_000, pollMs: 5, signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
    expect(db.polls()).toBe(0);
  });
});
