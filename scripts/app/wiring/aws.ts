// Wiring: the engine's ports implemented by the AWS adapters, from the stack outputs.
//
// Every SDK client is loaded lazily (aws/sdk.ts), and only the ones a command needs: `rollback`
// loads the SSM client (its first call is the lock) and the ELBv2 client (the weights), nothing else.
// Clients get the stack's region (its ARNs live there); credentials come from the default chain,
// retries from the SDK's retry mode, endpoint overrides from AWS_ENDPOINT_URL* (all SDK-native),
// timeouts that throw from aws/errors.ts clientConfig. The lock and the journal are named by the
// stack's identity (project and stack, checked against the outputs before any AWS call); the
// rollback path's adapters take the command's deadline as an AbortSignal source.

import type { StackConfig } from "../../../infra/config.js";
import type { RollbackOutputs, StackOutputs } from "../../../infra/vocabulary/stackOutputs.js";
import type { CutoverDeps, RollbackDeps } from "../../core/engine.js";
import {
  systemClock,
  type CapacityManager,
  type DataReplication,
  type HealthProbe,
  type OperatorRequestChannel,
  type SchemaMigrator,
  type Snapshotter,
  type TrafficRouter,
  type WeightRecorder,
  type WriteFence,
} from "../../core/ports.js";
import type { SignalSource } from "../../aws/errors.js";
import type { OpenStack } from "../stack.js";
import { shortStackName } from "../stackOutputs.js";

/** Which stack the ports act on: its name, whose lock and journal (established before any AWS call), its config file. */
export type AwsStack = Pick<OpenStack, "name" | "identity" | "configPath">;

export interface AwsOptions {
  /** The AbortSignal for each call (rollback's and status's --deadline). */
  signal?: SignalSource;
  /** Also write each weight reached into Pulumi.<stack>.yaml `traffic.weights` (cutover/rollback --write-config). */
  writeConfig?: boolean;
  cwd: string;
  /** rollout.fenceDrainSeconds in ms: how long a raised fence waits for writes in flight. */
  fenceDrainMs?: number;
}

async function elbClient(region: string) {
  const [{ elbSdk }, { clientConfig, quietSdkNodeVersionWarning }] = await Promise.all([import("../../aws/sdk.js"), import("../../aws/errors.js")]);
  quietSdkNodeVersionWarning();
  return new (elbSdk().ElasticLoadBalancingV2Client)(clientConfig(region));
}

async function ssmClient(region: string) {
  const [{ ssmSdk }, { clientConfig, quietSdkNodeVersionWarning }] = await Promise.all([import("../../aws/sdk.js"), import("../../aws/errors.js")]);
  quietSdkNodeVersionWarning();
  return new (ssmSdk().SSMClient)(clientConfig(region));
}

/**
 * The weight recorder: the stack's SSM weights parameter, the live weights' one owner (README "Who
 * owns the weights"), and with --write-config also the local Pulumi.<stack>.yaml (opt-in: that
 * file is the config's seed only). The parameter is written first: it is what `pulumi up` reads.
 */
async function weightRecorder(ssm: import("@aws-sdk/client-ssm").SSMClient, stack: AwsStack, options: AwsOptions): Promise<WeightRecorder> {
  const { SsmWeightsParameter } = await import("../../aws/weightsParameter.js");
  const parameter = new SsmWeightsParameter(ssm, identityOf(stack), options.signal ? { signal: options.signal } : {});
  if (!options.writeConfig) return parameter;
  return {
    record: async (weights) => {
      await parameter.record(weights);
      const { PulumiConfigWeightRecorder } = await import("../pulumiConfigFile.js");
      await new PulumiConfigWeightRecorder(stack.configPath).record(weights);
    },
  };
}

const identityOf = (stack: Pick<AwsStack, "identity">) => ({ project: stack.identity.project, stack: stack.identity.stack });
const callOptions = (signal: SignalSource | undefined) => (signal ? { signal } : {});

/** The stack outputs a cutover's ports are built from (the advance Lambda carries exactly these). */
export type CutoverOutputs = Pick<
  StackOutputs,
  | "region"
  | "listenerArns"
  | "targetGroupArns"
  | "stickinessSeconds"
  | "albArnSuffix"
  | "targetGroupArnSuffixes"
  | "alarmNames"
  | "databaseInstanceIds"
  | "fenceRuleArns"
  | "asgNames"
