// `npm run sync -- <command>`: PostgreSQL logical replication between blue's and green's databases.
// A thin command line over scripts/postgres/sync/ (subcommands in syncCommands.ts, connection
// flags in syncConnections.ts, output in syncPrint.ts); see docs/sync.md.

import { Command, CommanderError } from "commander";
import { ExitCode } from "./common.js";
import { checkCommandLine } from "./flagValues.js";
import { reverseCommand, sequencesCommand, startCommand, statusCommand, stopCommand } from "./syncCommands.js";

function buildProgram(setCode: (code: ExitCode) => void): Command {
  const program = new Command("npm run sync --")
    .description("Keep green's database in step with blue's through PostgreSQL logical replication (and the reverse for a lossless rollback).")
    .showHelpAfterError()
    .exitOverride();
  for (const command of [startCommand, statusCommand, sequencesCommand, stopCommand, reverseCommand]) program.addCommand(command(setCode));
  program.addHelpText(
    "after",
    `\nExamples:\n  npm run sync -- start --blue-env BLUE_URL --green-env GREEN_URL\n  npm run sync -- status --stack prod\n  npm run sync -- status --stack prod --outputs outputs.json\n\nExit codes: 0 ok, 1 not healthy / not converged / slot left, 2 bad input, 3 a database unreachable.`,
  );
  return program;
}

/** `args`: the command line after the script name (process.argv.slice(2)). */
export async function syncMain(args: string[]): Promise<ExitCode> {
  let code: ExitCode = ExitCode.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  checkCommandLine(program, args);
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (error) {
    // Commander already printed its own message (or the help) for its errors.
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
    }
    throw error;
  }
  return code;
}
