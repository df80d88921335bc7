// The sections `status` reads, each on its own (one that fails is shown as an error and the others
// still print), in parallel, each raced against the deadline. To add a section: its value's type
// in AwsSectionValues, its reader in `awsSectionReaders` (the name it is reported under), a field
// of StatusReport (report.ts) and a renderer in render.ts RENDERERS.
//
// The replication section (paired mode) is read with the sync library over the connections of
// scripts/postgres/stackDatabases.ts, loaded only in paired mode; it never changes the exit code:
// the databases usually sit in private subnets an operator's machine cannot reach.

import type { StackOutputs } from "../../../infra/vocabulary/stackOutputs.js";
import type { RawOutputs } from "../../app/stackOutputs.js";
import type { CutoverDeps } from "../../core/engine.js";
import type { Journal } from "../../core/journal.js";
import type { LockHolder, ReplicationDirection, RouteWeights, Weights, WriteFence } from "../../core/ports.js";
import type { SyncStatus } from "../../postgres/sync/status.js";
import { readExecutionSection } from "../executionStatus.js";
import { replicationView, section, withTimeout, type Deadline, type LastRunView, type Section, type StatusHooks, type StatusReport } from "./report.js";

export interface StatusContext {
  stack: string;
  outputs: StackOutputs;
  raw: RawOutputs;
  configPath: string;
  /** The config's weights, read once before any AWS call. */
  configRead: Section<Weights | null>;
  deps: CutoverDeps & { fence: WriteFence | undefined };
  hooks: StatusHooks;
  deadlineSeconds: number;
}

type HealthView = StatusReport["health"]["blue"] extends Section<infer T> ? T : never;

/** The value of each AWS section. */
export interface AwsSectionValues {
  parameterWeights: { name: string; exists: boolean; weights: Weights | null };
  routes: RouteWeights[];
  blueHealth: HealthView;
  greenHealth: HealthView;
  alarms: import("../../aws/alarms.js").AlarmState[];
  fence: Array<{ rule: string; mode: import("../../core/ports.js").FenceMode | "unknown" }>;
  lock: LockHolder | null;
  lastRun: LastRunView | null;
}

type Readers<T> = { [K in keyof T]: { name: string; read: (() => Promise<T[K]>) | null } };
type Results<T> = { [K in keyof T]: Section<T[K]> | null };

/** The AWS sections: the name each is reported under, and how it is read (null: the stack has none). */
function awsSectionReaders(ctx: StatusContext, seen: { journal: Journal | null }): Readers<AwsSectionValues> {
  const { deps } = ctx;
  const health = deps.health as import("../../aws/targetHealth.js").AlbTargetHealth;
  const alarms = deps.alarms as import("../../aws/alarms.js").CloudWatchAlarms;
  const fence = deps.fence as import("../../aws/albFence.js").AlbFence | undefined;
  const healthOf = (color: "blue" | "green") => async () => {
    const targets = await health.targets(color);
    const { summarizeTargets } = await import("../../aws/targetHealth.js");
    return { ...summarizeTargets(targets), targets };
  };
  return {
    routes: { name: "live weights", read: () => deps.router.readWeights() },
    parameterWeights: { name: "weights parameter", read: () => readParameterWeights(deps) },
    blueHealth: { name: "blue target health", read: healthOf("blue") },
    greenHealth: { name: "green target health", read: healthOf("green") },
    alarms: { name: "alarms", read: () => alarms.states() },
    fence: { name: "write fence", read: fence ? () => fence.readEach() : null },
    lock: { name: "lock", read: () => deps.lock.current() },
    lastRun: { name: "last run", read: () => readLastRun(deps, seen) },
  };
}

async function readParameterWeights(deps: CutoverDeps): Promise<AwsSectionValues["parameterWeights"]> {
  const { SsmWeightsParameter } = await import("../../aws/weightsParameter.js");
  if (!(deps.recorder instanceof SsmWeightsParameter)) throw new Error("internal error: no weights parameter wired");
  const read = await deps.recorder.read();
  return { name: deps.recorder.name, exists: read.exists, weights: read.exists ? read.weights : null };
}

