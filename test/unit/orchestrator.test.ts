// Rollouts on the orchestrator path, on the virtual clock: the generated rollout state machine run
// by the local ASL runner, its advance task a fresh engine over the same fake lock, journal and
// router on every invocation. Nothing of ours stays alive between invocations: at every Wait the
// lock is free and the only state is the journal (and the execution's input).

import { gzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { runCutover, runRollback } from "../../scripts/core/engine.js";
import { pausesOf } from "../../scripts/core/engine.js";
import { parseJournal } from "../../scripts/core/journal.js";
import { advanceRollout } from "../../scripts/core/orchestrator/advance.js";
import { LocalStepFunctions, type Json } from "../../scripts/core/orchestrator/localRunner.js";
import { ROLLOUT_ERRORS } from "../../scripts/core/orchestrator/stateMachine.js";
import { FakeWorld, replies, testRollout } from "../support/fakes.js";
import { defaultRollout, orchestratedStack } from "../support/orchestrated.js";

const BOB = "bob@ops-2";
/** The journal's size as the SSM store keeps a large one: gzip + base64. */
const storedBytes = (json: string) => gzipSync(json, { level: 9 }).toString("base64").length;
const HOUR = 3_600_000;
const canary = { type: "canary" as const, steps: [{ percent: 5, pause: "24h" }, { percent: 25, pause: "promote" }, 100] };

function setUp(strategy: Parameters<typeof defaultRollout>[0] = canary) {
  const world = new FakeWorld();
  const functions: Record<string, (payload: Json) => Promise<Json>> = {};
  const waits: { state: string; seconds: number; lockFree: boolean; phase: string }[] = [];
  const sfn = new LocalStepFunctions({
    clock: world.clock,
    functions,
    onWait: (_execution, state, seconds) => {
      waits.push({ state, seconds, lockFree: world.lock.holder === null, phase: world.journal.value?.phase ?? "none" });
    },
  });
  const stack = orchestratedStack(sfn, world, "prod", defaultRollout(strategy), functions);
  return { world, sfn, stack, waits };
}

/** Run the execution until it ends or asks for an approval. */
async function untilApprovalOrEnd(sfn: LocalStepFunctions, execution: ReturnType<LocalStepFunctions["startExecution"]>) {
  return Promise.race([execution.result.then(() => null), sfn.nextTaskToken()]);
}

describe("a default canary with pause: 24h at 5% and pause: promote at 25%", () => {
  test("runs start to end through the state machine with no process of ours alive between invocations", async () => {
    const { world, sfn, stack, waits } = setUp();
    const runId = "2026-01-15T09-00-00-000Z-canary";
    const started = world.clock.now();
    const execution = sfn.startExecution(stack.machineArn, runId, { runId, stack: "prod" });

    const approval = await untilApprovalOrEnd(sfn, execution);
    expect(approval).not.toBeNull();
    expect(approval!.payload).toMatchObject({ action: "await-approval", runId, step: 1 });
    // Held at 25% for an approval, the timed pause behind it: the 24 h were one Wait state.
    expect(world.router.current()).toEqual({ blue: 75, green: 25 });
    expect(world.lock.holder).toBeNull();
    const paused = parseJournal(world.journal.value);
    expect(paused.phase).toBe("paused");
    expect(waits.filter((w) => w.seconds >= 23 * 3600)).toHaveLength(1);
    expect(waits.find((w) => w.seconds >= 23 * 3600)).toMatchObject({ state: "Wait", phase: "paused", lockFree: true });

    world.clock.advance(3 * HOUR); // the operator comes back later
    sfn.sendTaskSuccess(approval!.token, { approvedBy: BOB, step: 1 });
    const done = await execution.result;

    expect(done.status).toBe("SUCCEEDED");
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([5, 25, 100]);
    const journal = parseJournal(world.journal.value);
    expect(journal.phase).toBe("succeeded");
    expect(journal.runId).toBe(runId);
    expect(pausesOf(journal)).toEqual([
      expect.objectContaining({ step: 0, kind: "timed", promotedBy: `stepfunctions:prod/${runId}`, early: false }),
      expect.objectContaining({ step: 1, kind: "promote", promotedBy: BOB, early: false }),
    ]);
    // Between invocations nothing held the lock: every Wait began with the lock free.
    expect(waits.length).toBeGreaterThan(5);
    expect(waits.every((w) => w.lockFree)).toBe(true);
    expect(world.lock.holder).toBeNull();
    // Every advance was a fresh engine: one per invocation that was not an approval registration.
    expect(stack.engines).toBe(stack.invocations - 1);

    const transitions = done.transitions;
    const invocations = sfn.invocationCount();
    const elapsedHours = (world.clock.now() - started) / HOUR;
    console.log(
      `orchestrated canary (5% +24h, 25% +promote, 100%; poll 60 s, bake 300 s, monitor 300 s): ` +
        `${transitions} state transitions, ${invocations} Lambda invocations, ${waits.length} Wait states, ${elapsedHours.toFixed(1)} h virtual, ` +
        `journal ${world.journal.stored!.length} bytes (${storedBytes(world.journal.stored!)} gzip+base64)`,
    );
    // What docs/orchestrated.md claims for this rollout: under 120 transitions, under 60 invocations.
    expect(transitions).toBeLessThan(120);
    expect(invocations).toBeLessThan(60);
    // The loop: every advance was followed by a Route, and a Wait or the approval or the end.
    expect(done.history.some((s) => s.includes("retry"))).toBe(false);
    expect(done.history.filter((s) => s === "Advance")).toHaveLength(stack.engines);
    expect(done.history.at(-1)).toBe("Succeeded");
  });

  test("the same canary in-process (cutover, promote after 24 h, promote): the journal the orchestrated run is compared with", async () => {
    const world = new FakeWorld();
    const request = { rollout: defaultRollout(canary), databaseMode: "shared" as const, owner: "alice", stack: "prod" };
    expect((await runCutover(world.deps(), request)).outcome).toBe("paused");
    world.clock.advance(24 * HOUR);
    expect((await runCutover(world.deps(), { ...request, resume: true })).outcome).toBe("paused");
    world.clock.advance(3 * HOUR);
    expect((await runCutover(world.deps(), { ...request, owner: BOB, resume: true })).outcome).toBe("succeeded");
    console.log(`in-process canary: journal ${world.journal.stored!.length} bytes (${storedBytes(world.journal.stored!)} gzip+base64)`);
  });

  test("the guard rolls back during a wait: the next advance ends the execution rolled back, touching nothing", async () => {
    const { world, sfn, stack } = setUp();
    const runId = "run-guarded";
    let acted = false;
    const guarded = new LocalStepFunctions({
      clock: world.clock,
      functions: (sfn as unknown as { options: { functions: Record<string, (p: Json) => Promise<Json>> } }).options.functions,
      onWait: async (_execution, _state, seconds) => {
        // During the 24 h pause, green's alarm fires and the guard rolls back (no cutover process runs).
        if (!acted && seconds >= 23 * 3600) {
          acted = true;
          const result = await runRollback(world.deps(), {
            owner: "guard (invocation 1)",
            databaseMode: "shared",
            stack: "prod",
            reason: "guard: prod-green-5xx in ALARM",
            force: "except-rollback",
          });
          expect(result.outcome).toBe("rolled-back");
        }
      },
    });
    guarded.createStateMachine(stack.machineArn, sfn.machines.get(stack.machineArn)!);
    const execution = guarded.startExecution(stack.machineArn, runId, { runId, stack: "prod" });
    const done = await execution.result;

    expect(acted).toBe(true);
    expect(done.status).toBe("FAILED");
    expect(done.error?.error).toBe(ROLLOUT_ERRORS.rolledBack);
    expect(stack.outcomes.at(-1)).toMatchObject({ end: "rolled-back", runId, reason: expect.stringContaining("guard: prod-green-5xx") });
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    // The advance after the rollback wrote nothing: green never went past 5%.
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([5, 0]);
    expect(parseJournal(world.journal.value).phase).toBe("rolled-back");
  });

  test("the guard rolls back while an invocation runs: the engine sees the lost lock, the next advance ends rolled back", async () => {
    const world = new FakeWorld();
    const functions: Record<string, (payload: Json) => Promise<Json>> = {};
    const sfn = new LocalStepFunctions({ clock: world.clock, functions });
    const rollout = {
      ...defaultRollout({ type: "canary", steps: [5, 25, 100] }),
      hooks: [{ name: "smoke", command: "./smoke.sh", timeoutSeconds: 30, when: "after-step" as const }],
    };
    const stack = orchestratedStack(sfn, world, "prod", rollout, functions);
    let guardRan = false;
    world.hooks.on("./smoke.sh", async () => {
      if (!guardRan) {
        guardRan = true;
        // The alarm fires while the advance holds the lock (running the after-step hook).
        const result = await runRollback(world.deps(), {
          owner: "guard (invocation 7)",
          databaseMode: "shared",
          stack: "prod",
          reason: "guard: prod-green-5xx in ALARM",
          force: "except-rollback",
        });
        expect(result.brokeLock?.owner).toBe("stepfunctions:prod/run-raced");
      }
      return { exitCode: 0, timedOut: false, durationMs: 1000, outputTail: "ok" };
    });
    const done = await sfn.startExecution(stack.machineArn, "run-raced", { runId: "run-raced", stack: "prod" }).result;
    expect(guardRan).toBe(true);
    expect(done.status).toBe("FAILED");
    expect(done.error?.error).toBe(ROLLOUT_ERRORS.rolledBack);
    // The invocation that lost the lock answered a wait, the next one the rollback.
    expect(stack.outcomes.slice(-2)).toEqual([
      expect.objectContaining({ wait: "seconds", phase: "aborted" }),
      expect.objectContaining({ end: "rolled-back", reason: expect.stringContaining("guard: prod-green-5xx") }),
    ]);
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    expect(world.lock.holder).toBeNull();
  });

  test("a failed invocation is retried by the state machine and the rollout goes on from the journal", async () => {
    const { world, sfn, stack } = setUp({ type: "canary", steps: [5, 25, 100] });
    const runId = "run-retried";
    let failed = false;
    const base = world.journal;
    // The third advance's journal read fails once (SSM unreachable): the invocation throws.
    let loads = 0;
    stack.depsOverrides = {
      journal: {
        load: async () => {
          loads += 1;
          if (loads === 3 && !failed) {
            failed = true;
            throw Object.assign(new Error("SSM GetParameter: connect ETIMEDOUT"), { name: "UnreachableError" });
          }
          return base.load();
        },
        save: (journal) => base.save(journal),
      },
    };
    stack.failNext = 0;
    const execution = sfn.startExecution(stack.machineArn, runId, { runId, stack: "prod" });
    const done = await execution.result;
    expect(failed).toBe(true);
    expect(done.status).toBe("SUCCEEDED");
    expect(done.history).toContain("Advance (retry 1)");
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([5, 25, 100]);

    // A Lambda service error (throttling) is retried too, by its own retrier.
    const second = setUp({ type: "canary", steps: [5, 100] });
    second.stack.failNext = 2;
    const retried = await second.sfn.startExecution(second.stack.machineArn, "run-throttled", { runId: "run-throttled", stack: "prod" }).result;
    expect(retried.status).toBe("SUCCEEDED");
    expect(retried.history.filter((s) => s.startsWith("Advance (retry"))).toHaveLength(2);

    // Retries run out: the execution fails, the journal stays where it was (resumable).
    const third = setUp({ type: "canary", steps: [5, 100] });
    third.stack.failNext = 10;
    const exhausted = await third.sfn.startExecution(third.stack.machineArn, "run-down", { runId: "run-down", stack: "prod" }).result;
    expect(exhausted.status).toBe("FAILED");
    expect(exhausted.error?.error).toBe(ROLLOUT_ERRORS.failed);
    expect(third.world.journal.value).toBeNull();
  });

  test("a duplicate start is refused: by execution name, and by the journal for another run id", async () => {
    const { world, sfn, stack } = setUp();
    const runId = "run-first";
    const first = sfn.startExecution(stack.machineArn, runId, { runId, stack: "prod" });
    // The same name and input while it runs: the same execution (StartExecution is idempotent).
    expect(sfn.startExecution(stack.machineArn, runId, { runId, stack: "prod" })).toBe(first);
    expect(() => sfn.startExecution(stack.machineArn, runId, { runId, stack: "staging" })).toThrow(/ExecutionAlreadyExists/);

    const approval = await untilApprovalOrEnd(sfn, first);
    expect(approval).not.toBeNull();
    const before = world.journal.stored;
    const writes = world.router.writes.length;

    // Another run id while the first is paused: its first advance refuses, touching nothing.
    const second = await sfn.startExecution(stack.machineArn, "run-second", { runId: "run-second", stack: "prod" }).result;
    expect(second.status).toBe("FAILED");
    expect(stack.outcomes.at(-1)).toMatchObject({ end: "failed", runId: "run-second", reason: expect.stringContaining("another rollout (run run-first") });
    expect(world.journal.stored).toBe(before);
    expect(world.router.writes.length).toBe(writes);

    // An approval for another step does not release this pause.
    const wrongStep = await advanceRollout(world.deps(), {
      runId,
      rollout: defaultRollout(canary),
      databaseMode: "shared",
      owner: "x",
      approval: { approvedBy: BOB, step: 0 },
    });
    expect(wrongStep).toMatchObject({ wait: "approval", step: 1 });

    sfn.sendTaskSuccess(approval!.token, { approvedBy: BOB, step: 1 });
    expect((await first.result).status).toBe("SUCCEEDED");
    // After it ended, the name cannot be used again.
    expect(() => sfn.startExecution(stack.machineArn, runId, { runId, stack: "prod" })).toThrow(/ExecutionAlreadyExists/);
  });

  test("a step that regresses ends the execution rolled back by the engine's own judge", async () => {
    const { world, sfn, stack } = setUp({ type: "canary", steps: [5, 25, 100] });
    world.metrics.respond(() => replies.errors(0.3));
    const done = await sfn.startExecution(stack.machineArn, "run-bad", { runId: "run-bad", stack: "prod" }).result;
    expect(done.status).toBe("FAILED");
    expect(done.error?.error).toBe(ROLLOUT_ERRORS.rolledBack);
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    expect(parseJournal(world.journal.value).phase).toBe("rolled-back");
  });

  test("an advance after the run ended answers its end and writes nothing", async () => {
    const world = new FakeWorld();
    const rollout = testRollout({ strategy: { type: "canary", steps: [5, 25, 100] } });
    const request = { runId: "run-once", rollout, databaseMode: "shared" as const, owner: "stepfunctions:prod/run-once" };
    let outcome = await advanceRollout(world.deps(), request);
    for (let i = 0; i < 100 && !("end" in outcome); i++) {
      if ("seconds" in outcome) world.clock.advance(outcome.seconds * 1000);
      outcome = await advanceRollout(world.deps(), request);
    }
    expect(outcome).toEqual({ end: "succeeded", runId: "run-once", reason: null });
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([5, 25, 100]);
    expect(await advanceRollout(world.deps(), { ...request, owner: "x" })).toMatchObject({ end: "succeeded" });
    expect(world.router.writes).toHaveLength(3);
  });
});
