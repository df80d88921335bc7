// The always-on guard in database.mode paired: the handler with aws-sdk-client-mock
// doing the lossless rollback of `npm run rollback` (fence, green → blue catch-up, flip, fence
// off) over a replication fake that models lag; the deadline taken from Lambda's remaining time;
// the replication wiring reading exactly the four secrets the policy grants; the packaged bundle
// (pg inside it) doing a paired rollback against the local mock AWS endpoint; the resources under
// Pulumi mocks (VPC, security group rule, environment without secrets); the policy pack's rule on
// the paired variant, both ways.

import { DescribeRulesCommand, ElasticLoadBalancingV2Client, ModifyRuleCommand, type RuleCondition } from "@aws-sdk/client-elastic-load-balancing-v2";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ReportViolation, ResourceValidationArgs } from "@pulumi/policy";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mockEnv, seedFromOutputs, startMockAws, type MockAws } from "../../bench/rollbackStartup.js";
import { bundleGuardHandler, GUARD_TIMEOUT_SECONDS, guardPolicyDocument, LAMBDA_AMAZON_CA_BUNDLE, LAMBDA_VPC_ACTIONS } from "../../infra/guard.js";
import { rollout as rolloutSchema } from "../../infra/rolloutConfig.js";
import { guardLeastPrivilege, guardPolicyProblems } from "../../policy/rules/guard-least-privilege.js";
import { classifyFenceConditions, fenceConditions } from "../../scripts/aws/albFence.js";
import {
  GUARD_CLEANUP_RESERVE_MS,
  guardDatabaseOutputs,
  guardReplication,
  parseGuardConfig,
  type AlarmStateChangeEvent,
  type PairedGuardConfig,
} from "../../scripts/app/guard/awsGuard.js";
import { runHandler } from "../../scripts/app/guard/handler.js";
import { decodeJournal, encodeJournal } from "../../scripts/aws/ssmJournal.js";
import { runCutover } from "../../scripts/core/engine.js";
import type { Journal } from "../../scripts/core/journal.js";
import { DEFAULT_CATCH_UP_TIMEOUT_MS } from "../../scripts/core/plan.js";
import { databaseConnections, parseStackDatabases } from "../../scripts/postgres/stackDatabases.js";
import type { DataReplication, ParityResult, ReplicationDirection, ReplicationStatus } from "../../scripts/core/ports.js";
import { mockListener, mockSsmParameters } from "../support/awsGuardMocks.js";
import { closedPorts, startSecretsEndpoint } from "../support/localEndpoints.js";
import { FakeWorld, testRollout } from "../support/fakes.js";
import { EXISTING_NETWORK, pairedConfig, runProgram, type ProgramRun } from "./infraHarness.js";

const ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012";
const LISTENER = `${ARN}:listener/app/bg/50dc6c495c0c9188/f2f7dc8efc522ab2`;
const FENCE_RULE = `${ARN}:listener-rule/app/bg/50dc6c495c0c9188/f2f7dc8efc522ab2/1f2e3d4c5b6a7988`;
const TG = { blue: `${ARN}:targetgroup/bg-blue/0123456789abcdef`, green: `${ARN}:targetgroup/bg-green/fedcba9876543210` };
const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret";
const CONFIG: PairedGuardConfig = {
  region: "eu-west-1",
  project: "bluegreen",
  stack: "prod",
  databaseMode: "paired",
  listenerArns: [LISTENER],
  targetGroupArns: TG,
  stickinessSeconds: null,
  compositeAlarmName: "bluegreen-prod-green-guard",
  fenceRuleArns: [FENCE_RULE],
  fenceDrainSeconds: 0,
  databaseEndpoints: {
    blue: "bluegreen-prod-db-blue.c1a2b3.eu-west-1.rds.amazonaws.com:5432",
    green: "bluegreen-prod-db-green.c1a2b3.eu-west-1.rds.amazonaws.com:5432",
  },
  databaseSecretArns: { blue: `${SECRET}:rds!db-blue-AbCdEf`, green: `${SECRET}:rds!db-green-GhIjKl` },
  replicationSecretArns: { blue: `${SECRET}:db-blue-replication-MnOpQr`, green: `${SECRET}:db-green-replication-StUvWx` },
  databaseName: "app",
};
const FOUR_SECRETS = [CONFIG.databaseSecretArns.blue, CONFIG.databaseSecretArns.green, CONFIG.replicationSecretArns.blue, CONFIG.replicationSecretArns.green];
const PREFIX = "/bluegreen/bluegreen/prod";
const CONTEXT = { functionName: "bluegreen-prod-guard", awsRequestId: "req-7" };
const alarmEvent = (state = "ALARM"): AlarmStateChangeEvent => ({
  source: "aws.cloudwatch",
  "detail-type": "CloudWatch Alarm State Change",
  detail: { alarmName: CONFIG.compositeAlarmName, state: { value: state, reason: "Threshold Crossed" }, previousState: { value: "OK" } },
});

