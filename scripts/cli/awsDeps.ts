// Wiring: the engine's ports implemented by the AWS adapters, from the stack outputs.
//
// Every SDK client is loaded lazily (aws/sdk.ts), and only the ones a command needs: `rollback`
// loads the SSM client (its first call is the lock) and the ELBv2 client (the weights), nothing else.
// Clients get the stack's region (its ARNs live there); credentials come from the default chain,
// retries from the SDK's retry mode, endpoint overrides from AWS_ENDPOINT_URL* (all SDK-native),
// timeouts that throw from aws/errors.ts clientConfig. The lock and the journal are named by the
// stack's identity (project and stack, checked against the outputs before any AWS call); the
// rollback path's adapters take the command's deadline as an AbortSignal source.

import type { EngineDeps } from "../core/engine.js";
import type { EventSink } from "../core/events.js";
import type { CapacityManager } from "../core/ports.js";
import { systemClock, unusedPort, type WeightRecorder, type AlarmSource, type HealthProbe, type HookRunner, type MetricsSource, type Snapshotter, type TrafficRouter, type WriteFence } from "../core/ports.js";
import type { SignalSource } from "../aws/errors.js";
import type { RollbackOutputs, StackIdentity, StackOutputs } from "./stackOutputs.js";
import { shortStackName } from "./stackOutputs.js";

export interface AwsWiring {
  stack: string;
  /** Whose lock and journal: established by stackIdentity (stackOutputs.ts) before any AWS call. */
  identity: Pick<StackIdentity, "project" | "stack">;
  /** The AbortSignal for each call (rollback's and status's --deadline). */
  signal?: SignalSource;
  configPath: string;
  /** Also write each weight reached into Pulumi.<stack>.yaml `traffic.weights` (cutover/rollback --write-config). */
  writeConfig?: boolean;
  cwd: string;
  events?: EventSink;
  /** rollout.fenceDrainSeconds in ms: how long a raised fence waits for writes in flight. */
  fenceDrainMs?: number;
}

async function elbClient(region: string) {
  const [{ elbSdk }, { clientConfig, quietSdkNodeVersionWarning }] = await Promise.all([import("../aws/sdk.js"), import("../aws/errors.js")]);
  quietSdkNodeVersionWarning();
  return new (elbSdk().ElasticLoadBalancingV2Client)(clientConfig(region));
}

async function ssmClient(region: string) {
  const [{ ssmSdk }, { clientConfig, quietSdkNodeVersionWarning }] = await Promise.all([import("../aws/sdk.js"), import("../aws/errors.js")]);
  quietSdkNodeVersionWarning();
  return new (ssmSdk().SSMClient)(clientConfig(region));
}

/**
 * The weight recorder: the stack's SSM weights parameter, the live weights' one owner (README "Who
 * owns the weights"), and with --write-config also the local Pulumi.<stack>.yaml (opt-in: that
 * file is the config's seed only). The parameter is written first: it is what `pulumi up` reads.
 */
async function weightRecorder(ssm: import("@aws-sdk/client-ssm").SSMClient, identity: { project: string; stack: string }, wiring: AwsWiring): Promise<WeightRecorder> {
  const { SsmWeightsParameter } = await import("../aws/weightsParameter.js");
  const parameter = new SsmWeightsParameter(ssm, identity, wiring.signal ? { signal: wiring.signal } : {});
  if (!wiring.writeConfig) return parameter;
  return {
    record: async (weights) => {
      await parameter.record(weights);
      const { PulumiConfigWeightRecorder } = await import("./pulumiConfigFile.js");
      await new PulumiConfigWeightRecorder(wiring.configPath).record(weights);
    },
  };
}

