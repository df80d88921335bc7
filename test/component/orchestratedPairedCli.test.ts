// `npm run cutover` on a paired-database stack whose rollouts run on Step Functions, in process:
// SSM, the ALB and CloudWatch through the local mock AWS endpoint, Step Functions through
// aws-sdk-client-mock. What only the operator's checkout holds is checked before anything starts:
// the newest `npm run parity` result (reports/parity-latest.json) missing, different or too old
// is exit 2 with nothing started; a recent identical one starts the execution with the result
// recorded in its input (the checkout record the advance Lambda's preflight reads).

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { cutoverMain } from "../../scripts/cli/cutoverMain.js";
import type { CheckoutRecord } from "../../scripts/core/orchestrator/checkout.js";
import { prodConfigWithRollout, useCliHarness } from "../support/cliHarness.js";

const cli = useCliHarness({ dirPrefix: "bluegreen-orchestrated-paired-", weights: { blue: 100, green: 0 } });
const sfn = mockClient(SFNClient);
beforeEach(() => sfn.reset());
const base = ["--stack", "prod", "--outputs", "outputs.json", "--yes"];
const MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:bluegreen-prod-rollout";
const executionArn = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:bluegreen-prod-rollout:${name}`;
const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret";
const HOUR = 3_600_000;

/** The prod example as a paired stack on the orchestrator: all-at-once, no hooks, a rollout machine in its outputs. */
async function pairedOrchestratedStack(): Promise<void> {
  const config = await prodConfigWithRollout([
    "    orchestrator: stepfunctions",
    "    strategy:",
    "      type: all-at-once",
    "    parityMaxAgeSeconds: 3600",
    "    verifyTimeoutSeconds: 5",
  ]);
  await writeFile(join(cli.dir, "Pulumi.prod.yaml"), config.replace(/(bluegreen:database:\n\s+mode: )shared/, "$1paired"));
  const outputs = cli.outputs;
  const endpoint = (color: string) => `bluegreen-prod-db-${color}.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com:5432`;
  await writeFile(
    join(cli.dir, "outputs.json"),
    JSON.stringify({
      ...outputs,
      databaseMode: "paired",
      databaseEndpoints: { blue: endpoint("blue"), green: endpoint("green") },
      databaseSecretArns: { blue: `${SECRET}:rds!db-blue-AbCdEf`, green: `${SECRET}:rds!db-green-AbCdEf` },
      replicationSecretArns: { blue: `${SECRET}:bluegreen-prod-blue-replication-AbCdEf`, green: `${SECRET}:bluegreen-prod-green-replication-AbCdEf` },
      databaseInstanceIds: { blue: "bluegreen-prod-db-blue", green: "bluegreen-prod-db-green" },
      rolloutStateMachineArn: MACHINE,
    }),
  );
}

/** What `npm run parity` leaves in reports/parity-latest.json, finished `ageMs` ago. */
async function parityReport(ageMs: number, changed = 0): Promise<string> {
  const finishedAt = new Date(Date.now() - ageMs).toISOString();
  const totals = {
    tables: 3,
    tablesIdentical: changed === 0 ? 3 : 2,
    tablesDifferent: changed === 0 ? 0 : 1,
    rowsHashed: 12000,
    missingOnGreen: 0,
    extraOnGreen: 0,
    changed,
    schemaDifferences: 0,
    sequencesBehind: 0,
  };
  const report = {
    kind: "parity",
    version: 1,
    identical: changed === 0,
    startedAt: finishedAt,
    finishedAt,
    durationMs: 900,
    blue: { target: "postgres://booking:***@blue:5432/booking", serverVersion: "16" },
    green: { target: "postgres://booking:***@green:5432/booking", serverVersion: "16" },
    hashMode: "server",
    options: { include: [], exclude: [], limit: 100, parallel: 2 },
    schemaDifferences: [],
    tables: [],
    sequences: [],
    totals,
    summary: changed === 0 ? "identical" : `${changed} changed row(s) in public.bookings`,
  };
  await mkdir(join(cli.dir, "reports"), { recursive: true });
  await writeFile(join(cli.dir, "reports", "parity-latest.json"), JSON.stringify(report));
  return finishedAt;
}

const startOnCall = () =>
  sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: executionArn(input.name), startDate: new Date() }));
const trafficWrites = () => cli.mock.calls.filter((c) => /^Modify(Listener|Rule)$/.test(c.action));

describe("cutover on a paired stack on the orchestrator", () => {
  it.each([
    ["no parity result", null, /no parity result \(reports\/parity-latest\.json\): run `npm run parity` first; nothing was started/],
    [
      "a parity result older than parityMaxAgeSeconds",
      { ageMs: 2 * HOUR, changed: 0 },
      /parity result is 2h\S* old \(max 1h\S*\): run `npm run parity` again; nothing was started/,
    ],
    ["a parity run that found differences", { ageMs: 60_000, changed: 2 }, /found differences: 2 changed row\(s\) in public\.bookings; nothing was started/],
  ])("%s: exit 2 before the plan, nothing started, nothing moved", async (_name, parity, message) => {
    await pairedOrchestratedStack();
    if (parity) await parityReport(parity.ageMs, parity.changed);
    startOnCall();
    const result = await cli.run(cutoverMain, base);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).not.toMatch(/^Plan:/m);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(trafficWrites()).toEqual([]);
  });

  it("a recent identical parity result: the plan, then one execution whose input carries the checkout record", async () => {
    await pairedOrchestratedStack();
    const finishedAt = await parityReport(10 * 60_000);
    startOnCall();
    const before = Date.now();
    const result = await cli.run(cutoverMain, base);
    expect(result.stderr).not.toMatch(/error/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Plan: all-at-once, paired database \(fenced switch\)/m);
    const starts = sfn.commandCalls(StartExecutionCommand);
    expect(starts).toHaveLength(1);
    const { name, stateMachineArn, input } = starts[0]!.args[0].input;
    expect(stateMachineArn).toBe(MACHINE);
    const parsed = JSON.parse(input!) as { runId: string; stack: string; checkout: CheckoutRecord };
    expect(parsed).toEqual({
      runId: name,
      stack: "prod",
      checkout: {
        checkedAt: expect.any(Number),
        migrations: { dir: "migrations", expand: "none" },
        parity: {
          identical: true,
          checkedAt: Date.parse(finishedAt),
          summary: expect.stringMatching(/^rows and schema identical \(3 table\(s\), 12,000 rows hashed\)/),
        },
      },
    });
    expect(parsed.checkout.checkedAt).toBeGreaterThanOrEqual(before);
    // Nothing of the switch happens here: no fence, no listener write, no journal.
    expect(trafficWrites()).toEqual([]);
    expect(cli.mock.state.parameters.has("/bluegreen/bluegreen/prod/journal")).toBe(false);
    // No password in what the execution carries or what was printed.
    expect(`${input}${result.stdout}${result.stderr}`).not.toMatch(/password/i);
  });
});