/** A paired run after its fenced switch, still monitoring (green serves all traffic): made by the real engine over fakes. */
async function monitoringJournal(): Promise<Journal> {
  const world = new FakeWorld();
  const result = await runCutover(world.deps(), {
    rollout: testRollout({ strategy: { type: "all-at-once" } }),
    databaseMode: "paired",
    owner: "alice@ops-1 pid 4242",
    stack: "prod",
  });
  expect(result.outcome).toBe("succeeded");
  return { ...(world.journal.value as Journal), phase: "monitoring" };
}

/**
 * Green → blue replication as the rollback meets it: green keeps taking writes until the fence is
 * up, and each poll of the catch-up applies one batch. While writes flow (fence off) a new batch
 * arrives with every poll, so the wait can only end by its timeout; fenced, it ends after
 * `batches` polls. Polls are real timers (the handler runs on the system clock); nothing asserts
 * on their duration, only on what happened and in which order.
 */
class LaggingReplication implements DataReplication {
  batches = 3;
  running = true;
  polls = 0;
  closed = false;
  onlyOnGreen: string[] = [];
  constructor(
    private readonly log: string[],
    private readonly fence: () => string,
  ) {}
  async status(direction: ReplicationDirection): Promise<ReplicationStatus> {
    this.log.push(`status ${direction}`);
    return { direction, running: this.running, lagBytes: this.running ? this.batches * 8192 : null, detail: this.running ? "streaming" : "no subscription" };
  }
  async waitForCatchUp(direction: ReplicationDirection, timeoutMs: number, signal?: AbortSignal): Promise<{ waitedMs: number }> {
    this.log.push(`catch-up ${direction} (fence ${this.fence()})`);
    let pending = this.batches;
    const maxPolls = Math.ceil(timeoutMs / 5);
    for (let poll = 0; poll < maxPolls; poll++) {
      if (signal?.aborted) throw new Error("catch-up aborted");
      this.polls++;
      pending -= 1;
      if (this.fence() === "off") pending += 1; // writes still arrive on green
      if (pending <= 0) return { waitedMs: poll * 5 };
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`${direction} did not catch up within ${timeoutMs} ms`);
  }
  async parity(): Promise<ParityResult & { onlyOnGreen?: string[] }> {
    this.log.push("parity");
    return {
      identical: this.onlyOnGreen.length === 0,
      checkedAt: Date.now(),
      summary: `${this.onlyOnGreen.length} key(s) only on green`,
      onlyOnGreen: this.onlyOnGreen,
    };
  }
  async copySequences(direction: ReplicationDirection): Promise<void> {
    this.log.push(`copy-sequences ${direction}`);
  }
  async start(direction: ReplicationDirection): Promise<void> {
    this.log.push(`start ${direction}`);
  }
  async stop(direction: ReplicationDirection): Promise<void> {
    this.log.push(`stop ${direction}`);
  }
  async close(): Promise<void> {
    this.closed = true;
    this.log.push("close");
  }
}

