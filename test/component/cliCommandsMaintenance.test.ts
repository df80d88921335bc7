// `npm run maintenance`: the lock first (a dead holder on this host named as such), --config
// accepted like the other commands, and Ctrl-C while the fence is written lets the write and its
// read-back finish. In process, against the mock AWS endpoint of bench/rollbackStartup.ts.

import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { beforeEach, describe, expect, it } from "vitest";
import type { MockAws } from "../../bench/rollbackStartup.js";
import { maintenanceMain } from "../../scripts/cli/maintenanceMain.js";
import { useCliHarness } from "../support/cliHarness.js";

const LOCK = "/bluegreen/bluegreen/prod/lock";
const cli = useCliHarness({ dirPrefix: "bluegreen-maintenance-", weights: { blue: 100, green: 0 }, copyProdConfig: true });
let mock: MockAws;
let fenceRule: string;
beforeEach(() => {
  mock = cli.mock;
  fenceRule = cli.outputs.fenceRuleArns[0]!;
});

const maintenance = (argv: string[]) => cli.run(maintenanceMain, [...argv, "--stack", "prod", "--outputs", "outputs.json"]);

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
    // Ctrl-C arrives while the fence write is in flight: the in-process mock has the request and
    // has not answered yet. (Polling for the call raced: the write and its read-back could both
    // finish between two polls, and the SIGINT then landed after the command.)
    const record = mock.calls.push.bind(mock.calls);
    let interrupted = false;
    mock.calls.push = (...calls) => {
      const length = record(...calls);
      if (!interrupted && calls.some((c) => c.action === "ModifyRule")) {
        interrupted = true;
        process.emit("SIGINT", "SIGINT"); // the first only: a second exits the process
      }
      return length;
    };
    const result = await maintenance(["on"]);
    expect(interrupted).toBe(true);
    expect(result.out).toMatch(/finishing the fence write and its read-back, Ctrl-C again to exit now/);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(/maintenance on: every request is answered 503 \(verified/);
    expect(mock.state.fenceRules.get(fenceRule)).toEqual([{ Field: "path-pattern", "PathPatternConfig.Values.member.1": "*" }]);
  });
});
