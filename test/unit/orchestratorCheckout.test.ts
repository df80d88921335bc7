// What an orchestrated cutover proves from the operator's checkout before it starts (pending
// expand migrations, paired: the parity result), and how the advance Lambda reads the record back.

import { describe, expect, test } from "vitest";
import { exitCodeFor } from "../../scripts/cli/common.js";
import { checkCheckout, readCheckoutRecord, recordedParity, type CheckoutChecks } from "../../scripts/core/orchestrator/checkout.js";

const NOW = Date.parse("2026-12-06T14:00:00Z");
const identical = { identical: true, checkedAt: NOW - 60_000, summary: "rows and schema identical" };

function checks(overrides: Partial<CheckoutChecks> = {}): CheckoutChecks {
  return {
    databaseMode: "paired",
    now: NOW,
    parityMaxAgeMs: 3_600_000,
    migrationsDir: "migrations",
    migrator: undefined,
    parity: { latest: async () => identical },
    requireParity: true,
    ...overrides,
  };
}

describe("checkCheckout", () => {
  test("paired: a recent identical result is recorded with the migrations' state", async () => {
    expect(await checkCheckout(checks())).toEqual({ checkedAt: NOW, migrations: { dir: "migrations", expand: "none" }, parity: identical });
    const applied = await checkCheckout(checks({ migrator: { pendingExpand: async () => [] } }));
    expect(applied.migrations).toEqual({ dir: "migrations", expand: "all-applied" });
  });

  test("a pending expand migration is bad input (exit 2) naming the files and what to run, in either mode", async () => {
    for (const databaseMode of ["shared", "paired"] as const) {
      const refused = checkCheckout(checks({ databaseMode, migrator: { pendingExpand: async () => ["0002_add_index.sql", "0003_col.sql"] } }));
      const error = await refused.catch((e: unknown) => e);
      expect(exitCodeFor(error)).toBe(2);
      expect((error as Error).message).toMatch(
        /2 expand migration\(s\) pending in migrations \(0002_add_index\.sql, 0003_col\.sql\).*npm run migrate -- apply expand/,
      );
    }
  });

  test("shared: no parity is read or recorded", async () => {
    let read = 0;
    const record = await checkCheckout(checks({ databaseMode: "shared", parity: { latest: async () => (read++, null) } }));
    expect(record.parity).toBeNull();
    expect(read).toBe(0);
  });

  test("a resumed run past its preflight records what there is without refusing", async () => {
    const old = { ...identical, checkedAt: NOW - 5 * 3_600_000 };
    expect((await checkCheckout(checks({ requireParity: false, parity: { latest: async () => old } }))).parity).toEqual(old);
    expect((await checkCheckout(checks({ requireParity: false, parity: { latest: async () => null } }))).parity).toBeNull();
    await expect(checkCheckout(checks({ parity: { latest: async () => old } }))).rejects.toThrow(/5h\S* old \(max 1h\S*\)/);
  });
});

describe("the record read back in the advance Lambda", () => {
  test("a well-formed record gives the preflight its parity; absent or malformed ones say why", async () => {
    const record = { checkedAt: NOW, migrations: { dir: "migrations", expand: "none" }, parity: identical };
    expect(await recordedParity(record).latest()).toEqual(identical);
    expect(await recordedParity({ ...record, parity: null }).latest()).toBeNull();
    await expect(recordedParity(undefined).latest()).rejects.toThrow(/carries no checkout record/);
    expect(readCheckoutRecord({ ...record, parity: { identical: "yes" } })).toEqual({ problem: expect.stringMatching(/malformed \(parity\)/) });
    expect(readCheckoutRecord({ checkedAt: "now", migrations: { dir: 1 }, parity: null })).toEqual({
      problem: expect.stringMatching(/malformed \(checkedAt, migrations\)/),
    });
  });
});
