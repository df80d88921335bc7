// What only the operator's checkout can prove, proved by `npm run cutover` before it starts an
// orchestrated rollout, and carried to the advance Lambda in the execution input (`checkout`):
//
//   - the expand migrations of rollout.migrationsDir: the Lambda has no checkout and runs no
//     migration, so a start is refused while one is pending on either database (`npm run migrate`
//     applies them: paired, on both sides in the order replication needs);
//   - database.mode paired: the newest `npm run parity` result (reports/parity-latest.json on the
//     operator's machine), refused when missing, not identical or older than
//     rollout.parityMaxAgeSeconds. The Lambda's preflight reads the recorded result as its
//     ParitySource and judges its age again at its own clock, as the local preflight judges the
//     file; the exact parity under the fence (the switch's own) runs in the Lambda on the databases.
//
// In the execution input rather than in a file (the Lambda has none) or the journal (the run's
// journal does not exist before its first invocation): the record travels in the state the
// `Advance` task receives at every invocation, and the Step Functions console shows it with the
// execution's input. Anyone who may start executions could forge it; they may also run the
// rollout, and the switch's own exact parity under the fence does not trust it.

import { UsageError } from "../errors.js";
import { formatDuration } from "../plan.js";
import type { ParityResult, ParitySource, SchemaMigrator } from "../ports.js";

export interface CheckoutRecord {
  /** When the operator's cutover checked (epoch ms). */
  checkedAt: number;
  /** rollout.migrationsDir as the operator's cutover resolved it; "none": no expand migration there; "all-applied": none pending. */
  migrations: { dir: string; expand: "none" | "all-applied" };
  /** Paired: the newest parity result the preflight judges; null for a shared stack. */
  parity: ParityResult | null;
}

export interface CheckoutChecks {
  databaseMode: "shared" | "paired";
  now: number;
  /** rollout.parityMaxAgeSeconds in ms. */
  parityMaxAgeMs: number;
  migrationsDir: string;
  /** The expand migrator, when rollout.migrationsDir holds expand migrations. */
  migrator: Pick<SchemaMigrator, "pendingExpand"> | undefined;
  /** Paired: the newest `npm run parity` result. */
  parity: ParitySource | undefined;
  /** Paired runs checked to start (the parity is refused when missing or old); false for a resumed run past its preflight. */
  requireParity: boolean;
}

/** Run the checks; bad input (exit 2, nothing started) when one fails. */
export async function checkCheckout(checks: CheckoutChecks): Promise<CheckoutRecord> {
  let expand: CheckoutRecord["migrations"]["expand"] = "none";
  if (checks.migrator) {
    const pending = await checks.migrator.pendingExpand();
    if (pending.length > 0)
      throw new UsageError(
        `${pending.length} expand migration(s) pending in ${checks.migrationsDir} (${pending.join(", ")}): the advance Lambda has no checkout and runs none; ` +
          "apply them with `npm run migrate -- apply expand` first; nothing was started",
      );
    expand = "all-applied";
  }
  const record: CheckoutRecord = { checkedAt: checks.now, migrations: { dir: checks.migrationsDir, expand }, parity: null };
  if (checks.databaseMode !== "paired") return record;
  const latest = checks.parity ? await checks.parity.latest() : null;
  if (checks.requireParity) refuseParity(latest, checks);
  return { ...record, parity: latest };
}

function refuseParity(latest: ParityResult | null, checks: CheckoutChecks): void {
  const nothing = "; nothing was started";
  if (latest === null) throw new UsageError(`no parity result (reports/parity-latest.json): run \`npm run parity\` first${nothing}`);
  if (!latest.identical) throw new UsageError(`the latest parity run found differences: ${latest.summary}${nothing}`);
  const age = checks.now - latest.checkedAt;
  if (age > checks.parityMaxAgeMs)
    throw new UsageError(
      `the latest passing parity result is ${formatDuration(age)} old (max ${formatDuration(checks.parityMaxAgeMs)}): run \`npm run parity\` again${nothing}`,
    );
}

/** The record in an execution input, checked; a reason when it is absent or malformed. */
export function readCheckoutRecord(value: unknown): { record: CheckoutRecord } | { problem: string } {
  if (value === undefined || value === null) return { problem: "the execution input carries no checkout record: start the rollout with `npm run cutover`" };
  const record = value as Partial<CheckoutRecord>;
  const migrations = record.migrations as Partial<CheckoutRecord["migrations"]> | undefined;
  const problems: string[] = [];
  if (typeof record.checkedAt !== "number" || !Number.isFinite(record.checkedAt)) problems.push("checkedAt");
  if (!migrations || typeof migrations.dir !== "string" || (migrations.expand !== "none" && migrations.expand !== "all-applied")) problems.push("migrations");
  if (record.parity !== null && !isParityResult(record.parity)) problems.push("parity");
  if (problems.length > 0)
    return { problem: `the execution input's checkout record is malformed (${problems.join(", ")}): start the rollout with \`npm run cutover\`` };
  return { record: record as CheckoutRecord };
}

function isParityResult(value: unknown): value is ParityResult {
  const parity = value as Partial<ParityResult> | undefined;
  return (
    typeof parity === "object" &&
    parity !== null &&
    typeof parity.identical === "boolean" &&
    typeof parity.checkedAt === "number" &&
    Number.isFinite(parity.checkedAt) &&
    typeof parity.summary === "string"
  );
}

/**
 * The preflight's ParitySource in the advance Lambda: the recorded result. No record (an execution
 * not started by `npm run cutover`) or a malformed one fails the preflight's parity check with
 * the reason; the run ends preflight-failed with nothing moved.
 */
export function recordedParity(value: unknown): ParitySource {
  return {
    latest: async () => {
      const read = readCheckoutRecord(value);
      if ("problem" in read) throw new UsageError(read.problem);
      return read.record.parity;
    },
  };
}
