#!/usr/bin/env node
// `npx bluegreen <command> [options]`: one entry for every command. Only the named command's
// module is loaded (on demand), so `bluegreen rollback` starts as fast as `npm run rollback`; and
// nothing but the command's own output reaches stdout (no npm banner), so --json is clean JSON.
import { ExitCode, runMain } from "./cli/common.js";

type Main = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { describe: string; load: () => Promise<Main> }> = {
  cutover: { describe: "move traffic blue → green in gated steps", load: async () => (await import("./cli/cutoverMain.js")).cutoverMain },
  rollback: { describe: "all traffic back to blue, verified", load: async () => (await import("./cli/rollbackMain.js")).rollbackMain },
  promote: { describe: "continue a paused rollout; scale blue down", load: async () => (await import("./cli/promoteMain.js")).promoteMain },
  pause: { describe: "hold the running cutover at its current step", load: async () => (await import("./cli/pauseMain.js")).pauseMain },
  abort: { describe: "stop the running cutover, traffic back to blue", load: async () => (await import("./cli/abortMain.js")).abortMain },
  status: { describe: "weights, health, alarms, fence, lock, last run", load: async () => (await import("./cli/statusMain.js")).statusMain },
  maintenance: { describe: "the write fence by hand", load: async () => (await import("./cli/maintenanceMain.js")).maintenanceMain },
  parity: { describe: "prove green's database holds blue's data", load: async () => (await import("./cli/parityMain.js")).parityMain },
  sync: { describe: "logical replication between the colors", load: async () => (await import("./cli/syncMain.js")).syncMain },
  migrate: { describe: "expand/contract schema migrations", load: async () => (await import("./cli/migrateMain.js")).migrateMain },
  release: { describe: "one release over many stacks in waves (Step Functions)", load: async () => (await import("./cli/releaseMain.js")).releaseMain },
  report: { describe: "draw the HTML report of a past run", load: async () => (await import("./cli/reportMain.js")).reportMain },
  demo: { describe: "the whole story on one machine, no AWS", load: async () => (await import("./cli/demoMain.js")).demoMain },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    "Usage: bluegreen <command> [options]   (each command with --help)",
    "",
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.describe}`),
    "",
    "Exit codes: 0 ok, 1 gate failed / rolled back / difference found, 2 bad input, 3 infrastructure unreachable.",
    "",
  ].join("\n");
}

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === "--help" || name === "-h" || name === "help") {
  (name === undefined ? process.stderr : process.stdout).write(usage());
  process.exitCode = name === undefined ? ExitCode.badInput : ExitCode.ok;
} else if (!Object.hasOwn(COMMANDS, name)) {
  process.stderr.write(`error: unknown command ${JSON.stringify(name)}: one of ${Object.keys(COMMANDS).join(", ")} (see bluegreen --help)\n`);
  process.exitCode = ExitCode.badInput;
} else {
  const command = COMMANDS[name]!;
  runMain(async () => {
    try {
      return (await (
        await command.load()
      )(rest)) as ExitCode;
    } finally {
      // As `npm run demo`: everything the demo started is stopped by then; should anything still
      // hold the event loop, leave after a second anyway.
      if (name === "demo") setTimeout(() => process.exit(), 1000).unref();
    }
  });
}
