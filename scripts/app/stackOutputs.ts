// The stack outputs the scripts need (the contract with infra/index.ts), where they come from and
// how they are validated.
//
// Sources, in order:
//   1. --outputs FILE: the JSON of `pulumi stack output --json` (or a file keyed by stack name);
//   2. `pulumi stack output --json --stack <name>` when a `pulumi` binary is on PATH; every
//      successful read is cached in .bluegreen/<stack>.outputs.json;
//   3. `rollback` only, before 2: that cache. Starting the Pulumi CLI takes seconds, and a rollback
//      must reach AWS in well under a second; ARNs change only when the stack is replaced, and a
//      stale ARN fails loudly (ListenerNotFound), it never routes traffic somewhere else.
//
// Validation: the contract and its one parser are the shared vocabulary's
// (infra/vocabulary/stackOutputs.ts): every field for cutover, status and maintenance, only the
// fields it uses for `rollback`; both report the path and the rule, and both exit 2.
//
// Identity (stackIdentity below), checked by loadRawOutputs itself, so every command that reads
// stack outputs (cutover, rollback, promote, status, maintenance, migrate, parity, sync) checks it
// the same way, before any AWS or database call: the outputs carry the Pulumi project and stack
// they belong to (`pulumiProject`, `pulumiStack`); `--stack` must name that stack, and a
// `--config Pulumi.<name>.yaml` must be that stack's file, or the command exits 2. The identity
// also names the lock and the journal (`/bluegreen/<project>/<stack>/...`). Outputs without the
// two fields (a stack last updated before they existed) are identified by where they came from:
// `pulumi stack output --stack NAME`, its cache `.bluegreen/NAME.outputs.json`, or a file keyed by
// stack name; a bare `--outputs FILE` without them is refused unless `--allow-unverified-stack`
// (then said on stderr). parity, sync and migrate also take a bare `--outputs FILE` without
// `--stack`: nothing is claimed about its stack then, so there is nothing to check.

import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, readFile } from "node:fs/promises";
import { delimiter, join, resolve } from "node:path";
import { PULUMI_NAME, PULUMI_NAME_PART, type StackOutputs } from "../../infra/vocabulary/stackOutputs.js";
import { UnreachableError, UsageError } from "../core/errors.js";
import { readInputFile } from "./inputFiles.js";

export { parseRollbackOutputs, parseStackOutputs, type RollbackOutputs, type StackOutputs } from "../../infra/vocabulary/stackOutputs.js";

export interface RawOutputs {
  raw: unknown;
  /** Where they came from, for messages: "--outputs FILE", "pulumi stack output", "cache FILE". */
  source: string;
  /**
   * The stack the source itself was read for (`pulumi stack output --stack NAME`, its cache, or
   * the key of a file keyed by stack name); undefined for a bare --outputs FILE.
   */
  readFor?: string;
  /**
   * Whose outputs these are, established by loadRawOutputs before any AWS call. null only when no
   * stack was named (parity, sync, migrate with a bare --outputs FILE) and the outputs name none.
   */
  identity: StackIdentity | null;
}

/** Outputs read for a named stack: their identity is established (or loadRawOutputs threw). */
export type IdentifiedOutputs = RawOutputs & { identity: StackIdentity };

/** A Pulumi stack name: up to three name parts ("prod", "org/project/prod"). */
const STACK_NAME = new RegExp(`^(?:${PULUMI_NAME_PART}/){0,2}${PULUMI_NAME_PART}$`);

export function validateStackName(stack: string): string {
  if (!STACK_NAME.test(stack)) {
    throw new UsageError(
      `--stack ${JSON.stringify(stack)}: must be a Pulumi stack name such as "prod" or "org/project/prod" (letters, digits, _ . -; each part starting with a letter, digit or _)`,
    );
  }
  return stack;
}

/**
 * The project of outputs that do not name one: the program's config namespace (infra/config.ts
 * PROJECT, Pulumi.yaml `name:`). Spelled out: infra/config.ts loads zod.
 */
export const DEFAULT_PROJECT = "bluegreen";

/** Which stack the outputs (and so the lock and the journal) belong to. */
export interface StackIdentity {
  project: string;
  stack: string;
  /** How it was established, for messages. */
  verifiedBy: "outputs" | "source" | "unverified";
}

/**
 * Check --stack (and --config) against the outputs' identity. Throws UsageError (exit 2) on a
 * mismatch, or for identity-less outputs from a bare --outputs FILE without allowUnverified.
 * No AWS call, no file read. loadRawOutputs calls it for every command; exported for its tests.
 */
