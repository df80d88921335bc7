// The advance Lambda's handler (scripts/app/orchestrator/advance.ts) in-process over the
// engine's fakes, driven by the generated rollout state machine on the local ASL runner: the
// handler reads the state the `Advance` task passes, records the approval's task token where
// `promote` finds it, and answers with the outcome the `Route` Choice reads. What `promote` does
// is played here from the recorded approval (its token and step), as the real command reads it.

import { describe, expect, test } from "vitest";
import { handleOrchestratorEvent, type OrchestratorEvent } from "../../scripts/app/orchestrator/advance.js";
import type { PendingApproval } from "../../scripts/aws/approvalParameter.js";
import { parseJournal } from "../../scripts/core/journal.js";
import { LocalStepFunctions, type Json } from "../../scripts/core/orchestrator/localRunner.js";
import { ROLLOUT_ERRORS, rolloutStateMachine } from "../../scripts/core/orchestrator/stateMachine.js";
import type { RolloutConfig } from "../../infra/config.js";
import { FakeWorld } from "../support/fakes.js";
import { defaultRollout } from "../support/orchestrated.js";

const FUNCTION = "arn:aws:lambda:eu-west-1:123456789012:function:bluegreen-prod-advance";
const MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:bluegreen-prod-rollout";

function setUp(rollout: RolloutConfig = defaultRollout({ type: "canary", steps: [5, { percent: 25, pause: "promote" }, 100] })) {
  const world = new FakeWorld();
  const approvals: PendingApproval[] = [];
  const events: OrchestratorEvent[] = [];
  const store = { record: async (approval: PendingApproval) => void approvals.push(approval) };
  const functions: Record<string, (payload: Json) => Promise<Json>> = {
    // A fresh engine per invocation (new deps over the same fake stores), as in the Lambda.
    [FUNCTION]: async (payload) => {
      events.push(payload as OrchestratorEvent);
      return handleOrchestratorEvent(
        payload as OrchestratorEvent,
        { stack: "prod", rollout, databaseMode: "shared" },
        { deps: world.deps(), approvals: store },
      );
    },
  };
  const sfn = new LocalStepFunctions({ clock: world.clock, functions });
  sfn.createStateMachine(MACHINE, rolloutStateMachine({ advanceFunctionArn: FUNCTION }));
  return { world, sfn, approvals, events, rollout };
}

