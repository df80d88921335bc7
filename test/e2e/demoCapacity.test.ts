// End-to-end: capacity in the sandbox through runDemo() — each color's app processes
// behind the router are its instances, health reflects each of them. Blue 2 / green 1: with
// capacity check the cutover stops before green takes 100% (rolled back, traffic verified on
// blue); with capacity match green is first scaled to 2 processes and the cutover succeeds.
// Asserted on event order and results, never on wall time.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineEvent } from "../../scripts/core/events.js";
import { runDemo, type DemoResult } from "../../scripts/demo/demo.js";
import { expectRunGone } from "./leftovers.js";

let reportsDir: string;
beforeAll(async () => {
  reportsDir = await mkdtemp(join(tmpdir(), "bluegreen-e2e-capacity-"));
});
afterAll(async () => {
  await rm(reportsDir, { recursive: true, force: true });
});

async function demo(name: string, capacityMode: "check" | "match"): Promise<{ id: string; result: DemoResult; events: EngineEvent[] }> {
  const id = `e2ecap${name}${process.pid}${Math.random().toString(36).slice(2, 7)}`;
  const events: EngineEvent[] = [];
  const result = await runDemo({
    runId: id,
    timings: "ci",
    ratePerSecond: 300,
    reportsDir,
    instances: { blue: 2, green: 1 },
    capacityMode,
    printer: { event: (event) => event.type !== "tick" && events.push(event), line: () => undefined, close: () => undefined },
  });
  return { id, result, events };
}

describe("sandbox capacity: blue 2 app processes, green 1", () => {
  it("check: green carries 5% and 25%, and is stopped before 100%; traffic back on blue", async () => {
    const { id, result, events } = await demo("check", "check");
    expect(result.outcome, result.reason ?? "").toBe("rolled-back");
    expect(result.asExpected).toBe(true);
    expect(result.reason).toContain("capacity before step 3: green has 1 healthy target(s); 100% of blue's 2 in service (instances) needs ≥ 2");
    const preflight = events.find((e) => e.type === "preflight-check" && e.check === "capacity");
    expect(preflight).toMatchObject({ ok: true });
    const written = events.filter((e) => e.type === "weights-written").map((e) => (e as { weights: { green: number } }).weights.green);
    expect(written).toEqual([5, 25, 0]); // 100% was never written
    const health = events.find((e) => e.type === "preflight-check" && e.check === "blue-health") as { detail: string };
    expect(health.detail).toMatch(/^2 healthy, 0 unhealthy of 2/);
    expect(result.rollback!.afterRollback.green).toBe(0);
    expect(result.dataCheck.missing).toEqual([]);
    await expectRunGone(id);
  }, 120_000);

  it("match: green is scaled to 2 processes and its new target waited on before the first shift; then it succeeds", async () => {
    const { id, result, events } = await demo("match", "match");
    expect(result.outcome, result.reason ?? "").toBe("succeeded");
    expect(result.asExpected).toBe(true);
    const scale = events.findIndex((e) => e.type === "decision" && e.decision === "scale");
    const check = events.findIndex((e) => e.type === "preflight-check" && e.check === "capacity");
    const firstWrite = events.findIndex((e) => e.type === "weights-written");
    expect(scale).toBeGreaterThanOrEqual(0);
    expect(check).toBeGreaterThan(scale);
    expect(firstWrite).toBeGreaterThan(check);
    expect((events[scale] as { reason: string }).reason).toContain("green's desired capacity 1 → 2");
    expect((events[check] as { ok: boolean; detail: string }).detail).toMatch(/^scaled green to 2, healthy after/);
    const greenHealth = events.find((e) => e.type === "preflight-check" && e.check === "green-health") as { detail: string };
    expect(greenHealth.detail).toMatch(/^2 healthy, 0 unhealthy of 2/);
    expect(result.weightsRecorded).toEqual({ blue: 0, green: 100 });
    await expectRunGone(id);
  }, 120_000);
});
