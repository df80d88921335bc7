// `npm run maintenance -- on|off|read-only`: the write fence by hand.
//   on         every request answered 503 (fence mode "all")
//   read-only  POST/PUT/PATCH/DELETE answered 503, reads flow (fence mode "writes")
//   off        the fence rules back to their inert conditions
// It writes the fence rules' conditions (ModifyRule), then reads them back until they show the
// mode (bounded). While a cutover or rollback holds the lock it refuses (that operation owns the
// fence: lifting it mid-switch would let writes split between databases) unless --force: the lock
// is its first AWS call, before it reads the fence (exit 1 when held: an AWS call was made).
// Identity before action: --stack (and --config) must match the outputs' project and stack.
// Ctrl-C once the fence is being written: the first lets the write and the read-back finish, the
// second exits at once (130) printing the modes last read.

import { parse, processIo, type Io } from "./args.js";
import { openStack } from "../app/stack.js";
import { ExitCode, OperationFailedError, outputMode, UsageError } from "./common.js";
import { maintenanceFlags, maintenanceRequest, type MaintenanceOptions } from "./maintenanceFlags.js";
import { writeFenceVerified } from "./maintenanceWrite.js";

export async function maintenanceMain(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const parsed = parse<MaintenanceOptions & Record<string, unknown>>(maintenanceFlags(io), argv);
  if (!parsed) return ExitCode.ok;
  const { options, args } = parsed;
  const { word, mode, verifySeconds } = maintenanceRequest(options, args);

  const opened = await openStack(options, io, { quiet: options.json === true });
  // maintenance reads no config, but one it names must be a readable file
  if (options.config !== undefined) await (await import("../app/inputFiles.js")).checkNamedFile(opened.configPath, "--config");
  const outputs = opened.outputs();
  if (outputs.fenceRuleArns.length === 0) throw new UsageError(`the stack outputs (${opened.raw.source}) list no fenceRuleArns: this stack has no write fence`);

  const [{ awsCutoverDeps }, { lockOwner, describeLockHolder }] = await Promise.all([import("../app/wiring/aws.js"), import("./operator.js")]);
  const deps = await awsCutoverDeps(opened, outputs, { cwd: io.cwd });
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

  // The lock first: a held lock refuses before the fence is even read.
  const holder = await deps.lock.current();
  if (holder && !options.force) {
    throw new OperationFailedError(
      `${describeLockHolder(holder, `npm run maintenance -- ${word} --stack ${opened.name} --force`)}. That operation owns the fence right now; nothing was changed`,
    );
  }
  if (holder) say(`warning: changing the fence while ${holder.operation} by ${holder.owner} holds the lock (--force)`);

  const started = Date.now();
  const { before, after } = await writeFenceVerified(fence, mode, verifySeconds, io, opened.name);
  const ok = after.every((rule) => rule.mode === mode);
  const result = { type: "maintenance", requested: word, mode, ok, before, after, by: lockOwner(), ms: Date.now() - started };
  if (out.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const what =
      mode === "all" ? "every request is answered 503" : mode === "writes" ? "POST/PUT/PATCH/DELETE are answered 503, reads flow" : "the fence is off";
    say(
      ok
        ? `maintenance ${word}: ${what} (verified on ${after.length} rule(s) in ${result.ms} ms)`
        : `maintenance ${word}: NOT verified: ${after.map((r) => `${r.rule}=${r.mode}`).join(", ")}`,
    );
  }
  return ok ? ExitCode.ok : ExitCode.failed;
}
