// The always-on guard: the handler with aws-sdk-client-mock (what it decides from the journal and
// the lock, and the exact calls of its rollback), the bundle the program packages run against the
// local mock AWS endpoint (the artifact itself works), and the resources under Pulumi mocks
// (composite alarm over green's alarms, EventBridge rule, Lambda, least-privilege policy). The
// paired variant (VPC, fence, replication) is guardPaired.test.ts.

import { DescribeListenersCommand, ElasticLoadBalancingV2Client, ModifyListenerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mockEnv, seedFromOutputs, startMockAws, type MockAws } from "../../bench/rollbackStartup.js";
import { bundleGuardHandler, compositeAlarmRule, guardPolicyDocument, lambdaFunctionName } from "../../infra/guard.js";
import { guardLeastPrivilege, guardPolicyProblems } from "../../policy/rules/guard-least-privilege.js";
import { parseGuardConfig, type AlarmStateChangeEvent, type GuardConfig } from "../../scripts/app/guard/awsGuard.js";
import { handler } from "../../scripts/app/guard/handler.js";
import { decodeJournal, encodeJournal } from "../../scripts/aws/ssmJournal.js";
import { runCutover } from "../../scripts/core/engine.js";
import type { Journal } from "../../scripts/core/journal.js";
import { mockListener, mockSsmParameters } from "../support/awsGuardMocks.js";
import { FakeWorld, testRollout } from "../support/fakes.js";
import { prodConfigMap, runProgram, type ProgramRun } from "./infraHarness.js";

const ROOT = join(import.meta.dirname, "../..");
const LISTENER = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/bg/50dc6c495c0c9188/f2f7dc8efc522ab2";
const TG = {
  blue: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/bg-blue/0123456789abcdef",
  green: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/bg-green/fedcba9876543210",
};
const CONFIG: GuardConfig = {
  region: "eu-west-1",
  project: "bluegreen",
  stack: "prod",
  databaseMode: "shared",
  listenerArns: [LISTENER],
  targetGroupArns: TG,
  stickinessSeconds: null,
  compositeAlarmName: "bluegreen-prod-green-guard",
};
const PREFIX = "/bluegreen/bluegreen/prod";
const alarmEvent = (state = "ALARM", alarmName = CONFIG.compositeAlarmName): AlarmStateChangeEvent => ({
  source: "aws.cloudwatch",
  "detail-type": "CloudWatch Alarm State Change",
  detail: { alarmName, state: { value: state, reason: "Threshold Crossed: 1 out of the last 1 datapoints" }, previousState: { value: "OK" } },
});
const CONTEXT = { functionName: "bluegreen-prod-guard", awsRequestId: "req-1" };

/** A journal paused at step 2 (25%), made by the real engine over fakes. */
async function pausedJournal(): Promise<Journal> {
  const world = new FakeWorld();
  const result = await runCutover(world.deps(), {
    rollout: testRollout({ strategy: { type: "canary", steps: [5, { percent: 25, pause: "promote" }, 100] } }),
    databaseMode: "shared",
    owner: "alice@ops-1 pid 4242",
    stack: "prod",
  });
  expect(result.outcome).toBe("paused");
  return world.journal.value as Journal;
}

