// Steps that pause (rollout.strategy.steps[].pause: "promote" or a duration up to days).
//
// After a pausing step's bake has promoted, the run enters phase "paused": the journal keeps the
// step, the judge's evidence (journal.judge, untouched here) and the pause record; the lock is
// released and the cutover exits 0. Nothing of this process keeps watching: the guard does (the
// Lambda on AWS, scripts/local/guard.ts in the sandbox), and `rollback` works from "paused".
//
// `promote` (or `cutover --resume`) continues: a timed pause not over yet is refused unless
// `--now`; the stack's alarms must be quiet; then the run goes back to the step's bake with the
// evidence carried over, so the same judge takes at least one fresh window after the pause before
// the after-step hooks and the next step (whose capacity is checked before its weights move).

import type { Journal } from "../journal.js";
import { describeRequester, type OperatorRequest } from "../operatorRequest.js";
import { formatDuration, type PlanPause } from "../plan.js";
import { Breach, type Run } from "./run.js";
import { EngineInputError, type RollbackDeps } from "./types.js";

export interface PauseRecord {
  /** 0-based step the run paused after. */
  step: number;
  kind: PlanPause["kind"];
  /** When the run paused (epoch ms). */
  since: number;
  /** Timed pauses: when `promote` may continue without --now; null for "promote". */
  until: number | null;
  /** The judge's last word on the step before the pause (its counts, statistic and boundary). */
  evidence: string | null;
  /** Who continued it and when; null while paused. */
  promotedBy: string | null;
  promotedAt: number | null;
  /** Continued before a timed pause was over (`promote --now`). */
  early: boolean;
  /** A pause an operator asked for (`npm run pause`), not one of the plan's: who asked, and why. */
  requestedBy?: string;
}

/** The journal with its pauses (absent in journals written before pauses existed). */
export type JournalWithPauses = Journal & { pauses?: PauseRecord[] };

export function pausesOf(journal: Journal): PauseRecord[] {
  return (journal as JournalWithPauses).pauses ?? [];
}

/** The pause the run is in (phase "paused"), or null. */
export function currentPause(journal: Journal): PauseRecord | null {
  if (journal.phase !== "paused") return null;
  const last = pausesOf(journal).at(-1);
  return last && last.promotedAt === null ? last : null;
}

/**
 * Which pause the session released, per run (promote / cutover --resume), as the number of pause
 * records then: a later pause holds again, also a second one at the same step (an operator's
 * pause, then the step's own).
 */
const released = new WeakMap<object, number>();

/** The driver stops here: the run is paused and nobody released it. */
export function holdsAtPause(run: Run<RollbackDeps>): boolean {
  return run.journal.phase === "paused" && released.get(run) !== pausesOf(run.journal).length;
}

/** After the bake of the current step: does this step pause now (and has not paused already)? */
export function pauseDue(run: Run): boolean {
  const step = run.currentStep();
  return step.pause !== undefined && !pausesOf(run.journal).some((p) => p.step === step.index && p.requestedBy === undefined);
}

/** baking → paused: record the pause (the step's, or the one an operator requested) and say how to continue. */
export async function enterPause(run: Run, requested?: OperatorRequest): Promise<void> {
  const step = run.currentStep();
  const pause: PlanPause = requested ? { kind: "promote" } : step.pause!;
  const now = run.now();
  const j = run.journal as JournalWithPauses;
  const evidence = lastEvidence(run.journal, step.index);
  const record: PauseRecord = {
    step: step.index,
    kind: pause.kind,
    since: now,
    until: pause.kind === "timed" ? now + pause.ms : null,
    evidence,
    promotedBy: null,
    promotedAt: null,
    early: false,
    ...(requested ? { requestedBy: describeRequester(requested) } : {}),
  };
  (j.pauses ??= []).push(record);
  await run.transition("paused");
  const how =
    pause.kind === "promote"
      ? "until an operator runs `npm run promote`"
      : `for ${formatDuration(pause.ms)}, until ${new Date(record.until!).toISOString()}: then \`npm run promote\` (before that only with --now)`;
  const asked = requested ? ` at the request of ${describeRequester(requested)}` : "";
  run.decide(
    "pause",
    `paused at step ${step.index + 1} (blue ${step.weights.blue} / green ${step.weights.green})${asked} ${how}; \`npm run rollback\` sends traffic back meanwhile`,
  );
  await run.persist();
}

