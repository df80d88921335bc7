// Errors shared by the engine, the adapters and the command lines. They say what went wrong in
// words an operator can act on; only the CLI (scripts/cli/common.ts) maps them to exit codes.

/** Bad input from the operator (flags, config, files); nothing was changed. CLI: exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Something the command needs could not be reached (AWS, a database, the local router). CLI: exit 3. */
export class UnreachableError extends Error {
  override name = "UnreachableError";
}
