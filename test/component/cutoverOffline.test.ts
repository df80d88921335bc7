// `cutover --dry-run --offline`: the plan from the config alone. Every SDK client the commands use
// is mocked with aws-sdk-client-mock (the same classes scripts/aws/sdk.ts loads) and must see no
// call at all; the local mock endpoint sees none either; no stack outputs are needed. A control
// run without --offline shows the mocks do see the command's calls.

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { cloudWatchSdk, elbSdk, rdsSdk, ssmSdk } from "../../scripts/aws/sdk.js";
import { cutoverMain } from "../../scripts/cli/cutoverMain.js";
import { useCliHarness } from "../support/cliHarness.js";

const cli = useCliHarness({ dirPrefix: "bluegreen-offline-", copyProdConfig: true });
const clients = {
  ssm: mockClient(ssmSdk().SSMClient),
  elb: mockClient(elbSdk().ElasticLoadBalancingV2Client),
  cloudwatch: mockClient(cloudWatchSdk().CloudWatchClient),
  rds: mockClient(rdsSdk().RDSClient),
};
const sdkCalls = () => Object.values(clients).reduce((sum, mock) => sum + mock.calls().length, 0);
beforeEach(() => Object.values(clients).forEach((mock) => mock.reset()));
afterAll(() => Object.values(clients).forEach((mock) => mock.restore()));

describe("cutover --dry-run --offline", () => {
  it("prints the plan from the config and what it could not read; no AWS call, no outputs needed", async () => {
    await rm(join(cli.dir, "outputs.json"));
    const result = await cli.run(cutoverMain, ["--stack", "prod", "--dry-run", "--offline"]);
    expect(result.code, result.out).toBe(0);
    expect(result.stdout).toMatch(/^Plan: canary, shared database/);
    expect(result.stdout).toContain("Not read (offline):");
    expect(result.stdout).toMatch(/the live weights of each listener and rule \(ALB\): assumed blue 100 \/ green 0, the config's traffic\.weights/);
    expect(result.stdout).toContain("the last hour of traffic per color (CloudWatch)");
    expect(result.stdout).toContain("dry run (offline): no AWS call was made, nothing was changed");
    expect(sdkCalls()).toBe(0);
    expect(cli.mock.calls).toEqual([]);
  });

  it("--json: one line with the plan and what was not read", async () => {
    const result = await cli.run(cutoverMain, ["--stack", "prod", "--dry-run", "--offline", "--json"]);
    expect(result.code).toBe(0);
    const line = JSON.parse(result.stdout) as { type: string; offline: boolean; plan: { steps: unknown[] }; unread: string[] };
    expect(line).toMatchObject({ type: "dry-run", offline: true });
    expect(line.plan.steps.length).toBeGreaterThan(0);
    expect(line.unread.length).toBeGreaterThanOrEqual(5);
    expect(sdkCalls()).toBe(0);
  });

  it("--offline without --dry-run: exit 2, nothing read", async () => {
    const result = await cli.run(cutoverMain, ["--stack", "prod", "--offline", "--yes"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--offline goes only with --dry-run/);
    expect(sdkCalls()).toBe(0);
  });

  it("control: without --offline the same mocks see the dry run's calls", async () => {
    await cli.run(cutoverMain, ["--stack", "prod", "--outputs", "outputs.json", "--dry-run"]);
    expect(sdkCalls()).toBeGreaterThan(0);
  });
});
