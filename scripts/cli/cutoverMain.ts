// `npm run cutover`: move production traffic blue → green in verified, gated steps.
//
// Everything that can be wrong with the input is checked before the first AWS call (flags, stack,
// config and rollout policy, stack outputs, a terminal to confirm on), so bad input exits 2 having
// changed nothing. Then: the plan is printed, the operator types PROCEED (unless --yes), and the
// engine runs with the AWS adapters (scripts/app/cutover.ts); every run writes
// reports/<stack>-<time>.md and .json. Ctrl-C: the first stops the cutover and rolls back to blue,
// the second exits at once (app/policies/cutoverInterrupt.ts).

import type { CutoverRequest } from "../core/engine.js";
import { addStackOptions, parse, processIo, program, validateWebhook, type Io } from "./args.js";
import { checkWritableDirectory } from "../app/inputFiles.js";
import { ExitCode, outputMode, UsageError } from "./common.js";
import { crossCheck } from "../app/cutover.js";
import { checkHookCommands } from "../hooks/hookCommands.js";
import { openStack } from "../app/stack.js";

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
  offline?: boolean;
  reports: string;
}

function flags(io: Io) {
  return addStackOptions(program("cutover", "Move production traffic from blue to green in verified, gated steps; roll back by itself on any breach.", io))
    .option("--yes", "do not ask for PROCEED (unattended runs)")
    .option("--dry-run", "print the plan (from live weights) and change nothing")
    .option("--offline", "with --dry-run: the plan from the config alone (no AWS call, no stack outputs, no credentials); says what it could not read")
    .option("--resume", "continue the unfinished cutover in the journal (after a crash, or a paused step: like `npm run promote`)")
    .option("--now", "with --resume: continue a timed pause before its time is up")
    .option("--skip-snapshot <reason>", "skip the snapshot of blue's database; the reason is recorded in the journal and report")
    .option("--webhook <url>", "POST Slack-compatible JSON events here (default: rollout.webhookUrl)")
    .option("--write-config", "also write each weight reached into Pulumi.<stack>.yaml traffic.weights (the stack's SSM weights parameter is their owner)")
    .option("--reports <dir>", "where reports are written", "reports");
}

