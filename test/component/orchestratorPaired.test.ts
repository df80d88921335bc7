// rollout.orchestrator stepfunctions with database.mode paired: the advance Lambda under Pulumi
// mocks (in the VPC with its own security group, admitted by the databases' group; the Amazon CA
// bundle; the paired outputs in its environment, no secret; its role with the paired statements),
// the policy pack's rule on the paired variant both ways, and the paired bundle (node-postgres
// inside, the migrator left out) run against the local mock AWS endpoint: its preflight reads the
// parity from the execution input's checkout record and reaches the databases through pg.

import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mockEnv, seedFromOutputs, startMockAws, type MockAws } from "../../bench/rollbackStartup.js";
import { LAMBDA_AMAZON_CA_BUNDLE } from "../../infra/guard.js";
import { LAMBDA_VPC_ACTIONS } from "../../infra/lambdaVpc.js";
import { bundleAdvanceHandler } from "../../infra/orchestrator.js";
import { advancePolicyDocument, type AdvancePolicyInput } from "../../infra/orchestratorPolicies.js";
import { rollout as rolloutSchema } from "../../infra/rolloutConfig.js";
import { orchestratorPolicyProblems } from "../../policy/rules/orchestrator-least-privilege.js";
import { parseOrchestratorConfig } from "../../scripts/app/orchestrator/awsAdvance.js";
import type { handler } from "../../scripts/app/orchestrator/handler.js";
import { decodeJournal } from "../../scripts/aws/ssmJournal.js";
import type { Journal } from "../../scripts/core/journal.js";
import { closedPorts, startSecretsEndpoint } from "../support/localEndpoints.js";
import { EXISTING_NETWORK, pairedConfig, runProgram, type ProgramRun } from "./infraHarness.js";

const PREFIX = "/bluegreen/bluegreen/prod";
const ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012";
const LISTENER = `${ARN}:listener/app/bg/50dc6c495c0c9188/f2f7dc8efc522ab2`;
const FENCE_RULE = `${ARN}:listener-rule/app/bg/50dc6c495c0c9188/f2f7dc8efc522ab2/1f2e3d4c5b6a7988`;
const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret";
const FOUR_SECRETS = [
  `${SECRET}:rds!db-blue-AbCdEf`,
  `${SECRET}:rds!db-green-AbCdEf`,
  `${SECRET}:blue-replication-AbCdEf`,
  `${SECRET}:green-replication-AbCdEf`,
];

function orchestratedPaired(): Record<string, any> {
  const config = pairedConfig();
  delete config["bluegreen:rollout"].hooks;
  config["bluegreen:rollout"].orchestrator = "stepfunctions";
  return config;
}

describe("the paired advance Lambda (Pulumi mocks)", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(orchestratedPaired(), "prod");
  }, 120_000);
  const advance = () => run.ofType("aws:lambda/function:Function").find((f) => f.inputs.name === "bluegreen-prod-advance")!;

  it("runs in the private subnets with its own group (out: 5432 to the databases, 443; nothing in); the databases' group admits it on 5432", () => {
    const fn = advance();
    const group = run.one("aws:ec2/securityGroup:SecurityGroup", "orchestrator-advance-sg");
    expect(group.inputs.vpcId).toBe(EXISTING_NETWORK.vpcId);
    expect(group.inputs.ingress ?? []).toEqual([]);
    expect(fn.inputs.vpcConfig).toEqual({ subnetIds: EXISTING_NETWORK.privateSubnetIds, securityGroupIds: [group.id] });
    const db = run.one("aws:ec2/securityGroup:SecurityGroup", "sg-db");
    const admits = run.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((rule) => rule.inputs.referencedSecurityGroupId === group.id);
    expect(admits).toHaveLength(1);
    expect(admits[0]!.inputs).toMatchObject({ securityGroupId: db.id, ipProtocol: "tcp", fromPort: 5432, toPort: 5432 });
    const out = run.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter((rule) => rule.inputs.securityGroupId === group.id);
    expect(out.map((rule) => `${rule.inputs.fromPort} ${rule.inputs.referencedSecurityGroupId === db.id ? "sg:db" : rule.inputs.cidrIpv4}`).sort()).toEqual([
      "443 0.0.0.0/0",
      "5432 sg:db",
    ]);
    // The guard keeps its own group and rule: two functions, two groups admitted.
    expect(run.one("aws:ec2/securityGroup:SecurityGroup", "guard-sg").id).not.toBe(group.id);
  });

  it("its environment: the paired outputs (fence rules, endpoints, secret ARNs, name) and the Amazon CA bundle, no secret, under Lambda's 4 KB", () => {
    const variables = advance().inputs.environment.variables as Record<string, string>;
    expect(variables.NODE_EXTRA_CA_CERTS).toBe(LAMBDA_AMAZON_CA_BUNDLE);
    const config = parseOrchestratorConfig(variables.BLUEGREEN_ORCHESTRATOR);
    const { outputs } = run;
    expect(config).toMatchObject({
      project: "bluegreen",
      stack: "prod",
      databaseMode: "paired",
      outputs: { fenceRuleArns: outputs.fenceRuleArns, databaseInstanceIds: outputs.databaseInstanceIds },
      paired: {
        databaseEndpoints: outputs.databaseEndpoints,
        databaseSecretArns: outputs.databaseSecretArns,
        replicationSecretArns: outputs.replicationSecretArns,
        databaseName: outputs.databaseName,
      },
    });
    const text = JSON.stringify(variables);
    for (const password of run.ofType("random:index/randomPassword:RandomPassword")) expect(text).not.toContain(password.state.result);
    expect(text).not.toMatch(/password/i);
    const bytes = Object.entries(variables).reduce((sum, [key, value]) => sum + key.length + value.length, 0);
    console.log(`paired advance environment: ${bytes} bytes of Lambda's 4096`);
    expect(bytes).toBeLessThan(4096);
  });

  it("its role holds the paired statements on exactly the fence rules and the four secrets, and the policy pack's rule agrees", () => {
    const policy = run.ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "orchestrator-advance-policy")!;
    const document = JSON.parse(policy.inputs.policy);
    const { outputs } = run;
    const statement = (sid: string) => document.Statement.find((s: { Sid: string }) => s.Sid === sid);
    expect(statement("WriteFence")).toMatchObject({ Action: ["elasticloadbalancing:ModifyRule"], Resource: outputs.fenceRuleArns });
    expect(statement("DatabaseCredentials").Resource).toEqual([
      outputs.databaseSecretArns.blue,
      outputs.databaseSecretArns.green,
      outputs.replicationSecretArns.blue,
      outputs.replicationSecretArns.green,
    ]);
    expect(statement("LambdaVpcNetworkInterfaces")).toMatchObject({ Action: [...LAMBDA_VPC_ACTIONS], Resource: "*" });
    expect(orchestratorPolicyProblems("advance", document)).toEqual([]);
  });
});