describe("the handler (aws-sdk-client-mock)", () => {
  const ssm = mockClient(SSMClient);
  const elb = mockClient(ElasticLoadBalancingV2Client);
  let parameters: Map<string, string>;
  let weights: { blue: number; green: number };
  const savedEnv = process.env.BLUEGREEN_GUARD;

  beforeEach(() => {
    ssm.reset();
    elb.reset();
    parameters = new Map();
    weights = { blue: 75, green: 25 };
    process.env.BLUEGREEN_GUARD = JSON.stringify(CONFIG);
    mockSsmParameters(ssm, parameters);
    mockListener(
      elb,
      { arn: LISTENER, targetGroups: TG },
      () => weights,
      (written) => (weights = written),
    );
  });
  afterEach(() => {
    if (savedEnv === undefined) delete process.env.BLUEGREEN_GUARD;
    else process.env.BLUEGREEN_GUARD = savedEnv;
  });

  it("a paused rollout and green's alarm: rolls back with the project's rollback, journaled as the guard's", async () => {
    parameters.set(`${PREFIX}/journal`, encodeJournal(await pausedJournal()));
    const outcome = await handler(alarmEvent(), CONTEXT);
    expect(outcome).toMatchObject({ acted: true, outcome: "rolled-back", brokeLock: null });
    expect(weights).toEqual({ blue: 100, green: 0 });
    // The lock first (atomic create), one write, the read-back, the weights parameter, the lock released.
    const lockPut = ssm.commandCalls(PutParameterCommand).find((c) => c.args[0].input.Name === `${PREFIX}/lock`)!;
    expect(lockPut.args[0].input.Overwrite).toBe(false);
    expect(JSON.parse(lockPut.args[0].input.Value!)).toMatchObject({ owner: "guard (bluegreen-prod-guard req-1)", operation: "rollback" });
    expect(elb.commandCalls(ModifyListenerCommand)).toHaveLength(1);
    expect(elb.commandCalls(DescribeListenersCommand).length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(parameters.get(`${PREFIX}/weights`)!)).toEqual({ blue: 100, green: 0 });
    expect(parameters.has(`${PREFIX}/lock`)).toBe(false);
    const journal = decodeJournal(parameters.get(`${PREFIX}/journal`)!, (name) => parameters.get(name)) as Journal;
    expect(journal.phase).toBe("rolled-back");
    expect(journal.owner).toBe("guard (bluegreen-prod-guard req-1)");
    expect(journal.failure).toMatchObject({ phase: "paused", step: 1 });
    expect(journal.failure!.reason).toMatch(/^guard: bluegreen-prod-green-guard in ALARM \(Threshold Crossed.*\) while run .* was in paused$/);
    expect(journal.timeline.some((e) => e.type === "lock" && e.detail === "rollback by guard (bluegreen-prod-guard req-1)")).toBe(true);
  });

  it("a cutover process still holding the lock is overridden (rollback --force semantics), and named", async () => {
    const journal = await pausedJournal();
    journal.phase = "baking";
    parameters.set(`${PREFIX}/journal`, encodeJournal(journal));
    parameters.set(`${PREFIX}/lock`, JSON.stringify({ owner: "alice@ops-1 pid 4242", since: 1, operation: "cutover", runId: journal.runId }));
    const outcome = await handler(alarmEvent(), CONTEXT);
    expect(outcome).toMatchObject({ acted: true, outcome: "rolled-back", brokeLock: "cutover by alice@ops-1 pid 4242" });
    expect(weights).toEqual({ blue: 100, green: 0 });
  });

  it.each([
    ["no journal", () => undefined, /no journal: no rollout is active/],
    [
      "a finished run",
      async () => parameters.set(`${PREFIX}/journal`, encodeJournal({ ...(await pausedJournal()), phase: "succeeded" })),
      /already ended \(succeeded\)/,
    ],
    [
      "a run still in preflight",
      async () => parameters.set(`${PREFIX}/journal`, encodeJournal({ ...(await pausedJournal()), phase: "preflight", step: null })),
      /no weight has moved yet/,
    ],
    [
      "a rollback already running",
      async () => {
        parameters.set(`${PREFIX}/journal`, encodeJournal(await pausedJournal()));
        parameters.set(`${PREFIX}/lock`, JSON.stringify({ owner: "bob@ops-2 pid 7", since: 1, operation: "rollback", runId: "r" }));
      },
      /a rollback by bob@ops-2 pid 7 is already running/,
    ],
  ])("does nothing for %s", async (_name, arrange, reason) => {
    await arrange();
    const before = new Map(parameters);
    const outcome = await handler(alarmEvent(), CONTEXT);
    expect(outcome.acted).toBe(false);
    expect(outcome.reason).toMatch(reason);
    expect(elb.commandCalls(ModifyListenerCommand)).toHaveLength(0);
    expect(parameters).toEqual(before);
  });

  it("an alarm older than the run now in the journal (a retried, queued event of an earlier rollout) is not acted on", async () => {
    const journal = await pausedJournal();
    parameters.set(`${PREFIX}/journal`, encodeJournal(journal));
    const at = (ms: number): AlarmStateChangeEvent => {
      const event = alarmEvent();
      return {
        ...event,
        time: new Date(ms).toISOString(),
        detail: { ...event.detail, state: { ...event.detail!.state, timestamp: new Date(ms).toISOString() } },
      };
    };
    const stale = await handler(at(journal.createdAt - 60_000), CONTEXT);
    expect(stale).toMatchObject({ acted: false });
    expect((stale as { reason: string }).reason).toMatch(/is older than run .*: it was an earlier rollout's/);
    expect(weights).toEqual({ blue: 75, green: 25 });
    expect(await handler(at(journal.createdAt + 60_000), CONTEXT)).toMatchObject({ acted: true, outcome: "rolled-back" });
    expect(weights).toEqual({ blue: 100, green: 0 });
  });

  it("ignores OK transitions and other alarms without reading anything", async () => {
    expect(await handler(alarmEvent("OK"), CONTEXT)).toMatchObject({ acted: false, reason: "alarm state is OK, not ALARM" });
    expect(await handler(alarmEvent("ALARM", "someone-elses-alarm"), CONTEXT)).toMatchObject({ acted: false });
    expect(ssm.calls()).toHaveLength(0);
  });

  it("a rollback that cannot verify blue fails the invocation, and Lambda's retry really rolls back", async () => {
    parameters.set(`${PREFIX}/journal`, encodeJournal(await pausedJournal()));
    elb.on(ModifyListenerCommand).rejects(Object.assign(new Error("Access denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } }));
    await expect(handler(alarmEvent(), CONTEXT)).rejects.toThrow(/guard rollback failed-rollback/);
    expect(decodeJournal(parameters.get(`${PREFIX}/journal`)!, (name) => parameters.get(name))).toMatchObject({ phase: "failed-rollback" });
    expect(weights).toEqual({ blue: 75, green: 25 });
    // The same event again (Lambda retries a failed asynchronous invocation): failed-rollback never
    // verified blue, so the guard acts again; this time the API answers.
    mockListener(
      elb,
      { arn: LISTENER, targetGroups: TG },
      () => weights,
      (written) => (weights = written),
    );
    expect(await handler(alarmEvent(), { ...CONTEXT, awsRequestId: "retry-1" })).toMatchObject({ acted: true, outcome: "rolled-back" });
    expect(weights).toEqual({ blue: 100, green: 0 });
    expect(decodeJournal(parameters.get(`${PREFIX}/journal`)!, (name) => parameters.get(name))).toMatchObject({ phase: "rolled-back" });
  }, 20_000);

  it("refuses a missing or malformed BLUEGREEN_GUARD", async () => {
    expect(() => parseGuardConfig(undefined)).toThrow(/BLUEGREEN_GUARD is not set/);
    expect(() => parseGuardConfig(JSON.stringify({ ...CONFIG, databaseMode: "both", listenerArns: [] }))).toThrow(/databaseMode .*listenerArns/);
    // Paired without what the lossless rollback needs (guardPaired.test.ts has the whole paired config).
    expect(() => parseGuardConfig(JSON.stringify({ ...CONFIG, databaseMode: "paired" }))).toThrow(
      /malformed: fenceRuleArns, fenceDrainSeconds, databaseEndpoints, databaseSecretArns, replicationSecretArns, databaseName$/,
    );
  });
});

describe("the packaged bundle (esbuild) against the mock AWS endpoint", () => {
  let mock: MockAws;
  let dir: string;
  const savedEnv = { ...process.env };
  beforeAll(async () => {
    mock = await startMockAws();
    dir = await mkdtemp(join(tmpdir(), "bluegreen-guard-"));
  });
  afterAll(async () => {
    await mock.close();
    await rm(dir, { recursive: true, force: true });
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  });

  it("the bundle holds its SDK clients and rolls a paused rollout back over HTTP", async () => {
    const code = await bundleGuardHandler();
    expect(code).not.toMatch(/createRequire\(/); // every AWS client is inside the bundle
    expect(code).toContain("SSMClient");
    expect(code).toContain("ElasticLoadBalancingV2Client");
    expect(code).not.toContain("@aws-sdk/client-rds"); // only what the rollback uses
    await writeFile(join(dir, "index.js"), code);

    const outputs = JSON.parse(await readFile(join(ROOT, "examples/stack-outputs.prod.json"), "utf8"));
    seedFromOutputs(mock, outputs, { blue: 75, green: 25 });
    mock.state.parameters.set(`${PREFIX}/journal`, encodeJournal(await pausedJournal()));
    Object.assign(process.env, mockEnv(mock, {}), {
      BLUEGREEN_GUARD: JSON.stringify({
        ...CONFIG,
        listenerArns: outputs.listenerArns,
        targetGroupArns: outputs.targetGroupArns,
        stickinessSeconds: outputs.stickinessSeconds,
      }),
    });
    const bundled = createRequire(join(dir, "index.js"))(join(dir, "index.js")) as { handler: typeof handler };
    const outcome = await bundled.handler(alarmEvent(), CONTEXT);
    expect(outcome).toMatchObject({ acted: true, outcome: "rolled-back" });
    for (const arn of outputs.listenerArns as string[]) expect(mock.state.listeners.get(arn)!.weights).toEqual({ blue: 100, green: 0 });
    expect(decodeJournal(mock.state.parameters.get(`${PREFIX}/journal`)!, (name) => mock.state.parameters.get(name))).toMatchObject({
      phase: "rolled-back",
      owner: "guard (bluegreen-prod-guard req-1)",
    });
    expect(mock.calls.map((c) => c.action)).toEqual(
      expect.arrayContaining(["PutParameter", "GetParameter", "ModifyListener", "DescribeListeners", "DeleteParameter"]),
    );
  }, 30_000);
});

describe("the resources (Pulumi mocks)", () => {
  let shared: ProgramRun;
  let paired: ProgramRun;
  beforeAll(async () => {
    shared = await runProgram(prodConfigMap(), "prod");
    const config = prodConfigMap();
    config["bluegreen:database"].mode = "paired";
    config["bluegreen:rollout"].strategy = { type: "all-at-once" };
    config["bluegreen:network"] = {
      mode: "existing",
      vpcId: "vpc-0abc12345",
      publicSubnetIds: ["subnet-0aaa1111", "subnet-0bbb2222"],
      privateSubnetIds: ["subnet-0ccc3333", "subnet-0ddd4444"],
    };
    paired = await runProgram(config, "prod");
  }, 60_000);

  it("a composite alarm over green's alarms only, and a rule on its change to ALARM", () => {
    const composite = shared.one("aws:cloudwatch/compositeAlarm:CompositeAlarm");
    expect(composite.inputs.alarmName).toBe("bluegreen-prod-green-guard");
    expect(composite.inputs.alarmRule).toBe(compositeAlarmRule(shared.outputs.alarmNamesByColor.green));
    expect(shared.outputs.alarmNamesByColor.green).toHaveLength(4);
    for (const blue of shared.outputs.alarmNamesByColor.blue) expect(composite.inputs.alarmRule).not.toContain(blue);
    const rule = shared.one("aws:cloudwatch/eventRule:EventRule");
    expect(JSON.parse(rule.inputs.eventPattern)).toEqual({
      source: ["aws.cloudwatch"],
      "detail-type": ["CloudWatch Alarm State Change"],
      resources: [composite.state.arn],
      detail: { state: { value: ["ALARM"] } },
    });
    const fn = shared.one("aws:lambda/function:Function");
    expect(shared.one("aws:cloudwatch/eventTarget:EventTarget").inputs).toMatchObject({
      rule: rule.state.name,
      arn: fn.state.arn,
      retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3000 },
    });
    // A failed invocation is retried twice by Lambda itself, for as long as the first run and both
    // retries can take at their longest (3 × 900 s plus the 1 and 2 minute back-offs, and slack).
    const invokeConfig = shared.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").inputs;
    expect(invokeConfig).toMatchObject({ functionName: fn.state.name, maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3000 });
    expect(invokeConfig.maximumEventAgeInSeconds).toBeGreaterThan(3 * 900 + 3 * 60);
    expect(shared.one("aws:lambda/permission:Permission").inputs).toMatchObject({
      action: "lambda:InvokeFunction",
      principal: "events.amazonaws.com",
      sourceArn: rule.state.arn,
    });
  });

  it("names the function within Lambda's rules whatever the project and stack are called", () => {
    expect(lambdaFunctionName("bluegreen-prod-guard")).toBe("bluegreen-prod-guard");
    expect(lambdaFunctionName("bluegreen-eu.prod-guard")).toBe("bluegreen-eu-prod-guard");
    const long = lambdaFunctionName(`bluegreen-${"staging-".repeat(10)}guard`);
    expect(long).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(long).toHaveLength(64);
    expect(lambdaFunctionName(`bluegreen-${"staging-".repeat(10)}x-guard`)).not.toBe(long);
  });

  it("the Lambda runs the bundled handler with the stack's rollback outputs, one at a time", async () => {
    const fn = shared.one("aws:lambda/function:Function");
    expect(fn.inputs).toMatchObject({ runtime: "nodejs24.x", handler: "index.handler", reservedConcurrentExecutions: 1, name: "bluegreen-prod-guard" });
    const config = parseGuardConfig(fn.inputs.environment.variables.BLUEGREEN_GUARD);
    expect(config).toEqual({
      region: "eu-west-1",
      project: "bluegreen",
      stack: "prod",
      databaseMode: "shared",
      listenerArns: shared.outputs.listenerArns,
      targetGroupArns: shared.outputs.targetGroupArns,
      stickinessSeconds: shared.outputs.stickinessSeconds,
      compositeAlarmName: "bluegreen-prod-green-guard",
    });
    // The archive the program packages: one index.js, the esbuild bundle of the handler.
    const assets = (await fn.inputs.code.assets) as Record<string, { text: Promise<string> | string }>;
    expect(Object.keys(assets)).toEqual(["index.js"]);
    const text = await assets["index.js"]!.text;
    expect(text).toContain("parseGuardConfig");
    expect(text).toMatch(/module\.exports = __toCommonJS/);
    expect(shared.outputs).toMatchObject({ guardFunctionName: "bluegreen-prod-guard", guardAlarmName: "bluegreen-prod-green-guard" });
  });

  it("its policy is exactly the rollback's, and the policy pack's rule agrees", async () => {
    const policy = shared.ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "guard-policy")!;
    const document = JSON.parse(policy.inputs.policy);
    const logGroup = shared.one("aws:cloudwatch/logGroup:LogGroup");
    expect(logGroup.inputs).toMatchObject({ name: "/aws/lambda/bluegreen-prod-guard", retentionInDays: 30 });
    expect(document).toEqual(
      guardPolicyDocument({
        partition: "aws",
        region: "eu-west-1",
        account: "123456789012",
        project: "bluegreen",
        stack: "prod",
        listenerArns: shared.outputs.listenerArns,
        logGroupArn: logGroup.state.arn,
      }),
    );
    expect(guardPolicyProblems(document)).toEqual([]);
    const role = shared.ofType("aws:iam/role:Role").find((r) => r.name === "guard-role")!;
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([
      { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    expect(role.inputs.managedPolicyArns).toBeUndefined();
  });

  it("the rule refuses a wider policy and a missing permission", () => {
    const base = guardPolicyDocument({
      partition: "aws",
      region: "eu-west-1",
      account: "123456789012",
      project: "bluegreen",
      stack: "prod",
      listenerArns: [LISTENER],
      logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/bluegreen-prod-guard",
    });
    expect(guardPolicyProblems(base)).toEqual([]);
    const wider = structuredClone(base);
    wider.Statement[2]!.Resource = "arn:aws:ssm:eu-west-1:123456789012:parameter/*";
    wider.Statement.push({ Sid: "Extra", Effect: "Allow", Action: ["autoscaling:SetDesiredCapacity"], Resource: "*" });
    expect(guardPolicyProblems(wider)).toEqual([
      "statement LockJournalWeights: ssm:GetParameter on arn:aws:ssm:eu-west-1:123456789012:parameter/* is wider than the rollback needs",
      "statement LockJournalWeights: ssm:PutParameter on arn:aws:ssm:eu-west-1:123456789012:parameter/* is wider than the rollback needs",
      "statement LockJournalWeights: ssm:DeleteParameter on arn:aws:ssm:eu-west-1:123456789012:parameter/* is wider than the rollback needs",
      "statement Extra: autoscaling:SetDesiredCapacity is not something the rollback does",
    ]);
    const narrower = structuredClone(base);
    narrower.Statement.splice(1, 1);
    expect(guardPolicyProblems(narrower)).toEqual(["the rollback also needs elasticloadbalancing:DescribeListeners"]);
    expect(guardLeastPrivilege.name).toBe("guard-least-privilege");
  });

  it("desired capacity belongs to the scripts: the ASGs ignore it", () => {
    for (const asg of shared.ofType("aws:autoscaling/group:Group")) expect(asg.ignoreChanges).toContain("desiredCapacity");
  });

  it("a guard in paired mode too (guardPaired.test.ts checks its VPC, policy and environment)", () => {
    expect(paired.ofType("aws:lambda/function:Function")).toHaveLength(1);
    expect(paired.ofType("aws:cloudwatch/compositeAlarm:CompositeAlarm")).toHaveLength(1);
    expect(paired.outputs).toMatchObject({ guardFunctionName: "bluegreen-prod-guard", guardAlarmName: "bluegreen-prod-green-guard" });
    // The shared stack's function is outside the VPC: it calls only AWS APIs.
    expect(shared.one("aws:lambda/function:Function").inputs.vpcConfig).toBeUndefined();
    expect(shared.one("aws:lambda/function:Function").inputs.environment.variables.NODE_EXTRA_CA_CERTS).toBeUndefined();
  });
});