describe("the advance handler through the rollout state machine", () => {
  test("runs a canary to its approval, records the token for promote, and finishes once promote sends it back", async () => {
    const { world, sfn, approvals, events } = setUp();
    const runId = "2026-12-06T11-00-00-000Z-handler";
    const execution = sfn.startExecution(MACHINE, runId, { runId, stack: "prod" });
    const pending = await sfn.nextTaskToken();

    expect(world.router.current()).toEqual({ blue: 75, green: 25 });
    expect(world.lock.holder).toBeNull();
    expect(parseJournal(world.journal.value).phase).toBe("paused");
    // What the approval parameter holds: the run, the 0-based step, the token, when.
    expect(approvals).toEqual([{ runId, step: 1, taskToken: pending.token, recordedAt: world.clock.now() }]);

    // promote: the recorded token, with the operator and the step it approves.
    sfn.sendTaskSuccess(approvals[0]!.taskToken, { approvedBy: "bob@ops-2", step: approvals[0]!.step });
    const done = await execution.result;
    expect(done.status).toBe("SUCCEEDED");
    expect(world.router.writes.map((w) => w.weights.green)).toEqual([5, 25, 100]);
    const journal = parseJournal(world.journal.value);
    expect(journal).toMatchObject({ phase: "succeeded", runId });
    expect(journal.timeline.some((e) => e.type === "lock" && e.detail?.includes(`stepfunctions:prod/${runId}`))).toBe(true);
    // After the approval every Advance carried it in the state (Payload.$ "$").
    expect(events.filter((e) => e.action === undefined).at(-1)).toMatchObject({ runId, stack: "prod", approval: { approvedBy: "bob@ops-2", step: 1 } });
  });

  test("an approval for another step does not release the pause", async () => {
    const { sfn, approvals } = setUp();
    const runId = "run-wrong-step";
    const execution = sfn.startExecution(MACHINE, runId, { runId, stack: "prod" });
    const first = await sfn.nextTaskToken();
    sfn.sendTaskSuccess(first.token, { approvedBy: "bob@ops-2", step: 0 });
    // The next Advance sees an approval of step 0 and asks again: a second token for step 1.
    const second = await sfn.nextTaskToken();
    expect(second.token).not.toBe(first.token);
    expect(approvals.map((a) => a.step)).toEqual([1, 1]);
    expect(approvals.at(-1)!.taskToken).toBe(second.token);
    sfn.sendTaskSuccess(second.token, { approvedBy: "bob@ops-2", step: 1 });
    expect((await execution.result).status).toBe("SUCCEEDED");
  });

  test.each([
    ["no run id", { stack: "prod" }, /needs "runId"/],
    ["a run id Step Functions cannot name an execution with", { runId: "run with spaces", stack: "prod" }, /needs "runId"/],
    ["another stack's execution", { runId: "run-1", stack: "staging" }, /rolls out stack "prod", the execution input names "staging"/],
  ])("input that can never work (%s) ends the execution failed, touching nothing", async (_name, input, reason) => {
    const { world, sfn } = setUp();
    const done = await sfn.startExecution(MACHINE, "exec", input).result;
    expect(done.status).toBe("FAILED");
    expect(done.error?.error).toBe(ROLLOUT_ERRORS.failed);
    expect(done.history.filter((s) => s.startsWith("Advance"))).toEqual(["Advance"]); // not retried
    expect(world.journal.value).toBeNull();
    expect(world.router.writes).toEqual([]);
    const outcome = await handleOrchestratorEvent(
      input,
      { stack: "prod", rollout: defaultRollout(), databaseMode: "shared" },
      {
        deps: world.deps(),
        approvals: { record: () => Promise.reject(new Error("unused")) },
      },
    );
    expect(outcome).toMatchObject({ end: "failed" });
    expect((outcome as { reason: string }).reason).toMatch(reason);
  });

  test("our own failure throws (the state machine retries it), and the run goes on from the journal", async () => {
    const { world, rollout } = setUp(defaultRollout({ type: "canary", steps: [5, 100] }));
    const settings = { stack: "prod", rollout, databaseMode: "shared" as const };
    const approvals = { record: () => Promise.reject(new Error("unused")) };
    const unreachable = Object.assign(new Error("SSM GetParameter: connect ETIMEDOUT"), { name: "UnreachableError" });
    const deps = { ...world.deps(), journal: { load: () => Promise.reject(unreachable), save: () => Promise.reject(unreachable) } };
    await expect(handleOrchestratorEvent({ runId: "run-1", stack: "prod" }, settings, { deps, approvals })).rejects.toThrow(/ETIMEDOUT/);
    expect(world.router.writes).toEqual([]);
    const next = await handleOrchestratorEvent({ runId: "run-1", stack: "prod" }, settings, { deps: world.deps(), approvals });
    expect(next).toMatchObject({ wait: "seconds", runId: "run-1", phase: "baking", step: 0 });
  });

  test("the invocation's deadline stops the engine at a safe point and fails the invocation; the next one resumes", async () => {
    const { world, rollout } = setUp(defaultRollout({ type: "canary", steps: [5, 100] }));
    const settings = { stack: "prod", rollout, databaseMode: "shared" as const };
    const approvals = { record: () => Promise.reject(new Error("unused")) };
    const deadline = new AbortController();
    // The deadline passes while the engine verifies its first write.
    const deps = world.deps();
    const router = deps.router;
    deps.router = {
      ...router,
      describeWrites: () => router.describeWrites(),
      readWeights: () => router.readWeights(),
      writeWeights: async (weights) => {
        await router.writeWeights(weights);
        deadline.abort(new Error("deadline"));
      },
    };
    await expect(handleOrchestratorEvent({ runId: "run-2", stack: "prod" }, settings, { deps, approvals, signal: deadline.signal })).rejects.toThrow(
      /deadline stopped the engine/,
    );
    expect(world.lock.holder).toBeNull();
    const next = await handleOrchestratorEvent({ runId: "run-2", stack: "prod" }, settings, { deps: world.deps(), approvals });
    expect(next).toMatchObject({ runId: "run-2" });
    expect(parseJournal(world.journal.value).runId).toBe("run-2");
  });

  test("a malformed await-approval payload throws: no answer would leave the task waiting for a token nobody has", async () => {
    const world = new FakeWorld();
    const settings = { stack: "prod", rollout: defaultRollout(), databaseMode: "shared" as const };
    const recorded: PendingApproval[] = [];
    const ports = { deps: world.deps(), approvals: { record: async (a: PendingApproval) => void recorded.push(a) } };
    await expect(handleOrchestratorEvent({ action: "await-approval", runId: "run-1", step: 1 }, settings, ports)).rejects.toThrow(/task token/);
    await expect(handleOrchestratorEvent({ action: "await-approval", taskToken: "t", runId: "run-1", step: -1 }, settings, ports)).rejects.toThrow(
      /0-based step/,
    );
    expect(recorded).toEqual([]);
    expect(await handleOrchestratorEvent({ action: "await-approval", taskToken: "t", runId: "run-1", step: 2 }, settings, ports)).toEqual({
      recorded: true,
      runId: "run-1",
      step: 2,
    });
  });
});
