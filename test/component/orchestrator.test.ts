// rollout.orchestrator stepfunctions on AWS: the resources under Pulumi mocks (present only when
// opted in; the advance Lambda, the rollout machine and the release machine, their roles), the
// policy pack on that stack and its rule both ways, and the bundle the program packages run
// against the local mock AWS endpoint: one advance from a fresh journal to the first wait, then
// the approval's token recorded as a SecureString.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mockEnv, seedFromOutputs, startMockAws, type MockAws } from "../../bench/rollbackStartup.js";
import { parseStackConfig } from "../../infra/config.js";
import { bundleAdvanceHandler } from "../../infra/orchestrator.js";
import {
  advancePolicyDocument,
  releaseMachinePolicyDocument,
  rolloutMachinePolicyDocument,
  STATES_LOG_DELIVERY_ACTIONS,
} from "../../infra/orchestratorPolicies.js";
import { rolloutStateMachine, waveStateMachine } from "../../infra/vocabulary/stateMachines.js";
import { policies } from "../../policy/policies.js";
import { orchestratorLeastPrivilege, orchestratorPolicyProblems } from "../../policy/rules/orchestrator-least-privilege.js";
import { parseOrchestratorConfig } from "../../scripts/app/orchestrator/awsAdvance.js";
import type { handler } from "../../scripts/app/orchestrator/handler.js";
import { decodePendingApproval } from "../../scripts/aws/approvalParameter.js";
import { decodeJournal } from "../../scripts/aws/ssmJournal.js";
import type { Journal } from "../../scripts/core/journal.js";
import { prodConfigMap, runProgram, type ProgramRun } from "./infraHarness.js";

const ROOT = join(import.meta.dirname, "../..");
const PREFIX = "/bluegreen/bluegreen/prod";
const RELEASE_STACKS = [
  { stack: "prod", region: "eu-west-1" },
  { stack: "prod-us", region: "us-east-1" },
];

/** The prod example opted in: no hooks (they live in a checkout), a release over two stacks in two waves. */
function orchestratedConfig(release = true): Record<string, any> {
  const config = prodConfigMap();
  const rollout = config["bluegreen:rollout"];
  delete rollout.hooks;
  rollout.orchestrator = "stepfunctions";
  if (release) rollout.release = { waves: 2, maxConcurrency: 2, bakeSeconds: 1800, stacks: RELEASE_STACKS };
  return config;
}

const policyNamed = (run: ProgramRun, name: string) => JSON.parse(run.ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === name)!.inputs.policy);

