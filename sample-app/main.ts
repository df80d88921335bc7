// The sample app as a process: `node dist/sample-app/main.js --color green --app-version v2
// --port 0 --fault error-rate=0.2 --fault-after 5s`. DATABASE_URL comes from the environment
// (never from argv, which other users can read). Prints one JSON line per event on stdout:
// {"event":"listening","port":N}, {"event":"fault","at":ms,...}.
//
// It exits on SIGINT/SIGTERM, when its stdin closes (--exit-with-stdin: the parent died, even
// by kill -9) and when it is re-parented (its parent pid changes).

import { Command, Option } from "commander";
import { createApp } from "./app.js";
import { NO_FAULT, parseDuration, parseFault, parseShare, type FaultSpec } from "./faults.js";

const program = new Command()
  .name("sample-app")
  .description("The sample booking service used by the sandbox (blue = v1, green = v2).")
  .addOption(new Option("--color <color>", "which color this process is").choices(["blue", "green"]).makeOptionMandatory())
  .option("--app-version <version>", "version label reported in x-app-version", "v1")
  .option("--port <port>", "port on 127.0.0.1 (0: any free port)", "0")
  .option(
    "--fault <name=value>",
    "error-rate=<share> or latency=<duration>; repeatable",
    (value: string, previous: FaultSpec) => parseFault(value, previous),
    NO_FAULT,
  )
  .option("--fault-after <duration>", "when the fault starts, after listening", "0ms")
  .option("--background-error-rate <share>", "answer this share of business requests 500 all along (e.g. 0.005)", "0")
  .option("--exit-with-stdin", "exit when stdin closes (the parent is gone)", false)
  .option("--tag <text>", "a label in the command line that names the run this process belongs to (ignored otherwise)")
  .option("--booking-note <text>", "write this into bookings.note with every booking (the column the migration demo adds)")
  .addHelpText("after", "\nEnvironment: DATABASE_URL (required).");

program.parse();
const options = program.opts<{
  color: "blue" | "green";
  appVersion: string;
  port: string;
  fault: FaultSpec;
  faultAfter: string;
  exitWithStdin: boolean;
  backgroundErrorRate: string;
  bookingNote?: string;
}>();
if (options.fault.crash || options.fault.errorRateFactor !== undefined) {
  process.stderr.write("sample-app: --fault crash and error-rate=<n>x are carried out by the demo, not by the app\n");
  process.exit(2);
}
let backgroundErrorRate: number;
try {
  backgroundErrorRate = parseShare(options.backgroundErrorRate, "--background-error-rate");
} catch (error) {
  process.stderr.write(`sample-app: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  process.stderr.write("sample-app: DATABASE_URL is not set\n");
  process.exit(2);
}

const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
const app = createApp({
  databaseUrl,
  color: options.color,
  version: options.appVersion,
  fault: options.fault,
  faultAfterMs: parseDuration(options.faultAfter),
  backgroundErrorRate,
  ...(options.bookingNote !== undefined ? { bookingNote: options.bookingNote } : {}),
  onFault: (at, fault) => emit({ event: "fault", at, ...fault }),
});

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(code), 2000).unref();
  await app.close().catch(() => undefined);
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
if (options.exitWithStdin) {
  process.stdin.on("end", () => void stop(0));
  process.stdin.on("close", () => void stop(0));
  process.stdin.on("error", () => void stop(0));
  process.stdin.resume();
}
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop(0);
}, 500).unref();

app.listen(Number(options.port)).then(
  (port) => emit({ event: "listening", port, pid: process.pid }),
  (error: unknown) => {
    process.stderr.write(`sample-app: cannot listen: ${String(error)}\n`);
    process.exit(3);
  },
);
