// The CrossGuard policy pack (policy/): every rule passes on the stack the program declares
// (shared, paired, green disabled, under Pulumi mocks) and fails on a bad resource written for it.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { beforeAll, describe, expect, it } from "vitest";
import { policies } from "../../policy/policies.js";
import { onlyAlbOpenToInternet } from "../../policy/rules/only-alb-open-to-internet.js";
import { T } from "../../policy/support.js";
import { greenDisabledConfig, pairedConfig, prodConfigMap, runProgram, type ProgramRun, type RecordedResource } from "./infraHarness.js";

const scenarios = { shared: prodConfigMap, paired: pairedConfig, greenDisabled: () => greenDisabledConfig("#!/bin/bash\necho hi\n") } as const;
type Scenario = keyof typeof scenarios;
const stacks = {} as Record<Scenario, PolicyResource[]>;

/**
 * The program's resources as the policy engine sees them: props are the inputs; a property's
 * dependencies are the resources whose id or ARN it carries (what the engine records from the
 * Outputs the program passed).
 */
function policyResources(run: ProgramRun): PolicyResource[] {
  const urnOf = (r: RecordedResource) => `urn:pulumi:test::bluegreen::${r.type}::${r.name}`;
  const byValue = new Map<string, RecordedResource>();
  for (const r of run.resources) {
    byValue.set(r.id, r);
    if (typeof r.state.arn === "string") byValue.set(r.state.arn, r);
  }
  const leaves = (value: unknown, out: string[] = []): string[] => {
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value)) for (const v of value) leaves(v, out);
    else if (value && typeof value === "object") for (const v of Object.values(value)) leaves(v, out);
    return out;
  };
  const resources = new Map<RecordedResource, PolicyResource>();
  for (const r of run.resources) {
    resources.set(r, {
      type: r.type,
      props: r.inputs,
      urn: urnOf(r),
      name: r.name,
      opts: { protect: r.protect, ignoreChanges: r.ignoreChanges } as never,
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    } as unknown as PolicyResource);
  }
  for (const [recorded, resource] of resources) {
    for (const [key, value] of Object.entries(recorded.inputs)) {
      const deps = [
        ...new Set(
          leaves(value)
            .map((leaf) => byValue.get(leaf))
            .filter((d): d is RecordedResource => d !== undefined && d !== recorded),
        ),
      ];
      if (deps.length > 0) resource.propertyDependencies[key] = deps.map((d) => resources.get(d)!);
    }
  }
  return [...resources.values()];
}

function resourceArgs(resource: Pick<PolicyResource, "type" | "props" | "name">): ResourceValidationArgs {
  return {
    type: resource.type,
    props: resource.props,
    name: resource.name,
    urn: `urn:pulumi:test::bluegreen::${resource.type}::${resource.name}`,
    opts: {} as never,
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: () => ({}) as never,
    notApplicable: () => {
      throw new Error("not applicable");
    },
  } as unknown as ResourceValidationArgs;
}

async function violationsOf(policy: ResourceValidationPolicy, resource: Pick<PolicyResource, "type" | "props" | "name">): Promise<string[]> {
  const out: string[] = [];
  const report: ReportViolation = (message) => out.push(message);
  const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
  for (const validate of validations) await validate(resourceArgs(resource), report);
  return out;
}

async function stackViolations(policy: StackValidationPolicy, resources: PolicyResource[]): Promise<string[]> {
  const out: string[] = [];
  await policy.validateStack!({ resources, stackTags: new Map(), getConfig: () => ({}) as never, notApplicable: () => undefined as never }, (message) =>
    out.push(message),
  );
  return out;
}

beforeAll(async () => {
  for (const [name, config] of Object.entries(scenarios)) stacks[name as Scenario] = policyResources(await runProgram(config(), name));
});

const resourcePolicies = policies.filter((p): p is ResourceValidationPolicy => "validateResource" in p);

/** One bad resource per rule: the rule must report it. */
const BAD: Record<string, Pick<PolicyResource, "type" | "props" | "name">> = {
  "ec2-imdsv2-required": { type: T.launchTemplate, name: "lt", props: { metadataOptions: { httpEndpoint: "enabled", httpTokens: "optional" } } },
  "ec2-no-public-ip": { type: T.launchTemplate, name: "lt", props: { networkInterfaces: [{ associatePublicIpAddress: "true" }] } },
  "ec2-subnet-no-auto-public-ip": { type: T.subnet, name: "public", props: { mapPublicIpOnLaunch: true } },
  "ec2-default-security-group-closed": {
    type: T.defaultSecurityGroup,
    name: "default",
    props: { ingress: [{ protocol: "-1", self: true, fromPort: 0, toPort: 0 }], egress: [] },
  },
  "rds-not-publicly-accessible": { type: T.dbInstance, name: "db", props: { publiclyAccessible: true } },
  "rds-storage-encrypted": { type: T.dbInstance, name: "db", props: {} },
  "rds-deletion-protection": { type: T.dbInstance, name: "db", props: { deletionProtection: false } },
  "rds-automatic-backups": { type: T.dbInstance, name: "db", props: { backupRetentionPeriod: 1 } },
  "rds-auto-minor-version-upgrade": { type: T.dbInstance, name: "db", props: { autoMinorVersionUpgrade: false } },
  "elb-drop-invalid-header-fields": { type: T.loadBalancer, name: "alb", props: { loadBalancerType: "application" } },
  "elb-desync-mitigation": { type: T.loadBalancer, name: "alb", props: { desyncMitigationMode: "monitor" } },
  "elb-multi-az": { type: T.loadBalancer, name: "alb", props: { subnets: ["subnet-0aaa1111"] } },
  "elb-access-logs": { type: T.loadBalancer, name: "alb", props: { accessLogs: { enabled: false, bucket: "logs" } } },
  "https-listener-tls13-policy": { type: T.listener, name: "https", props: { protocol: "HTTPS", port: 443, sslPolicy: "ELBSecurityPolicy-2016-08" } },
  "guard-least-privilege": {
    type: "aws:iam/rolePolicy:RolePolicy",
    name: "guard-policy",
    props: { policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["elasticloadbalancing:*", "ssm:*"], Resource: "*" }] }) },
  },
  // The orchestrator's roles exist only with rollout.orchestrator stepfunctions: test/component/orchestrator.test.ts runs the pack on such a stack.
  "orchestrator-least-privilege": {
    type: "aws:iam/rolePolicy:RolePolicy",
    name: "orchestrator-advance-policy",
    props: { policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["states:*"], Resource: "*" }] }) },
  },
};

