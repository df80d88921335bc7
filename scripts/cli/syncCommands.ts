// `npm run sync`'s subcommands, one function each: flags → scripts/postgres/sync → print → exit code.

import { Command } from "commander";
import { ExitCode, outputMode } from "./common.js";
import { addConnectionOptions, direction, parseSeconds, replicationConnection, syncOptions, type ConnectionFlags } from "./syncConnections.js";
import { printJson, printSequences, printStartResult, printStatus, printStopResult, waitForCopy } from "./syncPrint.js";
import { copySequences, reverseSync, startSync, stopSync, syncStatus, SYNC_NAMES } from "../postgres/sync/index.js";

type SetCode = (code: ExitCode) => void;

interface StartFlags extends ConnectionFlags {
  tables?: string;
  copyData: boolean;
  sourceUrlForTarget?: string;
  name?: string;
  dryRun?: boolean;
  wait: boolean;
  timeout: string;
}

export function startCommand(setCode: SetCode): Command {
  return addConnectionOptions(
    new Command("start").description("publication on blue, subscription on green with an initial copy; waits for the copy").exitOverride(),
  )
    .option("--tables <list>", "comma-separated tables or patterns (orders, app.*); default all user tables")
    .option("--no-copy-data", "do not copy existing rows (green already holds them)")
    .option("--source-url-for-target <url>", "how green's server reaches blue's, when it differs from --blue (URL or libpq conninfo)")
    .option("--name <name>", `publication/subscription/slot name (default ${SYNC_NAMES.forward})`)
    .option("--dry-run", "check and print the SQL that would run (passwords redacted); change nothing")
    .option("--no-wait", "return once the subscription exists, without waiting for the initial copy")
    .option("--timeout <seconds>", "how long to wait for the initial copy", "600")
    .action(async (flags: StartFlags) => {
      const mode = outputMode(flags);
      const timeout = parseSeconds(flags.timeout, "--timeout");
      const dir = await direction(flags, false, flags.name);
      const roleNotes: string[] = [];
      const connection = await replicationConnection(dir, flags, roleNotes);
      const result = await startSync({ ...syncOptions(dir, flags, connection), copyData: flags.copyData });
      result.notes.unshift(...roleNotes);
      if (!mode.json) printStartResult(result, dir, mode);
      let copied = true;
      if (!result.dryRun && flags.wait && result.copyData) copied = await waitForCopy(dir, mode, timeout);
      if (mode.json) printJson({ ...result, initialCopyDone: result.dryRun || !flags.wait ? null : copied });
      setCode(copied ? ExitCode.ok : ExitCode.failed);
    });
}

export function reverseCommand(setCode: SetCode): Command {
  return addConnectionOptions(
    new Command("reverse").description("replicate green → blue (copy_data = false, origin = none) so writes taken on green survive a rollback").exitOverride(),
  )
    .option("--tables <list>", "comma-separated tables or patterns; default all user tables")
    .option("--source-url-for-target <url>", "how blue's server reaches green's, when it differs from --green (URL or libpq conninfo)")
    .option("--name <name>", `publication/subscription/slot name (default ${SYNC_NAMES.reverse})`)
    .option("--dry-run", "check and print the SQL that would run (passwords redacted); change nothing")
    .action(async (flags: ConnectionFlags & { tables?: string; sourceUrlForTarget?: string; name?: string; dryRun?: boolean }) => {
      const mode = outputMode(flags);
      const dir = await direction(flags, true, flags.name);
      const roleNotes: string[] = [];
      const connection = await replicationConnection(dir, flags, roleNotes);
      const result = await reverseSync(syncOptions(dir, flags, connection));
      result.notes.unshift(...roleNotes);
      if (mode.json) printJson(result);
      else printStartResult(result, dir, mode);
      setCode(ExitCode.ok);
    });
}

export function statusCommand(setCode: SetCode): Command {
  return addConnectionOptions(
    new Command("status").description("per-table state, apply worker, lag in bytes and seconds, slot health; exit 1 when not healthy").exitOverride(),
  )
    .option("--reverse", "the green → blue direction")
    .option("--name <name>", "publication/subscription/slot name")
    .action(async (flags: ConnectionFlags & { reverse?: boolean; name?: string }) => {
      const mode = outputMode(flags);
      const dir = await direction(flags, flags.reverse === true, flags.name);
      const result = await syncStatus({
        sourceUrl: dir.sourceUrl,
        targetUrl: dir.targetUrl,
        sourceLabel: dir.sourceLabel,
        targetLabel: dir.targetLabel,
        name: dir.name,
      });
      if (mode.json) printJson(result);
      else printStatus(result, dir, mode);
      setCode(result.healthy ? ExitCode.ok : ExitCode.failed);
    });
}

export function sequencesCommand(setCode: SetCode): Command {
  return addConnectionOptions(
    new Command("sequences").description("copy sequence values blue → green (logical replication does not carry them)").exitOverride(),
  )
    .option("--reverse", "green → blue")
    .option("--allow-decrease", "also move a sequence that is ahead on the target back to the source's value")
    .option("--dry-run", "report what would be set; change nothing")
    .action(async (flags: ConnectionFlags & { reverse?: boolean; allowDecrease?: boolean; dryRun?: boolean }) => {
      const mode = outputMode(flags);
      const dir = await direction(flags, flags.reverse === true);
      const report = await copySequences(dir.sourceUrl, dir.targetUrl, {
        allowDecrease: flags.allowDecrease,
        dryRun: flags.dryRun,
        sourceLabel: dir.sourceLabel,
        targetLabel: dir.targetLabel,
      });
      const missing = report.filter((r) => r.action === "missing-on-target");
      if (mode.json) printJson({ dryRun: flags.dryRun === true, sequences: report });
      else printSequences(report, dir, mode, flags.dryRun === true);
      setCode(missing.length > 0 ? ExitCode.failed : ExitCode.ok);
    });
}

export function stopCommand(setCode: SetCode): Command {
  return addConnectionOptions(
    new Command("stop").description("drop the subscription and its slot, verify no slot is left on the source, drop the publication").exitOverride(),
  )
    .option("--reverse", "the green → blue direction")
    .option("--name <name>", "publication/subscription/slot name")
    .option("--force", "go on when one side is unreachable (says exactly what is left to drop by hand)")
    .option("--dry-run", "print the SQL that would run; change nothing")
    .action(async (flags: ConnectionFlags & { reverse?: boolean; name?: string; force?: boolean; dryRun?: boolean }) => {
      const mode = outputMode(flags);
      const dir = await direction(flags, flags.reverse === true, flags.name);
      const result = await stopSync({
        sourceUrl: dir.sourceUrl,
        targetUrl: dir.targetUrl,
        sourceLabel: dir.sourceLabel,
        targetLabel: dir.targetLabel,
        name: dir.name,
        force: flags.force,
        dryRun: flags.dryRun,
      });
      if (mode.json) printJson(result);
      else printStopResult(result, dir, mode);
      setCode(result.leftoverSlots.length === 0 ? ExitCode.ok : ExitCode.failed);
    });
}