async function readLastRun(deps: CutoverDeps, seen: { journal: Journal | null }): Promise<LastRunView | null> {
  const loaded = await deps.journal.load();
  if (loaded === null || loaded === undefined) return null;
  const [{ outcomeOf, parseJournal }, { formatEvent }, { pauseView }] = await Promise.all([
    import("../../core/journal.js"),
    import("../../core/events.js"),
    import("../../core/engine/pause.js"),
  ]);
  const journal = parseJournal(loaded);
  seen.journal = journal;
  const last = journal.timeline.at(-1);
  return {
    runId: journal.runId,
    operation: journal.operation,
    phase: journal.phase,
    outcome: outcomeOf(journal),
    updatedAt: new Date(journal.updatedAt).toISOString(),
    last: last ? formatEvent(last) : null,
    pause: pauseView(journal, Date.now()),
  };
}

/** syncStatus over the connections built from the stack outputs, their database name included (its one source). */
function stackSyncStatus(raw: RawOutputs, databaseName: string | null, signal: AbortSignal): (direction: ReplicationDirection) => Promise<SyncStatus> {
  let urls: Promise<{ blue: string; green: string }> | null = null;
  const load = () =>
    (urls ??= (async () => {
      if (databaseName === null) throw new Error(`the stack outputs (${raw.source}) name no databaseName (deployed before it was exported): run \`pulumi up\``);
      const { connectionsFromOutputs } = await import("../../postgres/stackDatabases.js");
      const connections = await connectionsFromOutputs(raw, { database: databaseName, signal, purpose: "the replication section of status" });
      return { blue: connections.blue.url, green: connections.green.url };
    })());
  return async (direction) => {
    const [both, { syncStatus, syncName }] = await Promise.all([load(), import("../../postgres/sync/index.js")]);
    const [source, target] = direction === "blue-to-green" ? (["blue", "green"] as const) : (["green", "blue"] as const);
    return syncStatus({
      sourceUrl: both[source],
      targetUrl: both[target],
      sourceLabel: `${source} database`,
      targetLabel: `${target} database`,
      name: syncName(direction),
      signal,
    });
  };
}

async function readReplication(ctx: StatusContext, deadline: Deadline): Promise<StatusReport["replication"]> {
  const read = ctx.hooks.syncStatus ?? stackSyncStatus(ctx.raw, ctx.outputs.databaseName, deadline.signal);
  const timeoutMs = ctx.hooks.replicationTimeoutMs ?? 20_000;
  const direction = (d: ReplicationDirection) => section(() => withTimeout(read(d).then(replicationView), timeoutMs, `replication ${d}`), deadline);
  const [forward, reverse] = await Promise.all([direction("blue-to-green"), direction("green-to-blue")]);
  return { "blue-to-green": forward, "green-to-blue": reverse };
}

/** Every reader at once, each raced against the deadline; `onSection` hears each as it settles. */
async function readAll<T>(readers: Readers<T>, deadline: Deadline, hooks: StatusHooks): Promise<Results<T>> {
  const keys = Object.keys(readers) as (keyof T)[];
  const settled = await Promise.all(
    keys.map(async (key) => {
      const { name, read } = readers[key];
      if (!read) return null;
      const result = await section(read, deadline);
      hooks.onSection?.(name, result.ok);
      return result;
    }),
  );
  return Object.fromEntries(keys.map((key, i) => [key, settled[i]])) as Results<T>;
}

