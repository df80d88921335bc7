// The sandbox's composition root: the engine's ports over the local router, the app processes,
// embedded PostgreSQL and the run directory, for the three ways the sandbox runs the engine: the
// demo's own process (sandboxDemoDeps), the sandbox cutover's process (sandboxCutoverDeps, over
// the router's control API) and the sandbox guard's (sandboxGuardDeps). Lock, journal, snapshots
// and the weight record live in the run directory; in the demo's process those file adapters are
// sealed when the sandbox is released, so nothing the engine still does can recreate the directory.

import { join } from "node:path";
import type { CutoverDeps, GuardDeps } from "../../core/engine.js";
import {
  systemClock,
  type Clock,
  type Color,
  type JournalStore,
  type Lock,
  type MetricsSource,
  type Snapshotter,
  type WeightRecorder,
} from "../../core/ports.js";
import { ShellHookRunner } from "../../hooks/shellHookRunner.js";
import { LocalAlarmSource, LocalHealthProbe, LocalMetricsSource, LocalSnapshotter, LocalTrafficRouter, LocalWriteFence } from "../../local/adapters.js";
import { SandboxCapacity, type InstancePools } from "../../local/capacity.js";
import { processAlive } from "../../local/childLifecycle.js";
import type { AppProcess } from "../../local/processes.js";
import type { LocalRouter } from "../../local/router.js";
import type { RouterControlAccess } from "../../local/routerControl.js";
import { RemoteMetricsSource, RemoteTrafficRouter } from "../../local/routerControlClient.js";
import { runDirectoryStores } from "../../local/runDirectory.js";
import type { PostgresDataReplication } from "../../postgres/replication.js";

/** What the demo's sandbox offers the wiring: its router, app processes, databases and run directory. */
export interface SandboxWiring extends InstancePools {
  readonly router: LocalRouter | null;
  readonly apps: Record<Color, AppProcess> | null;
  readonly replication: PostgresDataReplication | null;
  readonly runDir: string;
  readonly blueUrl: string;
  readonly isSealed: boolean;
  onRelease(name: string, stop: () => Promise<unknown> | void): void;
}

/**
 * Wall clock for the engine. A sleep ends early, without rejecting, when the engine's own
 * signal or the demo's aborts (the Clock contract): the engine then sees its signal aborted and
 * stops at its next safe point, with outcome "interrupted".
 */
export function demoClock(demoSignal: AbortSignal): Clock {
  return {
    now: () => Date.now(),
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve) => {
        const signals = signal && signal !== demoSignal ? [demoSignal, signal] : [demoSignal];
        if (signals.some((s) => s.aborted)) return resolve();
        const wake = () => {
          clearTimeout(timer);
          for (const s of signals) s.removeEventListener("abort", wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        for (const s of signals) s.addEventListener("abort", wake, { once: true });
      }),
  };
}

class SealedError extends Error {
  constructor(what: string) {
    super(`${what}: the sandbox is being torn down`);
    this.name = "SealedError";
  }
}

/** Lock, journal, snapshots and weight record in the run directory, refusing to write once the sandbox is released. */
function runDirectoryAdapters(sandbox: SandboxWiring): Pick<CutoverDeps, "lock" | "journal" | "snapshotter" | "recorder" | "requests"> {
  const guard = (what: string) => {
    if (sandbox.isSealed) throw new SealedError(what);
  };
  const stores = runDirectoryStores(sandbox.runDir);
  const fileLock = stores.lock;
  const lock: Lock = {
    acquire: async (holder) => (guard("lock"), fileLock.acquire(holder)),
    release: async (owner) => (guard("lock"), fileLock.release(owner)),
    breakLock: async () => (guard("lock"), fileLock.breakLock()),
    current: () => fileLock.current(),
  };
  const fileJournal = stores.journal;
  const journal: JournalStore = {
    load: () => fileJournal.load(),
    save: async (document) => (guard("journal"), fileJournal.save(document)),
  };
  const localSnapshots = new LocalSnapshotter(sandbox.blueUrl, join(sandbox.runDir, "snapshots"));
  const snapshotter: Snapshotter = { snapshot: async (label, timeoutMs, signal) => (guard("snapshot"), localSnapshots.snapshot(label, timeoutMs, signal)) };
  const weights = stores.recorder;
  const recorder: WeightRecorder = { record: async (next) => (guard("weight record"), weights.record(next)) };
  return { lock, journal, snapshotter, recorder, requests: stores.requests };
}