/** Everything a cutover needs (status and maintenance use parts of it). */
export async function createAwsDeps(outputs: StackOutputs, wiring: AwsWiring): Promise<EngineDeps & { fence: WriteFence | undefined }> {
  const region = outputs.region;
  const stack = shortStackName(wiring.stack);
  const identity = { project: wiring.identity.project, stack: wiring.identity.stack };
  const [
    { cloudWatchSdk, rdsSdk },
    { clientConfig },
    { AlbRouter },
    { AlbTargetHealth },
    { CloudWatchMetrics },
    { CloudWatchAlarms },
    { SsmLock },
    { SsmJournalStore },
    { RdsSnapshotter },
    { AlbFence },
    { ShellHookRunner },
    elb,
    ssm,
  ] = await Promise.all([
    import("../aws/sdk.js"),
    import("../aws/errors.js"),
    import("../aws/albRouter.js"),
    import("../aws/targetHealth.js"),
    import("../aws/cloudwatchMetrics.js"),
    import("../aws/alarms.js"),
    import("../aws/ssmLock.js"),
    import("../aws/ssmJournal.js"),
    import("../aws/rdsSnapshot.js"),
    import("../aws/albFence.js"),
    import("./hookRunner.js"),
    elbClient(region),
    ssmClient(region),
  ]);
  const cloudwatch = new (cloudWatchSdk().CloudWatchClient)(clientConfig(region));
  const rds = new (rdsSdk().RDSClient)(clientConfig(region));
  const blueInstance = outputs.databaseInstanceIds.blue;
  // The command's deadline, for each call of the adapters that status and maintenance read.
  const calls = wiring.signal ? { signal: wiring.signal } : {};
  const snapshotter: Snapshotter = blueInstance
    ? new RdsSnapshotter(rds, { stack, instanceId: blueInstance })
    : { snapshot: () => Promise.reject(new Error("the stack outputs name no database instance for blue (databaseInstanceIds.blue)")) };
  const deps: EngineDeps & { fence: WriteFence | undefined } = {
    router: new AlbRouter(
      elb,
      {
        listenerArns: outputs.listenerArns,
        targetGroupArns: outputs.targetGroupArns,
        stickinessSeconds: outputs.stickinessSeconds,
      },
      calls,
    ),
    health: new AlbTargetHealth(elb, outputs.targetGroupArns, calls),
    metrics: new CloudWatchMetrics(cloudwatch, { albArnSuffix: outputs.albArnSuffix, targetGroupArnSuffixes: outputs.targetGroupArnSuffixes }),
    alarms: new CloudWatchAlarms(cloudwatch, outputs.alarmNames, calls),
    lock: new SsmLock(ssm, identity, calls),
    journal: new SsmJournalStore(ssm, identity, undefined, calls),
    snapshotter,
    hooks: new ShellHookRunner(wiring.cwd),
    recorder: await weightRecorder(ssm, identity, wiring),
    clock: systemClock,
    fence: outputs.fenceRuleArns.length > 0 ? new AlbFence(elb, outputs.fenceRuleArns, { drainMs: wiring.fenceDrainMs ?? 0, ...calls }) : undefined,
  };
  if (wiring.events) deps.events = wiring.events;
  if (outputs.asgNames.blue !== null || outputs.asgNames.green !== null) deps.capacity = lazyCapacity(outputs.region, outputs.asgNames);
  return deps;
}

/**
 * The colors' Auto Scaling groups (rollout.capacity), loaded on first use: `rollback` calls it only
 * when a successful cutover had scaled blue down, so its start-up never loads the client.
 */
export function lazyCapacity(region: string, asgNames: Record<"blue" | "green", string | null>, signal?: SignalSource): CapacityManager {
  let manager: Promise<CapacityManager> | null = null;
  const load = () =>
    (manager ??= Promise.all([import("../aws/autoScaling.js"), import("../aws/errors.js")]).then(([{ AsgCapacity, autoScalingSdk }, { clientConfig }]) => {
      return new AsgCapacity(new (autoScalingSdk().AutoScalingClient)(clientConfig(region)), asgNames, signal ? { signal } : {});
    }));
  return {
    capacity: async (color) => (await load()).capacity(color),
    setDesired: async (color, desired) => (await load()).setDesired(color, desired),
    describeScale: (color) => `SetDesiredCapacity ${asgNames[color] ?? `(no ${color} Auto Scaling group)`}`,
  };
}