>;

/** Every port a cutover reads and moves (promote, status, maintenance and migrate use parts of it); the fence when the stack has one. */
export async function awsCutoverDeps(stack: AwsStack, outputs: CutoverOutputs, options: AwsOptions): Promise<CutoverDeps & { fence: WriteFence | undefined }> {
  const region = outputs.region;
  const identity = identityOf(stack);
  const [
    { cloudWatchSdk, rdsSdk },
    { clientConfig },
    { AlbRouter },
    { AlbTargetHealth },
    { CloudWatchMetrics },
    { CloudWatchAlarms },
    { SsmLock },
    { SsmJournalStore },
    { AlbFence },
    { ShellHookRunner },
    { SsmOperatorRequests },
    elb,
    ssm,
  ] = await Promise.all([
    import("../../aws/sdk.js"),
    import("../../aws/errors.js"),
    import("../../aws/albRouter.js"),
    import("../../aws/targetHealth.js"),
    import("../../aws/cloudwatchMetrics.js"),
    import("../../aws/alarms.js"),
    import("../../aws/ssmLock.js"),
    import("../../aws/ssmJournal.js"),
    import("../../aws/albFence.js"),
    import("../../hooks/shellHookRunner.js"),
    import("../../aws/ssmRequests.js"),
    elbClient(region),
    ssmClient(region),
  ]);
  const cloudwatch = new (cloudWatchSdk().CloudWatchClient)(clientConfig(region));
  // The command's deadline, for each call of the adapters that status and maintenance read.
  const calls = callOptions(options.signal);
  const deps: CutoverDeps & { fence: WriteFence | undefined } = {
    router: new AlbRouter(elb, routesOf(outputs), calls),
    health: new AlbTargetHealth(elb, outputs.targetGroupArns, calls),
    metrics: new CloudWatchMetrics(cloudwatch, { albArnSuffix: outputs.albArnSuffix, targetGroupArnSuffixes: outputs.targetGroupArnSuffixes }),
    alarms: new CloudWatchAlarms(cloudwatch, outputs.alarmNames, calls),
    lock: new SsmLock(ssm, identity, calls),
    journal: new SsmJournalStore(ssm, identity, undefined, calls),
    requests: new SsmOperatorRequests(ssm, identity, calls),
    snapshotter: await blueSnapshotter(outputs, shortStackName(stack.name), () => new (rdsSdk().RDSClient)(clientConfig(region))),
    hooks: new ShellHookRunner(options.cwd),
    recorder: await weightRecorder(ssm, stack, options),
    clock: systemClock,
    fence: outputs.fenceRuleArns.length > 0 ? new AlbFence(elb, outputs.fenceRuleArns, { drainMs: options.fenceDrainMs ?? 0, ...calls }) : undefined,
  };
  if (outputs.asgNames.blue !== null || outputs.asgNames.green !== null) deps.capacity = lazyCapacity(outputs.region, outputs.asgNames);
  return deps;
}

/** `pause` and `abort`: the lock, the journal and the operator-request channel of the stack (the SSM client only). */
export async function awsOperatorRequestDeps(
  stack: AwsStack,
  outputs: Pick<RollbackOutputs, "region">,
): Promise<Pick<CutoverDeps, "lock" | "journal"> & { requests: OperatorRequestChannel }> {
  const [{ SsmLock }, { SsmJournalStore }, { SsmOperatorRequests }, ssm] = await Promise.all([
    import("../../aws/ssmLock.js"),
    import("../../aws/ssmJournal.js"),
    import("../../aws/ssmRequests.js"),
    ssmClient(outputs.region),
  ]);
  const identity = identityOf(stack);
  return { lock: new SsmLock(ssm, identity), journal: new SsmJournalStore(ssm, identity), requests: new SsmOperatorRequests(ssm, identity) };
}

const routesOf = (outputs: Pick<StackOutputs, "listenerArns" | "targetGroupArns" | "stickinessSeconds">) => ({
  listenerArns: outputs.listenerArns,
  targetGroupArns: outputs.targetGroupArns,
  stickinessSeconds: outputs.stickinessSeconds,
});

