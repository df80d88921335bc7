import { describe, expect, test } from "vitest";
import { runCutover } from "../../scripts/core/engine.js";
import { createJournal, JournalCorruptError, parseJournal, type Journal } from "../../scripts/core/journal.js";
import { canTransition, isTerminal, PHASES, TERMINAL_PHASES, type Phase } from "../../scripts/core/phases.js";
import { buildPlan } from "../../scripts/core/plan.js";
import { FakeWorld, replies, testRollout } from "../support/fakes.js";

async function finishedJournal(): Promise<Journal> {
  const world = new FakeWorld();
  // Blue's two reads before the first write, a quiet first window, then a metrics error.
  world.metrics.script(replies.ok(), replies.ok(), replies.quiet(), replies.error());
  await runCutover(world.deps(), { rollout: testRollout(), databaseMode: "shared", owner: "o" });
  return world.journal.value as Journal;
}

function corrupt(mutate: (j: Record<string, any>) => void, base: Journal): unknown {
  const copy = JSON.parse(JSON.stringify(base)) as Record<string, any>;
  mutate(copy);
  return copy;
}

describe("journal document", () => {
  test("a new journal is valid, versioned and starts idle", () => {
    const plan = buildPlan(testRollout(), { databaseMode: "shared" });
    const journal = createJournal({ runId: "r1", operation: "cutover", owner: "o", databaseMode: "shared", plan, now: 1000 });
    expect(journal).toMatchObject({ format: "bluegreen-cutover-journal", version: 1, phase: "idle", step: null, timeline: [] });
    expect(parseJournal(JSON.parse(JSON.stringify(journal)))).toEqual(journal);
  });

  test("a journal written by a real run validates, from an object or from text", async () => {
    const journal = await finishedJournal();
    expect(parseJournal(journal).phase).toBe("succeeded");
    expect(parseJournal(JSON.stringify(journal)).runId).toBe(journal.runId);
    expect(journal.timeline.some((e) => e.type === "judge-reading")).toBe(true);
    expect(journal.timeline.some((e) => e.type === "decision" && e.decision === "proceed" && e.evidence?.decision === "promote")).toBe(true);
    // The judge's state survives the text round trip (a resume carries the evidence over).
    expect(parseJournal(JSON.stringify(journal)).judge).toEqual(journal.judge);
    expect(journal.judge).toMatchObject({ version: 2, phaseKey: "monitoring" });
    expect(journal.timeline.some((e) => e.type === "metric-error")).toBe(true);
  });

  test("every transition a real run journals is legal in the state machine", async () => {
    const journal = await finishedJournal();
    const changes = journal.timeline.filter((e) => e.type === "phase-changed");
    expect(changes.length).toBeGreaterThan(10);
    for (const change of changes) expect(canTransition(change.from, change.to), `${change.from} → ${change.to}`).toBe(true);
  });

  const cases: [string, (j: Record<string, any>) => void, RegExp][] = [
    ["not an object", (j) => Object.keys(j).forEach((k) => delete j[k]), /format must be/],
    ["wrong format", (j) => (j.format = "something-else"), /format must be "bluegreen-cutover-journal"/],
    ["a newer version", (j) => (j.version = 2), /version is 2; this engine reads version 1/],
    ["an unknown phase", (j) => (j.phase = "dancing"), /phase must be one of/],
    ["a step beyond the plan", (j) => (j.step = 7), /step must be below the plan's 3 step/],
    ["a step phase without a step", (j) => ((j.phase = "baking"), (j.step = null)), /step must be set in phase baking/],
    ["negative bake progress", (j) => (j.bake = { passes: -1, polls: 0, extensionsUsed: 0, consecutiveMetricErrors: 0, startedAt: 0 }), /bake.passes/],
    ["a skipped snapshot without a reason", (j) => (j.snapshot = { taken: false, skipped: true }), /snapshot.reason must say why/],
    ["plan weights not summing to 100", (j) => (j.plan.steps[1].weights = { blue: 70, green: 25 }), /plan.steps.1.weights/],
    ["plan step index out of order", (j) => (j.plan.steps[0].index = 3), /plan.steps.0.index must be 0/],
    ["a timeline entry without a type", (j) => j.timeline.push({ at: 1 }), /timeline.\d+ must be an event/],
    ["a cutover without a plan", (j) => (j.plan = null), /plan must be present for a cutover/],
    ["no runId", (j) => (j.runId = ""), /runId must be a non-empty string/],
  ];
  for (const [name, mutate, message] of cases) {
    test(`corrupt: ${name}`, async () => {
      const base = await finishedJournal();
      const error = (() => {
        try {
          parseJournal(corrupt(mutate, base));
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(error).toBeInstanceOf(JournalCorruptError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain("rollback --force");
    });
  }

  test("corrupt: not JSON at all", () => {
    expect(() => parseJournal("{ half a journal")).toThrow(/not valid JSON/);
    expect(() => parseJournal([1, 2])).toThrow(JournalCorruptError);
  });
});

describe("state machine", () => {
  test("the forward path of a shared cutover is legal", () => {
    const path: Phase[] = [
      "idle",
      "preflight",
      "writing",
      "verifying",
      "recording",
      "baking",
      "hooks",
      "writing",
      "verifying",
      "recording",
      "baking",
      "hooks",
      "post-switch",
      "monitoring",
      "succeeded",
    ];
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
  });

  test("the forward path of a paired switch is legal", () => {
    const path: Phase[] = [
      "idle",
      "preflight",
      "fencing",
      "catching-up",
      "parity",
      "sequences",
      "reverse-replication",
      "writing",
      "verifying",
      "unfencing",
      "recording",
      "baking",
      "hooks",
      "post-switch",
      "monitoring",
      "succeeded",
    ];
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
  });

  test("no skipping: a step cannot bake before it is verified, nor monitor before the hooks", () => {
    expect(canTransition("idle", "baking")).toBe(false);
    expect(canTransition("writing", "baking")).toBe(false);
    expect(canTransition("writing", "recording")).toBe(false);
    expect(canTransition("baking", "writing")).toBe(false);
    expect(canTransition("baking", "monitoring")).toBe(false);
    expect(canTransition("preflight", "monitoring")).toBe(false);
    expect(canTransition("fencing", "writing")).toBe(false);
  });

  test("rolling back is possible from every phase but itself; terminal phases go nowhere else", () => {
    for (const phase of PHASES) {
      expect(canTransition(phase, "rolling-back")).toBe(phase !== "rolling-back");
      if (isTerminal(phase)) {
        for (const to of PHASES) if (to !== "rolling-back") expect(canTransition(phase, to), `${phase} → ${to}`).toBe(false);
      }
    }
    expect(TERMINAL_PHASES).toEqual(["succeeded", "preflight-failed", "rolled-back", "failed-rollback", "aborted"]);
    expect(canTransition("rolling-back", "rolled-back")).toBe(true);
    expect(canTransition("rolling-back", "failed-rollback")).toBe(true);
    expect(canTransition("rolling-back", "aborted")).toBe(false);
    expect(canTransition("baking", "aborted")).toBe(true);
  });
});
