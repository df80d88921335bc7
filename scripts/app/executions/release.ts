// A release over many stacks in waves, for the host stack's release (wave) machine: the waves as
// given (`--wave a,b --wave c` or a release file), checked before anything starts (every stack
// once, every stack orchestrated), the machine's input built from each stack's rollout machine with
// a run id per stack, and the release's state read back from the executions.
//
// The wave machine's shape is deployed with the host stack (rollout.release: how many waves, the
// concurrency within a wave, the bake between waves): a release passes exactly that many waves, and
// `--concurrency` / `--bake`, when given, must be what was deployed (a release never runs with
// settings other than the ones it asked for).

import { parse as parseYaml } from "yaml";
import { pauseSeconds } from "../../../infra/vocabulary/pauseDuration.js";
import { UsageError } from "../../core/errors.js";
import type { ExecutionDescription, Executions } from "./port.js";

export interface ReleasePlan {
  name: string;
  host: string;
  waves: string[][];
  bakeSeconds: number | null;
  concurrency: number | null;
}

/** One item of the wave machine's input: the stack, its rollout machine and the run id (the execution's name). */
export interface WaveItem {
  stack: string;
  stateMachineArn: string;
  runId: string;
}

export interface ReleaseInput {
  release: string;
  waves: WaveItem[][];
}

/** The release (wave) machine's settings as deployed (the host's rollout.release); null fields: not known here. */
export interface DeployedRelease {
  waves: number | null;
  maxConcurrency: number | null;
  bakeSeconds: number | null;
}

const NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** `--wave a,b --wave c` → [["a","b"],["c"]]: every stack once, no empty wave. */
export function wavesFromFlags(flags: readonly string[]): string[][] {
  return checkWaves(flags.map((flag) => flag.split(",").map((stack) => stack.trim())));
}

export function checkWaves(waves: string[][]): string[][] {
  if (waves.length === 0) throw new UsageError("a release needs at least one --wave (or a --file listing its waves)");
  const seen = new Map<string, number>();
  waves.forEach((wave, index) => {
    if (wave.length === 0 || wave.some((stack) => stack === "")) throw new UsageError(`wave ${index + 1} names an empty stack: write --wave a,b`);
    for (const stack of wave) {
      const first = seen.get(stack);
      if (first !== undefined)
        throw new UsageError(
          `stack ${stack} is in wave ${first + 1}${first === index ? "" : ` and wave ${index + 1}`} twice: a release rolls a stack out once`,
        );
      seen.set(stack, index);
    }
  });
  return waves;
}

/** `--bake 30m` (s, m, h, d) → seconds; 0 allowed. */
export function bakeSecondsOf(text: string): number {
  if (text.trim() === "0") return 0;
  const seconds = pauseSeconds(text.trim());
  if (seconds === null) throw new UsageError(`--bake ${text}: a duration such as 30m, 2h or 0`);
  return seconds;
}

export function concurrencyOf(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 40) throw new UsageError(`--concurrency ${text}: an integer 1..40`);
  return n;
}

export function checkReleaseName(name: string): string {
  if (!NAME.test(name)) throw new UsageError(`release name ${JSON.stringify(name)}: letters, digits, - and _ only, at most 80 (it names the execution)`);
  return name;
}

/** A release file (YAML): `host`, `waves` (lists of stacks), optional `name`, `bake`, `concurrency`. */
export function releaseFromFile(text: string, path: string): Partial<ReleasePlan> & { waves: string[][] } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new UsageError(`${path}: not YAML (${(error as Error).message.split("\n")[0]})`);
  }
  const o = (doc && typeof doc === "object" && !Array.isArray(doc) ? doc : {}) as Record<string, unknown>;
  const unknown = Object.keys(o).filter((key) => !["name", "host", "waves", "bake", "concurrency"].includes(key));
  if (unknown.length > 0) throw new UsageError(`${path}: unknown key(s) ${unknown.join(", ")} (name, host, waves, bake, concurrency)`);
  if (!Array.isArray(o.waves) || !o.waves.every((wave) => Array.isArray(wave) && wave.every((stack) => typeof stack === "string")))
    throw new UsageError(`${path}: waves must be a list of lists of stack names, e.g. waves: [[prod-eu-west-1, prod-eu-central-1], [prod-us-east-1]]`);
  const text_ = (key: string) => {
    const value = o[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string" && typeof value !== "number") throw new UsageError(`${path}: ${key} must be a string`);
    return String(value);
  };
  const name = text_("name");
  const host = text_("host");
  const bake = text_("bake");
  const concurrency = text_("concurrency");
  return {
    waves: checkWaves(o.waves as string[][]),
    ...(name !== undefined ? { name: checkReleaseName(name) } : {}),
    ...(host !== undefined ? { host } : {}),
    ...(bake !== undefined ? { bakeSeconds: bakeSecondsOf(bake) } : {}),
    ...(concurrency !== undefined ? { concurrency: concurrencyOf(concurrency) } : {}),
  };
}

