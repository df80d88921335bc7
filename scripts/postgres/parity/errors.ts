// The one error of parity's own: the run could not reach a verdict (a table the role cannot read
// in full, a large object it may not read, a server error). Not a difference and not bad input:
// the command line exits 4, "cannot compare", never 1.

export class CannotCompareError extends Error {
  override name = "CannotCompareError";
}

/** PostgreSQL's SQLSTATE for "insufficient privilege", also raised under row_security = off. */
const INSUFFICIENT_PRIVILEGE = "42501";

/**
 * A read of `what` failed: permission and row-security errors become CannotCompareError naming it;
 * anything else is passed on unchanged (connection losses are mapped by the caller).
 */
export function cannotRead(what: string, error: unknown): unknown {
  const e = error as { code?: string; message?: string };
  if (e.code === INSUFFICIENT_PRIVILEGE) {
    const rls = /row-level security/i.test(e.message ?? "");
    return new CannotCompareError(
      `cannot read ${what} in full: ${e.message}` +
        (rls
          ? " (parity reads with row_security = off, so policies cannot hide rows: connect as the owner without FORCE ROW LEVEL SECURITY, a superuser or a role with BYPASSRLS)"
          : " (grant this role SELECT, or connect as one that has it)"),
    );
  }
  return error;
}

/** The run was stopped by its signal (Ctrl-C): no verdict; says what was cancelled on each server. */
export class ParityInterruptedError extends Error {
  override name = "ParityInterruptedError";
  constructor(
    /** Queries of this run that were running and were cancelled, per side. */
    readonly cancelled: { blue: number; green: number },
    /** Sides whose queries could not be cancelled, and why. */
    readonly failures: string[] = [],
  ) {
    const n = (count: number) => `${count} quer${count === 1 ? "y" : "ies"}`;
    super(`interrupted: cancelled ${n(cancelled.blue)} on blue, ${cancelled.green} on green${failures.length > 0 ? `; ${failures.join("; ")}` : ""}`);
  }
}