describe("the paired handler (aws-sdk-client-mock)", () => {
  const ssm = mockClient(SSMClient);
  const elb = mockClient(ElasticLoadBalancingV2Client);
  let parameters: Map<string, string>;
  let weights: { blue: number; green: number };
  let ruleConditions: RuleCondition[];
  let applyListenerWrites: boolean;
  /** Called after each listener write (the deadline test ends the work there). */
  let onFlip: () => void;
  let log: string[];
  let replication: LaggingReplication;
  const savedEnv = process.env.BLUEGREEN_GUARD;
  const fenceMode = () => classifyFenceConditions(ruleConditions);
  const ports = () => ({ replication: () => replication });

  beforeEach(() => {
    ssm.reset();
    elb.reset();
    parameters = new Map();
    weights = { blue: 0, green: 100 };
    ruleConditions = fenceConditions("off");
    applyListenerWrites = true;
    onFlip = () => undefined;
    log = [];
    replication = new LaggingReplication(log, fenceMode);
    process.env.BLUEGREEN_GUARD = JSON.stringify(CONFIG);
    mockSsmParameters(ssm, parameters);
    elb.on(ModifyRuleCommand).callsFake((input: { RuleArn: string; Conditions: RuleCondition[] }) => {
      expect(input.RuleArn).toBe(FENCE_RULE);
      ruleConditions = input.Conditions;
      log.push(`fence ${fenceMode()}`);
      return {};
    });
    elb.on(DescribeRulesCommand).callsFake(() => ({ Rules: [{ RuleArn: FENCE_RULE, Conditions: ruleConditions }] }));
    mockListener(
      elb,
      { arn: LISTENER, targetGroups: TG },
      () => weights,
      (written) => {
        log.push(`flip blue ${written.blue} / green ${written.green} (fence ${fenceMode()})`);
        if (applyListenerWrites) weights = written;
        onFlip();
      },
    );
  });
  afterEach(() => {
    if (savedEnv === undefined) delete process.env.BLUEGREEN_GUARD;
    else process.env.BLUEGREEN_GUARD = savedEnv;
  });

  it("green's alarm during monitoring: fence, blue catches up with green, flip, fence off (npm run rollback's lossless steps)", async () => {
    parameters.set(`${PREFIX}/journal`, encodeJournal(await monitoringJournal()));
    const outcome = await runHandler(alarmEvent(), CONTEXT, ports());
    expect(outcome).toMatchObject({ acted: true, outcome: "rolled-back" });
    expect(log).toEqual([
      "fence writes",
      "status green-to-blue",
      "catch-up green-to-blue (fence writes)",
      "copy-sequences green-to-blue",
      "flip blue 100 / green 0 (fence writes)",
      "fence off",
      "close",
    ]);
    expect(replication.polls).toBe(3); // fenced: one batch per poll, no new ones
    expect(weights).toEqual({ blue: 100, green: 0 });
    expect(elb.commandCalls(DescribeRulesCommand).length).toBeGreaterThanOrEqual(2); // each fence mode read back
    const journal = decodeJournal(parameters.get(`${PREFIX}/journal`)!, (name) => parameters.get(name)) as Journal;
    expect(journal).toMatchObject({ phase: "rolled-back", owner: "guard (bluegreen-prod-guard req-7)", databaseMode: "paired" });
    expect(journal.rollback!.fenceMs).not.toBeNull();
    expect(journal.rollback!.onlyOnGreen).toBeNull(); // caught up: nothing to list
    expect(parameters.has(`${PREFIX}/lock`)).toBe(false);
    expect(JSON.parse(parameters.get(`${PREFIX}/weights`)!)).toEqual({ blue: 100, green: 0 });
  }, 20_000);

  it("reverse replication not running: flips anyway, copies sequences, then lists the keys only on green", async () => {
    parameters.set(`${PREFIX}/journal`, encodeJournal(await monitoringJournal()));
    replication.running = false;
    replication.onlyOnGreen = ["bookings(id=42)"];
    const outcome = await runHandler(alarmEvent(), CONTEXT, ports());
    expect(outcome).toMatchObject({ acted: true, outcome: "rolled-back" });
    expect(log).toEqual([
      "fence writes",
      "status green-to-blue",
      "copy-sequences green-to-blue",
      "flip blue 100 / green 0 (fence writes)",
      "fence off",
      "parity",
      "close",
    ]);
    const journal = decodeJournal(parameters.get(`${PREFIX}/journal`)!, (name) => parameters.get(name)) as Journal;
    expect(journal.rollback!.onlyOnGreen).toEqual(["bookings(id=42)"]);
  }, 20_000);

  it("green never served traffic: no fence, no catch-up, just the flip", async () => {
    const journal = await monitoringJournal();
    parameters.set(`${PREFIX}/journal`, encodeJournal({ ...journal, phase: "switching" }));
    weights = { blue: 100, green: 0 };
    const outcome = await runHandler(alarmEvent(), CONTEXT, ports());
    expect(outcome).toMatchObject({ acted: true, outcome: "rolled-back" });
    expect(log).toEqual(["flip blue 100 / green 0 (fence off)", "close"]);
    expect(elb.commandCalls(ModifyRuleCommand)).toHaveLength(0);
  }, 20_000);

  it("the deadline (Lambda's remaining time less the reserve) ends a rollback that cannot verify: failed-rollback journaled, lock released, fence left on", async () => {
    parameters.set(`${PREFIX}/journal`, encodeJournal(await monitoringJournal()));
    applyListenerWrites = false; // the listener never reads back blue only: without a deadline, 3 × the 60 s verify window
    // The deadline passes once the flip has been written and not read back (an event, not a timer).
    const deadline = new AbortController();
    onFlip = () => deadline.abort();
    await expect(runHandler(alarmEvent(), CONTEXT, { ...ports(), deadline: deadline.signal })).rejects.toThrow(/guard rollback failed-rollback/);
    expect(deadline.signal.aborted).toBe(true);
    const journal = decodeJournal(parameters.get(`${PREFIX}/journal`)!, (name) => parameters.get(name)) as Journal;
    expect(journal.phase).toBe("failed-rollback");
    expect(journal.rollback!.detail).toMatch(/stopped at the deadline/);
    expect(journal.rollback!.detail).toMatch(/the write fence stays on/);
    expect(fenceMode()).toBe("writes");
    expect(parameters.has(`${PREFIX}/lock`)).toBe(false);
    expect(replication.closed).toBe(true);
  }, 20_000);

  it("the function's remaining time sets that deadline: no more than the reserve left, the rollback ends failed-rollback at once", async () => {
    parameters.set(`${PREFIX}/journal`, encodeJournal(await monitoringJournal()));
    applyListenerWrites = false;
    const context = { ...CONTEXT, getRemainingTimeInMillis: () => GUARD_CLEANUP_RESERVE_MS };
    await expect(runHandler(alarmEvent(), context, ports())).rejects.toThrow(/guard rollback failed-rollback/);
    expect((decodeJournal(parameters.get(`${PREFIX}/journal`)!, (name) => parameters.get(name)) as Journal).rollback!.detail).toMatch(
      /stopped at the deadline/,
    );
    expect(parameters.has(`${PREFIX}/lock`)).toBe(false);
  }, 20_000);

  it("an OK transition reads nothing and opens no database", async () => {
    expect(await runHandler(alarmEvent("OK"), CONTEXT, ports())).toMatchObject({ acted: false });
    expect(ssm.calls()).toHaveLength(0);
    expect(log).toEqual(["close"]);
  });
});

