// `npm run maintenance`: the lock first (a dead holder on this host named as such), --config
// accepted like the other commands, and Ctrl-C while the fence is written lets the write and its
// read-back finish. In process, against the mock AWS endpoint of bench/rollbackStartup.ts.

import { spawnSync } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mockEnv, seedFromOutputs, startMockAws, type MockAws } from "../../bench/rollbackStartup.js";
import type { Io } from "../../scripts/cli/args.js";
import { exitCodeFor } from "../../scripts/cli/common.js";
import { maintenanceMain } from "../../scripts/cli/maintenanceMain.js";

const ROOT = join(import.meta.dirname, "../..");
const LOCK = "/bluegreen/bluegreen/prod/lock";
let mock: MockAws;
let dir: string;
let fenceRule: string;
const savedEnv = { ...process.env };

async function maintenance(argv: string[]): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const io: Io = { stdout, stderr, stdin: new PassThrough(), env: process.env, cwd: dir };
  try {
    return { code: await maintenanceMain([...argv, "--stack", "prod", "--outputs", "outputs.json"], io), out };
  } catch (error) {
    return { code: exitCodeFor(error), out: `${out}error: ${(error as Error).message}\n` };
  }
}

beforeAll(async () => {
  mock = await startMockAws();
  Object.assign(process.env, mockEnv(mock, {}));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  await mock.close();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
});

beforeEach(async () => {
  mock.reset();
  const outputs = JSON.parse(await readFile(join(ROOT, "examples/stack-outputs.prod.json"), "utf8"));
  fenceRule = outputs.fenceRuleArns[0];
  seedFromOutputs(mock, outputs, { blue: 100, green: 0 });
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = await mkdtemp(join(tmpdir(), "bluegreen-maintenance-"));
  await copyFile(join(ROOT, "examples/stack-outputs.prod.json"), join(dir, "outputs.json"));
  await copyFile(join(ROOT, "Pulumi.prod.yaml"), join(dir, "Pulumi.prod.yaml"));
});

describe("maintenance", () => {
  it("a lock held by a process that died on this host: named as dead, with the take-over command; the fence is not read", async () => {
    const deadPid = spawnSync(process.execPath, ["-e", "0"]).pid!;
    mock.state.parameters.set(LOCK, JSON.stringify({ owner: `ana@${hostname()} pid ${deadPid}`, since: 1, operation: "cutover", runId: "r1" }));
    const result = await maintenance(["off"]);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/that process is no longer running on this host .*take over with `npm run maintenance -- off --stack prod --force`/);
    expect(mock.calls.map((c) => c.action)).toEqual(["GetParameter"]);
  });

  it("accepts --config like the other commands", async () => {
    const result = await maintenance(["read-only", "--config", "Pulumi.prod.yaml"]);
    expect(result.code, result.out).toBe(0);
    expect(mock.state.fenceRules.get(fenceRule)!.map((c) => c.Field)).toEqual(["http-request-method"]);
  });

  it("Ctrl-C while the fence is written: the write and its read-back finish, and it says so", async () => {
    const waitForWrite = (async () => {
      for (let i = 0; i < 500 && !mock.calls.some((c) => c.action === "ModifyRule"); i++) await new Promise((resolve) => setTimeout(resolve, 5));
      process.emit("SIGINT", "SIGINT"); // the first only: a second exits the process
    })();
    const [result] = await Promise.all([maintenance(["on"]), waitForWrite]);
    expect(result.out).toMatch(/finishing the fence write and its read-back, Ctrl-C again to exit now/);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(/maintenance on: every request is answered 503 \(verified/);
    expect(mock.state.fenceRules.get(fenceRule)).toEqual([{ Field: "path-pattern", "PathPatternConfig.Values.member.1": "*" }]);
  });
});