/** The demo's in-process engine: a cutover's ports over the sandbox (its settings: the caller's). */
export function sandboxDemoDeps(sandbox: SandboxWiring, signal: AbortSignal): CutoverDeps {
  const router = sandbox.router!;
  const apps = sandbox.apps!;
  const trafficRouter = new LocalTrafficRouter(router, 0);
  sandbox.onRelease("router writes", () => trafficRouter.dispose());
  return {
    router: trafficRouter,
    // Every instance of a color, those capacity match adds included.
    health: new LocalHealthProbe({ blue: () => sandbox.pools.blue.map((app) => app.url), green: () => sandbox.pools.green.map((app) => app.url) }),
    capacity: new SandboxCapacity(sandbox),
    metrics: new LocalMetricsSource(router, 1000),
    alarms: new LocalAlarmSource(() => [apps.blue, apps.green].filter((app) => app.exited()).map((app) => `sandbox-${app.color}-process-exited`)),
    ...runDirectoryAdapters(sandbox),
    hooks: new ShellHookRunner(),
    clock: demoClock(signal),
    fence: new LocalWriteFence(router),
    ...(sandbox.replication ? { replication: sandbox.replication, parity: sandbox.replication.paritySource() } : {}),
  };
}

/** What the sandbox cutover's process is told: the apps' health URLs and process ids. */
export interface SandboxTargets {
  targets: Record<Color, string[]>;
  pids: Record<Color, number[]>;
}

/** The sandbox cutover's own process: the production engine over the router's control API, the apps' health and the run directory. */
export function sandboxCutoverDeps(access: RouterControlAccess, runDir: string, request: SandboxTargets, databaseUrl: string): CutoverDeps {
  return {
    router: new RemoteTrafficRouter(access),
    metrics: new RemoteMetricsSource(access, 1000),
    health: new LocalHealthProbe(request.targets),
    alarms: new LocalAlarmSource(() =>
      (["blue", "green"] as const).filter((color) => request.pids[color].some((pid) => !processAlive(pid))).map((color) => `sandbox-${color}-process-exited`),
    ),
    ...runDirectoryStores(runDir),
    snapshotter: new LocalSnapshotter(databaseUrl, join(runDir, "snapshots")),
    hooks: new ShellHookRunner(),
    clock: systemClock,
  };
}

/** The sandbox guard's own process: a rollback's ports over the control API and the run directory, and the metrics it watches. */
export function sandboxGuardDeps(access: RouterControlAccess, runDir: string): GuardDeps & { metrics: MetricsSource } {
  // The guard only rolls back: it reads no operator requests.
  const { lock, journal, recorder } = runDirectoryStores(runDir);
  return { router: new RemoteTrafficRouter(access), metrics: new RemoteMetricsSource(access, 1000), lock, journal, recorder, clock: systemClock };
}

/** What the sandbox's stand-in for Step Functions needs: how to build a fresh engine's ports for each invocation of the advance function. */
export interface SandboxOrchestratorOptions {
  stack: string;
  rollout: import("../../../infra/config.js").RolloutConfig;
  /** Fresh ports for one invocation (nothing of an engine outlives it), with the event sink. */
  deps: () => import("../../core/engine.js").EngineDeps;
  clock: Clock;
  /** A bake's sleep at least this long ends an invocation (the sandbox's polls are a second apart). */
  stopAtWaitMs: number;
  /** Told when an invocation of the advance function starts and ends, and when a Wait state starts. */
  onInvocation?: (edge: "start" | "end", payload: unknown) => void;
  onWait?: (state: string, seconds: number) => Promise<void> | void;
}

export const SANDBOX_ADVANCE_FUNCTION = "arn:aws:lambda:sandbox:000000000000:function:demo-advance";
export const SANDBOX_ROLLOUT_MACHINE = "arn:aws:states:sandbox:000000000000:stateMachine:demo-rollout";

