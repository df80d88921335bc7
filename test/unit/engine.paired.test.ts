// Paired databases: the fenced switch and the fenced rollback, through the ports.

import { describe, expect, test } from "vitest";
import { runCutover, runRollback, type CutoverRequest } from "../../scripts/core/engine.js";
import { parseJournal } from "../../scripts/core/journal.js";
import type { RolloutConfig } from "../../infra/config.js";
import { FakeWorld, replies, testRollout } from "../support/fakes.js";

const OWNER = "alice@ops-1 pid 4242";

function request(overrides: Partial<RolloutConfig> = {}, extra: Partial<CutoverRequest> = {}): CutoverRequest {
  return { rollout: testRollout({ strategy: { type: "all-at-once" }, ...overrides }), databaseMode: "paired", owner: OWNER, ...extra };
}

/** One ordered log of the world's side effects. */
function sideEffects(world: FakeWorld): string[] {
  const log: string[] = [];
  const fence = world.fence.set.bind(world.fence);
  world.fence.set = async (mode) => {
    log.push(`fence ${mode}`);
    return fence(mode);
  };
  const rep = world.replication;
  for (const name of ["waitForCatchUp", "copySequences", "start", "stop", "parity"] as const) {
    const original = (rep[name] as (...args: unknown[]) => Promise<unknown>).bind(rep);
    (rep as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      log.push(`${name}${args[0] !== undefined ? ` ${String(args[0])}` : ""}`);
      return original(...args);
    };
  }
  world.router.onWrite = (w) => log.push(`write ${w.blue}/${w.green}`);
  return log;
}