/** The release as asked must be the release machine as deployed: the count of waves, and the concurrency and bake when given. */
export function checkAgainstDeployed(plan: ReleasePlan, deployed: DeployedRelease): void {
  const redeploy = "change rollout.release in the host's Pulumi config and run `pulumi up`";
  if (deployed.waves !== null && plan.waves.length !== deployed.waves)
    throw new UsageError(`the release machine of ${plan.host} runs ${deployed.waves} wave(s), this release has ${plan.waves.length}: ${redeploy}`);
  if (plan.concurrency !== null && deployed.maxConcurrency !== null && plan.concurrency !== deployed.maxConcurrency)
    throw new UsageError(`--concurrency ${plan.concurrency}: the release machine of ${plan.host} was deployed with ${deployed.maxConcurrency}: ${redeploy}`);
  if (plan.bakeSeconds !== null && deployed.bakeSeconds !== null && plan.bakeSeconds !== deployed.bakeSeconds)
    throw new UsageError(`--bake ${plan.bakeSeconds} s: the release machine of ${plan.host} was deployed with ${deployed.bakeSeconds} s: ${redeploy}`);
}

/** The wave machine's input: each stack's rollout machine and a run id of its own. */
export function releaseInput(name: string, waves: string[][], machineOf: (stack: string) => string, newRunId: () => string): ReleaseInput {
  return { release: name, waves: waves.map((wave) => wave.map((stack) => ({ stack, stateMachineArn: machineOf(stack), runId: newRunId() }))) };
}

export interface StackState {
  stack: string;
  wave: number;
  runId: string;
  /** The stack's rollout execution, or null when the release has not started it (a later wave, or stopped before). */
  execution: ExecutionDescription | null;
}

export interface ReleaseState {
  release: ExecutionDescription;
  stacks: StackState[];
}

/** `release --status NAME`: the release's execution and each stack's rollout execution. */
export async function releaseState(release: Executions, name: string, rolloutOf: (item: WaveItem) => Promise<Executions>): Promise<ReleaseState | null> {
  const described = await release.describe(release.executionArn(name));
  if (described === null) return null;
  const input = described.input as Partial<ReleaseInput> | null;
  const stacks: StackState[] = [];
  for (const [index, wave] of (input?.waves ?? []).entries()) {
    for (const item of wave) {
      const executions = await rolloutOf(item);
      stacks.push({ stack: item.stack, wave: index + 1, runId: item.runId, execution: await executions.describe(executions.executionArn(item.runId)) });
    }
  }
  return { release: described, stacks };
}

/** The release machine's settings from the host's Pulumi.<stack>.yaml (`bluegreen:rollout.release`), as deployed; all null when it does not say. */
export function deployedReleaseFromConfig(text: string | null): DeployedRelease {
  const none: DeployedRelease = { waves: null, maxConcurrency: null, bakeSeconds: null };
  if (text === null) return none;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    return none;
  }
  const config = (doc as { config?: Record<string, unknown> } | null)?.config;
  const release = (config?.["bluegreen:rollout"] as { release?: Record<string, unknown> } | undefined)?.release;
  if (!release || typeof release !== "object") return none;
  const int = (value: unknown, fallback: number | null) => (typeof value === "number" && Number.isInteger(value) ? value : fallback);
  // The schema's defaults when the file leaves them out: one stack at a time, an hour between waves.
  return { waves: int(release.waves, null), maxConcurrency: int(release.maxConcurrency, 1), bakeSeconds: int(release.bakeSeconds, 3600) };
}

/**
 * `release --rollback-promoted NAME`: the stacks a release that failed (or was stopped) had already
 * promoted, the ones whose rollout execution SUCCEEDED, latest wave first (the reverse of the
 * rollout). A running release is refused (stop it or wait: it may still promote or fail more), a
 * succeeded one too (nothing failed; `npm run rollback` rolls back one stack). A stack whose
 * rollout failed rolled itself back, and one never started has nothing to undo.
 */
export function promotedStacks(state: ReleaseState): StackState[] {
  const { name, status } = state.release;
  if (status === "RUNNING")
    throw new UsageError(`release ${name} is still running: wait for it to end (or stop it) before rolling back what it promoted; nothing was rolled back`);
  if (status === "SUCCEEDED")
    throw new UsageError(`release ${name} succeeded: there is no failed wave to undo; \`npm run rollback -- --stack S\` rolls back one stack`);
  return state.stacks.filter((stack) => stack.execution?.status === "SUCCEEDED").reverse();
}

export interface StackRollback<T> {
  stack: string;
  /** What the stack's rollback ended with, or the error that stopped it. */
  result: { ok: true; value: T } | { ok: false; error: Error };
}

/** Roll back each promoted stack in turn through `rollbackStack` (the same path as `npm run rollback`); a failure on one never skips the others. */
export async function rollBackPromoted<T>(stacks: readonly StackState[], rollbackStack: (stack: StackState) => Promise<T>): Promise<StackRollback<T>[]> {
  const done: StackRollback<T>[] = [];
  for (const stack of stacks) {
    try {
      done.push({ stack: stack.stack, result: { ok: true, value: await rollbackStack(stack) } });
    } catch (error) {
      done.push({ stack: stack.stack, result: { ok: false, error: error instanceof Error ? error : new Error(String(error)) } });
    }
  }
  return done;
}
