// `npm run release`'s option table and the release as asked (from the flags or a release file);
// nothing is read from AWS here.

import type { ReleasePlan } from "../app/executions/release.js";
import { program, type Io } from "./args.js";
import { UsageError } from "./common.js";

export interface ReleaseOptions {
  wave: string[];
  file?: string;
  host?: string;
  name?: string;
  bake?: string;
  concurrency?: string;
  status?: string;
  rollbackPromoted?: string;
  outputs?: string;
  yes?: boolean;
  json?: boolean;
}

export function releaseFlags(io: Io) {
  return program("release", "Roll one release out over many orchestrated stacks in waves, on the host stack's release state machine (Step Functions).", io)
    .option(
      "--wave <stacks>",
      "a wave: stacks rolled out together, comma-separated; repeat for each wave, in order",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option("--file <release.yaml>", "the release from a file: host, waves (lists of stacks), and optionally name, bake, concurrency")
    .option("--host <stack>", "the stack whose outputs carry the release machine (releaseStateMachineArn)")
    .option("--name <release>", "the release's name (its execution's name); default release-<time>")
    .option("--bake <duration>", "the wait between waves, e.g. 30m: must be what the release machine was deployed with")
    .option("--concurrency <n>", "stacks at once within a wave: must be what the release machine was deployed with")
    .option("--status <release>", "show the release's execution and each stack's rollout; start nothing")
    .option("--rollback-promoted <release>", "after a release failed: roll back the stacks it had promoted, each as `npm run rollback` does; start nothing")
    .option("--outputs <file>", "stack outputs JSON keyed by stack name (default: ask the pulumi CLI per stack)")
    .option("--yes", "do not ask for PROCEED (unattended runs)")
    .option("--json", "machine output on stdout");
}

/** The release as asked, from the flags or the file; nothing read from AWS yet. */
export async function planRelease(options: ReleaseOptions, io: Io): Promise<ReleasePlan> {
  const release = await import("../app/executions/release.js");
  if (options.file !== undefined && options.wave.length > 0) throw new UsageError("--file and --wave do not go together: the file lists the waves");
  const fromFile = options.file !== undefined ? release.releaseFromFile(await readReleaseFile(options.file, io.cwd), options.file) : null;
  const host = options.host ?? fromFile?.host;
  if (host === undefined) throw new UsageError("--host <stack> is required: the stack whose outputs carry the release machine");
  return {
    name: release.checkReleaseName(options.name ?? fromFile?.name ?? `release-${new Date().toISOString().replace(/[:.]/g, "-")}`),
    host,
    waves: fromFile?.waves ?? release.wavesFromFlags(options.wave),
    bakeSeconds: options.bake !== undefined ? release.bakeSecondsOf(options.bake) : (fromFile?.bakeSeconds ?? null),
    concurrency: options.concurrency !== undefined ? release.concurrencyOf(options.concurrency) : (fromFile?.concurrency ?? null),
  };
}

async function readReleaseFile(path: string, cwd: string): Promise<string> {
  const [{ readInputFile }, { resolve }] = await Promise.all([import("../app/inputFiles.js"), import("node:path")]);
  return readInputFile(resolve(cwd, path), "--file");
}
