// `cutover`, `promote` and `rollback` on a stack whose rollouts run on a state machine
// (`rolloutStateMachineArn` in its outputs). The commands keep their flags and their checks; where
// the local orchestrator runs the engine in this process, these hand the run to the machine:
//   - cutover: what only the checkout can prove is checked first (no pending expand migration;
//     paired: a recent identical parity result, carried in the execution input as the checkout
//     record: scripts/core/orchestrator/checkout.ts), then the plan, PROCEED, then one
//     execution named after a new run id; the command returns (exit 0) and the execution drives
//     the rollout; --resume starts the next attempt of the journal's unfinished run when none of
//     its executions runs;
//   - promote: a `pause: promote` is released by sending the approval's task token, with the
//     operator (recorded by the engine as the pause's promoter); a timed pause is the machine's Wait;
//   - rollback: the run's execution is stopped first, then the rollback runs as on any stack.

import type { CutoverDeps } from "../core/engine.js";
import type { Journal } from "../core/journal.js";
import type { PauseRecord } from "../core/engine.js";
import { isTerminal } from "../core/phases.js";
import { UsageError } from "../core/errors.js";
import type { StackOrchestrator } from "../app/executions/port.js";
import { checkCheckout, type CheckoutRecord } from "../core/orchestrator/checkout.js";
import type { StackConfig } from "../../infra/config.js";
import type { Io } from "./args.js";
import { ExitCode, type OutputMode } from "./common.js";

type Orchestrated = Extract<StackOrchestrator, { kind: "stepfunctions" }>;

export interface OrchestratedCutover {
  orchestrator: Orchestrated;
  deps: Pick<CutoverDeps, "journal" | "lock">;
  /** The plan's lines (`cutover --dry-run`'s preview), printed before PROCEED; not read for --resume. */
  planLines: () => Promise<string[]>;
  resume: boolean;
  /** Ask for PROCEED; absent with --yes. */
  confirm?: () => Promise<boolean>;
  /** Flags the state machine's execution cannot carry: named, refused. */
  unsupported: string[];
  /** The checkout's checks (checkoutChecks): bad input when one fails; the record paired executions carry. */
  checkout: (requireParity: boolean) => Promise<CheckoutRecord>;
  databaseMode: "shared" | "paired";
  mode: OutputMode;
  io: Io;
}

/** A run id as the engine makes one: the start time and a random suffix (also the execution's name). */
export function newRunId(now: number = Date.now()): string {
  return `${new Date(now).toISOString().replace(/[:.]/g, "-")}-${Math.random().toString(36).slice(2, 8)}`;
}

async function loadJournal(deps: Pick<CutoverDeps, "journal">): Promise<Journal | null> {
  const raw = await deps.journal.load();
  if (raw === null || raw === undefined) return null;
  const { parseJournal } = await import("../core/journal.js");
  return parseJournal(raw);
}

export async function orchestratedCutover(run: OrchestratedCutover): Promise<ExitCode> {
  const { io, mode, orchestrator } = run;
  if (run.unsupported.length > 0)
    throw new UsageError(
      `${run.unsupported.join(", ")}: not for a stack whose rollouts run on Step Functions (the execution carries only the run id; a timed pause is the machine's Wait); nothing was started`,
    );
  const rollouts = await import("../app/executions/rollout.js");
  const journal = await loadJournal(run.deps);
  if (run.resume) {
    if (journal === null) throw new UsageError("there is no cutover journal: nothing to resume; start one with `npm run cutover`");
    // A run still in its preflight judges the parity again in the Lambda: the record must hold a recent one.
    const checkout = await run.checkout(journal.phase === "idle" || journal.phase === "preflight");
    if (run.confirm) {
      io.stderr.write(`resume run ${journal.runId} (phase ${journal.phase}, step ${journal.step === null ? "-" : journal.step + 1}) with a new execution\n`);
      if (!(await run.confirm())) return cancelled(io);
    }
    const started = await rollouts.resumeRollout(orchestrator.rollout, journal, orchestrator.stack, recorded(run, checkout).checkout);
    return printStarted(io, mode, journal.runId, started, `attempt ${started.attempt + 1} of run ${journal.runId}: it resumes from the journal`);
  }
  if (journal !== null && !isTerminal(journal.phase))
    throw new UsageError(
      `run ${journal.runId} is unfinished (phase "${journal.phase}"): \`npm run status\` shows it; \`npm run cutover -- --resume\` continues it, \`npm run rollback\` ends it; nothing was started`,
    );
  const holder = await run.deps.lock.current();
  if (holder !== null)
    throw new UsageError(`${holder.operation} by ${holder.owner} holds the lock since ${new Date(holder.since).toISOString()}: nothing was started`);
  const checkout = await run.checkout(true);
  const lines = await run.planLines();
  if (!mode.json) io.stdout.write(`${lines.join("\n")}\n\n`);
  if (run.confirm && !(await run.confirm())) return cancelled(io);
  const runId = newRunId();
  const started = await rollouts.startRollout(orchestrator.rollout, { runId, stack: orchestrator.stack, ...recorded(run, checkout) });
  return printStarted(io, mode, runId, started, "the state machine drives the rollout: nothing of this process keeps running");
}

/** Paired executions carry the checkout record (the Lambda's preflight reads its parity); shared ones need nothing of it. */
function recorded(run: Pick<OrchestratedCutover, "databaseMode">, checkout: CheckoutRecord): { checkout?: CheckoutRecord } {
  return run.databaseMode === "paired" ? { checkout } : {};
}