describe("the paired config and its replication wiring", () => {
  const secrets = mockClient(SecretsManagerClient);
  afterEach(() => secrets.reset());

  it("parses the paired BLUEGREEN_GUARD and refuses a broken one", () => {
    expect(parseGuardConfig(JSON.stringify(CONFIG))).toEqual(CONFIG);
    expect(() => parseGuardConfig(JSON.stringify({ ...CONFIG, fenceRuleArns: [LISTENER], databaseSecretArns: { blue: "x" }, fenceDrainSeconds: 121 }))).toThrow(
      /malformed: fenceRuleArns, fenceDrainSeconds, databaseSecretArns$/,
    );
  });

  it("reads exactly the four secrets the policy grants, connects verify-full, and never prints a password", async () => {
    const read: string[] = [];
    secrets.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => {
      read.push(input.SecretId);
      const replicationFor = Object.entries(CONFIG.replicationSecretArns).find(([, arn]) => arn === input.SecretId)?.[0];
      const value = replicationFor
        ? { username: "bluegreen_replication", password: "Repl1cati0nSecret", host: "127.0.0.1", port: 1, dbname: "app" }
        : { username: "app_admin", password: "MasterSecret-do-not-print" };
      return { SecretString: JSON.stringify(value) };
    });
    // Nothing listens there: the connection is refused after the secrets were read.
    const [bluePort, greenPort] = await closedPorts();
    const replication = guardReplication({ ...CONFIG, databaseEndpoints: { blue: `127.0.0.1:${bluePort}`, green: `127.0.0.1:${greenPort}` } });
    const error = (await replication.status("green-to-blue").catch((e: unknown) => e)) as Error;
    await replication.close();
    expect(error).toBeInstanceOf(Error);
    expect(error.message).not.toMatch(/MasterSecret|Repl1cati0nSecret/);
    expect(read.sort()).toEqual([...FOUR_SECRETS].sort());
    // The same connections as the Lambda builds them (its environment has NODE_EXTRA_CA_CERTS): verify-full over Node's roots plus the runtime's Amazon bundle.
    const connections = await databaseConnections(parseStackDatabases(guardDatabaseOutputs(CONFIG), "BLUEGREEN_GUARD", "the paired switch"), {
      env: { NODE_EXTRA_CA_CERTS: LAMBDA_AMAZON_CA_BUNDLE },
    });
    for (const color of ["blue", "green"] as const) {
      expect(connections[color].tls).toBe(`sslmode=verify-full, CA: Node's roots + NODE_EXTRA_CA_CERTS ${LAMBDA_AMAZON_CA_BUNDLE}`);
      expect(new URL(connections[color].url).searchParams.get("sslmode")).toBe("verify-full");
      expect(connections[color].config.ssl).toEqual({ rejectUnauthorized: true });
      expect(JSON.stringify(connections[color])).not.toMatch(/MasterSecret/);
    }
    expect(connections.blue.display).toBe("postgres://app_admin:***@bluegreen-prod-db-blue.c1a2b3.eu-west-1.rds.amazonaws.com:5432/app");
    const document = guardPolicyDocument({
      partition: "aws",
      region: "eu-west-1",
      account: "123456789012",
      project: "bluegreen",
      stack: "prod",
      listenerArns: [LISTENER],
      logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/bluegreen-prod-guard",
      paired: { fenceRuleArns: [FENCE_RULE], secretArns: FOUR_SECRETS },
    });
    expect(document.Statement.find((s) => s.Sid === "DatabaseCredentials")!.Resource).toEqual(FOUR_SECRETS);
  });

  it("the paired function's timeout covers the paired rollback's bounded waits and one full read-back window before the deadline", () => {
    // The config's upper bounds: drain 120 s, read-back window 600 s (a larger one would not fit).
    expect(rolloutSchema.safeParse({ fenceDrainSeconds: 120, verifyTimeoutSeconds: 600 }).success).toBe(true);
    expect(rolloutSchema.safeParse({ fenceDrainSeconds: 121 }).success).toBe(false);
    expect(rolloutSchema.safeParse({ verifyTimeoutSeconds: 601 }).success).toBe(false);
    const beforeTheFlipMs =
      120_000 + // fence drain (rollout.fenceDrainSeconds at most)
      30_000 + // the fence rules' read-back (AlbFence's verify timeout)
      2 * 10_000 + // a connection to each database (sync/connect.ts's connect timeout)
      15_000 + // the subscription refresh's wait for its worker (PostgresDataReplication refreshWaitMs)
      DEFAULT_CATCH_UP_TIMEOUT_MS; // the catch-up (the plan's: 30 s)
    const oneReadBackWindowMs = 600_000;
    expect(beforeTheFlipMs + oneReadBackWindowMs).toBeLessThanOrEqual(GUARD_TIMEOUT_SECONDS.paired * 1000 - GUARD_CLEANUP_RESERVE_MS);
    expect(GUARD_TIMEOUT_SECONDS.paired).toBeLessThanOrEqual(900); // Lambda's maximum
  });
});

