// `npm run rollback`: all traffic back to blue, from any state, in one write per listener/rule,
// verified by reading back. Idempotent.
//
// Start-up is part of the product here (the issue's bar: first AWS call within 250 ms of process
// start, compiled JavaScript, no TypeScript compile). So this path loads only commander, the
// engine (pure), the SSM client (the lock is the first call; required, not imported: see
// aws/sdk.ts) and then the ELBv2 client (while the journal calls travel); the outputs are checked
// by hand, not with zod; the stack config (YAML + zod) is read only after the flip has been read
// back (in paired mode: once the lock call has gone out), for the weight write-back, the webhook
// and, in paired mode, the fence's drain time and the database name.
// A malformed rollout policy never blocks a rollback: it is reported as a warning.
//
// Identity before action: the outputs' project and stack must match --stack (loadRawOutputs checks
// it), or exit 2 before any AWS call; the config is not needed for that (it may even be unreadable).
//
// A bound on time to an answer (--deadline, default 60 s): every AWS call carries an AbortSignal.
// The work (lock, journal, flip, read-back) gets the deadline minus a short reserve; when it
// passes, in-flight calls are aborted, the engine stops and records failed-rollback, and the
// reserve is for that journal save and the lock release. The command then prints the live
// weights it last read and exits 3 when it never read them (AWS unreachable) or 1 when it read
// them and they are not blue-only.
//
// Ctrl-C: before the rollback starts writing, the first Ctrl-C stops it (exit 130, nothing
// written); once it writes, the first Ctrl-C lets it finish the write and the read-back ("Ctrl-C
// again to exit now"), the second exits at once (130) printing the state it last read.

import { addStackOptions, configPathFor, parse, processIo, program, resolveStack, validateWebhook, type Io } from "./args.js";
import { ExitCode, OperationFailedError, outputMode, UsageError } from "./common.js";
import { abortAfter, parseDeadlineSeconds } from "./deadline.js";
import { loadRawOutputs, parseRollbackOutputs, shortStackName } from "./stackOutputs.js";
import type { EngineEvent } from "../core/events.js";
import { LockHeldError, type RouteWeights, type WriteFence } from "../core/ports.js";
import type { StackConfig } from "../../infra/config.js";
import { ROLLOUT_DEFAULTS } from "../../infra/vocabulary/rolloutDefaults.js";


/** The runbook promises traffic back on blue in under two minutes; the default leaves room to act on the answer. */
const DEFAULT_DEADLINE_SECONDS = 60;

/** The part of the deadline kept for recording the outcome (journal save, lock release) after the work stops. */
export function cleanupReserveMs(deadlineMs: number): number {
  return Math.round(Math.min(5_000, Math.max(250, deadlineMs * 0.2)));
}

/** Parse --deadline: seconds, a number 1..3600 (fractions allowed for tests and scripts). */
export function parseDeadline(value: string | undefined): number {
  return parseDeadlineSeconds(value, DEFAULT_DEADLINE_SECONDS);
}

function describeLive(routes: readonly RouteWeights[] | null): string {
  if (routes === null) return "live weights not read (AWS did not answer)";
  if (routes.length === 0) return "no routes read back";
  return routes.map((r) => `${r.route.split("/").slice(-2).join("/")} blue ${r.weights.blue} / green ${r.weights.green}`).join(", ");
}

interface RollbackOptions {
  stack?: string;
  outputs?: string;
  config?: string;
  json?: boolean;
  force?: boolean;
  reason?: string;
  webhook?: string;
  verifyTimeout?: string;
  deadline?: string;
  allowUnverifiedStack?: boolean;
  plainFlip?: boolean;
  dryRun?: boolean;
  writeConfig?: boolean;
  reports: string;
}