/**
 * The sandbox's orchestrator: the local ASL runner running the generated rollout machine, its
 * advance task the real `advanceRollout` over fresh sandbox ports each invocation, its approval
 * task recording the token where `promote` finds it. Returned as the commands' port, with the runner.
 */
export async function sandboxOrchestrator(options: SandboxOrchestratorOptions) {
  const [{ LocalStepFunctions, StatesError }, { rolloutStateMachine }, { advanceRollout }, { ExecutionExistsError }] = await Promise.all([
    import("../../core/orchestrator/localRunner.js"),
    import("../../core/orchestrator/stateMachine.js"),
    import("../../core/orchestrator/advance.js"),
    import("../../aws/stepFunctions.js"),
  ]);
  let pending: import("../../aws/approvalParameter.js").PendingApproval | null = null;
  const advance = async (payload: unknown): Promise<unknown> => {
    const input = payload as { action?: string; runId: string; step?: number; taskToken?: string; approval?: { approvedBy: string; step: number } };
    options.onInvocation?.("start", payload);
    try {
      if (input.action === "await-approval") {
        pending = { runId: input.runId, step: input.step ?? 0, taskToken: input.taskToken ?? "", recordedAt: options.clock.now() };
        return { recorded: true };
      }
      return await advanceRollout(options.deps(), {
        runId: input.runId,
        rollout: options.rollout,
        databaseMode: "shared",
        stack: options.stack,
        owner: `stepfunctions:${options.stack}/${input.runId}`,
        approval: input.approval ?? null,
        stopAtWaitMs: options.stopAtWaitMs,
      });
    } finally {
      options.onInvocation?.("end", payload);
    }
  };
  const sfn = new LocalStepFunctions({
    clock: options.clock,
    functions: { [SANDBOX_ADVANCE_FUNCTION]: advance },
    ...(options.onWait ? { onWait: (_execution, state, seconds) => options.onWait?.(state, seconds) } : {}),
  });
  sfn.createStateMachine(SANDBOX_ROLLOUT_MACHINE, rolloutStateMachine({ advanceFunctionArn: SANDBOX_ADVANCE_FUNCTION }));
  const arnOf = (name: string) => `${SANDBOX_ROLLOUT_MACHINE.replace(":stateMachine:", ":execution:")}:${name}`;
  const find = (arn: string) => sfn.executions.find((e) => arnOf(e.name) === arn) ?? null;
  const executions: import("../executions/port.js").Executions = {
    machineArn: SANDBOX_ROLLOUT_MACHINE,
    executionArn: arnOf,
    start: (name, input) => {
      try {
        return Promise.resolve(arnOf(sfn.startExecution(SANDBOX_ROLLOUT_MACHINE, name, input).name));
      } catch (error) {
        if (error instanceof StatesError && error.error === "ExecutionAlreadyExists") throw new ExecutionExistsError(name, arnOf(name));
        throw error;
      }
    },
    describe: (arn) => {
      const e = find(arn);
      return Promise.resolve(
        e && {
          executionArn: arn,
          name: e.name,
          status: e.status,
          startedAt: null,
          stoppedAt: null,
          error: e.error?.error ?? null,
          cause: e.error?.cause ?? null,
          input: e.input,
        },
      );
    },
    lastEvents: (arn, count) =>
      Promise.resolve(
        (find(arn)?.history ?? [])
          .map((state, id) => ({ id, at: 0, type: "StateEntered", state, data: null }))
          .reverse()
          .slice(0, count),
      ),
    stop: (arn) => {
      const e = find(arn);
      if (e) sfn.stopExecution(e);
      return Promise.resolve();
    },
    consoleUrl: (arn) => `(sandbox) ${arn}`,
  };
  const approvals: import("../executions/port.js").Approvals = {
    read: () => Promise.resolve(pending),
    delete: () => Promise.resolve(void (pending = null)),
    sendTaskSuccess: (token, output) => Promise.resolve(sfn.sendTaskSuccess(token, output)),
  };
  return { sfn, executions, approvals, waitForApproval: () => sfn.nextTaskToken() };
}