async function blueSnapshotter(
  outputs: Pick<StackOutputs, "databaseInstanceIds">,
  stack: string,
  rds: () => import("@aws-sdk/client-rds").RDSClient,
): Promise<Snapshotter> {
  const blueInstance = outputs.databaseInstanceIds.blue;
  if (!blueInstance) return { snapshot: () => Promise.reject(new Error("the stack outputs name no database instance for blue (databaseInstanceIds.blue)")) };
  const { RdsSnapshotter } = await import("../../aws/rdsSnapshot.js");
  return new RdsSnapshotter(rds(), { stack, instanceId: blueInstance });
}

/**
 * The colors' Auto Scaling groups (rollout.capacity), loaded on first use: `rollback` calls it only
 * when a successful cutover had scaled blue down, so its start-up never loads the client.
 */
export function lazyCapacity(region: string, asgNames: Record<"blue" | "green", string | null>, signal?: SignalSource): CapacityManager {
  let manager: Promise<CapacityManager> | null = null;
  const load = () =>
    (manager ??= Promise.all([import("../../aws/autoScaling.js"), import("../../aws/errors.js")]).then(
      ([{ AsgCapacity, autoScalingSdk }, { clientConfig }]) => {
        return new AsgCapacity(new (autoScalingSdk().AutoScalingClient)(clientConfig(region)), asgNames, callOptions(signal));
      },
    ));
  return {
    capacity: async (color) => (await load()).capacity(color),
    setDesired: async (color, desired) => (await load()).setDesired(color, desired),
    describeScale: (color) => `SetDesiredCapacity ${asgNames[color] ?? `(no ${color} Auto Scaling group)`}`,
  };
}

/**
 * Rollback's ports: lock and journal on SSM (loaded first: the lock is its first call), the ALB
 * router on ELBv2 (loaded once the lock call has returned, while the journal calls travel), the
 * weight recorder (on first use, after the verified flip). With Auto Scaling groups also the
 * capacity and target health a rollback after `--scale-down-blue` scales blue back with, both
 * loaded on first use and bounded by the deadline too.
 */
export async function awsRollbackDeps(stack: AwsStack, outputs: RollbackOutputs, options: AwsOptions): Promise<RollbackDeps> {
  const identity = identityOf(stack);
  const calls = callOptions(options.signal);
  const [{ SsmLock }, { SsmJournalStore }, ssm] = await Promise.all([
    import("../../aws/ssmLock.js"),
    import("../../aws/ssmJournal.js"),
    ssmClient(outputs.region),
  ]);
  let elb: ReturnType<typeof elbClient> | null = null;
  const loadElb = () => (elb ??= elbClient(outputs.region));
  let routerPromise: Promise<TrafficRouter> | null = null;
  const loadRouter = () =>
    (routerPromise ??= Promise.all([import("../../aws/albRouter.js"), loadElb()]).then(
      ([{ AlbRouter }, client]) => new AlbRouter(client, routesOf(outputs), calls),
    ));
  const lock = new SsmLock(ssm, identity, calls);
  const deps: RollbackDeps = {
    router: {
      describeWrites: () => outputs.listenerArns.map((arn) => `ModifyListener ${arn}`),
      readWeights: async () => (await loadRouter()).readWeights(),
      writeWeights: async (weights) => (await loadRouter()).writeWeights(weights),
    },
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
    journal: new SsmJournalStore(ssm, identity, undefined, calls),
    recorder: { record: async (weights) => (await weightRecorder(ssm, stack, options)).record(weights) },
    clock: systemClock,
  };
  if (outputs.asgNames) {
    deps.capacity = lazyCapacity(outputs.region, outputs.asgNames, options.signal);
    deps.health = lazyHealth(outputs, loadElb, options.signal);
  }
  return deps;
}

function lazyHealth(outputs: RollbackOutputs, elb: () => ReturnType<typeof elbClient>, signal: SignalSource | undefined): HealthProbe {
  let probe: Promise<HealthProbe> | null = null;
  const load = () =>
    (probe ??= Promise.all([import("../../aws/targetHealth.js"), elb()]).then(
      ([{ AlbTargetHealth }, client]) => new AlbTargetHealth(client, outputs.targetGroupArns, callOptions(signal)),
    ));
  return { health: async (color) => (await load()).health(color) };
}

