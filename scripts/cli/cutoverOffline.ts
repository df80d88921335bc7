// `cutover --dry-run --offline`: the plan from the stack config alone, printed with what it could
// not read from AWS. No stack outputs are read (no `pulumi stack output`, no --outputs file) and
// no AWS client is created, so it runs without credentials, e.g. in a pull request's CI.

import { offlinePlan } from "../app/offlinePlan.js";
import { configPathFor, resolveStack } from "../app/stack.js";
import { checkHookCommands } from "../hooks/hookCommands.js";
import type { Io } from "./args.js";
import { ExitCode, outputMode } from "./common.js";

export async function offlineDryRun(options: { stack?: string; config?: string; json?: boolean; skipSnapshot?: string }, io: Io): Promise<ExitCode> {
  const stack = await resolveStack(options.stack, io, options.json === true);
  const configPath = configPathFor(stack, options.config, io.cwd);
  const { loadStackConfig } = await import("../app/pulumiConfigFile.js");
  const config = await loadStackConfig(configPath);
  await checkHookCommands(config.rollout.hooks, { cwd: io.cwd, path: io.env.PATH, configPath });
  const { plan, lines, unread } = offlinePlan(config, { skipSnapshot: options.skipSnapshot });
  const mode = outputMode({ json: options.json === true }, io.stdout as NodeJS.WriteStream);
  if (mode.json) io.stdout.write(`${JSON.stringify({ type: "dry-run", offline: true, plan, lines, unread })}\n`);
  else
    io.stdout.write(
      `${lines.join("\n")}\n\nNot read (offline):\n${unread.map((line) => `  - ${line}`).join("\n")}\n\ndry run (offline): no AWS call was made, nothing was changed\n`,
    );
  return ExitCode.ok;
}