describe("paired switch", () => {
  test("fence → catch-up → exact parity → sequences → reverse replication → flip, verified → fence off → monitoring", async () => {
    const world = new FakeWorld({ writeLagMs: 200 });
    world.replication.catchUpMs["blue-to-green"] = 400;
    const log = sideEffects(world);
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("succeeded");
    expect(log).toEqual([
      "fence writes",
      "waitForCatchUp blue-to-green",
      "parity",
      "copySequences blue-to-green",
      "start green-to-blue",
      "write 0/100",
      "fence off",
    ]);
    expect(world.replication.calls).toContain("start green-to-blue copyData=false");
    expect(world.fence.mode).toBe("off");
    // The fence covered catch-up (400 ms) and the verified flip (200 ms write lag read back at 1 s).
    expect(result.switchFenceMs).toBe(400 + 1000);
    const stored = parseJournal(world.journal.value);
    expect(stored.fence.periods).toEqual([{ purpose: "switch", onAt: expect.any(Number), offAt: expect.any(Number), durationMs: 1400 }]);
    const monitoring = world.eventsOf("judge-reading").filter((r) => r.phase === "monitoring");
    expect(monitoring.length).toBeGreaterThanOrEqual(5);
    expect(monitoring.at(-1)!.verdict).toMatchObject({ decision: "promote", windowsJudged: monitoring.length });
    expect(world.snapshotter.calls).toHaveLength(1);
  });

  test("after-step hooks run after the fence is lifted (a smoke test may write)", async () => {
    const world = new FakeWorld();
    const modes: string[] = [];
    world.hooks.on("./smoke.sh", () => {
      modes.push(world.fence.mode);
      return { exitCode: 0, timedOut: false, durationMs: 10, outputTail: "" };
    });
    await runCutover(world.deps(), request({ hooks: [{ name: "smoke", command: "./smoke.sh", timeoutSeconds: 10, when: "after-step" }] }));
    expect(modes).toEqual(["off"]);
  });

  test("catch-up timeout under the fence: rolls back without ever sending traffic to green, fence lifted", async () => {
    const world = new FakeWorld();
    world.replication.catchUpError["blue-to-green"] = new Error("green 12 MB behind after 30 s");
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toContain("did not catch up");
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([0]);
    expect(world.fence.mode).toBe("off");
    expect(world.replication.calls).not.toContain("catch-up green-to-blue");
  });

  test("parity mismatch under the fence rolls back before the flip", async () => {
    const world = new FakeWorld();
    world.replication.parityResult = { identical: false, checkedAt: 0, summary: "orders: 2 rows differ (id 41, 42)" };
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toContain("orders: 2 rows differ");
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    expect(world.fence.mode).toBe("off");
  });

  test("a breach while monitoring: fenced rollback waits for green → blue, copies sequences back, flips, lifts the fence", async () => {
    const world = new FakeWorld();
    // Calls 1-2 read blue before the switch; green's second and third windows are above the 5xx ceiling.
    world.metrics.respond(({ call }) => (call === 6 || call === 7 ? replies.errors() : replies.ok()));
    const log = sideEffects(world);
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("rolled-back");
    expect(result.reason).toMatch(/^regression during monitoring: .*over two windows in a row is above the ceiling 10%/);
    expect(world.eventsOf("judge-reading").map((r) => r.verdict.decision)).toEqual(["continue", "continue", "fail"]);
    const rollbackPart = log.slice(log.indexOf("fence off") + 1);
    expect(rollbackPart).toEqual(["fence writes", "waitForCatchUp green-to-blue", "copySequences green-to-blue", "write 100/0", "fence off"]);
    expect(result.rollbackFenceMs).toBe(300); // catch-up 300 ms; the write reads back at once
    expect(result.timeToRollbackMs).toBe(300);
    expect(result.onlyOnGreen).toBeNull();
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
  });

  test("reverse replication unhealthy: still flips, then reports exactly the keys only on green", async () => {
    const world = new FakeWorld();
    world.metrics.respond(({ call }) => (call === 5 || call === 6 ? replies.errors() : replies.ok()));
    world.router.onWrite = (w) => {
      if (w.green === 100) {
        world.replication.running["green-to-blue"] = false; // the subscription broke
        world.replication.parityResult = { identical: false, checkedAt: 0, summary: "2 keys only on green", onlyOnGreen: ["orders:1001", "orders:1002"] };
      }
    };
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("rolled-back");
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    expect(result.onlyOnGreen).toEqual(["orders:1001", "orders:1002"]);
    expect(world.eventsOf("warning").some((w) => w.message.includes("orders:1001"))).toBe(true);
    expect(world.fence.mode).toBe("off");
  });

  test("rollback of a paired switch can stop reverse replication when asked", async () => {
    const world = new FakeWorld();
    const first = await runCutover(world.deps(), request());
    expect(first.outcome).toBe("succeeded");
    const result = await runRollback(world.deps(), { owner: "bob", databaseMode: "paired", stopReverseReplication: true });
    expect(result.outcome).toBe("rolled-back");
    expect(result.fenceMs).toBe(300);
    expect(world.replication.running["green-to-blue"]).toBe(false);
    expect(world.fence.mode).toBe("off");
  });

  test("a paired rollback when green never served traffic does not fence", async () => {
    const world = new FakeWorld();
    const result = await runRollback(world.deps(), { owner: "bob", databaseMode: "paired" });
    expect(result.outcome).toBe("rolled-back");
    expect(world.fence.history).toEqual([]);
  });

  test("a fence someone else set (maintenance) is left alone by rollback, with a warning", async () => {
    const world = new FakeWorld();
    world.fence.mode = "all";
    const result = await runRollback(world.deps(), { owner: "bob", databaseMode: "paired" });
    expect(result.outcome).toBe("rolled-back");
    expect(world.fence.mode).toBe("all");
    expect(world.eventsOf("warning").some((w) => w.message.includes('"all"'))).toBe(true);
  });

  test("a flip that cannot be verified leaves the fence on (no split-brain writes)", async () => {
    const world = new FakeWorld();
    world.metrics.respond(() => replies.errors());
    world.router.refuseToConverge = (w) => w.green === 0;
    const result = await runCutover(world.deps(), request());
    expect(result.outcome).toBe("failed-rollback");
    expect(world.fence.mode).toBe("writes");
    expect(parseJournal(world.journal.value).rollback?.detail).toContain("fence stays on");
  });
});

describe("paired preflight", () => {
  const cases: { name: string; arrange: (world: FakeWorld) => void; expected: string }[] = [
    { name: "replication blue → green not running", arrange: (w) => (w.replication.running["blue-to-green"] = false), expected: "NOT running" },
    { name: "no parity result", arrange: (w) => (w.parity.result = null), expected: "no parity result" },
    {
      name: "failed parity",
      arrange: (w) => (w.parity.result = { identical: false, checkedAt: w.clock.now(), summary: "1 row differs" }),
      expected: "found differences",
    },
    {
      name: "stale parity",
      arrange: (w) => (w.parity.result = { identical: true, checkedAt: w.clock.now() - 2 * 3600_000, summary: "ok" }),
      expected: "2h old (max 1h)",
    },
    { name: "traffic already split", arrange: (w) => w.router.set({ blue: 50, green: 50 }), expected: "paired mode switches from blue 100" },
  ];
  for (const { name, arrange, expected } of cases) {
    test(name, async () => {
      const world = new FakeWorld();
      arrange(world);
      const result = await runCutover(world.deps(), request());
      expect(result.outcome).toBe("preflight-failed");
      expect(result.reason).toContain(expected);
      expect(world.router.writes).toHaveLength(0);
      expect(world.fence.history).toHaveLength(0);
    });
  }
});