describe("the policy pack's rule on the paired advance role", () => {
  const input: AdvancePolicyInput = {
    partition: "aws",
    region: "eu-west-1",
    account: "123456789012",
    project: "bluegreen",
    stack: "prod",
    listenerArns: [LISTENER],
    alarmNames: ["bluegreen-prod-green-target-5xx-rate"],
    logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/bluegreen-prod-advance",
    snapshotInstanceId: "bluegreen-prod-db-blue",
    asgNames: [],
    scalesGroups: false,
    paired: { fenceRuleArns: [FENCE_RULE], secretArns: FOUR_SECRETS },
  };
  const paired = () => advancePolicyDocument(input);
  type Doc = ReturnType<typeof paired>;
  const edit = (change: (document: Doc) => void): Doc => {
    const document = structuredClone(paired());
    change(document);
    return document;
  };

  it("passes the exact paired policy (and the shared one without any paired action)", () => {
    expect(orchestratorPolicyProblems("advance", paired())).toEqual([]);
    const { paired: _paired, ...shared } = input;
    expect(orchestratorPolicyProblems("advance", advancePolicyDocument(shared))).toEqual([]);
  });

  it("fails on a wider resource, a fifth secret, a missing VPC action, or one paired action without the others", () => {
    const wider = edit((d) => (d.Statement.find((s) => s.Sid === "DatabaseCredentials")!.Resource = `${SECRET}:*`));
    expect(orchestratorPolicyProblems("advance", wider).join("; ")).toMatch(/secretsmanager:GetSecretValue on .*:secret:\* is wider than a rollout step needs/);
    const fifth = edit((d) => (d.Statement.find((s) => s.Sid === "DatabaseCredentials")!.Resource as string[]).push(`${SECRET}:other-AbCdEf`));
    expect(orchestratorPolicyProblems("advance", fifth)).toEqual([expect.stringMatching(/GetSecretValue on 5 secrets: a paired rollout step reads 4/)]);
    const noEni = edit((d) => (d.Statement.find((s) => s.Sid === "LambdaVpcNetworkInterfaces")!.Action = ["ec2:DescribeNetworkInterfaces"]));
    expect(orchestratorPolicyProblems("advance", noEni)).toEqual([expect.stringMatching(/also needs ec2:CreateNetworkInterface, ec2:DescribeSubnets/)]);
    const fenceOnly = edit(
      (d) => (d.Statement = d.Statement.filter((s) => !["DatabaseCredentials", "LambdaVpcNetworkInterfaces", "ReadBackFence"].includes(s.Sid))),
    );
    expect(orchestratorPolicyProblems("advance", fenceOnly)).toEqual([
      expect.stringMatching(/holds elasticloadbalancing:ModifyRule\) also needs elasticloadbalancing:DescribeRules, secretsmanager:GetSecretValue, ec2:/),
    ]);
    const fenceOnAListener = edit((d) => (d.Statement.find((s) => s.Sid === "WriteFence")!.Resource = [LISTENER]));
    expect(orchestratorPolicyProblems("advance", fenceOnAListener)).toEqual([expect.stringMatching(/ModifyRule on .*:listener\/app\/.* is wider/)]);
  });
});

