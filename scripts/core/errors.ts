// Errors shared by the engine, the adapters and the command lines. They say what went wrong in
// words an operator can act on, and carry the exit code they stand for (the shared vocabulary,
// infra/vocabulary/errors.ts); only the CLI (scripts/cli/common.ts) turns that into the process's exit.

export { ExitCodeError, OperationFailedError, UnreachableError, UsageError, type ErrorExitCode } from "../../infra/vocabulary/errors.js";
