// End-to-end, real PostgreSQL: paired databases, a lossless switch AND a lossless
// rollback, in ONE run: `npm run demo -- --database paired` runs cutover (blue → green) →
// rollback (green → blue) → cutover again, each behind the write fence, with a continuous
// writer (≥ 200 writes/s offered) and readers going through the router the whole time.
//
// Asserted: every acknowledged write is in the serving database (and in the other one, by
// replication) after every switch and at the end; no write applied twice; no write the fence
// rejected applied anyway; reads never fail (and keep being answered during the fence); the
// fence's 503s counted separately from failures; the writes green acknowledged after the switch
// are in blue after the rollback. Not asserted: wall time (2 shared cores); the figures are printed.
//
// And: if green → blue replication is broken before the rollback, the rollback still flips and
// names exactly the keys that exist only on green.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemo, silentPrinter, summaryLines, type DemoResult } from "../../scripts/demo/demo.js";
import { expectRunGone } from "./leftovers.js";

let reportsDir: string;
beforeAll(async () => {
  reportsDir = await mkdtemp(join(tmpdir(), "bluegreen-e2e-lossless-reports-"));
});
afterAll(async () => {
  await rm(reportsDir, { recursive: true, force: true });
});

const runId = (name: string) => `e2elossless${name}${process.pid}${Math.random().toString(36).slice(2, 7)}`;
const RATE = 450;
const WRITE_SHARE = 0.55;

function printFigures(title: string, result: DemoResult): void {
  // The measured figures, for the record (never asserted: shared, noisy cores).
  process.stdout.write(`\n${title}\n${summaryLines(result).join("\n")}\n`);
}

describe("paired databases: cutover → rollback → cutover under continuous writes, nothing lost", () => {
  const id = runId("scenario");
  let result: DemoResult;
  beforeAll(async () => {
    result = await runDemo({ runId: id, database: "paired", timings: "ci", ratePerSecond: RATE, writeShare: WRITE_SHARE, reportsDir, printer: silentPrinter });
    printFigures("paired scenario (cutover → rollback → cutover)", result);
  }, 180_000);

  it("runs the three fenced switches in one run and ends on green", () => {
    expect(RATE * WRITE_SHARE).toBeGreaterThanOrEqual(200); // the writer offered ≥ 200 writes/s
    expect(result.asExpected, `${result.reason ?? ""}\n${summaryLines(result).join("\n")}`).toBe(true);
    expect(result.outcome).toBe("succeeded");
    const switches = result.paired!.switches;
    expect(switches.map((sw) => [sw.kind, sw.outcome, sw.from, sw.to])).toEqual([
      ["cutover", "succeeded", "blue", "green"],
      ["rollback", "rolled-back", "green", "blue"],
      ["cutover", "succeeded", "blue", "green"],
    ]);
    expect(result.steps.map((step) => step.configured.green)).toEqual([0, 100, 0, 100]);
    for (const sw of switches) {
      expect(sw.fenceMs, `switch ${sw.index} fence measured`).not.toBeNull();
      expect(sw.routerFenceMs, `switch ${sw.index}: the router saw one fence period`).not.toBeNull();
    }
  });

  it("loses no acknowledged write at any switch, in either database", () => {
    for (const sw of result.paired!.switches) {
      expect(sw.lost, `switch ${sw.index} ${sw.kind}: ${sw.lostRequestIds.slice(0, 5).join(", ")}`).toBe(0);
      expect(sw.carriedOver.present).toBe(sw.carriedOver.acknowledged);
    }
    expect(result.dataCheck.database).toBe("green");
    expect(result.dataCheck.acknowledged).toBe(result.load.writesAcknowledged);
    expect(result.dataCheck.missing).toEqual([]);
    expect(result.dataCheck.mismatched).toEqual([]);
    expect(result.paired!.writesOnOtherSide.database).toBe("blue");
    expect(result.paired!.writesOnOtherSide.missing).toEqual([]);
    expect(result.paired!.writesOnOtherSide.mismatched).toEqual([]);
  });

  it("reverse replication makes the rollback lossless: every write green acknowledged is in blue afterwards", () => {
    const rollback = result.paired!.switches.find((sw) => sw.kind === "rollback")!;
    expect(rollback.carriedOver.color).toBe("green");
    expect(rollback.carriedOver.acknowledged).toBeGreaterThan(0);
    expect(rollback.carriedOver.present).toBe(rollback.carriedOver.acknowledged);
    expect(rollback.onlyOnGreen).toBeNull(); // replication was healthy: nothing to list
  });

  it("applies no write twice and none the fence rejected", () => {
    expect(result.paired!.duplicates).toEqual({ blue: 0, green: 0 });
    expect(result.paired!.rejectedApplied).toEqual([]);
  });

  it("never fails a read, answers reads during every fence, and counts the fence's 503s apart from failures", () => {
    expect(result.load.failed, JSON.stringify(result.load.failures.slice(0, 5))).toBe(0);
    expect(result.paired!.readFailures).toBe(0);
    for (const sw of result.paired!.switches) {
      expect(sw.readFailuresDuringFence).toBe(0);
      expect(sw.readsDuringFence, `switch ${sw.index}: reads flowed while writes were fenced`).toBeGreaterThan(0);
    }
    const perSwitch = result.paired!.switches.reduce((sum, sw) => sum + sw.writesRejected, 0);
    expect(result.paired!.writesRejectedByFence).toBe(result.load.fenced);
    expect(perSwitch).toBe(result.load.fenced); // the fence is only ever up during a switch
    expect(result.load.fenced).toBeGreaterThan(0);
  });

  it("leaves nothing behind", async () => {
    await expectRunGone(id);
  });
});