describe("the paired bundle (node-postgres inside) against the mock AWS endpoint", () => {
  let mock: MockAws;
  let dir: string;
  let secrets: Awaited<ReturnType<typeof startSecretsEndpoint>>;
  const savedEnv = { ...process.env };
  beforeAll(async () => {
    mock = await startMockAws();
    dir = await mkdtemp(join(tmpdir(), "bluegreen-advance-paired-"));
    secrets = await startSecretsEndpoint(
      Object.fromEntries(
        FOUR_SECRETS.map((arn) => [
          arn,
          arn.includes("replication")
            ? { username: "bluegreen_replication", password: "r", host: "127.0.0.1", port: 1, dbname: "booking" }
            : { username: "booking_admin", password: "m" },
        ]),
      ),
    );
  });
  afterAll(async () => {
    await mock.close();
    await secrets.close();
    await rm(dir, { recursive: true, force: true });
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  });

  it("carries pg and the Secrets Manager client, never the migrator; its preflight judges the recorded parity and reaches the databases through pg", async () => {
    const code = await bundleAdvanceHandler(undefined, { paired: true });
    expect(existsSync(join(import.meta.dirname, "../../node_modules/pg-native"))).toBe(false);
    expect(code).toContain("SecretsManagerClient");
    expect(code).toMatch(/PostgresDataReplication = class/);
    expect(code).toContain("is not bundled into the paired advance Lambda: expand migrations are applied from the operator's checkout");
    expect(await bundleAdvanceHandler()).not.toMatch(/PostgresDataReplication = class/); // the shared bundle stays without pg
    await writeFile(join(dir, "index.js"), code);
    const rollout = rolloutSchema.parse({ strategy: { type: "all-at-once" }, orchestrator: "stepfunctions", snapshot: { enabled: false } });
    await writeFile(join(dir, "rollout.json"), JSON.stringify(rollout));

    const [bluePort, greenPort] = await closedPorts();
    const tg = { blue: `${ARN}:targetgroup/bg-blue/0123456789abcdef`, green: `${ARN}:targetgroup/bg-green/fedcba9876543210` };
    seedFromOutputs(mock, { listenerArns: [LISTENER], fenceRuleArns: [FENCE_RULE], targetGroupArns: tg }, { blue: 100, green: 0 });
    mock.state.metrics = { blue: [1200, 1, 0.18, 0.3], green: [0, 0, 0.17, 0.29] };
    const outputs = {
      region: "eu-west-1",
      listenerArns: [LISTENER],
      targetGroupArns: tg,
      stickinessSeconds: null,
      albArnSuffix: "app/bg/50dc6c495c0c9188",
      targetGroupArnSuffixes: { blue: "targetgroup/bg-blue/0123456789abcdef", green: "targetgroup/bg-green/fedcba9876543210" },
      alarmNames: [],
      databaseInstanceIds: { blue: "bluegreen-prod-db-blue", green: "bluegreen-prod-db-green" },
      fenceRuleArns: [FENCE_RULE],
      asgNames: { blue: null, green: null },
    };
    const paired = {
      databaseEndpoints: { blue: `127.0.0.1:${bluePort}`, green: `127.0.0.1:${greenPort}` },
      databaseSecretArns: { blue: FOUR_SECRETS[0], green: FOUR_SECRETS[1] },
      replicationSecretArns: { blue: FOUR_SECRETS[2], green: FOUR_SECRETS[3] },
      databaseName: "booking",
    };
    Object.assign(process.env, mockEnv(mock, {}), {
      LAMBDA_TASK_ROOT: dir,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      BLUEGREEN_ORCHESTRATOR: JSON.stringify({ project: "bluegreen", stack: "prod", databaseMode: "paired", outputs, paired }),
    });
    const bundled = createRequire(join(dir, "index.js"))(join(dir, "index.js")) as { handler: typeof handler };
    const runId = "2026-12-06T14-30-00-000Z-paired";
    const now = Date.now();
    const checkout = {
      checkedAt: now,
      migrations: { dir: "migrations", expand: "none" },
      parity: { identical: true, checkedAt: now - 60_000, summary: "rows and schema identical" },
    };

    const outcome = await bundled.handler(
      { runId, stack: "prod", checkout },
      { functionName: "bluegreen-prod-advance", getRemainingTimeInMillis: () => 900_000 },
    );
    expect(outcome).toMatchObject({ end: "failed", runId });
    const journal = decodeJournal(mock.state.parameters.get(`${PREFIX}/journal`)!, (name) => mock.state.parameters.get(name)) as Journal;
    expect(journal.phase).toBe("preflight-failed");
    // The recorded parity passed; the replication check ran pg inside the bundle against refused ports.
    expect(journal.failure?.reason).toMatch(/replication: error: .*(ECONNREFUSED|refused|connect)/i);
    expect(journal.failure?.reason).not.toMatch(/parity:|Cannot find module|not bundled/);
    expect(secrets.asked.length).toBeGreaterThan(0);
    // Nothing moved: no fence, no listener write; the lock is free.
    expect(mock.calls.filter((c) => c.action === "ModifyRule" || c.action === "ModifyListener")).toEqual([]);
    expect(mock.state.parameters.has(`${PREFIX}/lock`)).toBe(false);
  }, 60_000);
});
