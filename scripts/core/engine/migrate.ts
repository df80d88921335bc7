// The migrating phase: expand migrations after preflight and the snapshot, before the first
// weight moves (and before the paired switch's fence). Blue keeps serving on the expanded schema
// (the lint refuses anything that would break it), so nothing here touches traffic: a migration
// that fails, a lint refusal, schemas that differ afterwards or a database that cannot be reached
// end the run in preflight-failed with the reason "migration failed: …". Resumable: the phase is
// persisted before it starts and the migrator skips what its database journal says is applied.
//
// Also here: the rule for `migrate contract` (contractGate), read from the cutover journal, and
// the line a rollback adds when the run had expanded the schema.

import type { Journal } from "../journal.js";
import { messageOf, type Run } from "./run.js";

export async function migrateSchema(run: Run): Promise<void> {
  const j = run.journal;
  const migrator = run.deps.migrator;
  const next = () => (run.plan.fenced ? run.transition("fencing", null) : run.transition("writing", 0));
  if (!migrator) return next();
  run.throwIfAborted();
  let result;
  try {
    result = await migrator.expand(run.signal);
  } catch (error) {
    run.throwIfAborted();
    result = { ok: false, applied: [], summary: messageOf(error) };
  }
  run.throwIfAborted();
  // Applied ones across resumes: the record keeps what earlier attempts applied.
  const applied = [...(j.migration?.applied ?? []), ...result.applied.filter((n) => !(j.migration?.applied ?? []).includes(n))];
  j.migration = { ok: result.ok, applied, summary: result.summary, at: run.now() };
  run.emit({ type: "preflight-check", check: "migrations", ok: result.ok, detail: result.summary });
  if (!result.ok) {
    const reason = `migration failed: ${result.summary}; traffic untouched${applied.length > 0 ? ` (applied and kept: ${applied.join(", ")}; blue runs on them)` : ""}`;
    run.decide("refuse", reason);
    j.failure = { reason, breachObservedAt: run.now(), phase: "migrating", step: null };
    return run.finish("preflight-failed", reason, null);
  }
  run.decide("proceed", `expand migrations: ${result.summary}`);
  return next();
}

/** What a rollback says about a schema this run expanded (nothing when it expanded none). */
export function expandedSchemaNote(journal: Pick<Journal, "migration">): string | null {
  const applied = journal.migration?.applied ?? [];
  if (applied.length === 0) return null;
  return `the expand migrations this cutover applied stay in place (${applied.join(", ")}): blue runs on the expanded schema, compatible by construction; contract migrations were not run`;
}

export interface ContractGate {
  allowed: boolean;
  reason: string;
  /** When the cutover reached green at 100% and passed monitoring (epoch ms), if it did. */
  succeededAt: number | null;
}

/**
 * `migrate contract` closes the rollback path, so it is allowed only after a cutover that
 * succeeded (green at 100%, verified and monitored) and has stayed so for `contractAfterMs`
 * (rollout.contractAfterSeconds): a later rollback, or any run since, makes the journal say so.
 */
export function contractGate(journal: Journal | null, now: number, contractAfterMs: number): ContractGate {
  if (journal === null) return { allowed: false, reason: "no cutover journal: contract runs only after a successful cutover", succeededAt: null };
  if (journal.operation !== "cutover" || journal.phase !== "succeeded") {
    return {
      allowed: false,
      reason: `the last run (${journal.operation} ${journal.runId}) is in phase "${journal.phase}", not a succeeded cutover`,
      succeededAt: null,
    };
  }
  const last = journal.plan?.steps.at(-1);
  if (!last || last.weights.green !== 100) {
    return { allowed: false, reason: `the last cutover ended at green ${last?.weights.green ?? "?"}%, not 100%`, succeededAt: null };
  }
  const reached = journal.timeline.filter((e) => e.type === "phase-changed" && e.to === "succeeded").at(-1)?.at ?? journal.updatedAt;
  const due = reached + contractAfterMs;
  if (now < due) {
    const left = Math.ceil((due - now) / 1000);
    return {
      allowed: false,
      reason: `the cutover succeeded ${Math.floor((now - reached) / 1000)} s ago; rollout.contractAfterSeconds asks for ${Math.round(contractAfterMs / 1000)} s (${left} s to go)`,
      succeededAt: reached,
    };
  }
  return {
    allowed: true,
    reason: `cutover ${journal.runId} succeeded with green at 100% ${Math.floor((now - reached) / 1000)} s ago (≥ rollout.contractAfterSeconds ${Math.round(contractAfterMs / 1000)} s)`,
    succeededAt: reached,
  };
}
