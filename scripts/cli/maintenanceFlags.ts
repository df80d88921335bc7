// `npm run maintenance`'s option table and the mode it asks for, checked before anything is read.

import { addStackOptions, program, type Io } from "./args.js";
import { UsageError } from "./common.js";
import type { FenceMode } from "../core/ports.js";

export interface MaintenanceOptions {
  stack?: string;
  outputs?: string;
  config?: string;
  json?: boolean;
  allowUnverifiedStack?: boolean;
  force?: boolean;
  dryRun?: boolean;
  verifyTimeout: string;
}

const MODES: Record<string, FenceMode> = { on: "all", off: "off", "read-only": "writes" };

/** The command line: the mode, the stack options, --force, --dry-run and --verify-timeout. */
export function maintenanceFlags(io: Io) {
  return addStackOptions(program("maintenance", "Switch the ALB write fence: on (every request 503), read-only (writes 503, reads flow) or off.", io))
    .argument("<mode>", "on | read-only | off")
    .option("--force", "change the fence even while a cutover or rollback holds the lock")
    .option("--dry-run", "print the calls and change nothing")
    .option("--verify-timeout <seconds>", "how long the read-back may take", "30");
}

/** The mode asked for (the word as typed and the fence mode it means) and the read-back's bound; throws UsageError. */
export function maintenanceRequest(options: MaintenanceOptions, args: readonly string[]): { word: string; mode: FenceMode; verifySeconds: number } {
  const word = args[0] ?? "";
  const mode = Object.hasOwn(MODES, word) ? MODES[word] : undefined;
  if (!mode) throw new UsageError(`maintenance ${JSON.stringify(word)}: must be on, read-only or off`);
  const verifySeconds = Number(options.verifyTimeout);
  if (!Number.isInteger(verifySeconds) || verifySeconds < 1 || verifySeconds > 600)
    throw new UsageError(`--verify-timeout ${options.verifyTimeout}: must be an integer 1..600`);
  return { word, mode, verifySeconds };
}
