// `npm run promote`: continue a rollout that paused at a step (rollout.strategy.steps[].pause),
// from the journal, with the same judge and the evidence gathered so far; or, with
// --scale-down-blue, set blue to its Auto Scaling minimum after a successful cutover and
// rollout.blueKeepSeconds (opt-in: rollout.capacity.scaleDownBlue).
//
// The continuation is `cutover --resume --yes` (the operator's promote is the confirmation), after
// this command has checked, before anything changes, that the journal really is paused (a crashed
// run is `cutover --resume`'s business) and that a timed pause is over (or --now).

import { parse, processIo, type Io } from "./args.js";
import { openStack } from "../app/stack.js";
import { ExitCode, outputMode, UsageError } from "./common.js";
import { cutoverMain } from "./cutoverMain.js";
import { checkPromoteFlagCombinations, promoteFlags, type PromoteOptions } from "./promoteOptions.js";

export async function promoteMain(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const parsed = parse<PromoteOptions & Record<string, unknown>>(promoteFlags(io), argv);
  if (!parsed) return ExitCode.ok;
  const options: PromoteOptions = parsed.options;
  checkPromoteFlagCombinations(options);

  // --- input, all before any AWS call ------------------------------------------------------
  await (await import("../app/inputFiles.js")).checkWritableDirectory(options.reports, "--reports", io.cwd);
  const opened = await openStack(options, io, { configFirst: true });
  const config = await opened.config();
  const outputs = opened.outputs();
  const mode = outputMode({ json: options.json === true }, io.stdout as NodeJS.WriteStream);

  const [{ awsCutoverDeps }, engine, { parseJournal }, { lockOwner }] = await Promise.all([
    import("../app/wiring/aws.js"),
    import("../core/engine.js"),
    import("../core/journal.js"),
    import("./operator.js"),
  ]);
  const deps = await awsCutoverDeps(opened, outputs, { cwd: io.cwd });

  if (options.scaleDownBlue) {
    const result = await engine.runScaleDownBlue(deps, { owner: lockOwner(), early: options.now === true });
    if (mode.json) io.stdout.write(`${JSON.stringify({ type: "scale-down-blue", runId: result.runId, from: result.from, to: result.to })}\n`);
    else
      io.stderr.write(
        `blue's desired capacity ${result.from} → ${result.to}; a rollback now first scales blue back to ${result.from} and waits for its targets\n`,
      );
    return ExitCode.ok;
  }

  // --when-due: a scheduled run that finds nothing due says so and succeeds, changing nothing.
  const notDue = (why: string): ExitCode => {
    if (mode.json) io.stdout.write(`${JSON.stringify({ type: "promote-not-due", reason: why })}\n`);
    else io.stderr.write(`promote --when-due: ${why}; nothing was changed\n`);
    return ExitCode.ok;
  };

  // The journal must be paused: anything else is not promote's to continue.
  const stored = await deps.journal.load();
  if ((stored === null || stored === undefined) && options.whenDue) return notDue("there is no cutover journal");
  if (stored === null || stored === undefined) throw new UsageError("there is no cutover journal: nothing to promote; start one with `npm run cutover`");
  const journal = parseJournal(stored);
  const pause = engine.currentPause(journal);
  if (options.whenDue) {
    if (!pause) return notDue(`run ${journal.runId} is in phase "${journal.phase}", not paused`);
    if (pause.until === null) return notDue(`step ${pause.step + 1} waits for an operator's \`npm run promote\` (pause: promote)`);
    if (Date.now() < pause.until) return notDue(`the pause at step ${pause.step + 1} lasts until ${new Date(pause.until).toISOString()}`);
  }
  if (!pause) {
    const hint = journal.phase === "succeeded" && config.rollout.capacity.scaleDownBlue ? "; to scale blue down, `npm run promote -- --scale-down-blue`" : "";
    throw new UsageError(
      `nothing to promote: run ${journal.runId} is in phase "${journal.phase}", not paused` +
        (["succeeded", "rolled-back", "failed-rollback", "preflight-failed", "aborted"].includes(journal.phase)
          ? hint
          : "; a crashed run continues with `npm run cutover -- --resume`"),
    );
  }
  const orchestrator = await (await import("../app/wiring/aws.js")).awsOrchestrator(opened, outputs);
  if (orchestrator.kind === "stepfunctions") {
    const { orchestratedPromote } = await import("./orchestrated.js");
    return orchestratedPromote({ orchestrator, journal, pause, operator: lockOwner(), whenDue: options.whenDue === true, now: options.now === true, mode, io });
  }
  if (pause.until !== null && Date.now() < pause.until && !options.now) {
    throw new UsageError(
      `the pause at step ${pause.step + 1} lasts until ${new Date(pause.until).toISOString()}: run promote after that, or \`npm run promote -- --now\` to continue early; nothing was changed`,
    );
  }

  const forward: string[] = ["--resume", "--yes", "--stack", opened.name, "--config", opened.configPath, "--reports", options.reports];
  if (options.outputs) forward.push("--outputs", options.outputs);
  if (options.allowUnverifiedStack) forward.push("--allow-unverified-stack");
  if (options.json) forward.push("--json");
  if (options.now) forward.push("--now");
  if (options.webhook) forward.push("--webhook", options.webhook);
  if (!mode.json)
    io.stderr.write(
      `promoting run ${journal.runId}: step ${pause.step + 1} paused since ${new Date(pause.since).toISOString()}${pause.evidence ? ` (${pause.evidence})` : ""}\n`,
    );
  return cutoverMain(forward, io);
}
