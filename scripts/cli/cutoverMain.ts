// `npm run cutover`: move production traffic blue → green in verified, gated steps.
//
// Everything that can be wrong with the input is checked before the first AWS call (flags, stack,
// config and rollout policy, stack outputs, a terminal to confirm on), so bad input exits 2 having
// changed nothing. Then: the plan is printed, the operator types PROCEED (unless --yes), and the
// engine runs with the AWS adapters; every run writes reports/<stack>-<time>.md and .json.
// Ctrl-C: the first stops the cutover and rolls back to blue, the second exits at once
// (cutoverInterrupt.ts).

import { join, resolve } from "node:path";
import type { CutoverRequest } from "../core/engine.js";
import { addStackOptions, configPathFor, parse, processIo, program, resolveStack, validateWebhook, type Io } from "./args.js";
import { ExitCode, outputMode, UsageError } from "./common.js";
import { loadStackConfig } from "./pulumiConfigFile.js";
import { loadRawOutputs, parseStackOutputs, shortStackName, type StackOutputs } from "./stackOutputs.js";
import type { StackConfig } from "../../infra/config.js";

interface CutoverOptions {
  stack?: string;
  outputs?: string;
  config?: string;
  json?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  resume?: boolean;
  now?: boolean;
  skipSnapshot?: string;
  webhook?: string;
  allowUnverifiedStack?: boolean;
  writeConfig?: boolean;
  reports: string;
}

/** Config and outputs must describe the same stack. */
export function crossCheck(config: StackConfig, outputs: StackOutputs, configPath: string, source: string): void {
  if (config.region !== outputs.region) {
    throw new UsageError(`${configPath} says region ${config.region}, the stack outputs (${source}) say ${outputs.region}: is --stack / --outputs the right stack?`);
  }
  if (config.database.mode !== outputs.databaseMode) {
    throw new UsageError(
      `${configPath} says database.mode "${config.database.mode}", the deployed stack (${source}) says "${outputs.databaseMode}": run \`pulumi up\` first, or fix the config`,
    );
  }
}