export function stackIdentity(
  stack: string,
  outputs: Pick<StackOutputs, "pulumiProject" | "pulumiStack">,
  raw: Pick<RawOutputs, "source" | "readFor">,
  options: { configPath?: string; allowUnverified?: boolean; picked?: boolean } = {},
): StackIdentity {
  const parts = stack.split("/");
  const short = parts.at(-1)!;
  const namedProject = parts.length === 3 ? parts[1]! : null;
  const picked = options.picked ? " (picked because it is the only Pulumi.<stack>.yaml here)" : "";
  let identity: StackIdentity;
  if (outputs.pulumiStack !== null && outputs.pulumiProject !== null) {
    if (short !== outputs.pulumiStack || (namedProject !== null && namedProject !== outputs.pulumiProject)) {
      throw new UsageError(
        `--stack ${stack}${picked} does not match the stack outputs from ${raw.source}: they belong to project ${outputs.pulumiProject}, stack ${outputs.pulumiStack}. ` +
          `Pass --stack ${outputs.pulumiStack} to act on that stack, or the outputs of ${stack}; nothing was changed`,
      );
    }
    identity = { project: outputs.pulumiProject, stack: outputs.pulumiStack, verifiedBy: "outputs" };
  } else if (raw.readFor !== undefined || options.allowUnverified) {
    if (raw.readFor !== undefined && raw.readFor.split("/").at(-1) !== short) {
      throw new UsageError(
        `--stack ${stack}${picked} does not match the stack outputs from ${raw.source}, which are stack ${raw.readFor}'s; nothing was changed`,
      );
    }
    identity = { project: namedProject ?? DEFAULT_PROJECT, stack: short, verifiedBy: raw.readFor !== undefined ? "source" : "unverified" };
  } else {
    throw new UsageError(
      `the stack outputs from ${raw.source} do not say which stack they belong to (no pulumiProject / pulumiStack: the stack was last updated before they existed). ` +
        `Run \`pulumi up\` on the stack to add them, or read them with \`pulumi stack output --json --stack ${short}\`, ` +
        `or pass --allow-unverified-stack if you are sure they are stack ${short}'s; nothing was changed`,
    );
  }
  const configFile = options.configPath?.split(/[\\/]/).at(-1);
  const configStack = configFile?.match(/^Pulumi\.(.+)\.yaml$/)?.[1];
  if (configStack !== undefined && configStack !== identity.stack) {
    throw new UsageError(
      `--config ${options.configPath} is stack ${configStack}'s config, but the stack outputs from ${raw.source} are stack ${identity.stack}'s; nothing was changed`,
    );
  }
  return identity;
}

/** "org/project/prod" → "prod": the Pulumi.<name>.yaml and parameter-name part. */
export function shortStackName(stack: string): string {
  return stack.split("/").at(-1)!;
}

export function outputsCachePath(stack: string, cwd = process.cwd()): string {
  return join(cwd, ".bluegreen", `${shortStackName(stack)}.outputs.json`);
}

/** A file keyed by stack name ({"prod": {...outputs}}): the entry for `stack`, identified by its key. */
function pickStack(raw: unknown, stack: string | undefined): { keyed: unknown } | { raw: unknown } {
  if (stack && raw && typeof raw === "object" && !Array.isArray(raw) && !("listenerArns" in raw) && !("databaseEndpoints" in raw)) {
    const keyed = (raw as Record<string, unknown>)[stack] ?? (raw as Record<string, unknown>)[shortStackName(stack)];
    if (keyed !== undefined) return { keyed };
  }
  return { raw };
}

async function readJsonFile(path: string, what: string, absolute = path): Promise<unknown> {
  let text: string;
  try {
    text = await readInputFile(absolute, what);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof UsageError && code !== "ENOENT") throw error;
    throw new UsageError(`${what} ${path} ${code === "ENOENT" ? "does not exist" : `cannot be read (${(error as Error).message})`}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${what} ${path} is not valid JSON (${(error as Error).message}); expected the output of \`pulumi stack output --json\``);
  }
}

export async function findOnPath(binary: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

async function fromPulumi(stack: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Omit<RawOutputs, "identity"> | null> {
  const pulumi = await findOnPath("pulumi", env);
  if (!pulumi) return null;
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(pulumi, ["stack", "output", "--json", "--stack", stack], { cwd, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, out, err) => {
      if (error) {
        const detail = (err || error.message).trim().split("\n").slice(-3).join(" ");
        if (/no stack named|not found|does not exist/i.test(detail)) reject(new UsageError(`pulumi stack output --stack ${stack}: ${detail}`));
        else reject(new UnreachableError(`pulumi stack output --stack ${stack} failed: ${detail}`));
      } else resolve(out);
    });
  });
  let raw: unknown;
  try {
    raw = JSON.parse(stdout) as unknown;
  } catch {
    throw new UnreachableError(`pulumi stack output --json --stack ${stack} did not print JSON`);
  }
  const cache = outputsCachePath(stack, cwd);
  try {
    await mkdir(join(cwd, ".bluegreen"), { recursive: true });
    const { writeFileAtomic } = await import("./pulumiConfigFile.js");
    await writeFileAtomic(cache, `${JSON.stringify(raw, null, 2)}\n`);
  } catch {
    // the cache only speeds up rollback; failing to write it changes nothing else
  }
  return { raw, source: `pulumi stack output --stack ${stack}`, readFor: stack };
}

