// Before any lock or weight: every configured hook's program must exist and be executable, so a
// missing smoke test is found at the start (exit 2 naming the hook and the path), not after 5% of
// traffic has moved. A hook is a `sh -c` command line; its program is its first word after any
// VAR=value assignments. A path (with a "/") is resolved against the directory the hooks run in;
// a bare name is looked up on PATH; a shell builtin or keyword needs no file. A command line this
// cannot read (a subshell, a pipeline first, quotes it cannot follow) is left to the shell.

import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../core/errors.js";

const SHELL_WORDS = new Set([
  ...[":", ".", "[", "alias", "break", "cd", "command", "continue", "eval", "exec", "exit", "export", "false", "getopts", "hash", "printf", "pwd"],
  ...["read", "readonly", "return", "set", "shift", "test", "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset", "wait", "echo"],
  ...["if", "for", "while", "until", "case", "{", "!"],
]);

/** The program a `sh -c` command line starts, or null when the line is more than this reads (a subshell, quotes left open). */
export function hookProgram(command: string): string | null {
  const words = command.trim().split(/\s+/);
  let i = 0;
  while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!)) i += 1;
  const word = words[i];
  if (word === undefined || word === "") return null;
  const quoted = /^(['"])(.*)\1$/.exec(word);
  const program = quoted ? quoted[2]! : word;
  if (/[()'"`$;&|<>*?]/.test(program)) return null;
  return program;
}

export interface HookToCheck {
  name: string;
  command: string;
}

/** What is wrong with one hook's program, or null. */
async function problemOf(hook: HookToCheck, cwd: string, path: string): Promise<string | null> {
  const program = hookProgram(hook.command);
  if (program === null || SHELL_WORDS.has(program)) return null;
  if (program.includes("/")) {
    const file = isAbsolute(program) ? program : resolve(cwd, program);
    const info = await stat(file).catch(() => null);
    if (!info) return `hook ${hook.name}: ${program} does not exist (looked for ${file})`;
    if (!info.isFile()) return `hook ${hook.name}: ${program} is not a file (${file})`;
    const executable = await access(file, constants.X_OK).then(
      () => true,
      () => false,
    );
    return executable ? null : `hook ${hook.name}: ${program} is not executable (${file}): chmod +x it`;
  }
  for (const dir of path.split(delimiter).filter((d) => d !== "")) {
    const found = await access(join(dir, program), constants.X_OK).then(
      () => true,
      () => false,
    );
    if (found) return null;
  }
  return `hook ${hook.name}: ${program} is not on PATH`;
}

/** Throws UsageError (exit 2) naming every hook whose program is missing or not executable. */
export async function checkHookCommands(hooks: readonly HookToCheck[], options: { cwd: string; path: string | undefined; configPath: string }): Promise<void> {
  const problems = (await Promise.all(hooks.map((hook) => problemOf(hook, options.cwd, options.path ?? "")))).filter((p): p is string => p !== null);
  if (problems.length === 0) return;
  throw new UsageError(
    `${options.configPath} rollout.hooks: ${problems.join("; ")}. Hooks run with \`sh -c\` from ${options.cwd}; see docs/hooks.md. Nothing was changed`,
  );
}
