// A stack whose rollouts run on the local ASL runner: the rollout state machine from the
// generator, the advance "Lambda" as a handler that builds a fresh engine (new deps) over the
// stack's fake world on every invocation, and the approval task recording its token like the
// real function would. Nothing of the engine outlives an invocation; only the world's stores do.

import { parseStackConfig, type RolloutConfig } from "../../infra/config.js";
import type { EngineDeps } from "../../scripts/core/engine.js";
import { advanceRollout, type AdvanceOutcome, type Approval } from "../../scripts/core/orchestrator/advance.js";
import type { Json, LocalStepFunctions } from "../../scripts/core/orchestrator/localRunner.js";
import { rolloutStateMachine } from "../../scripts/core/orchestrator/stateMachine.js";
import type { FakeWorld } from "./fakes.js";

/** The rollout policy's defaults (the sequential judge), as a stack config without `rollout` gets them. */
export function defaultRollout(strategy?: RolloutConfig["strategy"]): RolloutConfig {
  const rollout = parseStackConfig({
    region: "eu-west-1",
    network: { mode: "create", availabilityZones: ["eu-west-1a", "eu-west-1b"] },
    app: { blue: { amiId: "ami-0abc12345def67890", userData: "x" }, green: { amiId: "ami-0abc12345def67890", userData: "x" } },
    database: { mode: "shared" },
    traffic: { weights: { blue: 100, green: 0 } },
  }).rollout;
  return { ...rollout, ...(strategy ? { strategy } : {}), gates: { ...rollout.gates, minHealthyTargets: 2 } };
}

export interface OrchestratedStack {
  stack: string;
  world: FakeWorld;
  machineArn: string;
  functionArn: string;
  /** Every outcome the advance function returned, in order. */
  outcomes: AdvanceOutcome[];
  /** Invocations of the advance function (approval registrations included). */
  invocations: number;
  /** Fresh engine instances built (one per advance invocation). */
  engines: number;
  /** The next N advance invocations throw before touching anything (an unreachable SSM, say). */
  failNext: number;
  /** Deps overrides for the next engines (e.g. a journal that fails). */
  depsOverrides: Partial<EngineDeps>;
}

export function orchestratedStack(
  sfn: LocalStepFunctions,
  world: FakeWorld,
  stack: string,
  rollout: RolloutConfig,
  functions: Record<string, (payload: Json) => Promise<Json>>,
): OrchestratedStack {
  const functionArn = `arn:aws:lambda:eu-west-1:123456789012:function:${stack}-advance`;
  const machineArn = `arn:aws:states:eu-west-1:123456789012:stateMachine:${stack}-rollout`;
  const state: OrchestratedStack = { stack, world, machineArn, functionArn, outcomes: [], invocations: 0, engines: 0, failNext: 0, depsOverrides: {} };
  functions[functionArn] = async (payload: Json) => {
    state.invocations += 1;
    const input = payload as { action?: string; runId: string; approval?: Approval; taskToken?: string };
    if (input.action === "await-approval") return { recorded: input.taskToken !== undefined };
    if (state.failNext > 0) {
      state.failNext -= 1;
      throw Object.assign(new Error("SSM GetParameter: connect ETIMEDOUT"), { name: "UnreachableError" });
    }
    state.engines += 1;
    const outcome = await advanceRollout(world.deps(state.depsOverrides), {
      runId: input.runId,
      rollout,
      databaseMode: "shared",
      stack,
      owner: `stepfunctions:${stack}/${input.runId}`,
      approval: input.approval ?? null,
    });
    state.outcomes.push(outcome);
    return outcome;
  };
  sfn.createStateMachine(machineArn, rolloutStateMachine({ advanceFunctionArn: functionArn }));
  return state;
}
