// Command-line parsing shared by the commands: commander with --help, strict flags (an unknown
// flag is exit 2, nothing touched), the stack flags.
//
// --stack: required, unless the working directory holds exactly one Pulumi.<stack>.yaml, which is
// then the stack (printed, so nobody wonders; app/stack.ts). Not read from PULUMI_STACK or `pulumi
// stack select`: a rollback that silently picks the wrong stack is worse than one that asks. Either
// way the stack must then match the outputs' own identity (app/stackOutputs.ts) before any AWS call.

import { Command, CommanderError, type OptionValues } from "commander";
import { UsageError } from "./common.js";
import { checkCommandLine } from "./flagValues.js";

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** A commander program with our conventions: strict flags, errors thrown (not process.exit), help to stdout. */
export function program(name: string, description: string, io: Io): Command {
  return new Command(`npm run ${name} --`)
    .description(description)
    .helpOption("-h, --help", "show this help")
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // The message is printed once, by runMain, with the exit code's convention.
      outputError: () => undefined,
    });
}

export function addStackOptions(command: Command, { config = true }: { config?: boolean } = {}): Command {
  command
    .option("--stack <name>", "Pulumi stack name (default: the only Pulumi.<stack>.yaml here)")
    .option("--outputs <file>", "stack outputs JSON (`pulumi stack output --json`); default: ask the pulumi CLI")
    .option("--allow-unverified-stack", "accept an --outputs FILE that does not name its stack (outputs of a stack older than pulumiProject/pulumiStack)");
  if (config) command.option("--config <file>", "stack config file (default: Pulumi.<stack>.yaml)");
  return command.option("--json", "machine output on stdout (JSON lines for events)");
}

/**
 * Parse argv; commander's own errors become UsageError (exit 2). Returns null when --help was
 * printed: the command has nothing else to do and exits 0.
 */
export function parse<T extends OptionValues>(command: Command, argv: readonly string[]): { options: T; args: string[] } | null {
  checkCommandLine(command, argv);
  try {
    command.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0) return null;
      throw new UsageError(`${error.message.replace(/^error: /, "")} (see --help)`);
    }
    throw error;
  }
  return { options: command.opts<T>(), args: command.args };
}

/** --webhook / rollout.webhookUrl: an http(s) URL. */
export function validateWebhook(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--webhook ${JSON.stringify(url)}: not a URL`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new UsageError(`--webhook ${url}: must be an http(s) URL`);
  return url;
}
