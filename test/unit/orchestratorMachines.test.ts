// The generated state machines: valid Amazon States Language (asl-validator), the shapes the
// issue asks for, the local runner's semantics the tests lean on, and the wave machine running
// three stacks in two waves over the rollout machine of each stack.

import { createRequire } from "node:module";
import { describe, expect, test } from "vitest";
import { parseJournal } from "../../scripts/core/journal.js";
import { LocalStepFunctions, type Json } from "../../scripts/core/orchestrator/localRunner.js";
import {
  LAMBDA_SERVICE_ERRORS,
  rolloutStateMachine,
  START_EXECUTION_SYNC,
  WAVE_ERRORS,
  waveStateMachine,
  type AslDefinition,
} from "../../scripts/core/orchestrator/stateMachine.js";
import { FakeClock, FakeWorld, replies } from "../support/fakes.js";
import { defaultRollout, orchestratedStack, type OrchestratedStack } from "../support/orchestrated.js";

type Validator = (definition: unknown, options?: Record<string, unknown>) => { isValid: boolean; errors: unknown[] };
const aslValidator = createRequire(import.meta.url)("asl-validator") as Validator;
// The validator fills in defaults (QueryLanguage) on what it is given: it checks a copy.
const validate = (definition: unknown) => aslValidator(structuredClone(definition));
const ARN = "arn:aws:lambda:eu-west-1:123456789012:function:prod-advance";