/**
 * The session's check before it continues a paused run (nothing is changed when it refuses):
 * a timed pause that is not over yet needs `now` (promote --now).
 */
export function checkPauseRelease(journal: Journal, options: { now: number; early: boolean }): void {
  // Promoted already (the process stopped between recording the promotion and leaving "paused"): continue.
  if (promotedPause(journal)) return;
  const pause = currentPause(journal);
  if (!pause) throw new EngineInputError(`run ${journal.runId} is in phase "paused" without an open pause record: run \`rollback\``);
  if (pause.until !== null && options.now < pause.until && !options.early) {
    throw new EngineInputError(
      `the pause at step ${pause.step + 1} lasts until ${new Date(pause.until).toISOString()} (${formatDuration(pause.until - options.now)} from now): ` +
        "run `npm run promote` after that, or `npm run promote -- --now` to continue early; nothing was changed",
    );
  }
}

/** In phase "paused" with the pause of the current step already promoted: the promotion was recorded, the run not yet moved on. */
function promotedPause(journal: Journal): PauseRecord | null {
  if (journal.phase !== "paused") return null;
  const last = pausesOf(journal).at(-1);
  return last && last.promotedAt !== null && last.step === journal.step ? last : null;
}

/** The session releases the run's pause: the driver continues it. */
export function releasePause(run: Run, by: string): void {
  const promoted = promotedPause(run.journal);
  if (promoted) {
    released.set(run, pausesOf(run.journal).length);
    return;
  }
  const pause = currentPause(run.journal);
  if (!pause) return;
  const now = run.now();
  pause.early = pause.until !== null && now < pause.until;
  pause.promotedBy = by;
  pause.promotedAt = now;
  released.set(run, pausesOf(run.journal).length);
}

/** Phase "paused", released: alarms must be quiet, then back to the step's bake with its evidence. */
export async function continueFromPause(run: Run): Promise<void> {
  const step = run.currentStep();
  const pause = pausesOf(run.journal)
    .filter((p) => p.step === step.index)
    .at(-1);
  const firing = await run.deps.alarms.firing();
  if (firing.length > 0) {
    throw new Breach(`promote after the pause at step ${step.index + 1}: in ALARM: ${firing.join(", ")}`, run.now());
  }
  const waited = pause ? formatDuration(run.now() - pause.since) : "?";
  run.decide(
    "proceed",
    `promoted by ${pause?.promotedBy ?? "?"} after ${waited} paused${pause?.early ? " (early, --now)" : ""}: ` +
      `the same judge takes fresh windows at green ${step.weights.green}% with the step's evidence carried over`,
  );
  await run.transition("baking");
}

/** The reason of the step's last "proceed" decision (the judge's verdict line), if any. */
function lastEvidence(journal: Journal, step: number): string | null {
  for (let i = journal.timeline.length - 1; i >= 0; i--) {
    const event = journal.timeline[i]!;
    if (event.type === "decision" && event.decision === "proceed" && event.step === step) return event.reason;
    if (event.type === "phase-changed" && event.to === "writing" && event.step === step) break;
  }
  return null;
}

/** What `status` shows about a paused run. */
export interface PauseView {
  /** 1-based, as operators count steps. */
  step: number;
  kind: PlanPause["kind"];
  weights: { blue: number; green: number } | null;
  since: string;
  /** Timed pauses: when promote continues without --now; null for "promote". */
  continuesAt: string | null;
  evidence: string | null;
  /** One line for the terminal. */
  line: string;
}

export function pauseView(journal: Journal, now: number): PauseView | null {
  const pause = currentPause(journal);
  if (!pause) return null;
  const weights = journal.plan?.steps[pause.step]?.weights ?? null;
  const at = weights ? ` (blue ${weights.blue} / green ${weights.green})` : "";
  const since = new Date(pause.since).toISOString();
  const when =
    pause.until === null
      ? "waits for `npm run promote`"
      : now >= pause.until
        ? `its ${formatDuration(pause.until - pause.since)} are over since ${new Date(pause.until).toISOString()}: continue with \`npm run promote\``
        : `continues with \`npm run promote\` after ${new Date(pause.until).toISOString()} (in ${formatDuration(pause.until - now)}; --now before)`;
  return {
    step: pause.step + 1,
    kind: pause.kind,
    weights,
    since,
    continuesAt: pause.until === null ? null : new Date(pause.until).toISOString(),
    evidence: pause.evidence,
    line: `paused at step ${pause.step + 1}${at} since ${since}: ${when}`,
  };
}
