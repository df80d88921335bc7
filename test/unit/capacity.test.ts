// Capacity: the rule (pure, property-tested), and the engine's preflight / step checks, mode
// "match" scaling green first, and a rollback that scales a scaled-down blue back first — over
// the fake fleet (Auto Scaling groups + target health on the virtual clock).

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { parseStackConfig, type RolloutConfig } from "../../infra/config.js";
import { judgeCapacity, matchGreenToBlue, requiredGreenTargets } from "../../scripts/core/capacity.js";
import { runCutover, runRollback, type CutoverRequest } from "../../scripts/core/engine.js";
import { parseJournal } from "../../scripts/core/journal.js";
import { buildPlan, describePlan } from "../../scripts/core/plan.js";
import { FakeFleet } from "../support/fakeCapacity.js";
import { FakeWorld, testRollout } from "../support/fakes.js";

const OWNER = "alice@ops-1 pid 4242";
const capacity = (overrides: Partial<RolloutConfig["capacity"]> = {}) => ({
  capacity: { mode: "check" as const, headroom: 0, scaleTimeoutSeconds: 900, scaleDownBlue: false, ...overrides },
  blueKeepSeconds: 3600,
});

function request(overrides: Partial<RolloutConfig> = {}): CutoverRequest {
  return {
    rollout: testRollout({ gates: { ...testRollout().gates, minHealthyTargets: 1 }, ...overrides }),
    databaseMode: "shared",
    owner: OWNER,
    stack: "prod",
  };
}

describe("the rule", () => {
  test("ceil(blue in service × share × (1 + headroom)), never below minHealthyTargets", () => {
    expect(requiredGreenTargets(4, 5, 0)).toBe(1);
    expect(requiredGreenTargets(4, 25, 0)).toBe(1);
    expect(requiredGreenTargets(4, 26, 0)).toBe(2);
    expect(requiredGreenTargets(4, 100, 0)).toBe(4);
    expect(requiredGreenTargets(4, 100, 0.25)).toBe(5);
    expect(requiredGreenTargets(10, 30, 0)).toBe(3); // 10 × 0.3 is 3.0000000000000004 in floating point
    expect(requiredGreenTargets(0, 100, 0, 2)).toBe(2);
  });

  test("property: the required count carries the share, and one target less would not", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 100 }), (blue, percent, headroomPct) => {
        const headroom = headroomPct / 100;
        const required = requiredGreenTargets(blue, percent, headroom, 1);
        const load = (blue * percent * (1 + headroom)) / 100;
        expect(required).toBeGreaterThanOrEqual(1);
        expect(required + 1e-9).toBeGreaterThanOrEqual(load);
        if (required > 1) expect(required - 1).toBeLessThan(load - 1e-9);
      }),
    );
  });

  test("the verdict names the numbers and what to do", () => {
    const verdict = judgeCapacity({
      blueInService: 4,
      blueSource: "Auto Scaling group",
      green: { healthy: 1, unhealthy: 0, total: 1 },
      greenPercent: 100,
      headroom: 0,
      minHealthyTargets: 1,
    });
    expect(verdict).toMatchObject({ ok: false, required: 4 });
    expect(verdict.detail).toContain("green has 1 healthy target(s); 100% of blue's 4 in service");
    expect(verdict.detail).toContain("rollout.capacity.mode: match");
  });

  test("match: raise green to blue's desired, never above green's max, never lower it", () => {
    const group = (desired: number, max = 10) => ({ inService: desired, desired, min: 1, max });
    expect(matchGreenToBlue(group(4), group(1))).toMatchObject({ action: "scale", to: 4 });
    expect(matchGreenToBlue(group(4), group(6))).toMatchObject({ action: "none" });
    expect(matchGreenToBlue(group(8), group(1, 4))).toMatchObject({ action: "refuse" });
    expect(matchGreenToBlue(group(8), group(1, 4)).detail).toContain("app.green.maxSize");
  });

  test("config: defaults, and the schema names the path and rule", () => {
    const base = {
      region: "eu-west-1",
      network: { mode: "create", availabilityZones: ["eu-west-1a", "eu-west-1b"] },
      app: { blue: { amiId: "ami-0abc12345def67890", userData: "x" }, green: { amiId: "ami-0abc12345def67890", userData: "x" } },
      database: { mode: "shared" },
      traffic: { weights: { blue: 100, green: 0 } },
    };
    const config = parseStackConfig(base);
    expect(config.rollout.capacity).toEqual({ mode: "check", headroom: 0, scaleTimeoutSeconds: 900, scaleDownBlue: false });
    expect(config.rollout.blueKeepSeconds).toBe(3600);
    expect(() => parseStackConfig({ ...base, rollout: { capacity: { mode: "grow" } } })).toThrow(/rollout\.capacity\.mode: must be "check"/);
    expect(() => parseStackConfig({ ...base, rollout: { capacity: { headroom: -1 } } })).toThrow(/rollout\.capacity\.headroom: must be at least 0/);
  });

  test("the plan says what preflight checks, and what a rollback after a blue scale-down adds", () => {
    const rollout = testRollout(capacity({ mode: "match", headroom: 0.2, scaleDownBlue: true }));
    const plan = buildPlan(rollout, { databaseMode: "shared" });
    expect(plan.capacity).toMatchObject({ mode: "match", headroom: 0.2, scaleTimeoutMs: 900_000, blueKeepMs: 3_600_000 });
    const text = describePlan(plan, []).join("\n");
    expect(text).toContain("capacity match: green's Auto Scaling group raised to blue's desired capacity");
    expect(text).toContain("healthy green targets ≥ ceil(blue's in-service capacity × 5% × (1 + 0.2))");
    expect(text).toContain("A rollback after that first scales blue back and waits for healthy targets: up to 15m more");
  });
});