export async function cutoverMain(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const command = addStackOptions(
    program("cutover", "Move production traffic from blue to green in verified, gated steps; roll back by itself on any breach.", io),
  )
    .option("--yes", "do not ask for PROCEED (unattended runs)")
    .option("--dry-run", "print the plan (from live weights) and change nothing")
    .option("--resume", "continue the unfinished cutover in the journal (after a crash, or a paused step: like `npm run promote`)")
    .option("--now", "with --resume: continue a timed pause before its time is up")
    .option("--skip-snapshot <reason>", "skip the snapshot of blue's database; the reason is recorded in the journal and report")
    .option("--webhook <url>", "POST Slack-compatible JSON events here (default: rollout.webhookUrl)")
    .option("--write-config", "also write each weight reached into Pulumi.<stack>.yaml traffic.weights (the stack's SSM weights parameter is their owner)")
    .option("--reports <dir>", "where reports are written", "reports");
  const parsed = parse<CutoverOptions & Record<string, unknown>>(command, argv);
  if (!parsed) return ExitCode.ok;
  const options: CutoverOptions = parsed.options;
  if (options.skipSnapshot !== undefined && options.skipSnapshot.trim() === "") throw new UsageError("--skip-snapshot needs a reason, e.g. --skip-snapshot \"snapshot taken by hand at 09:12\"");
  if (options.dryRun && options.resume) throw new UsageError("--dry-run and --resume do not go together: --dry-run previews a new cutover from the live weights; `npm run status` shows the unfinished run");

  // --- input, all before any AWS call ------------------------------------------------------
  const stack = await resolveStack(options.stack, io);
  const configPath = configPathFor(stack, options.config, io.cwd);
  const config = await loadStackConfig(configPath);
  const webhookUrl = validateWebhook(options.webhook ?? config.rollout.webhookUrl);
  const raw = await loadRawOutputs({ stack, outputsFile: options.outputs, cwd: io.cwd, env: io.env, configPath, allowUnverified: options.allowUnverifiedStack === true, picked: options.stack === undefined, warn: (line) => io.stderr.write(line) });
  const outputs = parseStackOutputs(raw.raw, raw.source);
  crossCheck(config, outputs, configPath, raw.source);
  const identity = raw.identity;
  if (outputs.databaseMode === "paired" && outputs.fenceRuleArns.length === 0) {
    throw new UsageError(`database.mode paired needs the write fence, and the stack outputs (${raw.source}) list no fenceRuleArns: run \`pulumi up\``);
  }
  if (!options.dryRun) {
    const { requireConfirmationChannel } = await import("./operator.js");
    requireConfirmationChannel(options.yes === true, io.stdin, "cutover");
  }

  // --- run -----------------------------------------------------------------------------------
  const mode = outputMode({ json: options.json === true }, io.stdout as NodeJS.WriteStream);
  const [{ createEventPrinter, teeSinks }, { createAwsDeps }, engine, { lockOwner, askProceed }, interrupt] = await Promise.all([
    import("./eventPrinter.js"),
    import("./awsDeps.js"),
    import("../core/engine.js"),
    import("./operator.js"),
    import("./cutoverInterrupt.js"),
  ]);
  const printer = createEventPrinter(mode, io.stdout);
  const lastKnown = new interrupt.LastKnownState();
  const webhook = webhookUrl
    ? (await import("./webhook.js")).createWebhookSink(webhookUrl, shortStackName(stack), (message) => io.stderr.write(`warning: ${message}\n`))
    : undefined;
  const deps = await createAwsDeps(outputs, {
    stack,
    identity,
    configPath,
    writeConfig: options.writeConfig === true,
    cwd: io.cwd,
    events: teeSinks(printer, webhook, lastKnown.observe),
    fenceDrainMs: config.rollout.fenceDrainSeconds * 1000,
  });
  let replication: { close(): Promise<void> } | undefined;
  if (outputs.databaseMode === "paired") {
    const { lazyReplication, fileParitySource } = await import("./pairedDeps.js");
    const paired = lazyReplication({ rawOutputs: raw.raw, source: raw.source, databaseName: config.database.databaseName });
    deps.replication = paired;
    replication = paired;
    deps.parity = fileParitySource(join(io.cwd, "reports", "parity-latest.json"));
  }
  // Expand migrations in rollout.migrationsDir: the migrating phase after preflight (docs/migrations.md).
  const { hasExpandMigrations, PostgresSchemaMigrator } = await import("../postgres/migrate/schemaMigrator.js");
  const migrationsDir = resolve(io.cwd, config.rollout.migrationsDir);
  if (await hasExpandMigrations(migrationsDir)) {
    const { targetsFromOutputs } = await import("../postgres/migrate/targets.js");
    deps.migrator = new PostgresSchemaMigrator({
      dir: migrationsDir,
      targets: () => targetsFromOutputs(raw.raw, raw.source, { database: config.database.databaseName, writer: "blue" }),
    });
  }

  // Until the engine runs (and for --dry-run), Ctrl-C has nothing to stop: exit at once.
  const onEarlySigint = () => {
    printer.close();
    io.stderr.write("\ninterrupted: nothing was changed\n");
    process.exit(130);
  };
  process.once("SIGINT", onEarlySigint);
  try {
    if (options.dryRun) {
      const preview = await engine.previewCutover(deps, {
        rollout: config.rollout,
        databaseMode: outputs.databaseMode,
        ...(options.skipSnapshot !== undefined ? { skipSnapshot: options.skipSnapshot } : {}),
      });
      // Traffic-aware plan: the last hour of RequestCount per color → the expected time to a decision per step.
      const { describeTimeToDecision, recentTrafficOf } = await import("../core/trafficPlan.js");
      let traffic: ReturnType<typeof recentTrafficOf> | null = null;
      let trafficFailure: string | null = null;
      if (preview.plan.gates.mode !== "thresholds") {
        if (!deps.metrics.recentTraffic) trafficFailure = "the metrics source keeps no history";
        else {
          try {
            traffic = recentTrafficOf(await deps.metrics.recentTraffic(1));
          } catch (error) {
            trafficFailure = `could not read the last hour of RequestCount: ${error instanceof Error ? error.message : String(error)}`;
          }
        }
      }
      const lines = [...preview.lines, ...describeTimeToDecision(preview.plan, traffic, trafficFailure)];
      printer.close();
      if (mode.json) io.stdout.write(`${JSON.stringify({ type: "dry-run", plan: preview.plan, lines, routes: preview.routes, traffic })}\n`);
      else io.stdout.write(`${lines.join("\n")}\n\ndry run: nothing was changed\n`);
      return ExitCode.ok;
    }

    const request: CutoverRequest = {
      rollout: config.rollout,
      databaseMode: outputs.databaseMode,
      owner: lockOwner(),
      stack: shortStackName(stack),
      hookEnv: {
        BLUEGREEN_STACK: shortStackName(stack),
        BLUEGREEN_ALB_DNS: outputs.albDnsName,
        BLUEGREEN_TEST_HEADER: outputs.testHeader,
        BLUEGREEN_REGION: outputs.region,
      },
    };
    if (options.resume) request.resume = true;
    if (options.now) request.pauseNow = true;
    if (options.skipSnapshot !== undefined) request.skipSnapshot = options.skipSnapshot;
    if (!options.yes) request.confirm = () => askProceed(io.stdin, io.stderr);
    const rollbackCommand =
      `npm run rollback -- --stack ${stack}${options.outputs ? ` --outputs ${options.outputs}` : ""}${options.config ? ` --config ${options.config}` : ""} --force`;

    let policy;
    process.removeListener("SIGINT", onEarlySigint);
    try {
      policy = await interrupt.runWithOperatorPolicy({
        interrupts: interrupt.processSigint,
        stderr: io.stderr,
        exitNow: (code) => {
          printer.close();
          process.exit(code);
        },
        rollbackCommand,
        state: lastKnown,
        cutover: (signal) => {
          const ask = request.confirm;
          // A Ctrl-C at the PROCEED prompt answers it with "no" (nothing has moved yet).
          if (ask) request.confirm = interrupt.answerNoOnAbort(ask, signal, io.stdin);
          return engine.runCutover(deps, { ...request, signal });
        },
        rollback: () =>
          engine.runRollback(deps, {
            owner: request.owner,
            databaseMode: outputs.databaseMode,
            stack: request.stack!,
            reason: "the operator pressed Ctrl-C during the cutover",
          }),
      });
    } finally {
      printer.close();
      await replication?.close();
    }
    const result = policy.cutover;
    if (result.outcome === "cancelled" || (result.outcome === "interrupted" && result.journal === null)) {
      io.stderr.write(`cutover ${policy.interrupted ? "interrupted" : "cancelled"}: nothing was changed\n`);
      return policy.interrupted ? ExitCode.interrupted : ExitCode.ok;
    }
    const journal = policy.rollback?.journal ?? result.journal;
    if (journal) {
      const { writeReports } = await import("./reports.js");
      const report = await writeReports(journal, { stack, dir: options.reports.startsWith("/") ? options.reports : `${io.cwd}/${options.reports}` });
      const outcome = policy.rollback?.outcome ?? result.outcome;
      if (mode.json) io.stdout.write(`${JSON.stringify({ type: "report", markdown: report.markdownPath, json: report.jsonPath, outcome })}\n`);
      else io.stderr.write(`report: ${report.markdownPath} (and .json)\n`);
    }
    if (policy.rollback) {
      // Ctrl-C: 130 once traffic is back on blue; 1 when the rollback did not get it there.
      return policy.rollback.outcome === "rolled-back" ? ExitCode.interrupted : ExitCode.failed;
    }
    if (!mode.json) {
      const ttr = result.timeToRollbackMs !== null ? `; traffic back on blue ${result.timeToRollbackMs} ms after the breach was observed` : "";
      io.stderr.write(`cutover ${result.outcome}${result.reason ? `: ${result.reason}` : ""}${ttr}\n`);
      if (result.outcome === "paused") io.stderr.write(`${pausedHint(result.journal ? engine.pausesOf(result.journal).at(-1) : undefined)}\n`);
    }
    return engine.outcomeExitCode(result.outcome);
  } finally {
    process.removeListener("SIGINT", onEarlySigint);
    await webhook?.flush();
  }
}

/** How to continue a paused rollout (the cutover exits 0 there). */
export function pausedHint(pause: { step: number; until: number | null } | undefined): string {
  const at = pause ? ` at step ${pause.step + 1}` : "";
  const when = pause?.until ? ` after ${new Date(pause.until).toISOString()} (or now with \`npm run promote -- --now\`)` : "";
  return `paused${at}: nothing of this process keeps running; the guard watches green's alarms. Continue with \`npm run promote\`${when}, or send traffic back with \`npm run rollback\``;
}