describe("the packaged bundle in paired mode (esbuild, pg inside) against the mock AWS endpoint", () => {
  let mock: MockAws;
  let dir: string;
  let secretsEndpoint: Awaited<ReturnType<typeof startSecretsEndpoint>>;
  const savedEnv = { ...process.env };
  beforeAll(async () => {
    mock = await startMockAws();
    dir = await mkdtemp(join(tmpdir(), "bluegreen-guard-paired-"));
    secretsEndpoint = await startSecretsEndpoint(
      Object.fromEntries(
        FOUR_SECRETS.map((arn) => [
          arn,
          arn.includes("replication")
            ? { username: "bluegreen_replication", password: "r", host: "127.0.0.1", port: 1, dbname: "app" }
            : { username: "app_admin", password: "m" },
        ]),
      ),
    );
  });
  afterAll(async () => {
    await mock.close();
    await secretsEndpoint.close();
    await rm(dir, { recursive: true, force: true });
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  });

  it("bundles pg (pg-native external, never loaded) and the Secrets Manager client, and rolls back with the fence even when the databases cannot be reached", async () => {
    const code = await bundleGuardHandler();
    expect(existsSync(join(import.meta.dirname, "../../node_modules/pg-native"))).toBe(false); // so loading the bundle proves pg-native is not needed
    expect(code).toContain('require("pg-native")');
    expect(code).toContain("SecretsManagerClient");
    expect(code).toMatch(/PostgresDataReplication = class/);
    expect(code).not.toMatch(/createRequire\(/);
    await writeFile(join(dir, "index.js"), code);

    // Two ports nothing listens on (the same host:port twice would be a shared database).
    const [bluePort, greenPort] = await closedPorts();
    const config = { ...CONFIG, databaseEndpoints: { blue: `127.0.0.1:${bluePort}`, green: `127.0.0.1:${greenPort}` } };
    seedFromOutputs(mock, { listenerArns: [LISTENER], fenceRuleArns: [FENCE_RULE], targetGroupArns: TG }, { blue: 0, green: 100 });
    mock.state.parameters.set(`${PREFIX}/journal`, encodeJournal(await monitoringJournal()));
    Object.assign(process.env, mockEnv(mock, {}), { BLUEGREEN_GUARD: JSON.stringify(config), AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsEndpoint.url });
    const bundled = createRequire(join(dir, "index.js"))(join(dir, "index.js")) as { handler: typeof runHandler };
    const outcome = await bundled.handler(alarmEvent(), CONTEXT);
    expect(outcome).toMatchObject({ acted: true, outcome: "rolled-back" });
    expect(mock.state.listeners.get(LISTENER)!.weights).toEqual({ blue: 100, green: 0 });
    const elbActions = mock.calls.filter((c) => c.service !== "ssm").map((c) => c.action);
    // Fence up, read back; flip, read back; fence down, read back.
    expect(elbActions.filter((a) => a === "ModifyRule")).toHaveLength(2);
    expect(elbActions.indexOf("ModifyRule")).toBeLessThan(elbActions.indexOf("ModifyListener"));
    expect(elbActions.lastIndexOf("ModifyRule")).toBeGreaterThan(elbActions.indexOf("ModifyListener"));
    expect(secretsEndpoint.asked.sort()).toEqual([...FOUR_SECRETS].sort());
    const journal = decodeJournal(mock.state.parameters.get(`${PREFIX}/journal`)!, (name) => mock.state.parameters.get(name)) as Journal;
    expect(journal.phase).toBe("rolled-back");
    // pg ran inside the bundle: the catch-up failed on the refused connection, not on a missing module.
    const catchUp = journal.timeline.find((e) => e.type === "replication" && e.direction === "green-to-blue" && !e.ok) as { detail: string } | undefined;
    expect(catchUp?.detail).toMatch(/ECONNREFUSED|refused|could not connect/i);
    expect(catchUp?.detail).not.toMatch(/Cannot find module/);
  }, 60_000);
});

describe("the paired resources (Pulumi mocks)", () => {
  let paired: ProgramRun;
  let created: ProgramRun;
  beforeAll(async () => {
    paired = await runProgram(pairedConfig(), "prod");
    const config = pairedConfig();
    config["bluegreen:network"] = { mode: "create", cidr: "10.60.0.0/20", availabilityZones: ["eu-west-1a", "eu-west-1b"], natGateways: "single" };
    created = await runProgram(config, "prod");
  }, 60_000);

  it("the function runs in the private subnets with its own group; the databases' group admits it on 5432 (one rule)", () => {
    const fn = paired.one("aws:lambda/function:Function");
    const group = paired.one("aws:ec2/securityGroup:SecurityGroup", "guard-sg");
    expect(group.inputs.vpcId).toBe(EXISTING_NETWORK.vpcId);
    expect(group.inputs.ingress ?? []).toEqual([]);
    expect(fn.inputs.vpcConfig).toEqual({ subnetIds: EXISTING_NETWORK.privateSubnetIds, securityGroupIds: [group.id] });
    const db = paired.one("aws:ec2/securityGroup:SecurityGroup", "sg-db");
    const admits = paired
      .ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .filter((rule) => rule.inputs.referencedSecurityGroupId === group.id);
    expect(admits).toHaveLength(1);
    expect(admits[0]!.inputs).toMatchObject({ securityGroupId: db.id, ipProtocol: "tcp", fromPort: 5432, toPort: 5432 });
    const out = paired.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter((rule) => rule.inputs.securityGroupId === group.id);
    expect(out.map((rule) => `${rule.inputs.fromPort} ${rule.inputs.referencedSecurityGroupId === db.id ? "sg:db" : rule.inputs.cidrIpv4}`).sort()).toEqual([
      "443 0.0.0.0/0",
      "5432 sg:db",
    ]);
    expect(fn.inputs.timeout).toBe(GUARD_TIMEOUT_SECONDS.paired);
  });

  it("on a created network its subnets are the private ones, each routed to the NAT gateway (the AWS APIs' way out)", () => {
    const fn = created.one("aws:lambda/function:Function");
    const privateSubnets = created.ofType("aws:ec2/subnet:Subnet").filter((subnet) => subnet.name.includes("-private-"));
    expect(fn.inputs.vpcConfig.subnetIds).toEqual(privateSubnets.map((subnet) => subnet.id));
    const nat = created.one("aws:ec2/natGateway:NatGateway");
    for (const subnet of privateSubnets) {
      const association = created.ofType("aws:ec2/routeTableAssociation:RouteTableAssociation").find((a) => a.inputs.subnetId === subnet.id)!;
      const route = created.ofType("aws:ec2/route:Route").find((r) => r.inputs.routeTableId === association.inputs.routeTableId)!;
      expect(route.inputs).toMatchObject({ destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id });
    }
  });

  it("its environment holds the paired rollback's ARNs and names, the Amazon CA bundle, and no secret", () => {
    const fn = paired.one("aws:lambda/function:Function");
    const variables = fn.inputs.environment.variables as Record<string, string>;
    expect(variables.NODE_EXTRA_CA_CERTS).toBe(LAMBDA_AMAZON_CA_BUNDLE);
    const config = parseGuardConfig(variables.BLUEGREEN_GUARD);
    const { outputs } = paired;
    expect(config).toEqual({
      region: "eu-west-1",
      project: "bluegreen",
      stack: "prod",
      databaseMode: "paired",
      listenerArns: outputs.listenerArns,
      targetGroupArns: outputs.targetGroupArns,
      stickinessSeconds: outputs.stickinessSeconds,
      compositeAlarmName: "bluegreen-prod-green-guard",
      fenceRuleArns: outputs.fenceRuleArns,
      fenceDrainSeconds: 3,
      databaseEndpoints: outputs.databaseEndpoints,
      databaseSecretArns: outputs.databaseSecretArns,
      replicationSecretArns: outputs.replicationSecretArns,
      databaseName: outputs.databaseName,
    });
    const text = JSON.stringify(variables);
    for (const password of paired.ofType("random:index/randomPassword:RandomPassword")) expect(text).not.toContain(password.state.result);
    expect(text).not.toMatch(/password/i);
  });

  it("its policy is exactly the paired rollback's, and the policy pack's rule agrees", () => {
    const policy = paired.ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "guard-policy")!;
    const document = JSON.parse(policy.inputs.policy);
    const logGroup = paired.one("aws:cloudwatch/logGroup:LogGroup");
    const { outputs } = paired;
    expect(document).toEqual(
      guardPolicyDocument({
        partition: "aws",
        region: "eu-west-1",
        account: "123456789012",
        project: "bluegreen",
        stack: "prod",
        listenerArns: outputs.listenerArns,
        logGroupArn: logGroup.state.arn,
        paired: {
          fenceRuleArns: outputs.fenceRuleArns,
          secretArns: [
            outputs.databaseSecretArns.blue,
            outputs.databaseSecretArns.green,
            outputs.replicationSecretArns.blue,
            outputs.replicationSecretArns.green,
          ],
        },
      }),
    );
    expect(guardPolicyProblems(document)).toEqual([]);
  });
});

