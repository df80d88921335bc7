// `npm run rollback`: all traffic back to blue, from any state, in one write per listener/rule,
// verified by reading back. Idempotent. Flags in rollbackOptions.ts; the rollback itself, its
// start-up budget, its deadline, Ctrl-C and webhook policies are scripts/app/rollback.ts's.
//
// Identity before action: the outputs' project and stack must match --stack (openStack checks it),
// or exit 2 before any AWS call; the config is not needed for that (it may even be unreadable).
//
// The end: the live weights it last read; exit 3 when it never read them (AWS unreachable), 1 when
// it read them and they are not blue-only, 130 when Ctrl-C stopped it before it wrote anything.

import { parse, processIo, validateWebhook, type Io } from "./args.js";
import { ExitCode, OperationFailedError, outputMode, UsageError } from "./common.js";
import { openStack } from "../app/stack.js";
import { LockHeldError } from "../core/ports.js";
import { parseDeadline, rollbackFlags, verifyTimeoutMs, type RollbackOptions } from "./rollbackOptions.js";

export { parseDeadline };

/** What `abort` adds to a rollback: break a live cutover's lock (never another rollback's). */
export interface RollbackOverrides {
  force?: "except-rollback";
}

export async function rollbackMain(argv: readonly string[], io: Io = processIo(), overrides: RollbackOverrides = {}): Promise<ExitCode> {
  const began = performance.now();
  const parsed = parse<RollbackOptions & Record<string, unknown>>(rollbackFlags(io), argv);
  if (!parsed) return ExitCode.ok;
  const options: RollbackOptions = parsed.options;
  const verifyMs = verifyTimeoutMs(options.verifyTimeout);
  const webhook = validateWebhook(options.webhook);
  const deadlineMs = parseDeadline(options.deadline);

  const opened = await openStack(options, io, { preferCache: true });
  const outputs = opened.rollbackOutputs();
  if (options.plainFlip && outputs.databaseMode !== "paired") {
    throw new UsageError(
      `--plain-flip is for database.mode paired (it skips the write fence and the green → blue catch-up); the stack outputs (${opened.raw.source}) say "${outputs.databaseMode}": roll back without it`,
    );
  }
  // An explicit --reports that cannot be written is a typo: refused before the lock. The default
  // directory is not checked: a rollback never waits on its report.
  if (!options.dryRun && argv.some((arg) => arg === "--reports" || arg.startsWith("--reports="))) {
    await (await import("../app/inputFiles.js")).checkWritableDirectory(options.reports, "--reports", io.cwd);
  }
  // --plain-flip: the engine flips without the fence dance.
  const databaseMode = outputs.databaseMode === "paired" && options.plainFlip ? "shared" : outputs.databaseMode;
  if (databaseMode === "paired" && outputs.fenceRuleArns.length === 0) {
    throw new UsageError(
      `database.mode paired: the stack outputs (${opened.raw.source}) list no fenceRuleArns for the lossless rollback; pass --plain-flip to flip without it`,
    );
  }
  const mode = outputMode({ json: options.json === true }, io.stdout as NodeJS.WriteStream);
  const [{ createPlainPrinter }, { prepareAwsRollback }, { lockOwner, describeLockHolder, holderIsDeadHere }] = await Promise.all([
    import("./plainPrinter.js"),
    import("../app/rollback.js"),
    import("./operator.js"),
  ]);
  const retry = `npm run rollback -- --stack ${opened.name}${options.outputs ? ` --outputs ${options.outputs}` : ""}`;
  const printer = createPlainPrinter(mode, io.stdout);
  const rollback = await prepareAwsRollback({
    opened,
    databaseMode,
    deadlineMs,
    began,
    webhook,
    writeConfig: options.writeConfig === true,
    cwd: io.cwd,
    stderr: io.stderr,
    printer,
    retry,
  });

  if (options.dryRun) {
    const { routes, writes } = await rollback.preview();
    if (mode.json) io.stdout.write(`${JSON.stringify({ type: "dry-run", routes, writes })}\n`);
    else {
      for (const route of routes) io.stdout.write(`live: ${route.route} blue ${route.weights.blue} / green ${route.weights.green}\n`);
      for (const write of writes) io.stdout.write(`would call: ${write} forward blue=100 green=0\n`);
      io.stdout.write("dry run: nothing was changed\n");
    }
    return ExitCode.ok;
  }

  // A stack whose rollouts run on Step Functions: its execution is stopped first (a local stack loads nothing for this).
  if (typeof (opened.raw.raw as { rolloutStateMachineArn?: unknown } | null)?.rolloutStateMachineArn === "string")
    await (
      await import("./orchestrated.js")
    ).stopExecutionBeforeRollback(opened, outputs.region, options.reason ?? `npm run rollback by ${lockOwner()}`, io.stderr);
  const end = await rollback.run({
    owner: lockOwner(),
    reason: options.reason,
    force: options.force === true ? true : overrides.force,
    verifyTimeoutMs: verifyMs,
    holderIsDead: (holder) => holderIsDeadHere(holder.owner) === true,
  });
  const { describeLive } = await import("../app/policies/rollbackInterrupt.js");
  if (end.kind === "interrupted-before-writing") {
    io.stderr.write("interrupted: nothing was written\n");
    return ExitCode.interrupted;
  }
  if (end.kind === "failed") {
    if (end.error instanceof LockHeldError) throw new OperationFailedError(describeLockHolder(end.error.holder, `${retry} --force`));
    if (end.deadlinePassed) io.stderr.write(`stopped at the deadline: ${describeLive(end.lastRoutes)}\n`);
    throw end.error;
  }
  const wallMs = Math.round(performance.now());
  rollback.stop();
  const { result } = end;
  const { printRollbackResult } = await import("./rollbackReport.js");
  await printRollbackResult(result, { stack: opened.name, reports: options.reports, json: mode.json, wallMs, io });
  if (result.outcome === "rolled-back") return ExitCode.ok;
  if (result.outcome === "interrupted") return ExitCode.interrupted;
  if (end.deadlinePassed && !end.interrupted) io.stderr.write(`stopped at the deadline (--deadline ${deadlineMs / 1000} s): ${describeLive(end.lastRoutes)}\n`);
  // Never read the live weights: AWS did not answer (exit 3). Read them and they are not blue-only: 1.
  return end.lastRoutes === null ? ExitCode.unreachable : ExitCode.failed;
}