describe("the policy pack", () => {
  it("lists every rule file once, with unique names; mandatory except access logs (advisory)", () => {
    const files = readdirSync(join(import.meta.dirname, "../../policy/rules")).filter((f) => f.endsWith(".ts"));
    expect(policies).toHaveLength(files.length);
    expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
    for (const policy of policies) expect(policy.enforcementLevel, policy.name).toBe(policy.name === "elb-access-logs" ? "advisory" : "mandatory");
    const index = readFileSync(join(import.meta.dirname, "../../policy/index.ts"), "utf8");
    expect(index).toMatch(/new PolicyPack\("bluegreen", \{ enforcementLevel: "mandatory", policies \}\)/);
    expect(Object.keys(BAD).sort()).toEqual(resourcePolicies.map((p) => p.name).sort());
  });

  describe.each(Object.keys(scenarios) as Scenario[])("on the %s stack", (scenario) => {
    it.each(resourcePolicies.map((p) => [p.name, p] as const))("%s passes (and applies to something there)", async (_name, policy) => {
      const bad = BAD[policy.name]!;
      const applicable = stacks[scenario].filter((r) => r.type === bad.type);
      // An existing VPC (the paired scenario) brings no subnets or default group of the stack's own.
      const networkOnly = bad.type === T.subnet || bad.type === T.defaultSecurityGroup;
      // The guard (a role policy) exists where green does; a green-disabled stack has no role policy at all.
      const guardless = (policy.name === "guard-least-privilege" || policy.name === "orchestrator-least-privilege") && scenario === "greenDisabled";
      if (!(scenario === "paired" && networkOnly) && !guardless) expect(applicable.length, `the stack declares a ${bad.type}`).toBeGreaterThan(0);
      const violations = (await Promise.all(stacks[scenario].map((r) => violationsOf(policy, r)))).flat();
      // The paired scenarios configure no access logs: the advisory rule says so.
      if (policy.name === "elb-access-logs" && scenario !== "shared") expect(violations).toEqual(["web-alb: writes no access logs"]);
      else expect(violations).toEqual([]);
    });

    it("only-alb-open-to-internet passes", async () => {
      expect(await stackViolations(onlyAlbOpenToInternet, stacks[scenario])).toEqual([]);
    });
  });

  it.each(resourcePolicies.map((p) => [p.name, p] as const))("%s fails on its bad resource", async (name, policy) => {
    const violations = await violationsOf(policy, BAD[name]!);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(new RegExp(`^${BAD[name]!.name}: `));
  });

  it("only-alb-open-to-internet fails when the app's group opens to the internet, and names the users of that group", async () => {
    const resources = stacks.shared.map((r) => ({ ...r, propertyDependencies: { ...r.propertyDependencies } }));
    const appGroup = resources.find((r) => r.type === T.securityGroup && r.name === "sg-app")!;
    resources.push({
      type: T.ingressRule,
      name: "sg-app-ssh-from-anywhere",
      urn: "urn:pulumi:test::bluegreen::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::sg-app-ssh-from-anywhere",
      props: { cidrIpv4: "0.0.0.0/0", fromPort: 22, toPort: 22, ipProtocol: "tcp" },
      propertyDependencies: { securityGroupId: [appGroup] },
      dependencies: [appGroup],
    } as unknown as PolicyResource);
    const violations = await stackViolations(onlyAlbOpenToInternet, resources);
    expect(violations.length).toBeGreaterThanOrEqual(2);
    expect(violations.every((v) => v.includes("uses security group sg-app") && v.includes("sg-app-ssh-from-anywhere allows 0.0.0.0/0 on port 22"))).toBe(true);
    expect(violations.some((v) => v.startsWith(`${T.launchTemplate} blue-lt`))).toBe(true);
    // An inline open rule on a database's group is caught too.
    const inline = stacks.paired.map((r) =>
      r.type === T.securityGroup && r.name === "sg-db"
        ? { ...r, props: { ...r.props, ingress: [{ cidrBlocks: ["0.0.0.0/0"], fromPort: 5432, toPort: 5432, protocol: "tcp" }] } }
        : r,
    );
    const dbViolations = await stackViolations(onlyAlbOpenToInternet, inline);
    expect(dbViolations.some((v) => v.startsWith(`${T.dbInstance} db-blue`))).toBe(true);
  });
});
