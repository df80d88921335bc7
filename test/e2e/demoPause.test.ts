// End-to-end: `npm run demo -- --pause` through runDemo() — real PostgreSQL, the
// sample app twice, the local router, real load. The cutover, its own process, pauses at 25% and
// exits; only then a fault starts on green, and the guard — its own process, over the router's
// control API and the run directory — rolls back with no cutover and no operator. Asserted on
// event order, pids and the journal, never on wall time.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineEvent } from "../../scripts/core/events.js";
import { runDemo, type DemoResource, type DemoResult } from "../../scripts/demo/demo.js";
import { expectRunGone } from "./leftovers.js";

describe("npm run demo -- --pause: the guard rolls back a paused rollout", () => {
  const id = `e2epause${process.pid}${Math.random().toString(36).slice(2, 7)}`;
  const resources: DemoResource[] = [];
  const events: EngineEvent[] = [];
  const lines: string[] = [];
  let reportsDir: string;
  let result: DemoResult;

  beforeAll(async () => {
    reportsDir = await mkdtemp(join(tmpdir(), "bluegreen-e2e-pause-"));
    result = await runDemo({
      runId: id,
      pause: true,
      timings: "ci",
      ratePerSecond: 300,
      reportsDir,
      printer: { event: (event) => event.type !== "tick" && events.push(event), line: (text) => lines.push(text), close: () => undefined },
      onResource: (r) => resources.push(r),
    });
  }, 120_000);
  afterAll(async () => {
    await rm(reportsDir, { recursive: true, force: true });
  });

  it("the cutover is its own process: it pauses at 25% and exits 0 before the fault starts", () => {
    const paused = events.findIndex((e) => e.type === "decision" && e.decision === "pause");
    expect(paused).toBeGreaterThan(0);
    expect(events[paused]).toMatchObject({ step: 1 });
    const writesBefore = events
      .slice(0, paused)
      .filter((e) => e.type === "weights-written")
      .map((e) => (e as { weights: { green: number } }).weights.green);
    expect(writesBefore).toEqual([5, 25]);
    const cutover = resources.find((r) => r.kind === "pid" && r.label === "cutover") as { pid: number } | undefined;
    expect(cutover).toBeDefined();
    expect(cutover!.pid).not.toBe(process.pid);
    // Its lock carries its own pid, not this process's.
    expect(
      events.some(
        (e) =>
          e.type === "lock" &&
          e.action === "acquired" &&
          e.holder !== null &&
          e.detail === `cutover by ${e.holder.owner}` &&
          e.holder.owner.endsWith(`pid ${cutover!.pid} (demo cutover)`),
      ),
    ).toBe(true);
    const exited = lines.findIndex((line) => line.startsWith(`>>> the cutover process (pid ${cutover!.pid}) exited 0: paused at 25%`));
    const fault = lines.findIndex((line) => line.startsWith(">>> fault injected on green now"));
    expect(exited).toBeGreaterThanOrEqual(0);
    expect(fault).toBeGreaterThan(exited);
    expect(() => process.kill(cutover!.pid, 0)).toThrow(); // gone
  });

  it("the guard sees green breach, rolls back with no operator process, and the journal says so", () => {
    expect(result.outcome, result.reason ?? "").toBe("rolled-back");
    expect(result.asExpected).toBe(true);
    expect(result.exitCode).toBe(0);
    // The guard is its own OS process, started before the cutover: not the demo's (this test's) process.
    const guardPid = resources.find((r) => r.kind === "pid" && r.label === "guard");
    expect(guardPid).toBeDefined();
    const pid = (guardPid as { pid: number }).pid;
    expect(pid).not.toBe(process.pid);
    const announced = lines.findIndex((line) => line.startsWith(`>>> the guard runs in its own process (pid ${pid})`));
    expect(announced).toBeGreaterThanOrEqual(0);
    expect(announced).toBeLessThan(lines.findIndex((line) => line.startsWith(">>> the cutover process (pid ")));
    const breaches = lines.filter((line) => line.startsWith(`[guard pid ${pid}] green `) && line.includes("BREACH"));
    expect(breaches.length).toBeGreaterThanOrEqual(2);
    const lock = events.find((e) => e.type === "lock" && e.action === "acquired" && e.detail.includes(`rollback by guard (sandbox guard pid ${pid})`));
    expect(lock).toBeDefined();
    const started = events.find((e) => e.type === "rollback-started")!;
    expect(started).toMatchObject({ fromPhase: "paused", step: 1 });
    expect((started as { reason: string }).reason).toMatch(/^guard: sandbox-green-target-5xx-rate in ALARM/);
    expect(events.some((e) => e.type === "rollback-complete" && e.ok)).toBe(true);
    expect(result.rollback!.afterRollback.green).toBe(0);
    expect(result.weightsRecorded).toEqual({ blue: 100, green: 0 });
    expect(lines.some((line) => line.endsWith(`phase rolled-back; last operator guard (sandbox guard pid ${pid})`) && line.startsWith("status: run "))).toBe(
      true,
    );
    expect(lines.some((line) => /^status: paused at step 2 since /.test(line))).toBe(true);
  });

  it("loses no acknowledged write and leaves nothing behind", async () => {
    expect(result.dataCheck.missing).toEqual([]);
    expect(result.unexpectedFailures).toBe(0);
    await expectRunGone(id);
    expect(resources.some((r) => r.kind === "pid")).toBe(true);
  });
});
