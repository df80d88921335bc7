// `release --rollback-promoted`: a release whose later wave failed, run by the generated wave
// machine on the local ASL runner over three stacks' own rollout machines and fake worlds; the
// stacks it had promoted are read from the machine's executions (the release's input names each
// stack's run) and rolled back one by one through the engine's rollback, the path
// `npm run rollback` takes; the failed stack rolled itself back, and nothing else is touched.

import { describe, expect, test } from "vitest";
import { promotedStacks, releaseState, rollBackPromoted, type StackState } from "../../scripts/app/executions/release.js";
import type { Executions } from "../../scripts/app/executions/port.js";
import { runRollback } from "../../scripts/core/engine.js";
import { parseJournal } from "../../scripts/core/journal.js";
import { LocalStepFunctions, type Json } from "../../scripts/core/orchestrator/localRunner.js";
import { WAVE_ERRORS, waveStateMachine } from "../../scripts/core/orchestrator/stateMachine.js";
import { FakeClock, FakeWorld, replies } from "../support/fakes.js";
import { defaultRollout, orchestratedStack, type OrchestratedStack } from "../support/orchestrated.js";

const RELEASE_MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:release";
const STACKS = ["prod-eu-west-1", "prod-eu-central-1", "prod-us-east-1"] as const;

/** A state machine's executions on the local runner, as the commands read them (describe only). */
function executionsOf(sfn: LocalStepFunctions, machineArn: string): Executions {
  const arnOf = (name: string) => `${machineArn.replace(":stateMachine:", ":execution:")}:${name}`;
  const unused = () => Promise.reject(new Error("not used here"));
  return {
    machineArn,
    executionArn: arnOf,
    describe: async (arn) => {
      const e = sfn.executions.find((x) => x.machineArn === machineArn && arnOf(x.name) === arn);
      return e
        ? {
            executionArn: arn,
            name: e.name,
            status: e.status,
            startedAt: null,
            stoppedAt: null,
            error: e.error?.error ?? null,
            cause: e.error?.cause ?? null,
            input: e.input,
          }
        : null;
    },
    start: unused,
    lastEvents: unused,
    stop: unused,
    consoleUrl: (arn) => arn,
  };
}

/** Wave 1: eu-west-1 and eu-central-1; wave 2: us-east-1, failing when `failWave2`. */
async function release(failWave2: boolean) {
  const clock = new FakeClock();
  const functions: Record<string, (payload: Json) => Promise<Json>> = {};
  const sfn = new LocalStepFunctions({ clock, functions });
  const stacks: Record<string, OrchestratedStack> = {};
  for (const name of STACKS) {
    const world = new FakeWorld({ clock });
    if (failWave2 && name === "prod-us-east-1") world.metrics.respond(() => replies.errors(0.3));
    stacks[name] = orchestratedStack(sfn, world, name, defaultRollout({ type: "canary", steps: [5, 25, 100] }), functions);
  }
  sfn.createStateMachine(RELEASE_MACHINE, waveStateMachine({ waves: 2, maxConcurrency: 2, bakeSeconds: 1800 }));
  const item = (name: string) => ({ stack: name, stateMachineArn: stacks[name]!.machineArn, runId: `release-7-${name}` });
  const input = { release: "release-7", waves: [[item("prod-eu-west-1"), item("prod-eu-central-1")], [item("prod-us-east-1")]] };
  const done = await sfn.startExecution(RELEASE_MACHINE, "release-7", input).result;
  const state = await releaseState(executionsOf(sfn, RELEASE_MACHINE), "release-7", async (wave) => executionsOf(sfn, wave.stateMachineArn));
  return { sfn, stacks, done, state: state! };
}

describe("release --rollback-promoted through the release's local runner", () => {
  test("wave 2 failed: wave 1's promoted stacks are rolled back, latest first, through the engine's rollback; the failed one was already back", async () => {
    const { stacks, done, state } = await release(true);
    expect(done.status).toBe("FAILED");
    expect(done.error?.error).toBe(WAVE_ERRORS.failed);
    for (const name of ["prod-eu-west-1", "prod-eu-central-1"]) expect(stacks[name]!.world.router.current()).toEqual({ blue: 0, green: 100 });
    expect(parseJournal(stacks["prod-us-east-1"]!.world.journal.value).phase).toBe("rolled-back");

    const promoted = promotedStacks(state);
    expect(promoted.map((s) => s.stack)).toEqual(["prod-eu-central-1", "prod-eu-west-1"]);
    const order: string[] = [];
    const results = await rollBackPromoted(promoted, async (stack: StackState) => {
      order.push(stack.stack);
      const world = stacks[stack.stack]!.world;
      return runRollback(world.deps(), { owner: "alice@ops-1", databaseMode: "shared", stack: stack.stack, reason: "release release-7 failed in wave 2" });
    });
    expect(order).toEqual(["prod-eu-central-1", "prod-eu-west-1"]);
    expect(results.map((r) => [r.stack, r.result.ok && r.result.value.outcome])).toEqual([
      ["prod-eu-central-1", "rolled-back"],
      ["prod-eu-west-1", "rolled-back"],
    ]);
    for (const name of ["prod-eu-west-1", "prod-eu-central-1"]) {
      expect(stacks[name]!.world.router.current()).toEqual({ blue: 100, green: 0 });
      const journal = parseJournal(stacks[name]!.world.journal.value);
      expect(journal.phase).toBe("rolled-back");
      expect(journal.failure?.reason ?? journal.timeline.map((e) => JSON.stringify(e)).join(" ")).toContain("release release-7 failed in wave 2");
    }
  });

  test("one stack's rollback failing never skips the others; a succeeded or running release is refused", async () => {
    const { stacks, state } = await release(true);
    const results = await rollBackPromoted(promotedStacks(state), async (stack) => {
      if (stack.stack === "prod-eu-central-1") throw new Error("SSM unreachable");
      return runRollback(stacks[stack.stack]!.world.deps(), { owner: "alice@ops-1", databaseMode: "shared", stack: stack.stack, reason: "release failed" });
    });
    expect(results.map((r) => [r.stack, r.result.ok])).toEqual([
      ["prod-eu-central-1", false],
      ["prod-eu-west-1", true],
    ]);
    expect(stacks["prod-eu-west-1"]!.world.router.current()).toEqual({ blue: 100, green: 0 });

    const succeeded = await release(false);
    expect(succeeded.done.status).toBe("SUCCEEDED");
    expect(() => promotedStacks(succeeded.state)).toThrow(/release release-7 succeeded: there is no failed wave to undo/);
    const running = { ...succeeded.state, release: { ...succeeded.state.release, status: "RUNNING" as const } };
    expect(() => promotedStacks(running)).toThrow(/still running/);
  });
});
