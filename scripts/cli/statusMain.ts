// `npm run status`: live weights per listener/rule beside the stack's weights parameter (their
// owner, what `pulumi up` applies) and the config's seed, and which differ; target
// health per color, alarm states, the write fence, the lock holder, the last journal entry and,
// in database.mode paired, logical replication per direction (running, lag, tables ready).
// Read-only. Each section is read independently: one that fails is shown as an error and the
// others still print. Exit 0 when everything was read, 3 when AWS could not be reached at all.
// A bound on time to an answer (--deadline, default 20 s, counted from the command's start; the
// parser and the timer are rollback's, scripts/cli/deadline.ts): every AWS call carries the
// deadline's AbortSignal, and each section is raced against it, so at the deadline status prints
// what it has read, shows each section still waiting as "not answered before the deadline", says
// so on stderr and exits 3.
// The replication section never changes the exit code: the databases usually sit in private
// subnets an operator's machine cannot reach, and status must still answer there
// ("unreachable: reason"). It is read with the sync library (scripts/postgres/sync) over the
// connections of scripts/postgres/stackDatabases.ts, loaded only in paired mode.

import { setMaxListeners } from "node:events";
import { addStackOptions, parse, processIo, program, type Io } from "./args.js";
import { openStack } from "../app/stack.js";
import { ExitCode, outputMode, UnreachableError } from "./common.js";
import { abortAfter, parseDeadlineSeconds } from "../app/policies/deadline.js";
import { raceAbort } from "../core/abort.js";
import type { RawOutputs } from "../app/stackOutputs.js";
import type { FenceMode, LockHolder, ReplicationDirection, RouteWeights, Weights } from "../core/ports.js";
import type { SyncStatus } from "../postgres/sync/status.js";
import { bytes as formatBytes } from "../postgres/sync/format.js";
import type { AlarmState } from "../aws/alarms.js";
import type { PauseView } from "../core/engine/pause.js";
import type { TargetDetail } from "../aws/targetHealth.js";
import { readExecutionSection, renderExecutionSection } from "./executionStatus.js";

interface StatusOptions {
  stack?: string;
  outputs?: string;
  config?: string;
  json?: boolean;
  allowUnverifiedStack?: boolean;
  deadline?: string;
}

/** status answers within this long unless told otherwise: well under the SDK's own retry bound (~31 s). */
const DEFAULT_DEADLINE_SECONDS = 20;

/** late: the section had not answered when the deadline passed (its error says so). */
type Section<T> = { ok: true; value: T } | { ok: false; error: string; unreachable: boolean; late?: true };

/** One replication direction as status shows it. */
export interface ReplicationView {
  name: string;
  /** The apply worker runs on the target. */
  running: boolean;
  enabled: boolean;
  lagBytes: number | null;
  lagSeconds: number | null;
  tablesReady: number;
  tablesTotal: number;
  healthy: boolean;
  problems: string[];
}

export interface StatusHooks {
  /** Read one direction (tests inject this). Default: syncStatus over the stack's database connections. */
  syncStatus?: (direction: ReplicationDirection) => Promise<SyncStatus>;
  /** Bound on the replication section; default 20 s. */
  replicationTimeoutMs?: number;
  /** The deadline's signal instead of the --deadline timer: tests abort it on an event, never on time. */
  deadline?: AbortSignal;
  /** Called as each AWS section settles, by its name in `deadline.unanswered` ("lock", "live weights", ...). */
  onSection?: (name: string, ok: boolean) => void;
}

/** The deadline as the sections see it: its signal and what a section that missed it says. */
interface Deadline {
  signal: AbortSignal;
  message: string;
}

/** null when nothing of that direction exists (no subscription, publication or slot). */
export function replicationView(status: SyncStatus): ReplicationView | null {
  if (!status.subscription.exists && !status.publication.exists && status.slot === null) return null;
  return {
    name: status.name,
    running: status.workerRunning,
    enabled: status.subscription.enabled,
    lagBytes: status.lag.bytes,
    lagSeconds: status.lag.seconds,
    tablesReady: status.tablesReady,
    tablesTotal: status.tablesTotal,
    healthy: status.healthy,
    problems: status.problems,
  };
}