export async function cutoverMain(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const parsed = parse<CutoverOptions & Record<string, unknown>>(flags(io), argv);
  if (!parsed) return ExitCode.ok;
  const options: CutoverOptions = parsed.options;
  if (options.skipSnapshot !== undefined && options.skipSnapshot.trim() === "")
    throw new UsageError('--skip-snapshot needs a reason, e.g. --skip-snapshot "snapshot taken by hand at 09:12"');
  if (options.dryRun && options.resume)
    throw new UsageError(
      "--dry-run and --resume do not go together: --dry-run previews a new cutover from the live weights; `npm run status` shows the unfinished run",
    );
  if (options.now && !options.resume)
    throw new UsageError("--now goes only with --resume: it continues a timed pause early (or use `npm run promote -- --now`)");

  if (options.offline) {
    if (!options.dryRun) throw new UsageError("--offline goes only with --dry-run: a cutover cannot run without AWS");
    return (await import("./cutoverOffline.js")).offlineDryRun(options, io);
  }

  // --- input, all before any AWS call ------------------------------------------------------
  const opened = await openStack(options, io, { configFirst: true });
  const config = await opened.config();
  const webhookUrl = validateWebhook(options.webhook ?? config.rollout.webhookUrl);
  const outputs = opened.outputs();
  crossCheck(config, outputs, opened.configPath, opened.raw.source);
  await checkHookCommands(config.rollout.hooks, { cwd: io.cwd, path: io.env.PATH, configPath: opened.configPath });
  if (outputs.databaseMode === "paired" && outputs.fenceRuleArns.length === 0) {
    throw new UsageError(`database.mode paired needs the write fence, and the stack outputs (${opened.raw.source}) list no fenceRuleArns: run \`pulumi up\``);
  }
  const [{ createEventPrinter, teeSinks }, app, { lockOwner, askProceed, requireConfirmationChannel }, { createWebhookSink }, engine] = await Promise.all([
    import("./eventPrinter.js"),
    import("../app/cutover.js"),
    import("./operator.js"),
    import("../app/policies/webhook.js"),
    import("../core/engine.js"),
  ]);
  if (!options.dryRun) {
    // The report is written at the end: a directory it cannot be written to is refused before the lock.
    await checkWritableDirectory(options.reports, "--reports", io.cwd);
    requireConfirmationChannel(options.yes === true, io.stdin, "cutover");
  }

  // --- run -----------------------------------------------------------------------------------
  const mode = outputMode({ json: options.json === true }, io.stdout as NodeJS.WriteStream);
  const printer = createEventPrinter(mode, io.stdout);
  const state = new app.LastKnownState();
  const webhook = webhookUrl ? createWebhookSink(webhookUrl, opened.short, (message) => io.stderr.write(`warning: ${message}\n`)) : undefined;
  const wired = await app.wireAwsCutover(opened, config, { cwd: io.cwd, writeConfig: options.writeConfig === true });
  // Until the engine runs (and for --dry-run), Ctrl-C has nothing to stop: exit at once.
  const onEarlySigint = () => {
    printer.close();
    io.stderr.write("\ninterrupted: nothing was changed\n");
    process.exit(130);
  };
  process.once("SIGINT", onEarlySigint);
  try {
    const skip = options.skipSnapshot !== undefined ? { skipSnapshot: options.skipSnapshot } : {};
    if (options.dryRun) {
      const preview = await app.previewAwsCutover(wired.deps, { rollout: config.rollout, databaseMode: outputs.databaseMode, ...skip });
      printer.close();
      if (mode.json)
        io.stdout.write(`${JSON.stringify({ type: "dry-run", plan: preview.plan, lines: preview.lines, routes: preview.routes, traffic: preview.traffic })}\n`);
      else io.stdout.write(`${preview.lines.join("\n")}\n\ndry run: nothing was changed\n`);
      return ExitCode.ok;
    }
    const orchestrator = await (await import("../app/wiring/aws.js")).awsOrchestrator(opened, outputs);
    if (orchestrator.kind === "stepfunctions") {
      printer.close();
      const { orchestratedCutover } = await import("./orchestrated.js");
      return await orchestratedCutover({
        orchestrator,
        deps: wired.deps,
        planLines: async () => (await app.previewAwsCutover(wired.deps, { rollout: config.rollout, databaseMode: outputs.databaseMode })).lines,
        resume: options.resume === true,
        ...(options.yes ? {} : { confirm: () => askProceed(io.stdin, io.stderr) }),
        unsupported: [options.now && "--now", options.skipSnapshot !== undefined && "--skip-snapshot", options.writeConfig && "--write-config"].filter(
          (flag): flag is string => typeof flag === "string",
        ),
        mode,
        io,
      }).finally(() => wired.close());
    }
    const request: CutoverRequest = {
      rollout: config.rollout,
      databaseMode: outputs.databaseMode,
      owner: lockOwner(),
      stack: opened.short,
      hookEnv: {
        BLUEGREEN_STACK: opened.short,
        BLUEGREEN_ALB_DNS: outputs.albDnsName,
        BLUEGREEN_TEST_HEADER: outputs.testHeader,
        BLUEGREEN_REGION: outputs.region,
      },
      ...skip,
      ...(options.resume ? { resume: true } : {}),
      ...(options.now ? { pauseNow: true } : {}),
      ...(options.yes ? {} : { confirm: () => askProceed(io.stdin, io.stderr) }),
    };
    const rollbackCommand = `npm run rollback -- --stack ${opened.name}${options.outputs ? ` --outputs ${options.outputs}` : ""}${options.config ? ` --config ${options.config}` : ""} --force`;
    process.removeListener("SIGINT", onEarlySigint);
    const exitNow = (code: number) => {
      printer.close();
      process.exit(code);
    };
    const policy = await app
      .runAwsCutover({
        deps: wired.deps,
        request,
        events: teeSinks(printer, webhook, state.observe),
        state,
        stderr: io.stderr,
        rollbackCommand,
        exitNow,
        stdin: io.stdin as unknown as { pause(): unknown },
      })
      .finally(async () => {
        printer.close();
        await wired.close();
      });
    const { printCutoverEnd } = await import("./cutoverReport.js");
    return await printCutoverEnd(policy, {
      stack: opened.name,
      reports: options.reports,
      json: mode.json,
      io,
      pausesOf: engine.pausesOf,
      outcomeExitCode: engine.outcomeExitCode,
    });
  } finally {
    process.removeListener("SIGINT", onEarlySigint);
    await webhook?.flush();
  }
}
