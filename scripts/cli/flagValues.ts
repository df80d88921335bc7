// One rule for every command's options, checked on the raw argv before commander reads it: an
// option that takes a value never takes another option as that value. Without it
// `--skip-snapshot --dry-run` reads "--dry-run" as the snapshot's reason and starts a real cutover,
// and `--reason --dry-run` performs a real rollback. A value that really starts with "--" has no
// legitimate use among our options; the message names both options and the way to give a value.

import type { Command, Option } from "commander";
import { refuseSecretsOnArgv } from "./argvSecrets.js";
import { UsageError } from "./common.js";

function findOption(commands: readonly Command[], token: string): Option | undefined {
  // The innermost command first: a subcommand's own options, then its parents' (commander's order).
  for (const command of [...commands].reverse()) {
    const found = command.options.find((option) => option.long === token || option.short === token);
    if (found) return found;
  }
  return undefined;
}

const takesValue = (option: Option) => option.required || option.optional;

/** Throws UsageError (exit 2) when an option that takes a value is followed by something that starts with "--". */
export function refuseOptionsAsValues(root: Command, argv: readonly string[]): void {
  const path: Command[] = [root];
  for (let i = 0; i < argv.length; i += 1) {
    const token = argv[i]!;
    if (token === "--") return; // everything after is an operand
    if (token.startsWith("-") && token.length > 1) {
      if (token.includes("=")) continue; // --name=value: the value is given explicitly
      const option = findOption(path, token);
      if (!option || !takesValue(option)) continue;
      const next = argv[i + 1];
      if (next !== undefined && next.startsWith("--")) {
        throw new UsageError(
          `${option.long ?? token} takes a value, but the next argument is ${JSON.stringify(next)}, an option: give ${option.long ?? token} its value ` +
            `(${option.flags}) before ${next.split("=")[0]} — values that start with "--" are refused for every option`,
        );
      }
      // A required value is consumed whatever it is; an optional one only when it is not an option.
      if (next !== undefined && (option.required || !next.startsWith("-"))) i += 1;
      continue;
    }
    const current = path.at(-1)!;
    const sub = current.commands.find((command) => command.name() === token || command.aliases().includes(token));
    if (sub) path.push(sub);
  }
}

/** Every check on a raw command line, before commander reads it: options as values, passwords. */
export function checkCommandLine(root: Command, argv: readonly string[]): void {
  refuseSecretsOnArgv(argv);
  refuseOptionsAsValues(root, argv);
}