export interface OutputsRequest {
  /** Optional only with outputsFile (parity, sync and migrate accept a bare --outputs FILE). */
  stack?: string | undefined;
  outputsFile?: string | undefined;
  /** rollback: prefer the cache written by the last `pulumi stack output` over starting Pulumi. */
  preferCache?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** --config: must be the Pulumi.<stack>.yaml of the outputs' stack. */
  configPath?: string | undefined;
  /** --allow-unverified-stack: take identity-less outputs from a bare --outputs FILE as the named stack's. */
  allowUnverified?: boolean | undefined;
  /** The stack was picked (the only Pulumi.<stack>.yaml here), not given: said in a mismatch. */
  picked?: boolean | undefined;
  /** Where the --allow-unverified-stack warning line goes; default stderr. */
  warn?: ((line: string) => void) | undefined;
}

/**
 * Find the raw outputs and establish whose they are (stackIdentity), before any AWS call. Throws
 * UsageError (exit 2) when there are none, when they belong to another stack than --stack or
 * --config names, or when nothing says whose they are (see the top of this file).
 */
export async function loadRawOutputs(request: OutputsRequest & { stack: string }): Promise<IdentifiedOutputs>;
export async function loadRawOutputs(request: OutputsRequest): Promise<RawOutputs>;
export async function loadRawOutputs(request: OutputsRequest): Promise<RawOutputs> {
  const found = await findRawOutputs(request);
  const declared = declaredIdentity(found.raw, found.source);
  if (request.stack === undefined) {
    // A bare --outputs FILE (parity, sync, migrate): no stack is claimed, so none is checked.
    const identity: StackIdentity | null =
      declared.pulumiProject !== null && declared.pulumiStack !== null
        ? { project: declared.pulumiProject, stack: declared.pulumiStack, verifiedBy: "outputs" }
        : null;
    return { ...found, identity };
  }
  const identity = stackIdentity(request.stack, declared, found, {
    ...(request.configPath !== undefined ? { configPath: request.configPath } : {}),
    allowUnverified: request.allowUnverified === true,
    picked: request.picked === true,
  });
  if (identity.verifiedBy === "unverified") {
    const warn = request.warn ?? ((line: string) => void process.stderr.write(line));
    warn(`warning: --allow-unverified-stack: acting on ${found.source} as stack ${identity.stack} without proof that they are its outputs\n`);
  }
  return { ...found, identity };
}

/**
 * The identity the outputs declare, checked as the full schemas check it (a Pulumi name each, both
 * or neither), so the identity is never taken from malformed fields. Everything else is left to
 * parseStackOutputs / parseRollbackOutputs.
 */
function declaredIdentity(raw: unknown, source: string): Pick<StackOutputs, "pulumiProject" | "pulumiStack"> {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new UsageError(
      `stack outputs from ${source} are not what the scripts need:\n  (root): must be a JSON object (the output of \`pulumi stack output --json\`)`,
    );
  }
  const o = raw as Record<string, unknown>;
  const nameOf = (key: "pulumiProject" | "pulumiStack"): string | null => {
    const value = o[key];
    if (value === undefined || value === null) return null;
    if (typeof value !== "string" || !PULUMI_NAME.test(value)) {
      throw new UsageError(`stack outputs from ${source} are not what the scripts need:\n  ${key}: must be a Pulumi name (letters, digits, _ . -)`);
    }
    return value;
  };
  const pulumiProject = nameOf("pulumiProject");
  const pulumiStack = nameOf("pulumiStack");
  if ((pulumiProject === null) !== (pulumiStack === null)) {
    throw new UsageError(`stack outputs from ${source}: pulumiProject and pulumiStack come together (one of them is missing)`);
  }
  return { pulumiProject, pulumiStack };
}

/** Where the outputs are: --outputs FILE, the cache (rollback), or `pulumi stack output`. */
async function findRawOutputs(request: OutputsRequest): Promise<Omit<RawOutputs, "identity">> {
  const cwd = request.cwd ?? process.cwd();
  const env = request.env ?? process.env;
  if (request.outputsFile) {
    const raw = await readJsonFile(request.outputsFile, "--outputs", resolve(cwd, request.outputsFile));
    const picked = pickStack(raw, request.stack);
    const source = `--outputs ${request.outputsFile}`;
    return "keyed" in picked ? { raw: picked.keyed, source: `${source} (key ${request.stack})`, readFor: request.stack! } : { raw: picked.raw, source };
  }
  if (!request.stack) throw new UsageError("no stack outputs: give --stack NAME (read with `pulumi stack output --json`) or --outputs FILE");
  const cache = outputsCachePath(request.stack, cwd);
  if (request.preferCache) {
    try {
      return {
        raw: JSON.parse(await readFile(cache, "utf8")) as unknown,
        source: `cache ${cache} (from the last \`pulumi stack output\`)`,
        readFor: request.stack,
      };
    } catch {
      // no cache: ask Pulumi
    }
  }
  const fromCli = await fromPulumi(request.stack, cwd, env);
  if (fromCli) return fromCli;
  throw new UsageError(
    `no stack outputs for stack "${request.stack}": there is no \`pulumi\` on PATH; pass --outputs FILE (the JSON of \`pulumi stack output --json --stack ${request.stack}\`)`,
  );
}