export async function rollbackMain(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const began = performance.now();
  const command = addStackOptions(program("rollback", "Send all traffic back to blue, from any state, verified by reading back. Idempotent.", io))
    .option("--force", "break a lock held by another operation (recorded); that operation stops touching traffic")
    .option("--reason <text>", "why (recorded in the journal and report)")
    .option("--webhook <url>", "POST Slack-compatible JSON events here (default: rollout.webhookUrl)")
    .option("--verify-timeout <seconds>", "how long the read-back may take when the journal holds no plan (default 60; a run's plan carries its own)")
    .option("--deadline <seconds>", `stop after this long whatever happens, report the live weights last read (default ${DEFAULT_DEADLINE_SECONDS})`)
    .option("--plain-flip", "database.mode paired: flip without the fence and the green → blue catch-up (writes made on green since the switch stay there)")
    .option("--dry-run", "read the live weights and print the calls a rollback would make; change nothing")
    .option("--write-config", "also write the weights reached into Pulumi.<stack>.yaml traffic.weights (the stack's SSM weights parameter is their owner)")
    .option("--reports <dir>", "where reports are written", "reports");
  const parsed = parse<RollbackOptions & Record<string, unknown>>(command, argv);
  if (!parsed) return ExitCode.ok;
  const options: RollbackOptions = parsed.options;
  let verifyTimeoutMs: number | undefined;
  if (options.verifyTimeout !== undefined) {
    const seconds = Number(options.verifyTimeout);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 600) throw new UsageError(`--verify-timeout ${options.verifyTimeout}: must be an integer 1..600 (seconds)`);
    verifyTimeoutMs = seconds * 1000;
  }
  const webhookFlag = validateWebhook(options.webhook);
  const deadlineMs = parseDeadline(options.deadline);

  const stack = await resolveStack(options.stack, io);
  const configPath = configPathFor(stack, options.config, io.cwd);
  const raw = await loadRawOutputs({
    stack,
    outputsFile: options.outputs,
    preferCache: true,
    cwd: io.cwd,
    env: io.env,
    configPath,
    allowUnverified: options.allowUnverifiedStack === true,
    picked: options.stack === undefined,
    warn: (line) => io.stderr.write(line),
  });
  const outputs = parseRollbackOutputs(raw.raw, raw.source);
  const identity = raw.identity;
  let databaseMode = outputs.databaseMode;
  if (databaseMode === "paired" && options.plainFlip) databaseMode = "shared"; // the engine flips without the fence dance
  if (databaseMode === "paired" && outputs.fenceRuleArns.length === 0) {
    throw new UsageError(`database.mode paired: the stack outputs (${raw.source}) list no fenceRuleArns for the lossless rollback; pass --plain-flip to flip without it`);
  }

  const mode = outputMode({ json: options.json === true }, io.stdout as NodeJS.WriteStream);
  const [{ createPlainPrinter }, { createRollbackDeps }, engine, { lockOwner }] = await Promise.all([
    import("./plainPrinter.js"),
    import("./awsDeps.js"),
    import("../core/engine.js"),
    import("./operator.js"),
  ]);
  const printer = createPlainPrinter(mode, io.stdout);

  // The deadline: the work signal aborts every call in flight when the work time is up; the calls
  // made after that (failed-rollback into the journal, the lock release) get the rest.
  const work = new AbortController();
  const hard = new AbortController();
  const deadlineError = new Error(`the rollback deadline (--deadline ${deadlineMs / 1000} s) has passed`);
  // Counted from the command's start (its own start-up, outputs and imports included).
  const cancelWorkTimer = abortAfter(work, deadlineMs - cleanupReserveMs(deadlineMs), deadlineError, began);
  const cancelHardTimer = abortAfter(hard, deadlineMs, deadlineError, began);
  const signal = () => (work.signal.aborted ? hard.signal : work.signal);

  // What the operator needs when it ends early: the live weights last read, and whether writing began.
  let lastRoutes: RouteWeights[] | null = null;
  let writing = false;
  // The webhook: --webhook, or rollout.webhookUrl once the config is read (alongside the
  // rollback); events are buffered until we know whether there is one.
  let webhookSink: ((event: EngineEvent) => void) | undefined;
  let webhookFlush: (() => Promise<void>) | undefined;
  let buffering = true;
  const pending: EngineEvent[] = [];
  const attachWebhook = async (url: string | undefined) => {
    if (url) {
      const { createWebhookSink } = await import("./webhook.js");
      const sink = createWebhookSink(url, shortStackName(stack), (message) => io.stderr.write(`warning: ${message}\n`));
      webhookFlush = () => sink.flush();
      webhookSink = sink;
      for (const event of pending) sink(event);
    }
    buffering = false;
    pending.length = 0;
  };
  let startConfigRead: () => void = () => undefined;
  const events = (event: EngineEvent) => {
    if (event.type === "weights-verified" && (event.ok || event.routes.length > 0)) lastRoutes = event.routes;
    if (event.type === "rollback-complete" && event.routes.length > 0) lastRoutes = event.routes;
    if (event.type === "rollback-started") writing = true;
    // Shared mode: not before the flip is read back, where YAML + zod would compete with it for the
    // CPU. Paired mode needs the config before the flip (fence drain time, database name).
    if (databaseMode === "paired" || event.type === "weights-verified" || event.type === "rollback-complete") startConfigRead();
    printer(event);
    if (webhookSink) webhookSink(event);
    else if (buffering && event.type !== "tick") pending.push(event);
  };

  const deps = await createRollbackDeps(outputs, { stack, identity, signal, configPath, writeConfig: options.writeConfig === true, cwd: io.cwd, events });

  if (options.dryRun) {
    cancelWorkTimer();
    cancelHardTimer();
    const routes = await deps.router.readWeights();
    if (mode.json) io.stdout.write(`${JSON.stringify({ type: "dry-run", routes, writes: deps.router.describeWrites() })}\n`);
    else {
      for (const route of routes) io.stdout.write(`live: ${route.route} blue ${route.weights.blue} / green ${route.weights.green}\n`);
      for (const write of deps.router.describeWrites()) io.stdout.write(`would call: ${write} forward blue=100 green=0\n`);
      io.stdout.write("dry run: nothing was changed\n");
    }
    return ExitCode.ok;
  }

  // The deadline is the rollback's own bound (failed-rollback when it passes); the interrupt is
  // the operator's Ctrl-C before anything was written (the engine stops, `rollback` continues).
  deps.rollbackDeadline = work.signal;
  const interrupt = new AbortController();
  const request: Parameters<typeof engine.runRollback>[1] = { owner: lockOwner(), databaseMode, stack: identity.stack, signal: interrupt.signal };
  if (options.reason) request.reason = options.reason;
  if (options.force) request.force = true;
  if (verifyTimeoutMs !== undefined) request.verifyTimeoutMs = verifyTimeoutMs;

  // The config (YAML + zod) is read once the flip has been read back (shared mode) or when the
  // fence first needs it (paired mode): it is needed only for the webhook URL and, in paired mode,
  // the fence's drain time and the database name. A broken config is a warning here, never a
  // reason not to roll back.
  let resolveConfig: (config: StackConfig | null) => void = () => undefined;
  const configPromise = new Promise<StackConfig | null>((resolve) => (resolveConfig = resolve));
  let configRead: Promise<void> = Promise.resolve();
  let configStarted = false;
  startConfigRead = () => {
    if (configStarted) return;
    configStarted = true;
    configRead = (async () => {
      let config: StackConfig | null = null;
      try {
        const { loadStackConfig } = await import("./pulumiConfigFile.js");
        config = await loadStackConfig(configPath);
      } catch (error) {
        io.stderr.write(`warning: ${(error as Error).message.split("\n")[0]} (rollback goes on; fix the config before the next cutover)\n`);
      }
      resolveConfig(config);
      await attachWebhook(webhookFlag ?? config?.rollout.webhookUrl);
    })();
  };
  let replication: { close(): Promise<void> } | undefined;
  if (databaseMode === "paired") {
    const [{ createFence }, { lazyReplication, fileParitySource }] = await Promise.all([import("./awsDeps.js"), import("./pairedDeps.js")]);
    let fence: Promise<WriteFence> | null = null;
    const loadFence = () => {
      // The drain time comes from the config, which rollback reads only after its first AWS call.
      startConfigRead();
      return (fence ??= configPromise.then((config) => createFence(outputs, { drainMs: (config?.rollout.fenceDrainSeconds ?? ROLLOUT_DEFAULTS.fenceDrainSeconds) * 1000, signal })));
    };
    deps.fence = { set: async (fenceMode) => (await loadFence()).set(fenceMode), read: async () => (await loadFence()).read() };
    const paired = lazyReplication({
      rawOutputs: raw.raw,
      source: raw.source,
      databaseName: configPromise.then((config) => config?.database.databaseName),
    });
    deps.replication = paired;
    replication = paired;
    deps.parity = fileParitySource(`${io.cwd}/reports/parity-latest.json`);
  }

  // Ctrl-C: see the top of this file.
  let interrupts = 0;
  const retry = `npm run rollback -- --stack ${stack}${options.outputs ? ` --outputs ${options.outputs}` : ""}`;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts === 1 && writing) {
      io.stderr.write("\nfinishing the rollback (write and read-back), Ctrl-C again to exit now\n");
      return;
    }
    if (interrupts === 1) {
      io.stderr.write("\ninterrupted before anything was written: stopping\n");
      interrupt.abort(new Error("interrupted (Ctrl-C) before the rollback wrote anything"));
      work.abort(new Error("interrupted (Ctrl-C)"));
      return;
    }
    printer.close();
    io.stderr.write(
      `\nexiting now: ${describeLive(lastRoutes)}${writing ? "; the rollback may have written blue 100 / green 0 without verifying it" : ""}. ` +
        `Finish it with \`${retry}\` (the lock this process holds is taken over as a dead process's)\n`,
    );
    process.exit(130);
  };
  process.on("SIGINT", onSigint);

  let result;
  try {
    result = await engine.runRollback(deps, request);
  } catch (error) {
    if (interrupts > 0 && !writing) {
      io.stderr.write("interrupted: nothing was written\n");
      return ExitCode.interrupted;
    }
    if (error instanceof LockHeldError) {
      const { describeLockHolder } = await import("./operator.js");
      throw new OperationFailedError(describeLockHolder(error.holder, `${retry} --force`));
    }
    if (work.signal.aborted) io.stderr.write(`stopped at the deadline: ${describeLive(lastRoutes)}\n`);
    throw error;
  } finally {
    process.removeListener("SIGINT", onSigint);
    cancelWorkTimer();
    printer.close();
    await replication?.close();
    startConfigRead();
    await configRead.catch(() => undefined);
    if (webhookFlush) await webhookFlush();
  }
  const wallMs = Math.round(performance.now());
  cancelHardTimer();

  if (result.stickinessSeconds !== null && result.stickinessSeconds > 0) {
    const minutes = Math.ceil(result.stickinessSeconds / 60);
    io.stderr.write(
      `warning: target group stickiness is on (${result.stickinessSeconds}s): clients that were pinned to green may keep reaching green for up to ${minutes} minute(s)\n`,
    );
  }
  const { writeReports } = await import("./reports.js");
  const report = await writeReports(result.journal, {
    stack,
    dir: options.reports.startsWith("/") ? options.reports : `${io.cwd}/${options.reports}`,
    suffix: "-rollback",
  });
  if (mode.json) {
    io.stdout.write(
      `${JSON.stringify({ type: "rollback-result", outcome: result.outcome, wallMs, engineMs: result.wallMs, timeToRollbackMs: result.timeToRollbackMs, routes: result.routes, brokeLock: result.brokeLock, stickinessSeconds: result.stickinessSeconds, report: { markdown: report.markdownPath, json: report.jsonPath } })}\n`,
    );
  } else {
    io.stderr.write(`report: ${report.markdownPath} (and .json)\n`);
    io.stderr.write(
      `rollback ${result.outcome}: ${result.routes.map((r) => `${r.route.split("/").slice(-2).join("/")} blue ${r.weights.blue} / green ${r.weights.green}`).join(", ") || "no routes read back"}; ` +
        `wall time ${wallMs} ms from process start (engine ${result.wallMs} ms)\n`,
    );
  }
  if (result.outcome === "rolled-back") return ExitCode.ok;
  if (result.outcome === "interrupted") return ExitCode.interrupted;
  if (work.signal.aborted && interrupts === 0) io.stderr.write(`stopped at the deadline (--deadline ${deadlineMs / 1000} s): ${describeLive(lastRoutes)}\n`);
  // Never read the live weights: AWS did not answer (exit 3). Read them and they are not blue-only: 1.
  return lastRoutes === null ? ExitCode.unreachable : ExitCode.failed;
}