/** Paired mode's extra ports for a rollback: the fence and replication both ways, each loaded on first use; close() ends the database connections. */
export interface PairedRollbackPorts {
  fence: WriteFence;
  replication: DataReplication & { close(): Promise<void> };
}

/**
 * The lossless rollback's fence and replication. The fence's drain time and the database name come
 * from the config, which rollback reads only after its first AWS call: `config` resolves to it (or
 * null when it cannot be read: the defaults then), and `needConfig` is called when the fence is first used.
 */
export async function awsPairedRollbackPorts(
  stack: Pick<OpenStack, "raw">,
  outputs: Pick<RollbackOutputs, "region" | "fenceRuleArns">,
  wiring: { config: Promise<StackConfig | null>; needConfig: () => void; signal?: SignalSource },
): Promise<PairedRollbackPorts> {
  const [{ lazyReplication }, { ROLLOUT_DEFAULTS }] = await Promise.all([
    import("../../postgres/stackReplication.js"),
    import("../../../infra/vocabulary/rolloutDefaults.js"),
  ]);
  let fence: Promise<WriteFence> | null = null;
  const loadFence = () => {
    wiring.needConfig();
    return (fence ??= wiring.config.then((config) =>
      createFence(outputs, { drainMs: (config?.rollout.fenceDrainSeconds ?? ROLLOUT_DEFAULTS.fenceDrainSeconds) * 1000, ...callOptions(wiring.signal) }),
    ));
  };
  return {
    fence: { set: async (mode) => (await loadFence()).set(mode), read: async () => (await loadFence()).read() },
    replication: lazyReplication({
      rawOutputs: stack.raw.raw,
      source: stack.raw.source,
      // No name given: the outputs' databaseName, the one source (postgres/stackDatabases.ts); absent
      // in older outputs, the RDS secret's dbname, else "app" (app/rollback.ts warns).
      databaseName: undefined,
    }),
  };
}

/** Paired mode's extra ports for a cutover: replication both ways and the newest parity result (reports/parity-latest.json). */
export async function awsPairedCutoverPorts(
  stack: Pick<OpenStack, "raw">,
  databaseName: string | undefined,
  cwd: string,
): Promise<{ replication: DataReplication & { close(): Promise<void> }; parity: import("../../core/ports.js").ParitySource }> {
  const [{ lazyReplication }, { fileParitySource }] = await Promise.all([import("../../postgres/stackReplication.js"), import("./parityFile.js")]);
  return {
    replication: lazyReplication({ rawOutputs: stack.raw.raw, source: stack.raw.source, databaseName }),
    parity: fileParitySource(`${cwd}/reports/parity-latest.json`),
  };
}

/** Expand migrations in rollout.migrationsDir: the migrator of the cutover's migrating phase, or undefined when there are none. */
export async function awsMigrator(
  stack: Pick<OpenStack, "raw">,
  config: Pick<StackConfig, "rollout" | "database">,
  cwd: string,
): Promise<SchemaMigrator | undefined> {
  const { resolve } = await import("node:path");
  const { hasExpandMigrations, PostgresSchemaMigrator } = await import("../../postgres/migrate/schemaMigrator.js");
  const dir = resolve(cwd, config.rollout.migrationsDir);
  if (!(await hasExpandMigrations(dir))) return undefined;
  const { targetsFromOutputs } = await import("../../postgres/migrate/targets.js");
  return new PostgresSchemaMigrator({
    dir,
    // The database name from the outputs (targets.ts: outputs databaseName first), as every other reader.
    targets: () => targetsFromOutputs(stack.raw.raw, stack.raw.source, { writer: "blue" }),
  });
}

/** The fence alone (ELBv2 only): maintenance's, and the paired rollback's. */
export async function createFence(
  outputs: Pick<RollbackOutputs, "region" | "fenceRuleArns">,
  options: { drainMs?: number; signal?: SignalSource } = {},
): Promise<WriteFence> {
  const [{ AlbFence }, elb] = await Promise.all([import("../../aws/albFence.js"), elbClient(outputs.region)]);
  return new AlbFence(elb, outputs.fenceRuleArns, { drainMs: options.drainMs ?? 0, ...callOptions(options.signal) });
}

/**
 * The stack's orchestrator: "local" when the outputs name no rollout state machine, else its
 * Step Functions executions and the approval parameter (SSM), each client loaded here only.
 */
