// `npm run cutover`: move production traffic blue → green in verified, gated steps.
//
// Everything that can be wrong with the input is checked before the first AWS call (flags, stack,
// config and rollout policy, stack outputs, a terminal to confirm on), so bad input exits 2 having
// changed nothing. Then: the plan is printed, the operator types PROCEED (unless --yes), and the
// engine runs with the AWS adapters (scripts/app/cutover.ts); every run writes
// reports/<stack>-<time>.md and .json. Ctrl-C: the first stops the cutover and rolls back to blue,
// the second exits at once (app/policies/cutoverInterrupt.ts).

import { parse, processIo, type Io } from "./args.js";
import { checkWritableDirectory } from "../app/inputFiles.js";
import { ExitCode, outputMode } from "./common.js";
import { readCutoverInput } from "./cutoverInput.js";
import { checkCutoverFlagCombinations, cutoverFlags, type CutoverOptions } from "./cutoverOptions.js";
import { cutoverRequest, rollbackCommandFor, unsupportedWhenOrchestrated } from "./cutoverRequest.js";

export async function cutoverMain(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const parsed = parse<CutoverOptions & Record<string, unknown>>(cutoverFlags(io), argv);
  if (!parsed) return ExitCode.ok;
  const options: CutoverOptions = parsed.options;
  checkCutoverFlagCombinations(options);
  if (options.offline) return (await import("./cutoverOffline.js")).offlineDryRun(options, io);

  // --- input, all before any AWS call ------------------------------------------------------
  const { opened, config, outputs, webhookUrl } = await readCutoverInput(options, io);
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
    const confirm = options.yes ? {} : { confirm: () => askProceed(io.stdin, io.stderr) };
    if (options.dryRun) {
      const skip = options.skipSnapshot !== undefined ? { skipSnapshot: options.skipSnapshot } : {};
      const preview = await app.previewAwsCutover(wired.deps, { rollout: config.rollout, databaseMode: outputs.databaseMode, ...skip });
      printer.close();
      (await import("./cutoverPreview.js")).printCutoverPreview(preview, mode.json, io);
      return ExitCode.ok;
    }
    const orchestrator = await (await import("../app/wiring/aws.js")).awsOrchestrator(opened, outputs);
    if (orchestrator.kind === "stepfunctions") {
      printer.close();
      const { orchestratedCutover, checkoutChecks } = await import("./orchestrated.js");
      return await orchestratedCutover({
        orchestrator,
        deps: wired.deps,
        planLines: async () => (await app.previewAwsCutover(wired.deps, { rollout: config.rollout, databaseMode: outputs.databaseMode })).lines,
        resume: options.resume === true,
        ...confirm,
        unsupported: unsupportedWhenOrchestrated(options),
        checkout: checkoutChecks(wired.deps, config, outputs.databaseMode),
        databaseMode: outputs.databaseMode,
        mode,
        io,
      }).finally(() => wired.close());
    }
    const request = cutoverRequest(opened, config, outputs, options, { owner: lockOwner(), ...confirm });
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
        rollbackCommand: rollbackCommandFor(opened, options),
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