/** syncStatus over the connections built from the stack outputs (and the config's database name). */
function stackSyncStatus(raw: RawOutputs, configPath: string, signal: AbortSignal): (direction: ReplicationDirection) => Promise<SyncStatus> {
  let urls: Promise<{ blue: string; green: string }> | null = null;
  const load = () =>
    (urls ??= (async () => {
      const [{ connectionsFromOutputs }, { loadStackConfig }] = await Promise.all([
        import("../postgres/stackDatabases.js"),
        import("../app/pulumiConfigFile.js"),
      ]);
      const database = await loadStackConfig(configPath).then(
        (config) => config.database.databaseName,
        () => undefined,
      );
      const connections = await connectionsFromOutputs(raw, { database, signal, purpose: "the replication section of status" });
      return { blue: connections.blue.url, green: connections.green.url };
    })());
  return async (direction) => {
    const [both, { syncStatus, syncName }] = await Promise.all([load(), import("../postgres/sync/index.js")]);
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

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UnreachableError(`${what}: no answer within ${Math.round(ms / 1000)} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function section<T>(read: () => Promise<T>, deadline?: Deadline): Promise<Section<T>> {
  try {
    return { ok: true, value: await (deadline ? raceAbort(read(), deadline.signal, () => new UnreachableError(deadline.message)) : read()) };
  } catch (error) {
    // Failed once the deadline had passed: the deadline is the reason, whatever the call said (an aborted call, say).
    if (deadline?.signal.aborted) return { ok: false, error: deadline.message, unreachable: true, late: true };
    return { ok: false, error: (error as Error).message.split("\n")[0] ?? String(error), unreachable: error instanceof UnreachableError };
  }
}

export interface StatusReport {
  stack: string;
  region: string;
  databaseMode: string;
  configPath: string;
  configWeights: Section<Weights | null>;
  /** The stack's SSM weights parameter, the live weights' owner (README "Who owns the weights"). */
  parameterWeights: Section<{ name: string; exists: boolean; weights: Weights | null }>;
  /** What a `pulumi up` now would set: the parameter's weights, or the config's while the parameter does not exist. */
  pulumiUpWeights: Weights | null;
  /** drift: live differs from pulumiUpWeights; differs: from each source (null when that source could not be read). */
  routes: Section<Array<RouteWeights & { drift: boolean; differs: { parameter: boolean | null; config: boolean | null } }>>;
  drift: boolean | null;
  /** The config's seed differs from the parameter: harmless, the parameter owns the weights. */
  configDiffersFromParameter: boolean | null;
  health: Record<"blue" | "green", Section<{ healthy: number; unhealthy: number; total: number; targets: TargetDetail[] }>>;
  alarms: Section<AlarmState[]>;
  fence: Section<Array<{ rule: string; mode: FenceMode | "unknown" }>> | null;
  lock: Section<LockHolder | null>;
  lastRun: Section<{
    runId: string;
    operation: string;
    phase: string;
    outcome: string | null;
    updatedAt: string;
    last: string | null;
    pause?: PauseView | null;
  } | null>;
  /** database.mode paired only (else null); a direction's value is null when it is not set up. */
  replication: Record<ReplicationDirection, Section<ReplicationView | null>> | null;
  /** A stack whose rollouts run on Step Functions: the last run's execution (./executionStatus.ts); absent otherwise. */
  execution?: import("./executionStatus.js").ExecutionSection;
  /** --deadline: passed when it ran out before every AWS section had answered (then exit 3); unanswered names them. */
  deadline: { seconds: number; passed: boolean; unanswered: string[] };
}

export async function statusMain(argv: readonly string[], io: Io = processIo(), hooks: StatusHooks = {}): Promise<ExitCode> {
  const began = performance.now();
  const command = addStackOptions(
    program(
      "status",
      "Live weights beside the weights parameter (what `pulumi up` applies) and the config seed, and which differ; target health, alarms, fence, lock holder, last run; replication in database.mode paired. Read-only.",
      io,
    ),
  ).option(
    "--deadline <seconds>",
    `answer within this long: print what was read by then, the rest as not answered, and exit 3 (default ${DEFAULT_DEADLINE_SECONDS})`,
  );
  const parsed = parse<StatusOptions & Record<string, unknown>>(command, argv);
  if (!parsed) return ExitCode.ok;
  const options: StatusOptions = parsed.options;
  const deadlineMs = parseDeadlineSeconds(options.deadline, DEFAULT_DEADLINE_SECONDS);
  // Identity before any AWS call (openStack checks it): a typo'd --stack is exit 2, not another stack's status.
  const opened = await openStack(options, io, { quiet: options.json === true });
  const { configPath, raw, name: stack } = opened;
  const outputs = opened.outputs();

  const [{ awsCutoverDeps }, { readConfigWeights }, { outcomeOf, parseJournal }, { formatEvent }] = await Promise.all([
    import("../app/wiring/aws.js"),
    import("../app/pulumiConfigFile.js"),
    import("../core/journal.js"),
    import("../core/events.js"),
  ]);
  // A config file that is there but broken (bad YAML, an alias bomb) is bad input: exit 2 before
  // any AWS call. A missing one is only a section error: status must answer without it.
  const configRead = await readConfigWeights(configPath).then(
    (weights) => ({ ok: true as const, value: weights }),
    (error: Error) => {
      if (/ does not exist /.test(error.message)) return { ok: false as const, error: error.message.split("\n")[0] ?? String(error), unreachable: false };
      throw error;
    },
  );
  // The deadline, counted from the command's start (its start-up and the outputs included).
  const timer = new AbortController();
  const deadlineText = `--deadline ${deadlineMs / 1000} s`;
  const stopTimer = hooks.deadline ? () => undefined : abortAfter(timer, deadlineMs, new Error(`the status deadline (${deadlineText}) has passed`), began);
  const deadline: Deadline = { signal: hooks.deadline ?? timer.signal, message: `not answered before the deadline (${deadlineText})` };
  // Each section's race and each SDK call listen on it (about 16 at once): not the leak Node warns of past 10.
  setMaxListeners(64, deadline.signal);
  const deps = await awsCutoverDeps(opened, outputs, { cwd: io.cwd, signal: () => deadline.signal });
  const health = deps.health as import("../aws/targetHealth.js").AlbTargetHealth;
  const alarms = deps.alarms as import("../aws/alarms.js").CloudWatchAlarms;
  const fence = deps.fence as import("../aws/albFence.js").AlbFence | undefined;

  /** One AWS section, raced against the deadline, by the name it is reported under. */
  const aws = async <T>(name: string, read: () => Promise<T>): Promise<Section<T>> => {
    const result = await section(read, deadline);
    hooks.onSection?.(name, result.ok);
    return result;
  };
  const healthOf = (color: "blue" | "green") =>
    aws(`${color} target health`, async () => {
      const targets = await health.targets(color);
      const { summarizeTargets } = await import("../aws/targetHealth.js");
      return { ...summarizeTargets(targets), targets };
    });
  const readReplication = async (): Promise<StatusReport["replication"]> => {
    const read = hooks.syncStatus ?? stackSyncStatus(raw, configPath, deadline.signal);
    const timeoutMs = hooks.replicationTimeoutMs ?? 20_000;
    const direction = (d: ReplicationDirection) => section(() => withTimeout(read(d).then(replicationView), timeoutMs, `replication ${d}`), deadline);
    const [forward, reverse] = await Promise.all([direction("blue-to-green"), direction("green-to-blue")]);
    return { "blue-to-green": forward, "green-to-blue": reverse };
  };
  const { SsmWeightsParameter } = await import("../aws/weightsParameter.js");
  const weightsParameter = deps.recorder instanceof SsmWeightsParameter ? deps.recorder : null;
  const [configWeights, parameterWeights, routes, blue, green, alarmStates, fenceState, lock, lastRun, replication] = await Promise.all([
    Promise.resolve(configRead),
    aws("weights parameter", async () => {
      if (!weightsParameter) throw new Error("internal error: no weights parameter wired");
      const read = await weightsParameter.read();
      return { name: weightsParameter.name, exists: read.exists, weights: read.exists ? read.weights : null };
    }),
    aws("live weights", () => deps.router.readWeights()),
    healthOf("blue"),
    healthOf("green"),
    aws("alarms", () => alarms.states()),
    fence ? aws("write fence", () => fence.readEach()) : Promise.resolve(null),
    aws("lock", () => deps.lock.current()),
    aws("last run", async () => {
      const loaded = await deps.journal.load();
      if (loaded === null || loaded === undefined) return null;
      const journal = parseJournal(loaded);
      const last = journal.timeline.at(-1);
      return {
        runId: journal.runId,
        operation: journal.operation,
        phase: journal.phase,
        outcome: outcomeOf(journal),
        updatedAt: new Date(journal.updatedAt).toISOString(),
        last: last ? formatEvent(last) : null,
        pause: (await import("../core/engine/pause.js")).pauseView(journal, Date.now()),
      };
    }),
    outputs.databaseMode === "paired" ? readReplication() : Promise.resolve(null),
  ]);
  const execution = await readExecutionSection(opened, outputs, lastRun.ok ? (lastRun.value?.runId ?? null) : null, deadline.signal);
  stopTimer();
  const awsSectionsByName: Array<[string, Section<unknown> | null]> = [
    ["live weights", routes],
    ["weights parameter", parameterWeights],
    ["blue target health", blue],
    ["green target health", green],
    ["alarms", alarmStates],
    ["write fence", fenceState],
    ["lock", lock],
    ["last run", lastRun],
  ];
  const unanswered = awsSectionsByName.filter(([, s]) => s !== null && !s.ok && s.late === true).map(([name]) => name);

  const seed = configWeights.ok ? configWeights.value : null;
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
  const report: StatusReport = {
    stack,
    region: outputs.region,
    databaseMode: outputs.databaseMode,
    configPath,
    configWeights,
    parameterWeights,
    pulumiUpWeights: wanted,
    routes: routesWithDrift,
    drift: routesWithDrift.ok && wanted !== null ? routesWithDrift.value.some((r) => r.drift) : null,
    configDiffersFromParameter: owner?.exists && owner.weights && seed ? differs(owner.weights, seed) : null,
    health: { blue, green },
    alarms: alarmStates,
    fence: fenceState,
    lock,
    lastRun,
    replication,
    deadline: { seconds: deadlineMs / 1000, passed: unanswered.length > 0, unanswered },
    ...(execution ? { execution } : {}),
  };

  const awsSections = awsSectionsByName.map(([, s]) => s);
  const failed = awsSections.filter((s): s is Section<unknown> & { ok: false } => s !== null && !s.ok);
  const allUnreachable = failed.length === awsSections.filter((s) => s !== null).length && failed.every((s) => s.unreachable);

  const mode = outputMode({ json: options.json === true }, io.stdout as NodeJS.WriteStream);
  if (mode.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const { palette } = await import("./plainPrinter.js");
    io.stdout.write(renderStatus(report, palette(mode.color)));
  }
  if (unanswered.length > 0) {
    io.stderr.write(`status stopped at the deadline (${deadlineText}): ${unanswered.join(", ")} not answered by AWS in time; what was read is shown above\n`);
    return ExitCode.unreachable;
  }
  if (allUnreachable) return ExitCode.unreachable;
  return failed.length > 0 ? ExitCode.failed : ExitCode.ok;
}

export function renderStatus(r: StatusReport, p: import("./plainPrinter.js").Palette): string {
  const out: string[] = [];
  const err = (s: { ok: false; error: string }) => p.red(`error: ${s.error}`);
  const w = (x: Weights) => `${p.blue(`blue ${x.blue}`)} / ${p.green(`green ${x.green}`)}`;
  out.push(p.bold(`stack ${r.stack}`) + ` · ${r.region} · database ${r.databaseMode}`);
  out.push("");
  out.push(p.bold("traffic"));
  // Side by side: live (the ALB), the parameter (the owner, what `pulumi up` applies), the config (the seed).
  const mark = (d: boolean | null, what: string) => (d === true ? p.yellow(`  ≠ ${what}`) : "");
  if (r.routes.ok) {
    for (const route of r.routes.value) {
      const sticky = route.stickinessSeconds ? ` · stickiness ${route.stickinessSeconds}s` : "";
      out.push(
        `  live ${route.route.split(":").at(-1)}: ${w(route.weights)}${sticky}${mark(route.differs.parameter, "parameter")}${mark(route.differs.config, "config")}`,
      );
    }
  } else out.push(`  live: ${err(r.routes)}`);
  if (r.parameterWeights.ok) {
    const v = r.parameterWeights.value;
    out.push(
      `  parameter ${v.name}: ${!v.exists ? p.yellow("absent (the next `pulumi up` creates it from the config)") : v.weights ? w(v.weights) : p.red("not valid weights JSON (`pulumi up` refuses to run)")}`,
    );
  } else out.push(`  parameter: ${err(r.parameterWeights)}`);
  out.push(
    `  config (${r.configPath}, seed only): ${r.configWeights.ok ? (r.configWeights.value ? w(r.configWeights.value) : p.yellow("no valid bluegreen:traffic.weights")) : err(r.configWeights)}`,
  );
  if (r.drift && r.pulumiUpWeights) {
    out.push(
      p.yellow(
        `  DRIFT: live weights differ from what \`pulumi up\` applies (${r.pulumiUpWeights.blue}/${r.pulumiUpWeights.green}): an up now would move traffic; run cutover/rollback, or put the live weights in the parameter`,
      ),
    );
  }
  if (r.configDiffersFromParameter)
    out.push(`  note: the config's weights differ from the parameter's: harmless, the parameter owns them (the config only seeds a new stack)`);
  out.push("");
  out.push(p.bold("target health"));
  for (const color of ["blue", "green"] as const) {
    const h = r.health[color];
    if (!h.ok) {
      out.push(`  ${color}: ${err(h)}`);
      continue;
    }
    const summary = `${h.value.healthy}/${h.value.total} healthy${h.value.unhealthy ? `, ${h.value.unhealthy} unhealthy` : ""}`;
    const painted = h.value.unhealthy > 0 || (h.value.total > 0 && h.value.healthy === 0) ? p.red(summary) : summary;
    const others = h.value.targets.filter((t) => t.state !== "healthy").map((t) => `${t.id} ${t.state}${t.reason ? ` (${t.reason})` : ""}`);
    out.push(`  ${color === "blue" ? p.blue(color) : p.green(color)}: ${painted}${others.length ? ` — ${others.join(", ")}` : ""}`);
  }
  out.push("");
  out.push(p.bold("alarms"));
  if (r.alarms.ok) {
    if (r.alarms.value.length === 0) out.push("  (the stack declares none)");
    for (const alarm of r.alarms.value) {
      const state = alarm.state === "ALARM" ? p.red(alarm.state) : alarm.state === "OK" ? p.green(alarm.state) : p.yellow(alarm.state);
      out.push(`  ${state.padEnd(18)} ${alarm.name}`);
    }
  } else out.push(`  ${err(r.alarms)}`);
  if (r.fence) {
    out.push("");
    out.push(p.bold("write fence"));
    if (r.fence.ok) for (const rule of r.fence.value) out.push(`  ${rule.mode === "off" ? "off" : p.yellow(rule.mode)} ${rule.rule.split(":").at(-1)}`);
    else out.push(`  ${err(r.fence)}`);
  }
  out.push("");
  out.push(p.bold("lock"));
  if (r.lock.ok)
    out.push(r.lock.value ? `  held by ${r.lock.value.owner} (${r.lock.value.operation}) since ${new Date(r.lock.value.since).toISOString()}` : "  free");
  else out.push(`  ${err(r.lock)}`);
  out.push("");
  out.push(p.bold("last run"));
  if (r.lastRun.ok) {
    const run = r.lastRun.value;
    out.push(run ? `  ${run.operation} ${run.runId}: phase ${run.phase}${run.outcome ? `, ${run.outcome}` : ""} (updated ${run.updatedAt})` : "  none");
    if (run?.pause) out.push(`  ${p.bold(run.pause.line)}`, ...(run.pause.evidence ? [`  evidence: ${run.pause.evidence}`] : []));
    if (run?.last) out.push(`  last entry: ${run.last}`);
  } else out.push(`  ${err(r.lastRun)}`);
  if (r.replication) {
    out.push("");
    out.push(p.bold("replication"));
    for (const [direction, label] of [
      ["blue-to-green", `${p.blue("blue")} → ${p.green("green")}`],
      ["green-to-blue", `${p.green("green")} → ${p.blue("blue")}`],
    ] as const) {
      const s = r.replication[direction];
      if (!s.ok) {
        out.push(`  ${label}: ${s.unreachable ? p.yellow(`unreachable: ${s.error}`) : err(s)}`);
        continue;
      }
      const v = s.value;
      if (v === null) {
        out.push(`  ${label}: not set up${direction === "green-to-blue" ? " (the paired switch starts it)" : ""}`);
        continue;
      }
      const state = v.running ? (v.healthy ? p.green("running") : p.yellow("running")) : p.red(v.enabled ? "NOT running" : "NOT running (disabled)");
      const lag = `lag ${formatBytes(v.lagBytes)}, ${v.lagSeconds === null ? "unknown" : `${v.lagSeconds.toFixed(1)} s`}`;
      const tables = `tables ${v.tablesReady}/${v.tablesTotal} ready`;
      out.push(`  ${label}: ${state} · ${lag} · ${v.tablesReady < v.tablesTotal ? p.yellow(tables) : tables}`);
      for (const problem of v.problems) out.push(`    ${p.yellow(problem)}`);
    }
  }
  if (r.execution) out.push(...renderExecutionSection(r.execution, p));
  return `${out.join("\n")}\n`;
}