/** The checks of an orchestrated cutover over its wired ports: the expand migrator, and paired mode's parity file. */
export function checkoutChecks(
  deps: Pick<CutoverDeps, "migrator" | "parity">,
  config: Pick<StackConfig, "rollout">,
  databaseMode: "shared" | "paired",
): (requireParity: boolean) => Promise<CheckoutRecord> {
  return (requireParity) =>
    checkCheckout({
      databaseMode,
      now: Date.now(),
      parityMaxAgeMs: config.rollout.parityMaxAgeSeconds * 1000,
      migrationsDir: config.rollout.migrationsDir,
      migrator: deps.migrator,
      parity: deps.parity,
      requireParity,
    });
}

function cancelled(io: Io): ExitCode {
  io.stderr.write("cancelled: nothing was started\n");
  return ExitCode.ok;
}

function printStarted(io: Io, mode: OutputMode, runId: string, started: { executionArn: string; name: string; consoleUrl: string }, note: string): ExitCode {
  if (mode.json) io.stdout.write(`${JSON.stringify({ type: "execution-started", runId, ...started })}\n`);
  else
    io.stdout.write(
      [
        `run ${runId}: execution ${started.name} started (${note})`,
        `  execution: ${started.executionArn}`,
        `  console:   ${started.consoleUrl}`,
        "  follow it with `npm run status`; a `pause: promote` step waits for `npm run promote`; `npm run rollback` stops it and rolls back",
        "",
      ].join("\n"),
    );
  return ExitCode.ok;
}

export interface OrchestratedPromote {
  orchestrator: Orchestrated;
  journal: Journal;
  pause: PauseRecord;
  operator: string;
  whenDue: boolean;
  now: boolean;
  mode: OutputMode;
  io: Io;
}

/** promote on an orchestrated stack: the approval's token for a `pause: promote`; a timed pause is the machine's own Wait. */
export async function orchestratedPromote(run: OrchestratedPromote): Promise<ExitCode> {
  const { io, mode, journal, pause } = run;
  if (pause.until !== null) {
    const why = `the pause at step ${pause.step + 1} is the state machine's Wait: it continues by itself at ${new Date(pause.until).toISOString()}`;
    if (run.whenDue) {
      if (mode.json) io.stdout.write(`${JSON.stringify({ type: "promote-not-due", reason: why })}\n`);
      else io.stderr.write(`promote --when-due: ${why}; nothing was changed\n`);
      return ExitCode.ok;
    }
    throw new UsageError(`${why}${run.now ? " (--now cannot shorten a running Wait state)" : ""}; nothing was changed`);
  }
  if (run.whenDue) {
    if (mode.json) io.stdout.write(`${JSON.stringify({ type: "promote-not-due", reason: `step ${pause.step + 1} waits for an operator` })}\n`);
    else io.stderr.write(`promote --when-due: step ${pause.step + 1} waits for an operator's \`npm run promote\` (pause: promote); nothing was changed\n`);
    return ExitCode.ok;
  }
  const { approvePause } = await import("../app/executions/rollout.js");
  const sent = await approvePause(run.orchestrator.approvals, journal, pause.step, run.operator);
  if (mode.json) io.stdout.write(`${JSON.stringify({ type: "approval-sent", runId: journal.runId, ...sent })}\n`);
  else
    io.stderr.write(
      `run ${journal.runId}: step ${pause.step + 1} approved by ${sent.approvedBy}; the state machine continues the rollout (\`npm run status\` follows it)\n`,
    );
  return ExitCode.ok;
}

/**
 * Before an orchestrated stack's rollback: stop the journal's run's execution, so the machine does
 * not advance again. A failure here never stands in the rollback's way: it is said, and the lock
 * decides between the rollback and an invocation already running.
 */
export async function stopOrchestratedRun(orchestrator: Orchestrated, journal: Journal | null, reason: string, stderr: NodeJS.WritableStream): Promise<void> {
  if (journal === null) return;
  const { stopRun } = await import("../app/executions/rollout.js");
  try {
    const stopped = await stopRun(orchestrator.rollout, journal.runId, reason);
    for (const name of stopped) stderr.write(`stopped execution ${name} of run ${journal.runId}\n`);
  } catch (error) {
    stderr.write(`warning: could not stop the execution of run ${journal.runId} (${(error as Error).message}); rolling back anyway\n`);
  }
}

/** Longest the stop before a rollback may take: the rollback itself must not wait on Step Functions. */
const STOP_BEFORE_ROLLBACK_MS = 5_000;

/**
 * rollback's one call: on a stack whose outputs name a rollout state machine, stop the journal's
 * run's execution (bounded, never failing the rollback); on any other stack, nothing (no call).
 */
export async function stopExecutionBeforeRollback(
  opened: import("../app/stack.js").OpenStack,
  region: string,
  reason: string,
  stderr: NodeJS.WritableStream,
): Promise<void> {
  const raw = opened.raw.raw as Record<string, unknown> | null;
  const { isStateMachineArn } = await import("../../infra/vocabulary/stackOutputs.js");
  const machineArn = raw && isStateMachineArn(raw.rolloutStateMachineArn) ? raw.rolloutStateMachineArn : null;
  if (machineArn === null) return;
  const signal = AbortSignal.timeout(STOP_BEFORE_ROLLBACK_MS);
  try {
    const { awsOrchestrator, awsJournal } = await import("../app/wiring/aws.js");
    const orchestrator = await awsOrchestrator(opened, { region, rolloutStateMachineArn: machineArn }, { signal: () => signal });
    if (orchestrator.kind === "local") return;
    const journal = await loadJournal({ journal: await awsJournal(opened, region, () => signal) });
    await stopOrchestratedRun(orchestrator, journal, reason, stderr);
  } catch (error) {
    stderr.write(`warning: could not stop the rollout's execution (${(error as Error).message}); rolling back anyway\n`);
  }
}
