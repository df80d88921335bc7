// `npm run abort`: from another terminal, stop the running cutover and send all traffic back to
// blue now. Two things, in this order: a request the running cutover reads at its next poll (it
// then stops without touching traffic), and `rollback`'s own path, which takes the cutover's lock
// (breaking a live cutover's, never another rollback's) and flips and verifies. Whichever the
// cutover notices first (the request, or its lock gone at its next save), it stops.
//
// Exit codes: rollback's (0 blue verified, 1 not, 2 bad input, 3 AWS unreachable).

import { addStackOptions, parse, processIo, program, type Io } from "./args.js";
import { ExitCode, outputMode } from "./common.js";
import { openStack } from "../app/stack.js";
import { rollbackMain } from "./rollbackMain.js";

interface AbortOptions {
  stack?: string;
  outputs?: string;
  config?: string;
  json?: boolean;
  reason?: string;
  deadline?: string;
  reports?: string;
  allowUnverifiedStack?: boolean;
}

export async function abortMain(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const command = addStackOptions(program("abort", "Stop the running cutover and send all traffic back to blue now (rollback's path, through the lock).", io))
    .option("--reason <text>", "why (recorded in the journal and report)")
    .option("--deadline <seconds>", "the rollback's deadline (see `npm run rollback -- --help`)")
    .option("--reports <dir>", "where reports are written (default: reports)");
  const parsed = parse<AbortOptions & Record<string, unknown>>(command, argv);
  if (!parsed) return ExitCode.ok;
  const options: AbortOptions = parsed.options;
  const reason = options.reason ?? "aborted by the operator";
  const opened = await openStack(options, io, { preferCache: true });
  const outputs = opened.rollbackOutputs();
  const mode = outputMode({ json: options.json === true }, io.stdout as NodeJS.WriteStream);

  const [{ awsOperatorRequestDeps }, { requestAbort }, { lockOwner }] = await Promise.all([
    import("../app/wiring/aws.js"),
    import("../app/operatorRequests.js"),
    import("./operator.js"),
  ]);
  const ports = await awsOperatorRequestDeps(opened, outputs);
  const target = await requestAbort(ports, { by: lockOwner(), reason, now: Date.now() });
  if (mode.json) io.stdout.write(`${JSON.stringify({ type: "abort", runId: target?.runId ?? null, running: target !== null })}\n`);
  else if (target) io.stderr.write(`abort: run ${target.runId} (cutover by ${target.owner}) is told to stop; rolling back now\n`);
  else io.stderr.write("abort: no cutover process is running; rolling back now\n");

  const forward = ["--stack", opened.name, "--reason", reason];
  if (options.outputs) forward.push("--outputs", options.outputs);
  if (options.config) forward.push("--config", options.config);
  if (options.allowUnverifiedStack) forward.push("--allow-unverified-stack");
  if (options.json) forward.push("--json");
  if (options.deadline) forward.push("--deadline", options.deadline);
  if (options.reports) forward.push("--reports", options.reports);
  try {
    return await rollbackMain(forward, io, { force: "except-rollback" });
  } finally {
    // The request has done its work (or the cutover had stopped already): leave no record behind.
    if (target) await ports.requests.clear().catch(() => undefined);
  }
}