describe("the resources (Pulumi mocks)", () => {
  let local: ProgramRun;
  let orchestrated: ProgramRun;
  let withoutRelease: ProgramRun;
  beforeAll(async () => {
    local = await runProgram(prodConfigMap(), "prod");
    orchestrated = await runProgram(orchestratedConfig(), "prod");
    withoutRelease = await runProgram(orchestratedConfig(false), "prod");
  }, 120_000);

  it("nothing of the orchestrator for the local one (the default): both machine outputs null", () => {
    expect(local.ofType("aws:sfn/stateMachine:StateMachine")).toEqual([]);
    expect(local.ofType("aws:lambda/function:Function").map((f) => f.inputs.name)).toEqual(["bluegreen-prod-guard"]);
    expect(local.outputs).toMatchObject({ rolloutStateMachineArn: null, releaseStateMachineArn: null });
    expect(withoutRelease.ofType("aws:sfn/stateMachine:StateMachine").map((m) => m.inputs.name)).toEqual(["bluegreen-prod-rollout"]);
    expect(withoutRelease.outputs.releaseStateMachineArn).toBeNull();
  });

  it("the advance Lambda: the bundled handler, rollout.json beside it, the stack's cutover outputs in its environment", async () => {
    const fn = orchestrated.ofType("aws:lambda/function:Function").find((f) => f.inputs.name === "bluegreen-prod-advance")!;
    expect(fn.inputs).toMatchObject({ runtime: "nodejs24.x", handler: "index.handler", timeout: 900, reservedConcurrentExecutions: 1 });
    expect(fn.inputs.vpcConfig).toBeUndefined();
    const config = parseOrchestratorConfig(fn.inputs.environment.variables.BLUEGREEN_ORCHESTRATOR);
    const out = orchestrated.outputs;
    expect(config).toEqual({
      project: "bluegreen",
      stack: "prod",
      databaseMode: "shared",
      outputs: {
        region: "eu-west-1",
        listenerArns: out.listenerArns,
        targetGroupArns: out.targetGroupArns,
        stickinessSeconds: out.stickinessSeconds,
        albArnSuffix: out.albArnSuffix,
        targetGroupArnSuffixes: out.targetGroupArnSuffixes,
        alarmNames: out.alarmNames,
        databaseInstanceIds: out.databaseInstanceIds,
        fenceRuleArns: [],
        asgNames: out.asgNames,
      },
    });
    const assets = (await fn.inputs.code.assets) as Record<string, { text: Promise<string> | string }>;
    expect(Object.keys(assets).sort()).toEqual(["index.js", "rollout.json"]);
    const configured = parseStackConfig({ ...prodStackConfig(orchestratedConfig()) }).rollout;
    expect(JSON.parse(await assets["rollout.json"]!.text)).toEqual(configured);
    expect(await assets["index.js"]!.text).toContain("parseOrchestratorConfig");
  });

  it("the rollout machine: Standard, the generated loop over that function, logs without execution data (tokens), outputs its ARN", () => {
    const fn = orchestrated.ofType("aws:lambda/function:Function").find((f) => f.inputs.name === "bluegreen-prod-advance")!;
    const machine = orchestrated.ofType("aws:sfn/stateMachine:StateMachine").find((m) => m.inputs.name === "bluegreen-prod-rollout")!;
    expect(machine.inputs.type).toBe("STANDARD");
    expect(JSON.parse(machine.inputs.definition)).toEqual(rolloutStateMachine({ advanceFunctionArn: fn.state.arn }));
    const logs = orchestrated.ofType("aws:cloudwatch/logGroup:LogGroup").find((g) => g.inputs.name === "/aws/vendedlogs/states/bluegreen-prod-rollout")!;
    expect(machine.inputs.loggingConfiguration).toEqual({ logDestination: `${logs.state.arn}:*`, includeExecutionData: false, level: "ALL" });
    expect(orchestrated.outputs.rolloutStateMachineArn).toBe("arn:aws:states:eu-west-1:123456789012:stateMachine:bluegreen-prod-rollout");
    expect(policyNamed(orchestrated, "orchestrator-rollout-policy")).toEqual(rolloutMachinePolicyDocument({ functionArn: fn.state.arn }));
    const role = orchestrated.ofType("aws:iam/role:Role").find((r) => r.name === "orchestrator-rollout-role")!;
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([
      { Effect: "Allow", Principal: { Service: "states.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
  });

  it("the release machine: the wave generator's definition, a role that starts exactly the listed rollout machines", () => {
    const machine = orchestrated.ofType("aws:sfn/stateMachine:StateMachine").find((m) => m.inputs.name === "bluegreen-prod-release")!;
    expect(JSON.parse(machine.inputs.definition)).toEqual(waveStateMachine({ waves: 2, maxConcurrency: 2, bakeSeconds: 1800 }));
    expect(orchestrated.outputs.releaseStateMachineArn).toBe("arn:aws:states:eu-west-1:123456789012:stateMachine:bluegreen-prod-release");
    const document = policyNamed(orchestrated, "orchestrator-release-policy");
    expect(document).toEqual(
      releaseMachinePolicyDocument({ partition: "aws", region: "eu-west-1", account: "123456789012", project: "bluegreen", stacks: RELEASE_STACKS }),
    );
    expect(document.Statement[0].Resource).toEqual([
      "arn:aws:states:eu-west-1:123456789012:stateMachine:bluegreen-prod-rollout",
      "arn:aws:states:us-east-1:123456789012:stateMachine:bluegreen-prod-us-rollout",
    ]);
    expect(document.Statement[2]).toEqual({
      Sid: "SyncEventsRule",
      Effect: "Allow",
      Action: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
      Resource: "arn:aws:events:eu-west-1:123456789012:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule",
    });
  });

  it("the advance role: one cutover step of this stack, nothing more; the policy pack agrees on every role", () => {
    const logs = orchestrated.ofType("aws:cloudwatch/logGroup:LogGroup").find((g) => g.inputs.name === "/aws/lambda/bluegreen-prod-advance")!;
    const out = orchestrated.outputs;
    const document = policyNamed(orchestrated, "orchestrator-advance-policy");
    expect(document).toEqual(
      advancePolicyDocument({
        partition: "aws",
        region: "eu-west-1",
        account: "123456789012",
        project: "bluegreen",
        stack: "prod",
        listenerArns: out.listenerArns,
        alarmNames: out.alarmNames,
        logGroupArn: logs.state.arn,
        snapshotInstanceId: out.databaseInstanceIds.blue,
        asgNames: [out.asgNames.blue, out.asgNames.green],
        scalesGroups: false,
      }),
    );
    const actions = document.Statement.flatMap((s: { Action: string[] }) => s.Action);
    expect(actions).not.toContain("autoscaling:SetDesiredCapacity"); // capacity mode "check" only reads
    expect(actions).toContain("rds:CreateDBSnapshot");
    for (const role of ["advance", "rollout", "release"] as const)
      expect(orchestratorPolicyProblems(role, policyNamed(orchestrated, `orchestrator-${role}-policy`))).toEqual([]);
  });

  it("every rule of the policy pack passes on the orchestrated stack", async () => {
    const resourcePolicies = policies.filter((p): p is ResourceValidationPolicy => "validateResource" in p);
    const violations: string[] = [];
    for (const policy of resourcePolicies)
      for (const resource of orchestrated.resources) {
        const report: ReportViolation = (message) => violations.push(`${policy.name}: ${message}`);
        const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
        for (const validate of validations) await validate(args(resource.type, resource.name, resource.inputs), report);
      }
    expect(violations).toEqual([]);
  });
});

/** The parsed stack config of a Pulumi config map (aws:region, bluegreen:*). */
function prodStackConfig(map: Record<string, any>): Record<string, unknown> {
  const raw: Record<string, unknown> = { region: map["aws:region"] };
  for (const [key, value] of Object.entries(map)) if (key.startsWith("bluegreen:")) raw[key.slice("bluegreen:".length)] = value;
  return raw;
}

function args(type: string, name: string, props: Record<string, unknown>): ResourceValidationArgs {
  return { type, name, props, urn: `urn:pulumi:test::bluegreen::${type}::${name}`, opts: {}, isType: () => false, asType: () => undefined } as never;
}

describe("orchestrator-least-privilege, both ways", () => {
  const scope = { partition: "aws", region: "eu-west-1", account: "123456789012" };
  const advance = advancePolicyDocument({
    ...scope,
    project: "bluegreen",
    stack: "prod",
    listenerArns: ["arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/bg/50dc6c495c0c9188/f2f7dc8efc522ab2"],
    alarmNames: ["bluegreen-prod-green-target-5xx-rate"],
    logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/bluegreen-prod-advance",
    snapshotInstanceId: "bluegreen-prod-db",
    asgNames: ["bluegreen-prod-blue-asg", "bluegreen-prod-green-asg"],
    scalesGroups: true,
  });
  const rollout = rolloutMachinePolicyDocument({ functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:bluegreen-prod-advance" });
  const release = releaseMachinePolicyDocument({ ...scope, project: "bluegreen", stacks: RELEASE_STACKS });
  const run = (name: string, document: unknown) => {
    const out: string[] = [];
    const validate = orchestratorLeastPrivilege.validateResource as (a: ResourceValidationArgs, r: ReportViolation) => void;
    validate(args("aws:iam/rolePolicy:RolePolicy", name, { policy: JSON.stringify(document) }), (message) => out.push(message));
    return out;
  };

  it("passes the documents the program declares", () => {
    expect(run("orchestrator-advance-policy", advance)).toEqual([]);
    expect(run("orchestrator-rollout-policy", rollout)).toEqual([]);
    expect(run("orchestrator-release-policy", release)).toEqual([]);
    // "*" only on the actions AWS documents without a resource ARN.
    const starred = [advance, rollout, release].flatMap((d) => d.Statement.filter((s) => s.Resource === "*").flatMap((s) => s.Action));
    expect(new Set(starred)).toEqual(
      new Set([
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeTargetHealth",
        "cloudwatch:GetMetricData",
        "autoscaling:DescribeAutoScalingGroups",
        ...STATES_LOG_DELIVERY_ACTIONS,
      ]),
    );
  });

  it("fails a wildcard action, a wider resource, an action of another job, a missing permission", () => {
    const wider = structuredClone(advance);
    wider.Statement[0]!.Resource = "arn:aws:ssm:eu-west-1:123456789012:parameter/*";
    wider.Statement.push({ Sid: "Extra", Effect: "Allow", Action: ["states:*", "iam:PassRole"], Resource: "*" });
    expect(orchestratorPolicyProblems("advance", wider)).toEqual([
      "statement LockJournalWeightsApproval: ssm:GetParameter on arn:aws:ssm:eu-west-1:123456789012:parameter/* is wider than a rollout step needs",
      "statement LockJournalWeightsApproval: ssm:PutParameter on arn:aws:ssm:eu-west-1:123456789012:parameter/* is wider than a rollout step needs",
      "statement LockJournalWeightsApproval: ssm:DeleteParameter on arn:aws:ssm:eu-west-1:123456789012:parameter/* is wider than a rollout step needs",
      "statement Extra: states:* is a wildcard action",
      "statement Extra: iam:PassRole is not something a rollout step does",
    ]);
    const starredAlarms = structuredClone(advance);
    starredAlarms.Statement.find((s) => s.Sid === "ReadAlarms")!.Resource = "*";
    expect(orchestratorPolicyProblems("advance", starredAlarms)).toEqual([
      "statement ReadAlarms: cloudwatch:DescribeAlarms on * is wider than a rollout step needs",
    ]);
    const anyMachine = structuredClone(release);
    anyMachine.Statement[0]!.Resource = "*";
    expect(orchestratorPolicyProblems("release", anyMachine)).toEqual([
      "statement StartRollouts: states:StartExecution on * is wider than the release machine needs",
    ]);
    const noEvents = structuredClone(release);
    noEvents.Statement.splice(2, 1);
    expect(orchestratorPolicyProblems("release", noEvents)).toEqual(["the release machine also needs events:PutTargets, events:PutRule, events:DescribeRule"]);
    const anyFunction = structuredClone(rollout);
    anyFunction.Statement[0]!.Resource = "arn:aws:lambda:eu-west-1:123456789012:function:*";
    expect(run("orchestrator-rollout-policy", anyFunction)).toEqual([
      "orchestrator-rollout-policy: statement InvokeAdvance: lambda:InvokeFunction on arn:aws:lambda:eu-west-1:123456789012:function:* is wider than the rollout machine needs",
    ]);
    // Other role policies (the guard's) are not this rule's.
    expect(run("guard-policy", { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["*"], Resource: "*" }] })).toEqual([]);
  });
});

describe("the packaged bundle (esbuild) against the mock AWS endpoint", () => {
  let mock: MockAws;
  let dir: string;
  const savedEnv = { ...process.env };
  beforeAll(async () => {
    mock = await startMockAws();
    dir = await mkdtemp(join(tmpdir(), "bluegreen-advance-"));
  });
  afterAll(async () => {
    await mock.close();
    await rm(dir, { recursive: true, force: true });
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  });

  it("holds a cutover's SDK clients and no database code; one advance from a fresh journal to the first wait, then the approval's token", async () => {
    const code = await bundleAdvanceHandler();
    expect(code).not.toMatch(/createRequire\(/); // every AWS client is inside the bundle
    for (const client of ["SSMClient", "ElasticLoadBalancingV2Client", "CloudWatchClient", "RDSClient", "AutoScalingClient"]) expect(code).toContain(client);
    expect(code).not.toMatch(/node_modules\/pg\/lib/); // node-postgres left out
    expect(code).toContain("is not bundled into the advance Lambda");
    await writeFile(join(dir, "index.js"), code);
    const config = orchestratedConfig(false);
    config["bluegreen:rollout"].strategy = { type: "canary", steps: [5, { percent: 25, pause: "promote" }, 100] };
    await writeFile(join(dir, "rollout.json"), JSON.stringify(parseStackConfig(prodStackConfig(config)).rollout));

    const outputs = JSON.parse(await readFile(join(ROOT, "examples/stack-outputs.prod.json"), "utf8"));
    seedFromOutputs(mock, outputs, { blue: 100, green: 0 });
    mock.state.metrics = { blue: [1200, 1, 0.18, 0.3], green: [60, 0, 0.17, 0.29] };
    for (const name of outputs.alarmNames as string[]) mock.state.alarms.set(name, "OK");
    Object.assign(process.env, mockEnv(mock, {}), {
      LAMBDA_TASK_ROOT: dir,
      BLUEGREEN_ORCHESTRATOR: JSON.stringify({
        project: "bluegreen",
        stack: "prod",
        databaseMode: "shared",
        outputs: Object.fromEntries(
          [
            "region",
            "listenerArns",
            "targetGroupArns",
            "stickinessSeconds",
            "albArnSuffix",
            "targetGroupArnSuffixes",
            "alarmNames",
            "databaseInstanceIds",
            "fenceRuleArns",
            "asgNames",
          ].map((key) => [key, key === "fenceRuleArns" ? [] : outputs[key]]),
        ),
      }),
    });
    const bundled = createRequire(join(dir, "index.js"))(join(dir, "index.js")) as { handler: typeof handler };
    const context = { functionName: "bluegreen-prod-advance", awsRequestId: "req-1", getRemainingTimeInMillis: () => 900_000 };
    const runId = "2026-12-06T11-30-00-000Z-bundle";

    const outcome = await bundled.handler({ runId, stack: "prod" }, context);
    expect(outcome).toMatchObject({ wait: "seconds", runId, phase: "baking", step: 0 });
    expect((outcome as { seconds: number }).seconds).toBeGreaterThanOrEqual(10);
    for (const arn of outputs.listenerArns as string[]) expect(mock.state.listeners.get(arn)!.weights).toEqual({ blue: 95, green: 5 });
    const journal = decodeJournal(mock.state.parameters.get(`${PREFIX}/journal`)!, (name) => mock.state.parameters.get(name)) as Journal;
    expect(journal).toMatchObject({ runId, phase: "baking", step: 0, owner: `stepfunctions:prod/${runId}` });
    expect(mock.state.parameters.has(`${PREFIX}/lock`)).toBe(false); // nothing held between invocations
    expect(JSON.parse(mock.state.parameters.get(`${PREFIX}/weights`)!)).toEqual({ blue: 95, green: 5 });
    const actions = new Set(mock.calls.map((c) => c.action));
    for (const action of ["CreateDBSnapshot", "DescribeDBSnapshots", "DescribeAlarms", "GetMetricData", "DescribeTargetHealth", "ModifyListener"])
      expect(actions, action).toContain(action);

    const recorded = await bundled.handler({ action: "await-approval", taskToken: "AQCEAAAAKgAAAA-token", runId, step: 1 }, context);
    expect(recorded).toEqual({ recorded: true, runId, step: 1 });
    const put = mock.calls.filter((c) => c.action === "PutParameter" && c.params.Name === `${PREFIX}/approval`);
    expect(put).toHaveLength(1);
    expect(put[0]!.params).toMatchObject({ Type: "SecureString", Overwrite: true });
    expect(decodePendingApproval(mock.state.parameters.get(`${PREFIX}/approval`)!)).toMatchObject({ runId, step: 1, taskToken: "AQCEAAAAKgAAAA-token" });
  }, 60_000);
});
