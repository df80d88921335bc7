// End-to-end: the sandbox demo through runDemo() — real PostgreSQL, the sample app twice, the
// local router, real HTTP load and the production cutover engine — with compressed timings.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DemoAbortedError, runDemo, silentPrinter, type DemoResource, type DemoResult } from "../../scripts/demo/demo.js";
import { expectRunGone, pidAlive, portFree } from "./leftovers.js";
import { failAfterStart, failMidCutover } from "../support/demoFaultPlans.js";

let reportsDir: string;
beforeAll(async () => {
  reportsDir = await mkdtemp(join(tmpdir(), "bluegreen-e2e-reports-"));
});
afterAll(async () => {
  await rm(reportsDir, { recursive: true, force: true });
});

const runId = (name: string) => `e2e${name}${process.pid}${Math.random().toString(36).slice(2, 7)}`;

async function expectAllReleased(id: string, resources: DemoResource[]): Promise<void> {
  await expectRunGone(id);
  for (const resource of resources) {
    if (resource.kind === "pid") expect(pidAlive(resource.pid), `${resource.label} pid ${resource.pid}`).toBe(false);
    if (resource.kind === "port") expect(await portFree(resource.port), `${resource.label} port ${resource.port}`).toBe(true);
  }
  expect(resources.some((r) => r.kind === "pid")).toBe(true);
  expect(resources.some((r) => r.kind === "dir")).toBe(true);
}

describe("npm run demo, happy path (shared database)", () => {
  const id = runId("happy");
  const resources: DemoResource[] = [];
  let result: DemoResult;

  beforeAll(async () => {
    result = await runDemo({ runId: id, timings: "ci", ratePerSecond: 300, reportsDir, printer: silentPrinter, onResource: (r) => resources.push(r) });
  }, 240_000);

  it("succeeds through 5% → 25% → 100% and monitoring", () => {
    expect(result.outcome, result.reason ?? "").toBe("succeeded");
    expect(result.asExpected).toBe(true);
    expect(result.exitCode).toBe(0);
    expect(result.steps.map((step) => step.configured.green)).toEqual([0, 5, 25, 100]);
    expect(result.weightsRecorded).toEqual({ blue: 0, green: 100 });
  });

  it("shows the judge's decision with its evidence for each bake and the monitoring", () => {
    expect(result.decisions.map((d) => [d.where, d.decision])).toEqual([
      ["step 1 (green 5%)", "proceed"],
      ["step 2 (green 25%)", "proceed"],
      ["monitoring", "proceed"],
    ]);
    for (const decision of result.decisions) expect(decision.reason, decision.where).toMatch(/5xx/);
  });

  it("observes each step's split within ±3 percentage points of its weights, over enough requests", () => {
    for (const step of result.steps) {
      const total = step.routed.blue + step.routed.green;
      expect(total, `${step.label}: requests`).toBeGreaterThanOrEqual(200);
      expect(Math.abs(step.deviationPoints ?? Infinity), `${step.label}: observed ${step.observedGreenPercent}%`).toBeLessThanOrEqual(3);
    }
  });

  it("fails no request across the whole cutover, switch points included", () => {
    expect(result.load.failed, JSON.stringify(result.load.failures.slice(0, 5))).toBe(0);
    expect(result.steps.every((step) => step.failedRequests === 0)).toBe(true);
    expect(result.load.completed).toBeGreaterThan(1000);
    // Both colors served, as the weights said.
    expect(result.load.byColor.green).toBeGreaterThan(0);
    expect(result.load.byColor.blue).toBeGreaterThan(0);
  });

  it("loses no acknowledged write", () => {
    expect(result.dataCheck.acknowledged).toBeGreaterThan(200);
    expect(result.dataCheck.missing).toEqual([]);
    expect(result.dataCheck.mismatched).toEqual([]);
    expect(result.dataCheck.present).toBe(result.dataCheck.acknowledged);
  });

  it("writes the report (its duration is printed, never asserted)", () => {
    process.stdout.write(`demo happy path: ${(result.durationMs / 1000).toFixed(2)} s (start-up ${(result.phasesMs.startup / 1000).toFixed(2)} s)\n`);
    expect(result.reportPaths?.markdown).toMatch(/demo-.*\.md$/);
  });

  it("leaves no process, port or data directory behind", async () => {
    await expectAllReleased(id, resources);
  });
});

