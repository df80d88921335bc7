// What every command-line entry point shares: exit codes, the one place errors become them,
// and the decision between a live terminal view and plain lines.

import { CommanderError } from "commander";
import { ExitCodeError } from "../core/errors.js";

export const ExitCode = {
  ok: 0,
  /** A gate failed, differences were found, or the run rolled back. */
  failed: 1,
  /** Bad input: flags, config, files. Nothing was changed. */
  badInput: 2,
  /** Infrastructure unreachable: AWS, a database, the local router. */
  unreachable: 3,
  /** No verdict: the command could not finish its comparison (parity: a table it may not read in full, a server error). */
  cannotCompare: 4,
  /** Stopped by Ctrl-C (128 + SIGINT), the shell's convention. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export { OperationFailedError, UnreachableError, UsageError } from "../core/errors.js";

export interface OutputMode {
  /** Machine output: JSON documents or JSON lines on stdout, nothing else there. */
  json: boolean;
  /** A live, redrawn view; only on an interactive terminal and never with --json. */
  live: boolean;
  color: boolean;
}

export function outputMode(options: { json?: boolean }, stream: NodeJS.WriteStream = process.stdout): OutputMode {
  const json = options.json === true;
  const tty = stream.isTTY === true && process.env.CI !== "true" && process.env.TERM !== "dumb";
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "";
  return { json, live: tty && !json, color: tty && !json && !noColor };
}

/**
 * Run a command's main function and exit with the code its outcome maps to.
 * Errors print one clear line (never a stack trace for expected errors) on stderr.
 */
export function runMain(main: () => Promise<ExitCode>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.exitCode = exitCodeFor(error);
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`error: ${message}\n`);
      if (process.exitCode === ExitCode.failed && error instanceof Error && error.stack && process.env.DEBUG) {
        process.stderr.write(`${error.stack}\n`);
      }
    },
  );
}

/** The exit code an error stands for: its own (`ExitCodeError` and its subclasses), 2 for a flag commander refused, else 1. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof ExitCodeError) return error.exitCode;
  if (error instanceof CommanderError) return ExitCode.badInput;
  return ExitCode.failed;
}
