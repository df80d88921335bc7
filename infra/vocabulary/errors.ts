// The errors every layer may throw, each carrying the process exit code it stands for:
// 1 a gate failed / rolled back / a difference found, 2 bad input (nothing was changed),
// 3 something the command needs could not be reached. The config schema (infra/config.ts), the
// engine, the adapters and the command lines all speak them; only the CLI turns `exitCode` into
// the process's exit (scripts/cli/common.ts), by `instanceof`, never by name.
// Dependency-free: `npm run rollback` loads it on its start-up path.

export type ErrorExitCode = 1 | 2 | 3;

/** An error that knows the exit code a command ends with when it stops there. */
export abstract class ExitCodeError extends Error {
  abstract readonly exitCode: ErrorExitCode;
}

/** Bad input from the operator (flags, config, files, a request the state does not allow); nothing was changed. Exit 2. */
export class UsageError extends ExitCodeError {
  override name = "UsageError";
  readonly exitCode = 2;
}

/** Something the command needs could not be reached (AWS, a database, the local router). Exit 3. */
export class UnreachableError extends ExitCodeError {
  override name = "UnreachableError";
  readonly exitCode = 3;
}

/** The command ran and could not do what was asked (another operation holds the lock, a check failed). Exit 1. */
export class OperationFailedError extends ExitCodeError {
  override name = "OperationFailedError";
  readonly exitCode = 1;
}