describe("npm run demo -- --fault error-rate=0.2", () => {
  const id = runId("fault");
  const resources: DemoResource[] = [];
  let result: DemoResult;

  beforeAll(async () => {
    result = await runDemo({
      runId: id,
      timings: "ci",
      ratePerSecond: 300,
      reportsDir,
      printer: silentPrinter,
      fault: { errorRate: 0.2, latencyMs: 0 },
      // At 25% green serves ~75 requests per poll window: a 20% error rate cannot hide in it.
      faultAtStep: 1,
      faultAfterMs: 500,
      onResource: (r) => resources.push(r),
    });
  }, 240_000);

  it("rolls back on its own", () => {
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toMatch(/5xx/); // the error-rate evidence (the judge's wording: "5xx green n/N")
    expect(result.asExpected).toBe(true);
    expect(result.exitCode).toBe(0);
    expect(result.weightsRecorded).toEqual({ blue: 100, green: 0 });
    expect(result.decisions.at(-1)).toMatchObject({ where: "step 2 (green 25%)", decision: "rollback" });
  });

  it("catches the fault within two polls of its onset and verifies traffic on blue before any further poll", () => {
    const rollback = result.rollback!;
    process.stdout.write(
      `demo fault: detection ${rollback.detectionMs} ms, onset → verified on blue ${rollback.timeToRollbackMs} ms (poll ${result.pollMs} ms)\n`,
    );
    expect(rollback.faultOnsetAt).not.toBeNull();
    expect(rollback.breachObservedAt!).toBeGreaterThanOrEqual(rollback.faultOnsetAt!);
    // Event order and poll counts, not wall time: up to the breach, no more polls whose whole window
    // lay after the onset than the judge's rules need at the traffic the fault met — two when the
    // ceiling can see it, three (the e-value's minimum) when a busy machine sent green too few
    // requests for it — plus the one that straddled the onset, which may hold a sliver of the fault;
    // the first failing one is the breach or right before it.
    expect(rollback.pollsSeeingFault, "polls that saw the fault before the rollback").not.toBeNull();
    expect(rollback.pollsSeeingFault!).toBeGreaterThanOrEqual(1);
    expect([2, 3]).toContain(rollback.pollsTheRulesNeed);
    expect(rollback.pollsWhollyAfterOnset!).toBeLessThanOrEqual(rollback.pollsTheRulesNeed!);
    expect(rollback.pollsSeeingFault! - rollback.pollsWhollyAfterOnset!).toBeLessThanOrEqual(1);
    expect(rollback.firstFailingPoll).not.toBeNull();
    expect(rollback.pollsSeeingFault! - rollback.firstFailingPoll!).toBeLessThanOrEqual(2);
    expect(rollback.verifiedOnBlueAt).not.toBeNull();
    expect(rollback.pollsDuringRollback, "gate polls between the breach and traffic verified on blue").toBe(0);
  });

  it("sends 100% of requests to blue afterwards", () => {
    const after = result.rollback!.afterRollback;
    expect(after.green).toBe(0);
    expect(after.blue).toBeGreaterThan(100);
    const last = result.steps.at(-1)!;
    expect(last.configured).toEqual({ blue: 100, green: 0 });
    expect(last.routed.green).toBe(0);
  });

  it("fails only the injected fault's requests and loses no acknowledged write", () => {
    expect(result.unexpectedFailures).toBe(0);
    expect(result.load.failed).toBeGreaterThan(0);
    expect(result.dataCheck.missing).toEqual([]);
    expect(result.dataCheck.present).toBe(result.dataCheck.acknowledged);
  });

  it("leaves no process, port or data directory behind", async () => {
    await expectAllReleased(id, resources);
  });
});

describe("clean-up after a forced failure mid-run", () => {
  it("stops every process and removes every directory when the run fails during the cutover", async () => {
    const id = runId("abort");
    const resources: DemoResource[] = [];
    await expect(
      runDemo({ runId: id, timings: "ci", reportsDir, printer: silentPrinter, faultPlan: failMidCutover, onResource: (r) => resources.push(r) }),
    ).rejects.toBeInstanceOf(DemoAbortedError);
    await expectAllReleased(id, resources);
  }, 240_000);

  it("does the same when start-up fails", async () => {
    const id = runId("start");
    const resources: DemoResource[] = [];
    await expect(runDemo({ runId: id, reportsDir, printer: silentPrinter, faultPlan: failAfterStart, onResource: (r) => resources.push(r) })).rejects.toThrow(
      /forced failure/,
    );
    await expectAllReleased(id, resources);
  }, 240_000);
});
