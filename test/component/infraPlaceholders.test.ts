// The Pulumi program (under Pulumi mocks) over the committed Pulumi.prod.yaml: its REPLACE-ME-<what>
// placeholders stop `pulumi up` before any resource, every key named; filled in, the same file
// declares the stack, with the filled-in values where the placeholders were.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { COMMITTED_PLACEHOLDERS, committedProdConfig } from "../support/prodConfig.js";
import { prodConfigMap, runProgram } from "./infraHarness.js";

describe("pulumi up over the example stack config", () => {
  it("as committed: refused before any resource, every key that holds a placeholder named", async () => {
    const committed = parse(committedProdConfig()).config as Record<string, unknown>;
    const refused = runProgram(committed, "prod");
    await expect(refused).rejects.toThrow("stack config (Pulumi.prod.yaml): 8 keys still hold placeholders (REPLACE-ME-...)");
    const message = await refused.then(
      () => "",
      (error: unknown) => (error as Error).message,
    );
    expect(message.split("\n").slice(1)).toEqual(COMMITTED_PLACEHOLDERS.map(({ path, token }) => `  ${path}: still holds ${token}`));
  });

  it("filled in: declared, the certificate, log bucket and alarm topic taken from the filled-in values", async () => {
    const run = await runProgram(prodConfigMap(), "prod");
    expect(run.one("aws:lb/listener:Listener", "web-https").inputs.certificateArn).toMatch(/^arn:aws:acm:eu-west-1:123456789012:certificate\//);
    expect(run.one("aws:lb/loadBalancer:LoadBalancer").inputs.accessLogs).toMatchObject({ bucket: "example-prod-alb-logs", enabled: true });
    const alarms = run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) expect(alarm.inputs.alarmActions).toEqual(["arn:aws:sns:eu-west-1:123456789012:bluegreen-prod-alarms"]);
  });
});