describe("paired databases: rollback with green → blue replication broken", () => {
  const id = runId("broken");
  let result: DemoResult;
  beforeAll(async () => {
    result = await runDemo({
      runId: id,
      database: "paired",
      timings: "ci",
      ratePerSecond: RATE,
      writeShare: WRITE_SHARE,
      reportsDir,
      printer: silentPrinter,
      pairedScenario: ["cutover", "rollback"],
      breakReverseReplication: true,
    });
    printFigures("paired rollback with reverse replication broken", result);
  }, 180_000);

  it("still flips to blue and names exactly the keys that exist only on green", () => {
    expect(result.asExpected, `${result.reason ?? ""}\n${summaryLines(result).join("\n")}`).toBe(true);
    const rollback = result.paired!.switches.find((sw) => sw.kind === "rollback")!;
    expect(rollback.outcome).toBe("rolled-back");
    expect(result.steps.at(-1)!.configured).toEqual({ blue: 100, green: 0 });
    // The writes green acknowledged that never reached blue...
    expect(rollback.lost).toBeGreaterThan(0);
    expect(rollback.lostKeys).toHaveLength(rollback.lost);
    // ...are exactly the keys the rollback reports as only on green.
    expect(rollback.onlyOnGreen).not.toBeNull();
    expect([...rollback.onlyOnGreen!].sort()).toEqual([...rollback.lostKeys].sort());
  });

  it("keeps blue consistent afterwards: no key collision, green still holds every acknowledged write", () => {
    // Blue's sequences were copied from green despite the broken replication, so the writes
    // blue takes after the rollback do not reuse green's keys and blue → green keeps flowing.
    // The only failed requests: reads of the lost bookings, which blue answers 404.
    const rollback = result.paired!.switches.find((sw) => sw.kind === "rollback")!;
    const lostPaths = new Set(rollback.lostKeys.map((key) => `/bookings/${key.replace(/^public\.bookings\(id=(\d+)\)$/, "$1")}`));
    expect(result.unexpectedFailures).toBe(0);
    for (const failure of result.load.failures) expect([failure.method, failure.status, lostPaths.has(failure.path)]).toEqual(["GET", 404, true]);
    expect(result.dataCheck.database).toBe("blue");
    expect(result.dataCheck.missing).toHaveLength(rollback.lost);
    expect(result.paired!.writesOnOtherSide.database).toBe("green");
    expect(result.paired!.writesOnOtherSide.missing).toEqual([]);
    expect(result.paired!.duplicates).toEqual({ blue: 0, green: 0 });
  });

  it("leaves nothing behind", async () => {
    await expectRunGone(id);
  });
});