/** One reading of every section, and the journal it saw (for the watch view); `failed`/`allUnreachable` decide the exit code. */
export async function readStatus(
  ctx: StatusContext,
  deadline: Deadline,
): Promise<{ report: StatusReport; journal: Journal | null; failed: number; allUnreachable: boolean }> {
  const seen: { journal: Journal | null } = { journal: null };
  const readers = awsSectionReaders(ctx, seen);
  const [aws, replication] = await Promise.all([
    readAll(readers, deadline, ctx.hooks),
    ctx.outputs.databaseMode === "paired" ? readReplication(ctx, deadline) : Promise.resolve(null),
  ]);
  const named = (Object.keys(readers) as (keyof AwsSectionValues)[]).map((key): [string, Section<unknown> | null] => [readers[key].name, aws[key]]);
  const unanswered = named.filter(([, s]) => s !== null && !s.ok && s.late === true).map(([name]) => name);
  const read = named.map(([, s]) => s).filter((s): s is Section<unknown> => s !== null);
  const failed = read.filter((s): s is Section<unknown> & { ok: false } => !s.ok);
  const report = assembleReport(ctx, aws, replication, unanswered);
  // The execution is the last run's, so it is read once the journal is known.
  const execution = await readExecutionSection(ctx.outputs, seen.journal?.runId ?? null, deadline.signal);
  if (execution) report.execution = execution;
  return { report, journal: seen.journal, failed: failed.length, allUnreachable: failed.length === read.length && failed.every((s) => s.unreachable) };
}

const unread = <T>(s: Section<T> | null): Section<T> => s ?? { ok: false, error: "not read", unreachable: false };

/** The sections as the report shows them: the weights side by side with drift worked out. */
function assembleReport(ctx: StatusContext, aws: Results<AwsSectionValues>, replication: StatusReport["replication"], unanswered: string[]): StatusReport {
  const parameterWeights = unread(aws.parameterWeights);
  const routes = unread(aws.routes);
  const seed = ctx.configRead.ok ? ctx.configRead.value : null;
  const owner = parameterWeights.ok ? parameterWeights.value : null;
  // `pulumi up` builds the listener from the parameter; only a parameter that does not exist yet lets the config seed it.
  const wanted = owner === null ? null : owner.exists ? owner.weights : seed;
  const differs = (a: Weights, b: Weights | null) => (b === null ? null : a.blue !== b.blue || a.green !== b.green);
  const routesWithDrift: StatusReport["routes"] = routes.ok
    ? {
        ok: true,
        value: routes.value.map((r) => ({
          ...r,
          drift: differs(r.weights, wanted) === true,
          differs: { parameter: owner === null || !owner.exists ? null : differs(r.weights, owner.weights), config: differs(r.weights, seed) },
        })),
      }
    : routes;
  return {
    stack: ctx.stack,
    region: ctx.outputs.region,
    databaseMode: ctx.outputs.databaseMode,
    configPath: ctx.configPath,
    configWeights: ctx.configRead,
    parameterWeights,
    pulumiUpWeights: wanted,
    routes: routesWithDrift,
    drift: routesWithDrift.ok && wanted !== null ? routesWithDrift.value.some((r) => r.drift) : null,
    configDiffersFromParameter: owner?.exists && owner.weights && seed ? differs(owner.weights, seed) : null,
    health: { blue: unread(aws.blueHealth), green: unread(aws.greenHealth) },
    alarms: unread(aws.alarms),
    fence: aws.fence,
    lock: unread(aws.lock),
    lastRun: unread(aws.lastRun),
    replication,
    deadline: { seconds: ctx.deadlineSeconds, passed: unanswered.length > 0, unanswered },
  };
}

/** A config file that is there but broken is bad input (exit 2, before any AWS call); a missing one is only a section error. */
export async function readConfigSection(configPath: string): Promise<Section<Weights | null>> {
  const { readConfigWeights } = await import("../../app/pulumiConfigFile.js");
  return readConfigWeights(configPath).then(
    (weights) => ({ ok: true as const, value: weights }),
    (error: Error) => {
      if (/ does not exist /.test(error.message)) return { ok: false as const, error: error.message.split("\n")[0] ?? String(error), unreachable: false };
      throw error;
    },
  );
}
