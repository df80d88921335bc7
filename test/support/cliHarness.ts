// The command-line tests' common ground: the commands run in process against the local mock AWS
// endpoint of bench/rollbackStartup.ts (reached through the SDK's own AWS_ENDPOINT_URL), each test
// in a fresh working directory holding the example stack outputs as outputs.json. Everything
// started here is stopped in afterAll, and process.env is put back as it was.

import { copyFile, cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, beforeEach, vi } from "vitest";
import { mockEnv, seedFromOutputs, startMockAws, type MockAws } from "../../bench/rollbackStartup.js";
import type { Io } from "../../scripts/cli/args.js";
import { exitCodeFor, type ExitCode } from "../../scripts/cli/common.js";
import { filledProdConfig, writeFilledProdConfig } from "./prodConfig.js";
import { secretsToEnv } from "./secretArgs.js";

export const ROOT = join(import.meta.dirname, "../..");
const EXAMPLE_OUTPUTS = join(ROOT, "examples/stack-outputs.prod.json");

export type StackOutputs = Record<string, unknown> & { listenerArns: string[]; fenceRuleArns: string[]; targetGroupArns: { blue: string; green: string } };
export type CliMain = (argv: readonly string[], io: Io) => Promise<ExitCode>;

export interface CliRun {
  code: ExitCode;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in the order they were written. */
  out: string;
}

export interface CliRunOptions {
  /** Written to stdin, which is then closed; without it stdin stays open and empty. */
  stdin?: string;
  /** stdin claims to be a terminal. */
  tty?: boolean;
  /** Pass argv as given: a database URL with a password is not moved into an environment variable. */
  rawArgv?: boolean;
}

export interface CliHarness {
  /** Valid from beforeAll on. */
  readonly mock: MockAws;
  /** The example stack outputs as parsed once; tests write variants, never mutate this. */
  readonly outputs: StackOutputs;
  /** This test's working directory, fresh in each beforeEach. */
  readonly dir: string;
  /** Runs a command in `dir`; a thrown error is mapped to its exit code and appended to stderr as `error: …`. */
  run(main: CliMain, argv: readonly string[], options?: CliRunOptions): Promise<CliRun>;
}

export interface CliHarnessOptions {
  /** mkdtemp prefix of the working directories. */
  dirPrefix: string;
  /** Listener weights the mock starts each test with (its listeners, target groups and fence rules seeded from the outputs); without them the mock starts empty. */
  weights?: { blue: number; green: number };
  /** Also write the repository's Pulumi.prod.yaml, filled in (and copy examples/hooks, its hook), into each working directory. */
  copyProdConfig?: boolean;
  /** Further per-test setup of the working directory, after the copies. */
  prepare?: (dir: string) => Promise<void>;
}

/**
 * The repository's Pulumi.prod.yaml, filled in, with everything from its `  bluegreen:rollout:` key on
 * replaced by that key and these lines (each indented as it belongs under the key).
 */
export function prodConfigWithRollout(rollout: readonly string[]): Promise<string> {
  const prod = filledProdConfig();
  return Promise.resolve(prod.slice(0, prod.indexOf("  bluegreen:rollout:")) + ["  bluegreen:rollout:", ...rollout, ""].join("\n"));
}

/** Registers the hooks (call at the top level of a test file) and returns the harness they fill in. */
export function useCliHarness(options: CliHarnessOptions): CliHarness {
  const savedEnv = { ...process.env };
  let mock: MockAws | undefined;
  let outputs: StackOutputs | undefined;
  let dir: string | undefined;
  const ready = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`cliHarness: ${name} is set up in the hooks; read it inside a test`);
    return value;
  };

  beforeAll(async () => {
    mock = await startMockAws();
    Object.assign(process.env, mockEnv(mock, {}));
    outputs = JSON.parse(await readFile(EXAMPLE_OUTPUTS, "utf8")) as StackOutputs;
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    await mock?.close();
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  });

  beforeEach(async () => {
    const m = ready(mock, "mock");
    m.reset();
    if (options.weights) seedFromOutputs(m, ready(outputs, "outputs"), options.weights);
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = await mkdtemp(join(tmpdir(), options.dirPrefix));
    await copyFile(EXAMPLE_OUTPUTS, join(dir, "outputs.json"));
    if (options.copyProdConfig) {
      await writeFilledProdConfig(join(dir, "Pulumi.prod.yaml"));
      // Its hook, which cutover checks exists (relative to the directory the hooks run in).
      await cp(join(ROOT, "examples/hooks"), join(dir, "examples/hooks"), { recursive: true });
    }
    await options.prepare?.(dir);
  });

  return {
    get mock() {
      return ready(mock, "mock");
    },
    get outputs() {
      return ready(outputs, "outputs");
    },
    get dir() {
      return ready(dir, "dir");
    },
    async run(main, argv, runOptions = {}) {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
      if (runOptions.tty) stdin.isTTY = true;
      let out = "";
      let err = "";
      let both = "";
      stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        both += chunk.toString();
      });
      stderr.on("data", (chunk: Buffer) => {
        err += chunk.toString();
        both += chunk.toString();
      });
      if (runOptions.stdin !== undefined) stdin.end(runOptions.stdin);
      const io: Io = { stdout, stderr, stdin, env: process.env, cwd: ready(dir, "dir") };
      let code: ExitCode;
      const secret = runOptions.rawArgv ? { args: [...argv], env: {} } : secretsToEnv(argv);
      Object.assign(process.env, secret.env);
      try {
        code = await main(secret.args, io);
      } catch (error) {
        code = exitCodeFor(error);
        const line = `error: ${(error as Error).message}\n`;
        err += line;
        both += line;
      }
      return { code, stdout: out, stderr: err, out: both };
    },
  };
}

/** A command line that does not take an Io: its output is process.stdout/stderr, captured here. */
export async function runProcessMain(main: (argv: string[]) => Promise<number>, argv: string[]): Promise<CliRun> {
  let out = "";
  const capture = (chunk: string | Uint8Array) => ((out += chunk.toString()), true);
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation(capture as typeof process.stdout.write);
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(capture as typeof process.stderr.write);
  let code: number;
  try {
    code = await main(argv);
  } catch (error) {
    code = exitCodeFor(error);
    out += `error: ${(error as Error).message}\n`;
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return { code: code as CliRun["code"], stdout: out, stderr: "", out };
}
