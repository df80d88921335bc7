// End-to-end: the demo with a realistic service (both colors fail a background share of
// requests, as real services do) and the faults — a relative error-rate regression
// on green (ten times the background) and green's process killed mid-cutover (the router answers
// 502 for it and counts them against green). Asserted on outcomes, event order and counts.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemo, silentPrinter, summaryLines, type DemoResult } from "../../scripts/demo/demo.js";
import { expectRunGone } from "./leftovers.js";

let reportsDir: string;
beforeAll(async () => {
  reportsDir = await mkdtemp(join(tmpdir(), "bluegreen-e2e-faults-reports-"));
});
afterAll(async () => {
  await rm(reportsDir, { recursive: true, force: true });
});

const runId = (name: string) => `e2efaults${name}${process.pid}${Math.random().toString(36).slice(2, 7)}`;
const BACKGROUND = 0.005;
const print = (title: string, result: DemoResult) => process.stdout.write(`\n${title}\n${summaryLines(result).join("\n")}\n`);

describe("npm run demo -- --background-error-rate 0.005", () => {
  const id = runId("background");
  let result: DemoResult;
  beforeAll(async () => {
    result = await runDemo({ runId: id, timings: "ci", backgroundErrorRate: BACKGROUND, reportsDir, printer: silentPrinter });
    print("background 0.5%", result);
  }, 300_000);

  it("completes the cutover without a rollback: the background rate is the normal, not a regression", () => {
    expect(result.outcome, result.reason ?? "").toBe("succeeded");
    expect(result.rollback).toBeNull();
    expect(result.asExpected).toBe(true);
    expect(result.steps.map((step) => step.configured.green)).toEqual([0, 5, 25, 100]);
  });

  it("counts the background errors as injected on both colors, and nothing else failed", () => {
    expect(result.backgroundErrorRate).toBe(BACKGROUND);
    expect(result.injectedFailures).toBeGreaterThan(0);
    expect(result.injectedFailures).toBe(result.load.failed);
    expect(result.unexpectedFailures).toBe(0);
    const errors = result.steps.reduce((sum, step) => ({ blue: sum.blue + step.errors5xx.blue, green: sum.green + step.errors5xx.green }), {
      blue: 0,
      green: 0,
    });
    expect(errors.blue).toBeGreaterThan(0);
    expect(errors.green).toBeGreaterThan(0);
    expect(result.dataCheck.missing).toEqual([]);
  });

  it("leaves nothing behind", async () => {
    await expectRunGone(id);
  });
});

describe("npm run demo -- --background-error-rate 0.005 --fault error-rate=10x", () => {
  const id = runId("relative");
  let result: DemoResult;
  beforeAll(async () => {
    result = await runDemo({
      runId: id,
      timings: "ci",
      backgroundErrorRate: BACKGROUND,
      fault: { errorRate: 0, latencyMs: 0, errorRateFactor: 10 },
      faultAfterMs: 300,
      reportsDir,
      printer: silentPrinter,
    });
    print("background 0.5%, green ×10", result);
  }, 300_000);

  it("makes the relative fault absolute (ten times the background) and rolls back at the 5% step", () => {
    expect(result.fault!.errorRate).toBeCloseTo(10 * BACKGROUND, 10);
    expect(result.outcome, result.reason ?? "").toBe("rolled-back");
    expect(result.asExpected).toBe(true);
    expect(result.steps.map((step) => step.configured.green)).toEqual([0, 5, 0]);
    expect(result.rollback!.afterRollback.green).toBe(0);
    expect(result.rollback!.pollsDuringRollback).toBe(0);
    expect(result.unexpectedFailures).toBe(0);
  });

  it("leaves nothing behind", async () => {
    await expectRunGone(id);
  });
});

describe("npm run demo -- --fault crash", () => {
  const id = runId("crash");
  let result: DemoResult;
  beforeAll(async () => {
    result = await runDemo({
      runId: id,
      timings: "ci",
      fault: { errorRate: 0, latencyMs: 0, crash: true },
      // At 25% green takes ~75 requests a second: the router's 502s for it are plain to see.
      faultAtStep: 1,
      faultAfterMs: 500,
      reportsDir,
      printer: silentPrinter,
    });
    print("green crashes at 25%", result);
  }, 300_000);

  it("rolls back on its own once green's process is gone", () => {
    expect(result.outcome, result.reason ?? "").toBe("rolled-back");
    expect(result.asExpected).toBe(true);
    expect(result.rollback!.faultOnsetAt).not.toBeNull();
    expect(result.rollback!.breachObservedAt!).toBeGreaterThanOrEqual(result.rollback!.faultOnsetAt!);
    // Caught at the next poll, by whichever check sees it first: green's health check, or its 502s.
    expect(result.rollback!.pollsWhollyAfterOnset!).toBeLessThanOrEqual(2);
    expect(result.rollback!.pollsSeeingFault! - result.rollback!.pollsWhollyAfterOnset!).toBeLessThanOrEqual(1);
    expect(result.reason).toMatch(/unhealthy|5xx|ceiling|alarm/);
    expect(result.rollback!.afterRollback.green).toBe(0);
    expect(result.rollback!.afterRollback.blue).toBeGreaterThan(100);
  });

  it("answers green's share with the router's 502 (counted against green) until the rollback, and fails nothing else", () => {
    const atQuarter = result.steps.find((step) => step.configured.green === 25)!;
    expect(atQuarter.errors5xx.green).toBeGreaterThan(0);
    expect(atQuarter.errors5xx.blue).toBe(0);
    expect(result.load.failures.some((failure) => failure.status === 502 && failure.unreachable === "green")).toBe(true);
    expect(result.injectedFailures).toBeGreaterThan(0);
    expect(result.unexpectedFailures).toBe(0);
    expect(result.dataCheck.missing).toEqual([]);
  });

  it("leaves nothing behind", async () => {
    await expectRunGone(id);
  });
});