describe("the engine", () => {
  test("check: preflight refuses a green too small for its first share; nothing moves", async () => {
    const world = new FakeWorld();
    const fleet = new FakeFleet(world.clock, { blue: { desired: 40 }, green: { desired: 1 } });
    const result = await runCutover(world.deps({ health: fleet, capacity: fleet }), request(capacity()));
    expect(result.outcome).toBe("preflight-failed");
    expect(result.reason).toContain("capacity: green has 1 healthy target(s); 5% of blue's 40 in service (instances) needs ≥ 2");
    expect(world.router.writes).toHaveLength(0);
    expect(fleet.setDesiredCalls).toHaveLength(0);
  });

  test("check: a green that loses targets between steps is rolled back before the next share is written", async () => {
    const world = new FakeWorld();
    const fleet = new FakeFleet(world.clock, { blue: { desired: 8 }, green: { desired: 8 } });
    const deps = world.deps({ health: fleet, capacity: fleet });
    // Seven green instances go missing during step 1's bake (terminated, not yet replaced).
    world.router.onWrite = (weights) => {
      if (weights.green === 5) void fleet.setDesired("green", 1);
    };
    const result = await runCutover(deps, request(capacity()));
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toContain("capacity before step 2: green has 1 healthy target(s); 25% of blue's 8 in service (instances) needs ≥ 2");
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([5, 0]);
  });

  test("match: green is scaled to blue's desired before the first shift and the new targets are waited on", async () => {
    const world = new FakeWorld();
    const fleet = new FakeFleet(world.clock, { blue: { desired: 6 }, green: { desired: 1 } });
    const result = await runCutover(world.deps({ health: fleet, capacity: fleet }), request(capacity({ mode: "match" })));
    expect(result.outcome).toBe("succeeded");
    expect(fleet.setDesiredCalls).toEqual([{ color: "green", desired: 6, at: expect.any(Number) }]);
    const journal = parseJournal(world.journal.value) as ReturnType<typeof parseJournal> & { capacity?: { greenScaled: { from: number; to: number } } };
    expect(journal.capacity?.greenScaled).toMatchObject({ from: 1, to: 6 });
    // The first weight was written only after the new targets were healthy (launch + health check).
    const scaledAt = fleet.setDesiredCalls[0]!.at;
    const firstWrite = journal.timeline.find((e) => e.type === "weights-written")!;
    expect(firstWrite.at - scaledAt).toBeGreaterThanOrEqual(fleet.launchMs + fleet.healthCheckMs);
    const check = journal.timeline.find((e) => e.type === "preflight-check" && e.check === "capacity");
    expect(check).toMatchObject({ ok: true });
    expect((check as { detail: string }).detail).toContain("scaled green to 6, healthy after 2m");
  });

  test("match: new instances that never turn healthy refuse the cutover after scaleTimeoutSeconds", async () => {
    const world = new FakeWorld();
    const fleet = new FakeFleet(world.clock, { blue: { desired: 4 }, green: { desired: 1 } });
    fleet.brokenLaunches.green = 3;
    const started = world.clock.now();
    const result = await runCutover(world.deps({ health: fleet, capacity: fleet }), request(capacity({ mode: "match", scaleTimeoutSeconds: 300 })));
    expect(result.outcome).toBe("preflight-failed");
    expect(result.reason).toContain("only 1 healthy after 5m");
    expect(world.router.writes).toHaveLength(0);
    expect(world.clock.now() - started).toBeLessThan(10 * 60_000); // bounded: no snapshot, no bake
  });

  test("match: green's max below blue's desired is refused with the key to change", async () => {
    const world = new FakeWorld();
    const fleet = new FakeFleet(world.clock, { blue: { desired: 8 }, green: { desired: 2, max: 4 } });
    const result = await runCutover(world.deps({ health: fleet, capacity: fleet }), request(capacity({ mode: "match" })));
    expect(result.outcome).toBe("preflight-failed");
    expect(result.reason).toContain("raise app.green.maxSize");
    expect(fleet.setDesiredCalls).toHaveLength(0);
  });

  test("without a capacity port, blue's healthy targets stand for its capacity", async () => {
    const world = new FakeWorld();
    world.health.set("blue", { healthy: 8, total: 8 });
    world.health.set("green", { healthy: 2, total: 2 });
    const result = await runCutover(world.deps(), request(capacity()));
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toContain("capacity before step 3: green has 2 healthy target(s); 100% of blue's 8 in service (healthy targets) needs ≥ 8");
  });

  test("rollback after blue was scaled down: blue is scaled back and its targets waited on before the flip", async () => {
    const world = new FakeWorld();
    const fleet = new FakeFleet(world.clock, { blue: { desired: 4, min: 1 }, green: { desired: 4 } });
    const deps = world.deps({ health: fleet, capacity: fleet });
    expect((await runCutover(deps, request(capacity({ scaleDownBlue: true })))).outcome).toBe("succeeded");
    // What `promote --scale-down-blue` leaves behind (tested in pause.test.ts): blue at its minimum.
    await fleet.setDesired("blue", 1);
    const stored = world.journal.value as Record<string, unknown>;
    stored.capacity = { greenScaled: null, blueScaledDown: { from: 4, to: 1, at: world.clock.now() }, blueRestored: null };
    await world.journal.save(stored);

    const result = await runRollback(deps, { owner: "bob@ops-2 pid 7", databaseMode: "shared", reason: "green regressed" });
    expect(result.outcome).toBe("rolled-back");
    expect(fleet.setDesiredCalls.at(-1)).toMatchObject({ color: "blue", desired: 4 });
    const flip = result.journal.timeline.filter((e) => e.type === "weights-written").at(-1)!;
    expect(flip.at - fleet.setDesiredCalls.at(-1)!.at).toBeGreaterThanOrEqual(fleet.launchMs + fleet.healthCheckMs);
    expect((result.journal as typeof result.journal & { capacity: { blueRestored: unknown } }).capacity.blueRestored).toMatchObject({ to: 4 });
  });
});
