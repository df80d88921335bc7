// `npm run cutover` between its flags and the engine: the AWS cutover of an opened stack, its
// ports wired once (paired mode's replication and parity, the expand migrations), previewed
// (--dry-run, with the traffic-aware time to a decision) or run under the operator's Ctrl-C
// policy (policies/cutoverInterrupt.ts).

import type { StackConfig } from "../../infra/config.js";
import type { StackOutputs } from "../../infra/vocabulary/stackOutputs.js";
import type { CutoverDeps, CutoverRequest } from "../core/engine.js";
import type { EventSink } from "../core/events.js";
import type { Plan } from "../core/plan.js";
import type { RouteWeights } from "../core/ports.js";
import type { RecentTraffic } from "../core/trafficPlan.js";
import { UsageError } from "../core/errors.js";
import { answerNoOnAbort, LastKnownState, processSigint, runWithOperatorPolicy, type OperatorPolicyResult } from "./policies/cutoverInterrupt.js";
import type { OpenStack } from "./stack.js";
import { awsCutoverDeps, awsMigrator, awsPairedCutoverPorts } from "./wiring/aws.js";

/** Config and outputs must describe the same stack. */
export function crossCheck(config: StackConfig, outputs: StackOutputs, configPath: string, source: string): void {
  if (config.region !== outputs.region) {
    throw new UsageError(
      `${configPath} says region ${config.region}, the stack outputs (${source}) say ${outputs.region}: is --stack / --outputs the right stack?`,
    );
  }
  if (config.database.mode !== outputs.databaseMode) {
    throw new UsageError(
      `${configPath} says database.mode "${config.database.mode}", the deployed stack (${source}) says "${outputs.databaseMode}": run \`pulumi up\` first, or fix the config`,
    );
  }
  // The database name has one source, the stack outputs: the config may only agree with it.
  if (outputs.databaseName !== null && config.database.databaseName !== outputs.databaseName) {
    throw new UsageError(
      `${configPath} says database.databaseName "${config.database.databaseName}", the deployed stack (${source}) says "${outputs.databaseName}": run \`pulumi up\` first, or fix the config`,
    );
  }
  if (outputs.databaseMode === "paired" && outputs.databaseName === null) {
    throw new UsageError(
      `the stack outputs (${source}) name no databaseName (a stack deployed before it was exported): run \`pulumi up\`, so that replication and parity read the deployed name, not the config's`,
    );
  }
}

export interface AwsCutover {
  deps: CutoverDeps;
  /** Releases the database connections paired mode's replication kept. */
  close(): Promise<void>;
}

/** The cutover's ports on AWS, with paired mode's replication and parity and the expand migrations when there are any. */
export async function wireAwsCutover(opened: OpenStack, config: StackConfig, options: { cwd: string; writeConfig: boolean }): Promise<AwsCutover> {
  const outputs = opened.outputs();
  const deps: CutoverDeps = await awsCutoverDeps(opened, outputs, {
    cwd: options.cwd,
    writeConfig: options.writeConfig,
    fenceDrainMs: config.rollout.fenceDrainSeconds * 1000,
  });
  let close = async (): Promise<void> => undefined;
  if (outputs.databaseMode === "paired") {
    const paired = await awsPairedCutoverPorts(opened, outputs.databaseName ?? undefined, options.cwd);
    deps.replication = paired.replication;
    deps.parity = paired.parity;
    close = () => paired.replication.close();
  }
  const migrator = await awsMigrator(opened, config, options.cwd);
  if (migrator) deps.migrator = migrator;
  return { deps, close };
}

export interface CutoverPreview {
  plan: Plan;
  lines: string[];
  routes: RouteWeights[];
  traffic: RecentTraffic | null;
}

/** --dry-run: the plan from live weights and, for the judge, the last hour of traffic → each judged phase's expected time to a decision. */
export async function previewAwsCutover(
  deps: CutoverDeps,
  request: Pick<CutoverRequest, "rollout" | "databaseMode" | "skipSnapshot">,
): Promise<CutoverPreview> {
  const [engine, { describeTimeToDecision, readRecentTraffic }] = await Promise.all([import("../core/engine.js"), import("../core/trafficPlan.js")]);
  const preview = await engine.previewCutover(deps, request);
  // Traffic-aware plan: the last hour per color (and blue's movement) → the expected time to a decision per step.
  const { traffic, failure, dispersion } = await readRecentTraffic(deps.metrics, preview.plan.pollMs);
  const lines = [...preview.lines, ...describeTimeToDecision(preview.plan, traffic, failure, dispersion, deps.metrics.publicationDelayMs)];
  return { plan: preview.plan, routes: preview.routes, traffic, lines };
}

export interface CutoverRun {
  deps: CutoverDeps;
  request: CutoverRequest;
  /** Every event: the printer, the webhook and what Ctrl-C reports as last seen. */
  events: EventSink;
  state: LastKnownState;
  stderr: NodeJS.WritableStream;
  /** The command that sends traffic back to blue, for the second Ctrl-C's message. */
  rollbackCommand: string;
  /** Exit the process at once (the second Ctrl-C), closing the live view first. */
  exitNow: (code: number) => void;
  /** The PROCEED prompt's input: a Ctrl-C there answers it with "no" (nothing has moved yet). */
  stdin: { pause(): unknown };
}

/** Run the cutover under the operator's Ctrl-C policy: the first stops it and rolls back, the second exits at once. */
export async function runAwsCutover(run: CutoverRun): Promise<OperatorPolicyResult> {
  const engine = await import("../core/engine.js");
  const settings = { events: run.events };
  return runWithOperatorPolicy({
    interrupts: processSigint,
    stderr: run.stderr,
    exitNow: run.exitNow,
    rollbackCommand: run.rollbackCommand,
    state: run.state,
    cutover: (signal) => {
      const ask = run.request.confirm;
      const request = ask ? { ...run.request, confirm: answerNoOnAbort(ask, signal, run.stdin) } : run.request;
      return engine.runCutover(run.deps, { ...request, signal }, settings);
    },
    rollback: () =>
      engine.runRollback(
        run.deps,
        {
          owner: run.request.owner,
          databaseMode: run.request.databaseMode,
          stack: run.request.stack!,
          reason: "the operator pressed Ctrl-C during the cutover",
        },
        settings,
      ),
  });
}

export { LastKnownState };
