// End-to-end: the statistical judge in the sandbox, through runDemo() — real PostgreSQL,
// the sample app twice, the local router's counters, real HTTP load, the production engine.
// A background error rate on both colors is normal and must not roll back; ten times that rate on
// green is caught at the 5% step; a crashed green (router 502s) is caught too. No wall-time
// assertions: outcomes, steps, counts and the judge's own evidence.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineEvent } from "../../scripts/core/events.js";
import type { Plan } from "../../scripts/core/plan.js";
import { describeTimeToDecision } from "../../scripts/core/trafficPlan.js";
import { runDemo, silentPrinter, type DemoPrinter, type DemoResource, type DemoResult } from "../../scripts/demo/demo.js";
import { expectRunGone } from "./leftovers.js";

let reportsDir: string;
beforeAll(async () => {
  reportsDir = await mkdtemp(join(tmpdir(), "bluegreen-e2e-judge-"));
});
afterAll(async () => {
  await rm(reportsDir, { recursive: true, force: true });
});

const runId = (name: string) => `e2e${name}${process.pid}${Math.random().toString(36).slice(2, 7)}`;
const RATE = 300;

/** A printer that keeps the engine's events (the demo prints nothing). */
function recorder(): DemoPrinter & { events: EngineEvent[] } {
  const events: EngineEvent[] = [];
  return { ...silentPrinter, events, event: (event) => void (event.type !== "tick" && events.push(event)) };
}

const judgeReadings = (events: EngineEvent[]) => events.filter((e): e is Extract<EngineEvent, { type: "judge-reading" }> => e.type === "judge-reading");

describe("npm run demo -- --background-error-rate 0.005", () => {
  const id = runId("judgebg");
  const printer = recorder();
  const resources: DemoResource[] = [];
  let result: DemoResult;

  beforeAll(async () => {
    result = await runDemo({ runId: id, backgroundErrorRate: 0.005, ratePerSecond: RATE, reportsDir, printer, onResource: (r) => resources.push(r) });
  }, 240_000);
  afterAll(async () => {
    await expectRunGone(id);
  });

  it("completes without a rollback: both colors fail 0.5% of requests and the judge promotes every step", () => {
    expect(result.outcome, result.reason ?? "").toBe("succeeded");
    expect(result.asExpected).toBe(true);
    expect(result.steps.map((step) => step.configured.green)).toEqual([0, 5, 25, 100]);
    expect(result.injectedFailures).toBeGreaterThan(0);
    const proceeds = printer.events.filter((e) => e.type === "decision" && e.decision === "proceed" && e.evidence);
    expect(proceeds).toHaveLength(3);
  });

  it("judged green against blue over the same windows, with errors on both sides", () => {
    const step1 = judgeReadings(printer.events).filter((r) => r.step === 0);
    expect(step1.length).toBeGreaterThan(0);
    const last = step1.at(-1)!.verdict.evidence.errors;
    expect(last.comparison).toBe("concurrent");
    expect(last.blueCount).toBeGreaterThan(0);
    expect(last.greenRequests).toBeGreaterThan(0);
    expect(last.statistic).toBeLessThan(last.boundary);
  });

  it("its plan says the demo's traffic can decide every step", () => {
    const plan = printer.events.find((e): e is Extract<EngineEvent, { type: "plan" }> => e.type === "plan")!.plan as Plan;
    const lines = describeTimeToDecision(plan, { minutes: 1, requests: RATE * 60, errors: RATE * 60 * 0.005 });
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.join("\n")).not.toMatch(/WARNING/);
  });
});

describe("npm run demo -- --background-error-rate 0.005 --fault error-rate=10x", () => {
  const id = runId("judge10x");
  const printer = recorder();
  let result: DemoResult;

  beforeAll(async () => {
    result = await runDemo({
      runId: id,
      backgroundErrorRate: 0.005,
      fault: { errorRate: 0, latencyMs: 0, errorRateFactor: 10 },
      ratePerSecond: RATE,
      reportsDir,
      printer,
    });
  }, 240_000);
  afterAll(async () => {
    await expectRunGone(id);
  });

  it("rolls back at the 5% step: green never gets 25%", () => {
    expect(result.outcome, result.reason ?? "").toBe("rolled-back");
    expect(result.asExpected).toBe(true);
    expect(result.reason).toMatch(/at step 1/);
    expect(result.steps.map((step) => step.configured.green)).not.toContain(25);
    expect(result.weightsRecorded).toEqual({ blue: 100, green: 0 });
  });

  it("the decision is the judge's: green's error share shown worse than blue's beyond the boundary", () => {
    const failing = judgeReadings(printer.events).find((r) => r.verdict.decision === "fail")!;
    expect(failing, "a failing judge reading").toBeDefined();
    expect(failing.step).toBe(0);
    const errors = failing.verdict.evidence.errors;
    expect(errors.status).toBe("regression");
    expect(errors.statistic).toBeGreaterThanOrEqual(errors.boundary);
    expect(errors.greenCount / errors.greenRequests).toBeGreaterThan(errors.blueCount / errors.blueRequests);
  });
});

describe("npm run demo -- --fault crash", () => {
  const id = runId("judgecrash");
  const printer = recorder();
  let result: DemoResult;

  beforeAll(async () => {
    result = await runDemo({ runId: id, fault: { errorRate: 0, latencyMs: 0, crash: true }, ratePerSecond: RATE, reportsDir, printer });
  }, 240_000);
  afterAll(async () => {
    await expectRunGone(id);
  });

  it("rolls back: green's process is gone, seen as an unhealthy target, the exited-process alarm or the router's 502s, whichever comes first", () => {
    expect(result.outcome, result.reason ?? "").toBe("rolled-back");
    expect(result.asExpected).toBe(true);
    expect(result.reason).toMatch(/at step 1/);
    expect(result.reason).toMatch(/unhealthy target|sandbox-green-process-exited|5xx/);
    expect(result.weightsRecorded).toEqual({ blue: 100, green: 0 });
    // The router's 502s for green are the crash's (injected); none other. There may be none at all:
    // the health probe or the alarm can see the dead process before a request reaches it.
    expect(result.unexpectedFailures).toBe(0);
  });
});
