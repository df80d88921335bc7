// Open a stack once, for every command: which stack (--stack, or the only Pulumi.<stack>.yaml
// here), its config file's path, its outputs (found and identified by stackOutputs.ts before any
// AWS call: a typo'd --stack is exit 2, not another stack's action), parsed by the contract's one
// parser, and its config, loaded only when asked for (YAML + zod stay off `rollback`'s start-up
// path until it needs them).

import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { StackConfig } from "../../infra/config.js";
import { parseRollbackOutputs, parseStackOutputs, type RollbackOutputs, type StackOutputs } from "../../infra/vocabulary/stackOutputs.js";
import { UsageError } from "../core/errors.js";
import { loadRawOutputs, shortStackName, validateStackName, type IdentifiedOutputs, type StackIdentity } from "./stackOutputs.js";

/** The flags every stack command shares. */
export interface StackFlags {
  stack?: string | undefined;
  outputs?: string | undefined;
  config?: string | undefined;
  allowUnverifiedStack?: boolean | undefined;
}

export interface StackContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stderr: NodeJS.WritableStream;
}

export interface OpenStack {
  /** The stack as named (--stack, or picked): "prod" or "org/project/prod". */
  name: string;
  /** Its last part: Pulumi.<short>.yaml, the webhook's and the reports' name. */
  short: string;
  /** Whose outputs, lock and journal these are. */
  identity: StackIdentity;
  configPath: string;
  /** The raw outputs and where they came from (for messages and the database wiring). */
  raw: IdentifiedOutputs;
  /** Every output, checked (memoised). */
  outputs(): StackOutputs;
  /** Only what rollback needs, checked (memoised). */
  rollbackOutputs(): RollbackOutputs;
  /** The stack config (Pulumi.<stack>.yaml), loaded and validated on first call (memoised). */
  config(): Promise<StackConfig>;
}

export interface OpenOptions {
  /** rollback: the cached outputs of the last `pulumi stack output` before starting Pulumi. */
  preferCache?: boolean;
  /** No "stack: picked" line on stderr (--json). */
  quiet?: boolean;
  /** Load the config before looking for the outputs, so a broken config is the first thing said (cutover, promote). */
  configFirst?: boolean;
}

/** The stack: --stack, or the only Pulumi.<stack>.yaml in the working directory. */
export async function resolveStack(stack: string | undefined, io: Pick<StackContext, "cwd" | "stderr">, quiet = false): Promise<string> {
  if (stack !== undefined) return validateStackName(stack);
  const files = await readdir(io.cwd).then(
    (names) => names.filter((name) => /^Pulumi\.[^.]+\.yaml$/.test(name)),
    () => [],
  );
  if (files.length === 1) {
    const found = files[0]!.slice("Pulumi.".length, -".yaml".length);
    if (!quiet) io.stderr.write(`stack: ${found} (the only Pulumi.<stack>.yaml here; pass --stack to choose)\n`);
    return validateStackName(found);
  }
  throw new UsageError(
    files.length === 0
      ? "--stack NAME is required (no Pulumi.<stack>.yaml in this directory)"
      : `--stack NAME is required: this directory has ${files.map((f) => f.slice(7, -5)).join(", ")}`,
  );
}

export function configPathFor(stack: string, configOption: string | undefined, cwd: string): string {
  return configOption !== undefined ? resolve(cwd, configOption) : join(cwd, `Pulumi.${shortStackName(stack)}.yaml`);
}

/** Resolve the stack and find its outputs, identified; nothing is parsed or loaded beyond that until asked. */
export async function openStack(flags: StackFlags, io: StackContext, options: OpenOptions = {}): Promise<OpenStack> {
  const name = await resolveStack(flags.stack, io, options.quiet === true);
  const configPath = configPathFor(name, flags.config, io.cwd);
  let config: Promise<StackConfig> | undefined;
  const loadConfig = () => (config ??= import("./pulumiConfigFile.js").then(({ loadStackConfig }) => loadStackConfig(configPath)));
  if (options.configFirst) await loadConfig();
  const raw = await loadRawOutputs({
    stack: name,
    outputsFile: flags.outputs,
    ...(options.preferCache ? { preferCache: true } : {}),
    cwd: io.cwd,
    env: io.env,
    configPath,
    allowUnverified: flags.allowUnverifiedStack === true,
    picked: flags.stack === undefined,
    warn: (line) => io.stderr.write(line),
  });
  let outputs: StackOutputs | undefined;
  let rollbackOutputs: RollbackOutputs | undefined;
  return {
    name,
    short: shortStackName(name),
    identity: raw.identity,
    configPath,
    raw,
    outputs: () => (outputs ??= parseStackOutputs(raw.raw, raw.source)),
    rollbackOutputs: () => (rollbackOutputs ??= parseRollbackOutputs(raw.raw, raw.source)),
    config: loadConfig,
  };
}