export async function awsOrchestrator(
  stack: Pick<AwsStack, "identity">,
  outputs: Pick<StackOutputs, "region" | "rolloutStateMachineArn">,
  options: { signal?: SignalSource } = {},
): Promise<import("../executions/port.js").StackOrchestrator> {
  const machineArn = outputs.rolloutStateMachineArn;
  if (machineArn === null) return { kind: "local" };
  const [sfn, ssm, { SsmApprovalParameter }, { executionArnOf, executionConsoleUrl }] = await Promise.all([
    sfnExecutionsClient(regionOf(machineArn), options.signal),
    ssmClient(outputs.region),
    import("../../aws/approvalParameter.js"),
    import("../../aws/stepFunctions.js"),
  ]);
  const parameter = new SsmApprovalParameter(ssm, identityOf(stack), callOptions(options.signal));
  return {
    kind: "stepfunctions",
    stack: stack.identity.stack,
    rollout: executionsOf(sfn, machineArn, executionArnOf, executionConsoleUrl),
    approvals: {
      read: () => parameter.read(),
      delete: () => parameter.delete(),
      sendTaskSuccess: (token, output) => sfn.sendTaskSuccess(token, output),
    },
  };
}

const regionOf = (arn: string): string => arn.split(":")[3] ?? "";

async function sfnExecutionsClient(region: string, signal: SignalSource | undefined) {
  const [{ StepFunctionsExecutions, sfnSdk }, { clientConfig, quietSdkNodeVersionWarning }] = await Promise.all([
    import("../../aws/stepFunctions.js"),
    import("../../aws/errors.js"),
  ]);
  quietSdkNodeVersionWarning();
  return new StepFunctionsExecutions(new (sfnSdk().SFNClient)(clientConfig(region)), callOptions(signal));
}

/** One state machine's executions on Step Functions (a stack's rollout machine, a host's release machine). */
export async function awsExecutions(machineArn: string, signal?: SignalSource): Promise<import("../executions/port.js").Executions> {
  const [sfn, { executionArnOf, executionConsoleUrl }] = await Promise.all([
    sfnExecutionsClient(regionOf(machineArn), signal),
    import("../../aws/stepFunctions.js"),
  ]);
  return executionsOf(sfn, machineArn, executionArnOf, executionConsoleUrl);
}

function executionsOf(
  sfn: import("../../aws/stepFunctions.js").StepFunctionsExecutions,
  machineArn: string,
  executionArnOf: (machineArn: string, name: string) => string,
  consoleUrl: (executionArn: string) => string,
): import("../executions/port.js").Executions {
  return {
    machineArn,
    executionArn: (name) => executionArnOf(machineArn, name),
    start: (name, input) => sfn.start(machineArn, name, input),
    describe: (arn) => sfn.describe(arn),
    lastEvents: (arn, count) => sfn.lastEvents(arn, count),
    stop: (arn, error, cause) => sfn.stop(arn, error, cause),
    consoleUrl,
  };
}

/** The stack's journal alone (SSM), for a command that only reads it. */
export async function awsJournal(
  stack: Pick<AwsStack, "identity">,
  region: string,
  signal?: SignalSource,
): Promise<import("../../core/ports.js").JournalStore> {
  const [{ SsmJournalStore }, ssm] = await Promise.all([import("../../aws/ssmJournal.js"), ssmClient(region)]);
  return new SsmJournalStore(ssm, identityOf(stack), undefined, callOptions(signal));
}

/**
 * Paired mode's replication both ways from the databases' part of a stack's outputs (endpoints,
 * secret ARNs, name): the advance Lambda's, built as the guard's paired rollback builds its own
 * (scripts/app/guard/awsGuard.ts guardReplication) and as `cutover`/`rollback` do from the real
 * outputs: scripts/postgres/stackReplication.ts, loaded with pg and the credentials on first use.
 */
export async function awsPairedReplication(
  databaseOutputs: Record<string, unknown>,
  source: string,
  databaseName: string,
): Promise<DataReplication & { close(): Promise<void> }> {
  const { lazyReplication } = await import("../../postgres/stackReplication.js");
  return lazyReplication({ rawOutputs: databaseOutputs, source, databaseName });
}