describe("the policy pack's rule on the paired variant", () => {
  const base = () =>
    guardPolicyDocument({
      partition: "aws",
      region: "eu-west-1",
      account: "123456789012",
      project: "bluegreen",
      stack: "prod",
      listenerArns: [LISTENER],
      logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/bluegreen-prod-guard",
      paired: { fenceRuleArns: [FENCE_RULE], secretArns: FOUR_SECRETS },
    });
  const violations = (document: unknown): string[] => {
    const out: string[] = [];
    const report: ReportViolation = (message) => out.push(message);
    const args = {
      type: "aws:iam/rolePolicy:RolePolicy",
      name: "guard-policy",
      props: { policy: JSON.stringify(document) },
    } as unknown as ResourceValidationArgs;
    (guardLeastPrivilege.validateResource as (args: ResourceValidationArgs, report: ReportViolation) => void)(args, report);
    return out;
  };

  it("passes the exact paired policy", () => {
    expect(guardPolicyProblems(base())).toEqual([]);
    expect(violations(base())).toEqual([]);
    expect(base().Statement.find((s) => s.Sid === "LambdaVpcNetworkInterfaces")).toEqual({
      Sid: "LambdaVpcNetworkInterfaces",
      Effect: "Allow",
      Action: [...LAMBDA_VPC_ACTIONS],
      Resource: "*",
    });
  });

  it("fails on an extra permission, a wider resource, a fifth secret or a missing VPC action", () => {
    const extra = base();
    extra.Statement.push({ Sid: "Extra", Effect: "Allow", Action: ["secretsmanager:ListSecrets"], Resource: "*" });
    expect(violations(extra)).toEqual(["guard-policy: statement Extra: secretsmanager:ListSecrets is not something the rollback does"]);

    const wider = base();
    wider.Statement.find((s) => s.Sid === "DatabaseCredentials")!.Resource = `${SECRET}:*`;
    wider.Statement.find((s) => s.Sid === "WriteFence")!.Resource = [LISTENER];
    expect(guardPolicyProblems(wider)).toEqual([
      `statement WriteFence: elasticloadbalancing:ModifyRule on ${LISTENER} is wider than the rollback needs`,
      `statement DatabaseCredentials: secretsmanager:GetSecretValue on ${SECRET}:* is wider than the rollback needs`,
    ]);

    const fifth = base();
    (fifth.Statement.find((s) => s.Sid === "DatabaseCredentials")!.Resource as string[]).push(`${SECRET}:someone-elses-AbCdEf`);
    expect(guardPolicyProblems(fifth)).toEqual([
      "secretsmanager:GetSecretValue on 5 secrets: the rollback reads 4 (each database's master and replication secret)",
    ]);

    const missing = base();
    const vpc = missing.Statement.find((s) => s.Sid === "LambdaVpcNetworkInterfaces")!;
    vpc.Action = vpc.Action.filter((action) => action !== "ec2:DeleteNetworkInterface");
    expect(guardPolicyProblems(missing)).toEqual(["the paired rollback also needs ec2:DeleteNetworkInterface"]);
  });

  it("a shared policy with one paired action is judged as paired (so it must have all of them)", () => {
    const shared = guardPolicyDocument({
      partition: "aws",
      region: "eu-west-1",
      account: "123456789012",
      project: "bluegreen",
      stack: "prod",
      listenerArns: [LISTENER],
      logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/bluegreen-prod-guard",
    });
    expect(guardPolicyProblems(shared)).toEqual([]);
    shared.Statement.push({ Sid: "Fence", Effect: "Allow", Action: ["elasticloadbalancing:ModifyRule"], Resource: [FENCE_RULE] });
    expect(guardPolicyProblems(shared)).toEqual([
      `the paired rollback also needs elasticloadbalancing:DescribeRules, secretsmanager:GetSecretValue, ${LAMBDA_VPC_ACTIONS.join(", ")}`,
    ]);
  });
});
