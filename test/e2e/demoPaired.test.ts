// End-to-end: paired databases — two PostgreSQL servers, logical replication both ways, the
// write fence on the local router, and the engine's fenced all-at-once switch: one switch on its
// own, and a fault after the switch that the engine rolls back by itself. The full scenario
// (`npm run demo -- --database paired`: cutover → rollback → cutover) is pairedLossless.test.ts.
// Fence times are printed, never asserted (shared cores).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemo, silentPrinter, type DemoResource, type DemoResult } from "../../scripts/demo/demo.js";
import { expectRunGone } from "./leftovers.js";

let reportsDir: string;
beforeAll(async () => {
  reportsDir = await mkdtemp(join(tmpdir(), "bluegreen-e2e-paired-reports-"));
});
afterAll(async () => {
  await rm(reportsDir, { recursive: true, force: true });
});

const runId = (name: string) => `e2epaired${name}${process.pid}${Math.random().toString(36).slice(2, 7)}`;

describe("paired databases: the fenced switch", () => {
  const id = runId("switch");
  const resources: DemoResource[] = [];
  let result: DemoResult;
  beforeAll(async () => {
    result = await runDemo({
      runId: id,
      database: "paired",
      pairedScenario: ["cutover"],
      timings: "ci",
      reportsDir,
      printer: silentPrinter,
      onResource: (r) => resources.push(r),
    });
    process.stdout.write(`paired single switch: fence ${result.paired?.switchFenceMs ?? "n/a"} ms, ${result.load.fenced} write(s) rejected\n`);
  }, 240_000);

  it("switches all at once to green behind a short write fence", () => {
    expect(result.outcome, result.reason ?? "").toBe("succeeded");
    expect(result.steps.map((step) => step.configured.green)).toEqual([0, 100]);
    expect(result.paired!.switchFenceMs).not.toBeNull();
    expect(result.paired!.switches).toHaveLength(1);
    expect(result.paired!.switches[0]!.lost).toBe(0);
  });

  it("rejects writes only with the fence's 503 (counted), fails no request and loses no acknowledged write on either side", () => {
    expect(result.load.failed, JSON.stringify(result.load.failures.slice(0, 5))).toBe(0);
    expect(result.paired!.writesRejectedByFence).toBe(result.load.fenced);
    expect(result.dataCheck.database).toBe("green");
    expect(result.dataCheck.missing).toEqual([]);
    expect(result.paired!.writesOnOtherSide.database).toBe("blue");
    expect(result.paired!.writesOnOtherSide.missing).toEqual([]);
    expect(result.paired!.writesOnOtherSide.mismatched).toEqual([]);
  });

  it("leaves nothing behind", async () => {
    await expectRunGone(id);
  });
});

describe("paired databases: a fault after the switch rolls back losslessly", () => {
  const id = runId("rollback");
  let result: DemoResult;
  beforeAll(async () => {
    result = await runDemo({
      runId: id,
      database: "paired",
      timings: "ci",
      reportsDir,
      printer: silentPrinter,
      fault: { errorRate: 0.2, latencyMs: 0 },
      faultAfterMs: 300,
    });
    process.stdout.write(
      `paired fault rollback: switch fence ${result.paired?.switchFenceMs ?? "n/a"} ms, rollback fence ${result.paired?.rollbackFenceMs ?? "n/a"} ms\n`,
    );
  }, 240_000);

  it("rolls back to blue on its own, every write green acknowledged replicated back", () => {
    expect(result.outcome).toBe("rolled-back");
    expect(result.rollback!.afterRollback.green).toBe(0);
    // Poll counts, not wall time: no more whole windows of the fault than the judge's rules need at
    // the traffic it met (two by the ceiling, three by the e-value when green got too few requests
    // for the ceiling), and the one straddling its onset, before the rollback began.
    expect(result.rollback!.pollsSeeingFault!).toBeGreaterThanOrEqual(1);
    expect([2, 3]).toContain(result.rollback!.pollsTheRulesNeed);
    expect(result.rollback!.pollsWhollyAfterOnset!).toBeLessThanOrEqual(result.rollback!.pollsTheRulesNeed!);
    expect(result.rollback!.pollsSeeingFault! - result.rollback!.pollsWhollyAfterOnset!).toBeLessThanOrEqual(1);
    expect(result.paired!.rollbackFenceMs).not.toBeNull();
    expect(result.unexpectedFailures).toBe(0);
    expect(result.dataCheck.database).toBe("blue");
    expect(result.dataCheck.missing).toEqual([]);
    expect(result.paired!.writesOnOtherSide.missing).toEqual([]);
    expect(result.asExpected).toBe(true);
  });

  it("leaves nothing behind", async () => {
    await expectRunGone(id);
  });
});