describe("the generated ASL", () => {
  test("the rollout machine is valid ASL: Advance (retried on Lambda errors) → Route → Wait (SecondsPath) or AwaitApproval (task token) → Advance", () => {
    const machine = rolloutStateMachine({ advanceFunctionArn: ARN });
    const result = validate(machine);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
    const advance = machine.States.Advance!;
    expect(advance).toMatchObject({ Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Next: "Route" });
    expect((advance.Retry as { ErrorEquals: string[] }[])[0]!.ErrorEquals).toEqual(LAMBDA_SERVICE_ERRORS);
    expect(machine.States.Wait).toEqual({ Type: "Wait", SecondsPath: "$.advance.outcome.seconds", Next: "Advance" });
    expect(machine.States.AwaitApproval).toMatchObject({ Type: "Task", Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken", Next: "Advance" });
    expect(JSON.stringify(machine.States.AwaitApproval)).toContain("$$.Task.Token");
    // No phase logic in ASL: the only choices are the advance outcome's wait and end.
    const variables = JSON.stringify(machine.States.Route).match(/"Variable":"[^"]+"/g) ?? [];
    expect(new Set(variables)).toEqual(new Set(['"Variable":"$.advance.outcome.wait"', '"Variable":"$.advance.outcome.end"']));
  });

  test("the wave machine is valid ASL: a Map per wave with MaxConcurrency over startExecution.sync:2, a Wait between waves", () => {
    const machine = waveStateMachine({ waves: 3, maxConcurrency: 4, bakeSeconds: 3600 });
    const result = validate(machine);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
    expect(Object.keys(machine.States)).toEqual(["Wave1", "BakeAfterWave1", "Wave2", "BakeAfterWave2", "Wave3", "Released", "ReleaseFailed"]);
    expect(machine.States.Wave2).toMatchObject({ Type: "Map", ItemsPath: "$.waves[1]", MaxConcurrency: 4, Next: "BakeAfterWave2" });
    expect(JSON.stringify(machine.States.Wave1)).toContain(START_EXECUTION_SYNC);
    expect(machine.States.BakeAfterWave1).toEqual({ Type: "Wait", Seconds: 3600, Next: "Wave2" });
    expect(() => waveStateMachine({ waves: 0, maxConcurrency: 1, bakeSeconds: 0 })).toThrow(/at least one wave/);
  });

  test("the validator is not a rubber stamp: a broken definition is refused", () => {
    const machine = rolloutStateMachine({ advanceFunctionArn: ARN }) as AslDefinition;
    const broken = { ...machine, States: { ...machine.States, Wait: { Type: "Wait", SecondsPath: "$.x", Next: "Nowhere" } } };
    expect(validate(broken).isValid).toBe(false);
  });
});

describe("the local runner", () => {
  test("Retry backs off on the clock, Catch routes the error, a Map holds MaxConcurrency", async () => {
    const clock = new FakeClock();
    let calls = 0;
    let running = 0;
    let most = 0;
    const functions: Record<string, (payload: Json) => Promise<Json>> = {
      flaky: async () => {
        calls += 1;
        if (calls < 3) throw Object.assign(new Error("rate exceeded"), { name: "Lambda.TooManyRequestsException" });
        return { ok: true };
      },
      slow: async () => {
        running += 1;
        most = Math.max(most, running);
        await clock.sleep(1000);
        await new Promise((resolve) => setTimeout(resolve, 1));
        running -= 1;
        return {};
      },
      broken: async () => {
        throw new Error("boom");
      },
    };
    const sfn = new LocalStepFunctions({ clock, functions });
    const task = (name: string) => ({
      Type: "Task" as const,
      Resource: "arn:aws:states:::lambda:invoke",
      Parameters: { FunctionName: name, "Payload.$": "$" },
    });
    sfn.createStateMachine("m", {
      StartAt: "Flaky",
      States: {
        Flaky: {
          ...task("flaky"),
          Retry: [{ ErrorEquals: ["Lambda.TooManyRequestsException"], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
          ResultPath: null,
          Next: "Fan",
        },
        Fan: {
          Type: "Map",
          ItemsPath: "$.items",
          MaxConcurrency: 2,
          ItemProcessor: { ProcessorConfig: { Mode: "INLINE" }, StartAt: "Slow", States: { Slow: { ...task("slow"), End: true } } },
          ResultPath: null,
          Next: "Broken",
        },
        Broken: { ...task("broken"), Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Caught" }], Next: "Done" },
        Caught: { Type: "Fail", Error: "Caught" },
        Done: { Type: "Succeed" },
      },
    });
    const started = clock.now();
    const done = await sfn.startExecution("m", "e1", { items: [1, 2, 3, 4, 5] }).result;
    expect(calls).toBe(3);
    expect(most).toBe(2);
    expect(done.history.slice(0, 3)).toEqual(["Flaky", "Flaky (retry 1)", "Flaky (retry 2)"]);
    expect(clock.now() - started).toBeGreaterThanOrEqual((2 + 4) * 1000);
    expect(done.status).toBe("FAILED");
    expect(done.error).toMatchObject({ error: "Caught" });
  });
});

describe("the local runner's task tokens", () => {
  test("a .waitForTaskToken task waits for SendTaskSuccess (its output in ResultPath) and a SendTaskFailure goes to Catch", async () => {
    const clock = new FakeClock();
    const delivered: Json[] = [];
    const sfn = new LocalStepFunctions({ clock, functions: { notify: async (payload) => (delivered.push(payload), {}) } });
    const ask = {
      Type: "Task" as const,
      Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      Parameters: { FunctionName: "notify", Payload: { "token.$": "$$.Task.Token" } },
    };
    sfn.createStateMachine("m", {
      StartAt: "Ask",
      States: {
        Ask: { ...ask, ResultPath: "$.answer", Next: "AskAgain" },
        AskAgain: { ...ask, ResultPath: "$.second", Catch: [{ ErrorEquals: ["Refused"], ResultPath: "$.error", Next: "Done" }], Next: "Done" },
        Done: { Type: "Succeed" },
      },
    });
    const execution = sfn.startExecution("m", "e", { keep: 1 });
    const first = await sfn.nextTaskToken();
    expect(delivered).toEqual([{ token: first.token }]);
    expect(() => sfn.sendTaskSuccess("token-unknown", {})).toThrow(/TaskDoesNotExist/);
    sfn.sendTaskSuccess(first.token, { approvedBy: "bob" });
    const second = await sfn.nextTaskToken();
    sfn.sendTaskFailure(second.token, "Refused", "not today");
    const done = await execution.result;
    expect(done.status).toBe("SUCCEEDED");
    expect(done.output).toEqual({ keep: 1, answer: { approvedBy: "bob" }, error: { Error: "Refused", Cause: "not today" } });
  });
});

describe("the wave machine over three stacks in two waves", () => {
  const RELEASE_MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:release";
  const strategy = { type: "canary" as const, steps: [5, 25, 100] };

  function release(failIn?: string) {
    const clock = new FakeClock();
    const functions: Record<string, (payload: Json) => Promise<Json>> = {};
    const sfn = new LocalStepFunctions({ clock, functions });
    const stacks: Record<string, OrchestratedStack> = {};
    for (const name of ["prod-eu-west-1", "prod-eu-central-1", "prod-us-east-1"]) {
      const world = new FakeWorld({ clock });
      if (name === failIn) world.metrics.respond(() => replies.errors(0.3));
      stacks[name] = orchestratedStack(sfn, world, name, defaultRollout(strategy), functions);
    }
    sfn.createStateMachine(RELEASE_MACHINE, waveStateMachine({ waves: 2, maxConcurrency: 2, bakeSeconds: 1800 }));
    const item = (name: string) => ({ stack: name, stateMachineArn: stacks[name]!.machineArn, runId: `release-42-${name}` });
    const input = { release: "release-42", waves: [[item("prod-eu-west-1"), item("prod-eu-central-1")], [item("prod-us-east-1")]] };
    return { sfn, stacks, input, clock };
  }

  test("all healthy: wave 1's two stacks, a bake, then wave 2; every stack succeeded on its own journal", async () => {
    const { sfn, stacks, input } = release();
    const done = await sfn.startExecution(RELEASE_MACHINE, "release-42", input).result;
    expect(done.status).toBe("SUCCEEDED");
    for (const stack of Object.values(stacks)) {
      expect(parseJournal(stack.world.journal.value)).toMatchObject({ phase: "succeeded", runId: `release-42-${stack.stack}` });
      expect(stack.world.router.current()).toEqual({ blue: 0, green: 100 });
    }
    expect(done.history.filter((s) => !s.startsWith("RolloutStack"))).toEqual(["Wave1", "BakeAfterWave1", "Wave2", "Released"]);
    // Wave 2 started after both of wave 1 ended and the bake.
    const wave1End = Math.max(...["prod-eu-west-1", "prod-eu-central-1"].map((n) => stacks[n]!.world.router.writes.at(-1)!.at));
    expect(stacks["prod-us-east-1"]!.world.router.writes[0]!.at).toBeGreaterThanOrEqual(wave1End + 1800_000);
    const executions = sfn.executions.filter((e) => e.machineArn !== RELEASE_MACHINE);
    console.log(
      `release of 3 stacks in 2 waves: ${done.transitions} transitions in the wave machine, ${executions.reduce((n, e) => n + e.transitions, 0)} in the stacks' rollouts, ${sfn.invocationCount()} invocations`,
    );
  });

  test("an injected failure in wave 1 stops the release: wave 2's stack is never touched", async () => {
    const { sfn, stacks, input } = release("prod-eu-west-1");
    const done = await sfn.startExecution(RELEASE_MACHINE, "release-42", input).result;
    expect(done.status).toBe("FAILED");
    expect(done.error?.error).toBe(WAVE_ERRORS.failed);
    expect(done.history).not.toContain("Wave2");
    expect(done.history).not.toContain("BakeAfterWave1");

    const failed = stacks["prod-eu-west-1"]!;
    expect(parseJournal(failed.world.journal.value).phase).toBe("rolled-back");
    expect(failed.world.router.current()).toEqual({ blue: 100, green: 0 });
    // Wave 2: no execution, no invocation, no journal, no weight written.
    const untouched = stacks["prod-us-east-1"]!;
    expect(sfn.executions.some((e) => e.machineArn === untouched.machineArn)).toBe(false);
    expect(untouched.invocations).toBe(0);
    expect(untouched.world.journal.value).toBeNull();
    expect(untouched.world.router.writes).toEqual([]);
    // The sibling in wave 1 was stopped (not rolled back by the release: its journal says where it stands, resumable).
    const sibling = sfn.executions.find((e) => e.machineArn === stacks["prod-eu-central-1"]!.machineArn)!;
    expect(["ABORTED", "SUCCEEDED"]).toContain(sibling.status);
  });
});
