// `npm run maintenance -- on|off|read-only`: the write fence by hand.
//   on         every request answered 503 (fence mode "all")
//   read-only  POST/PUT/PATCH/DELETE answered 503, reads flow (fence mode "writes")
//   off        the fence rules back to their inert conditions
// It writes the fence rules' conditions (ModifyRule), then reads them back until they show the
// mode (bounded). While a cutover or rollback holds the lock it refuses (that operation owns the
// fence: lifting it mid-switch would let writes split between databases) unless --force.

import { addStackOptions, parse, processIo, program, resolveStack, type Io } from "./args.js";
import { ExitCode, outputMode, UsageError } from "./common.js";
import { loadRawOutputs, parseStackOutputs } from "./stackOutputs.js";
import type { FenceMode } from "../core/ports.js";

interface MaintenanceOptions {
  stack?: string;
  outputs?: string;
  json?: boolean;
  force?: boolean;
  dryRun?: boolean;
  verifyTimeout: string;
}

const MODES: Record<string, FenceMode> = { on: "all", off: "off", "read-only": "writes" };

export async function maintenanceMain(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const command = addStackOptions(
    program("maintenance", "Switch the ALB write fence: on (every request 503), read-only (writes 503, reads flow) or off.", io),
    { config: false },
  )
    .argument("<mode>", "on | read-only | off")
    .option("--force", "change the fence even while a cutover or rollback holds the lock")
    .option("--dry-run", "print the calls and change nothing")
    .option("--verify-timeout <seconds>", "how long the read-back may take", "30");
  const parsed = parse<MaintenanceOptions & Record<string, unknown>>(command, argv);
  if (!parsed) return ExitCode.ok;
  const { options, args } = parsed;
  const word = args[0] ?? "";
  const mode = MODES[word];
  if (!mode) throw new UsageError(`maintenance ${JSON.stringify(word)}: must be on, read-only or off`);
  const verifySeconds = Number(options.verifyTimeout);
  if (!Number.isInteger(verifySeconds) || verifySeconds < 1 || verifySeconds > 600) throw new UsageError(`--verify-timeout ${options.verifyTimeout}: must be an integer 1..600`);

  const stack = await resolveStack(options.stack, io, options.json === true);
  const raw = await loadRawOutputs({ stack, outputsFile: options.outputs, cwd: io.cwd, env: io.env });
  const outputs = await parseStackOutputs(raw.raw, raw.source);
  if (outputs.fenceRuleArns.length === 0) throw new UsageError(`the stack outputs (${raw.source}) list no fenceRuleArns: this stack has no write fence`);

  const [{ createAwsDeps }, { lockOwner }] = await Promise.all([import("./awsDeps.js"), import("./operator.js")]);
  const deps = await createAwsDeps(outputs, { stack, configPath: "", cwd: io.cwd });
  const fence = deps.fence as import("../aws/albFence.js").AlbFence;
  const out = outputMode({ json: options.json === true }, io.stdout as NodeJS.WriteStream);
  const say = (text: string) => {
    if (!out.json) io.stdout.write(`${text}\n`);
  };

  if (options.dryRun) {
    const before = await fence.readEach();
    if (out.json) io.stdout.write(`${JSON.stringify({ type: "dry-run", mode, current: before, calls: fence.describeWrites(mode) })}\n`);
    else {
      for (const rule of before) say(`now: ${rule.rule} ${rule.mode}`);
      for (const call of fence.describeWrites(mode)) say(`would call: ${call}`);
      say("dry run: nothing was changed");
    }
    return ExitCode.ok;
  }

  const holder = await deps.lock.current();
  if (holder && !options.force) {
    throw new UsageError(
      `${holder.operation} by ${holder.owner} holds the lock (since ${new Date(holder.since).toISOString()}) and owns the fence right now; ` +
        `wait for it, or pass --force if you know it is dead`,
    );
  }
  if (holder) say(`warning: changing the fence while ${holder.operation} by ${holder.owner} holds the lock (--force)`);

  const started = Date.now();
  const before = await fence.readEach();
  await fence.set(mode);
  const deadline = Date.now() + verifySeconds * 1000;
  let after = await fence.readEach();
  while (!after.every((rule) => rule.mode === mode) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    after = await fence.readEach();
  }
  const ok = after.every((rule) => rule.mode === mode);
  const result = { type: "maintenance", requested: word, mode, ok, before, after, by: lockOwner(), ms: Date.now() - started };
  if (out.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const what = mode === "all" ? "every request is answered 503" : mode === "writes" ? "POST/PUT/PATCH/DELETE are answered 503, reads flow" : "the fence is off";
    say(ok ? `maintenance ${word}: ${what} (verified on ${after.length} rule(s) in ${result.ms} ms)` : `maintenance ${word}: NOT verified: ${after.map((r) => `${r.rule}=${r.mode}`).join(", ")}`);
  }
  return ok ? ExitCode.ok : ExitCode.failed;
}