/**
 * Rollback's ports: lock and journal on SSM (loaded first: the lock is its first call), the ALB
 * router on ELBv2 (loaded once the lock call has returned, while the journal calls travel), the
 * weight recorder. The ports rollback never touches are placeholders that fail loudly if called.
 */
export async function createRollbackDeps(outputs: RollbackOutputs, wiring: AwsWiring): Promise<EngineDeps> {
  const identity = { project: wiring.identity.project, stack: wiring.identity.stack };
  const options = wiring.signal ? { signal: wiring.signal } : {};
  const [{ SsmLock }, { SsmJournalStore }, ssm] = await Promise.all([import("../aws/ssmLock.js"), import("../aws/ssmJournal.js"), ssmClient(outputs.region)]);
  let routerPromise: Promise<TrafficRouter> | null = null;
  const loadRouter = () =>
    (routerPromise ??= Promise.all([import("../aws/albRouter.js"), elbClient(outputs.region)]).then(
      ([{ AlbRouter }, elb]) =>
        new AlbRouter(
          elb,
          {
            listenerArns: outputs.listenerArns,
            targetGroupArns: outputs.targetGroupArns,
            stickinessSeconds: outputs.stickinessSeconds,
          },
          options,
        ),
    ));
  const lock = new SsmLock(ssm, identity, options);
  const router: TrafficRouter = {
    describeWrites: () => outputs.listenerArns.map((arn) => `ModifyListener ${arn}`),
    readWeights: async () => (await loadRouter()).readWeights(),
    writeWeights: async (weights) => (await loadRouter()).writeWeights(weights),
  };
  const deps: EngineDeps = {
    router,
    health: unusedPort<HealthProbe>("health"),
    metrics: unusedPort<MetricsSource>("metrics", { resolutionMs: 60_000 }),
    alarms: unusedPort<AlarmSource>("alarms"),
    lock: {
      acquire: (holder) => {
        const sent = lock.acquire(holder);
        // Load ELBv2 once the lock call has come back, while the journal calls travel; not before:
        // its import would compete with the first request for the CPU.
        void sent.then(
          () => loadRouter().catch(() => undefined),
          () => undefined,
        );
        return sent;
      },
      release: (owner) => lock.release(owner),
      breakLock: () => lock.breakLock(),
      current: () => lock.current(),
    },
    journal: new SsmJournalStore(ssm, identity, undefined, options),
    snapshotter: unusedPort<Snapshotter>("snapshotter"),
    hooks: unusedPort<HookRunner>("hooks"),
    // Loaded on first use: the recorder runs after the verified flip, off rollback's start-up path.
    recorder: { record: async (weights) => (await weightRecorder(ssm, identity, wiring)).record(weights) },
    clock: systemClock,
  };
  if (wiring.events) deps.events = wiring.events;
  // Bounded by the deadline too: a rollback after `--scale-down-blue` scales blue back first.
  if (outputs.asgNames) deps.capacity = lazyCapacity(outputs.region, outputs.asgNames, wiring.signal);
  return deps;
}

/** The fence for rollback in paired mode (ELBv2 only). */
export async function createFence(
  outputs: Pick<RollbackOutputs, "region" | "fenceRuleArns">,
  options: { drainMs?: number; signal?: SignalSource } = {},
): Promise<WriteFence> {
  const [{ AlbFence }, elb] = await Promise.all([import("../aws/albFence.js"), elbClient(outputs.region)]);
  return new AlbFence(elb, outputs.fenceRuleArns, { drainMs: options.drainMs ?? 0, ...(options.signal ? { signal: options.signal } : {}) });
}
