// End-to-end: `npm run demo -- --orchestrated` through runDemo() — real PostgreSQL, the sample app
// twice, the local router, real load, and the sandbox's stand-in for Step Functions: the local ASL
// runner executing the generated rollout machine, each Advance a fresh engine that runs one poll
// and returns. Asserted on outcomes, counts and event order (engine events outside invocations,
// the lock at every Wait), never on wall time.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineEvent } from "../../scripts/core/events.js";
import { runDemo, type DemoResource, type DemoResult } from "../../scripts/demo/demo.js";
import type { DemoExecution } from "../../scripts/demo/types.js";
import { expectRunGone } from "./leftovers.js";

/**
 * What docs/orchestrated.md says a rollout costs: 3 transitions per poll or pause (Advance, Route,
 * then Wait or AwaitApproval), 3 for the end (Advance, Route, the end state); one invocation per
 * Advance and one per approval registration.
 */
const withinClaims = (run: DemoExecution, approvals: number) => {
  expect(run.transitions).toBe(3 * (run.waits.length + approvals) + 3);
  expect(run.invocations).toBe(run.waits.length + 2 * approvals + 1);
};

describe("npm run demo -- --orchestrated: the rollout on the state machine, no process of ours between invocations", () => {
  const id = `e2eorch${process.pid}${Math.random().toString(36).slice(2, 7)}`;
  const resources: DemoResource[] = [];
  const events: EngineEvent[] = [];
  const lines: string[] = [];
  let reportsDir: string;
  let result: DemoResult;

  beforeAll(async () => {
    reportsDir = await mkdtemp(join(tmpdir(), "bluegreen-e2e-orchestrated-"));
    result = await runDemo({
      runId: id,
      orchestrated: true,
      timings: "ci",
      ratePerSecond: 300,
      reportsDir,
      printer: { event: (event) => event.type !== "tick" && events.push(event), line: (text) => lines.push(text), close: () => undefined },
      onResource: (r) => resources.push(r),
    });
  }, 420_000);
  afterAll(async () => {
    await rm(reportsDir, { recursive: true, force: true });
  });

  it("the first run pauses on a Wait at 5% and on its approval at 25%, and a promote releases it", () => {
    const run = result.orchestrated!.promoted;
    expect(run).toMatchObject({ status: "SUCCEEDED", journalPhase: "succeeded", error: null });
    // The timed pause was released by the machine's own run (its Wait), the approval by the operator.
    expect(run.promotedBy).toEqual([`stepfunctions:demo/${id}-a`, expect.stringMatching(/ pid \d+ \(demo\)$/)]);
    // Its Wait held what was left of the 3 s pause when the Advance that paused returned.
    expect(run.waits.some((seconds) => seconds >= 1 && seconds <= 3)).toBe(true);
    expect(lines.some((line) => /promote: approval for step 2 sent by /.test(line))).toBe(true);
    withinClaims(run, 1);
  });

  it("the second run is rolled back by the guard during its Wait; the next Advance ends the execution", () => {
    const run = result.orchestrated!.guarded;
    expect(run).toMatchObject({ status: "FAILED", error: "RolloutRolledBack", journalPhase: "rolled-back" });
    expect(run.waits.some((seconds) => seconds >= 10)).toBe(true);
    expect(result.orchestrated!.guard).toMatch(/^rolled back/);
    // The guard's rollback came after the fault, which came after the wait began.
    const injected = lines.findIndex((line) => /fault injected on green now/.test(line));
    const guardLine = lines.findIndex((line) => /the guard \(pid \d+\) rolled back/.test(line));
    expect(injected).toBeGreaterThan(0);
    expect(guardLine).toBeGreaterThan(injected);
    withinClaims(run, 0);
  });

  it("nothing of ours ran between invocations: no engine event outside one, the lock free at every Wait", () => {
    expect(result.orchestrated!.engineEventsBetweenInvocations).toBe(0);
    expect(result.orchestrated!.promoted.waitsWithLockHeld + result.orchestrated!.guarded.waitsWithLockHeld).toBe(0);
    expect(lines.some((line) => /state transitions, \d+ invocations/.test(line))).toBe(true);
  });

  it("ends as expected, every acknowledged write in the database, and leaves nothing behind", async () => {
    expect(result.dataCheck.missing).toEqual([]);
    expect(result.asExpected).toBe(true);
    expect(result.exitCode).toBe(0);
    await expectRunGone(id);
  });
});
