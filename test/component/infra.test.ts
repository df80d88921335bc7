// The Pulumi program under mocks (no AWS): every resource with its key properties, the security
// properties spelled out, and the stack outputs the scripts rely on. Three scenarios:
//   shared         Pulumi.prod.yaml as committed (new VPC, NAT per AZ, HTTPS, shared database)
//   paired         existing VPC, HTTP only, stickiness, paired databases, traffic on green
//   greenDisabled  paired, green switched off, blue runs its own userData, single NAT, three AZs
import { beforeAll, describe, expect, it } from "vitest";
import { allocateSubnets } from "../../infra/cidr.js";
import { FENCE_BODY, fenceConditions } from "../../infra/fence.js";
import { forwardAction } from "../../infra/weights.js";
import {
  EXISTING_NETWORK as EXISTING,
  greenDisabledConfig,
  pairedConfig,
  prodConfigMap,
  runProgram,
  type ProgramRun,
  type RecordedResource,
} from "./infraHarness.js";

const T = {
  vpc: "aws:ec2/vpc:Vpc",
  subnet: "aws:ec2/subnet:Subnet",
  igw: "aws:ec2/internetGateway:InternetGateway",
  nat: "aws:ec2/natGateway:NatGateway",
  eip: "aws:ec2/eip:Eip",
  routeTable: "aws:ec2/routeTable:RouteTable",
  route: "aws:ec2/route:Route",
  defaultSg: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  alb: "aws:lb/loadBalancer:LoadBalancer",
  listener: "aws:lb/listener:Listener",
  rule: "aws:lb/listenerRule:ListenerRule",
  tg: "aws:lb/targetGroup:TargetGroup",
  lt: "aws:ec2/launchTemplate:LaunchTemplate",
  asg: "aws:autoscaling/group:Group",
  role: "aws:iam/role:Role",
  attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  profile: "aws:iam/instanceProfile:InstanceProfile",
  db: "aws:rds/instance:Instance",
  dbSubnets: "aws:rds/subnetGroup:SubnetGroup",
  dbParams: "aws:rds/parameterGroup:ParameterGroup",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  ssmParameter: "aws:ssm/parameter:Parameter",
  randomId: "random:index/randomId:RandomId",
  randomPassword: "random:index/randomPassword:RandomPassword",
  secret: "aws:secretsmanager/secret:Secret",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
} as const;

const OUTPUT_NAMES = [
  "pulumiProject",
  "pulumiStack",
  "region",
  "databaseMode",
  "albArn",
  "albDnsName",
  "albArnSuffix",
  "listenerArns",
  "testRuleArns",
  "fenceRuleArns",
  "targetGroupArns",
  "targetGroupArnSuffixes",
  "targetGroupNames",
  "asgNames",
  "databaseEndpoints",
  "databaseSecretArns",
  "databaseInstanceIds",
  "databaseName",
  "replicationSecretArns",
  "weightsParameterName",
  "alarmNames",
  "alarmNamesByColor",
  "stickinessSeconds",
  "testHeader",
  "guardFunctionName",
  "guardAlarmName",
  "rolloutStateMachineArn",
  "releaseStateMachineArn",
].sort();

const BLUE_USER_DATA = "#!/bin/bash\necho custom boot script\n";

const scenarios: Record<string, () => Record<string, any>> = {
  shared: prodConfigMap,
  paired: pairedConfig,
  greenDisabled: () => greenDisabledConfig(BLUE_USER_DATA),
};
const runs: Record<string, ProgramRun> = {};

beforeAll(async () => {
  // Sequential: the Pulumi runtime (mocks, config) is process-global.
  for (const [name, config] of Object.entries(scenarios)) runs[name] = await runProgram(config(), name);
});

const byId = (run: ProgramRun, id: string) => run.resources.find((resource) => resource.id === id);
const decode = (base64: string) => Buffer.from(base64, "base64").toString("utf8");
const countsOf = (run: ProgramRun) => Object.fromEntries(Object.entries(T).map(([key, type]) => [key, run.ofType(type).length]));

/** Every security-group rule as "group direction port peer", peers named by group. */
function securityChain(run: ProgramRun): string[] {
  const groupName = (id: string) => byId(run, id)?.name.replace(/^sg-/, "") ?? `?${id}`;
  const line = (rule: RecordedResource, direction: string) => {
    const { inputs } = rule;
    const peer = inputs.cidrIpv4 ?? inputs.cidrIpv6 ?? `sg:${groupName(inputs.referencedSecurityGroupId)}`;
    expect(inputs.ipProtocol).toBe("tcp");
    expect(inputs.fromPort).toBe(inputs.toPort);
    return `${groupName(inputs.securityGroupId)} ${direction} ${inputs.fromPort} ${peer}`;
  };
  return [...run.ofType(T.ingress).map((rule) => line(rule, "in")), ...run.ofType(T.egress).map((rule) => line(rule, "out"))].sort();
}

describe.each(Object.keys(scenarios))("%s", (scenario) => {
  const run = () => runs[scenario]!;

  it("exports exactly the output names the scripts read", () => {
    expect(Object.keys(run().outputs).sort()).toEqual(OUTPUT_NAMES);
  });

  it("parents every resource to a bluegreen component, and every component registers its outputs", () => {
    const components = run().resources.filter((resource) => !resource.custom);
    expect(components.map((component) => component.type).every((type) => type.startsWith("bluegreen:"))).toBe(true);
    for (const resource of run().resources.filter((r) => r.custom)) {
      expect(resource.parent, `${resource.type} ${resource.name}`).toMatch(/::bluegreen:[a-z]+:[A-Za-z]+(\$[^:]+)?::/);
    }
    expect(run().registeredOutputs.size).toBe(components.length);
  });

  it("builds the ALB hardened: invalid headers dropped, desync mitigation, internet-facing on public subnets", () => {
    const alb = run().one(T.alb).inputs;
    expect(alb.loadBalancerType).toBe("application");
    expect(alb.internal).toBe(false);
    expect(alb.dropInvalidHeaderFields).toBe(true);
    expect(["defensive", "strictest"]).toContain(alb.desyncMitigationMode);
    expect(alb.securityGroups).toEqual([run().one(T.sg, "sg-alb").id]);
    expect(alb.subnets).toHaveLength(scenario === "greenDisabled" ? 3 : 2);
  });

  it("forwards production traffic with the weighted action built from config (no weights parameter yet: config seeds it)", () => {
    const { outputs } = run();
    const config = scenarios[scenario]!();
    const stickiness = config["bluegreen:traffic"].stickiness;
    const expected = forwardAction(config["bluegreen:traffic"].weights, outputs.targetGroupArns, stickiness ? stickiness.durationSeconds : null);
    const production = run()
      .ofType(T.listener)
      .filter((listener) => listener.inputs.defaultActions[0].type === "forward");
    expect(production).toHaveLength(1);
    expect(production[0]!.inputs.defaultActions).toEqual([expected]);
    expect(outputs.listenerArns).toEqual([production[0]!.state.arn]);
    expect(outputs.stickinessSeconds).toBe(stickiness ? stickiness.durationSeconds : null);
    // The listener's weights are Pulumi's (from the live weights): no ignoreChanges on anything that carries them.
    for (const resource of [
      ...run().ofType(T.listener),
      ...run()
        .ofType(T.rule)
        .filter((rule) => rule.name.includes("test")),
    ]) {
      expect(resource.ignoreChanges).toEqual([]);
    }
  });

  it("declares the write fence inert at priority 1 on each production listener, conditions owned by the scripts", () => {
    const fences = run()
      .ofType(T.rule)
      .filter((rule) => rule.inputs.priority === 1);
    expect(fences).toHaveLength(run().outputs.listenerArns.length);
    for (const fence of fences) {
      expect(run().outputs.listenerArns).toContain(fence.inputs.listenerArn);
      expect(fence.inputs.conditions).toEqual(fenceConditions("inert"));
      expect(fence.inputs.conditions).toEqual([
        { httpRequestMethod: { values: ["POST", "PUT", "PATCH", "DELETE"] } },
        { httpHeader: { httpHeaderName: "x-bluegreen-fence", values: ["armed"] } },
      ]);
      expect(fence.inputs.actions).toEqual([
        { type: "fixed-response", fixedResponse: { statusCode: "503", contentType: "application/json", messageBody: FENCE_BODY } },
      ]);
      expect(JSON.parse(fence.inputs.actions[0].fixedResponse.messageBody)).toMatchObject({ error: "write_fence" });
      expect(fence.ignoreChanges).toEqual(["conditions"]);
    }
    expect(run().outputs.fenceRuleArns).toEqual(fences.map((fence) => fence.state.arn));
  });

  it("routes the test header straight to each color", () => {
    const { outputs } = run();
    for (const color of ["blue", "green"] as const) {
      const rule = run().one(T.rule, `web-test-${color}`);
      expect(rule.inputs.listenerArn).toBe(outputs.listenerArns[0]);
      expect(rule.inputs.priority).toBeGreaterThan(1);
      expect(rule.inputs.conditions).toEqual([{ httpHeader: { httpHeaderName: outputs.testHeader, values: [color] } }]);
      expect(rule.inputs.actions).toEqual([{ type: "forward", targetGroupArn: outputs.targetGroupArns[color] }]);
      expect(outputs.testRuleArns[color]).toBe(rule.state.arn);
    }
  });

  it("chains the security groups: internet → ALB 80/443 → app port → PostgreSQL 5432, nothing else open", () => {
    const https = scenario === "shared";
    const paired = scenario !== "shared";
    const expected = [
      "alb in 80 0.0.0.0/0",
      "alb in 80 ::/0",
      ...(https ? ["alb in 443 0.0.0.0/0", "alb in 443 ::/0"] : []),
      "alb out 8080 sg:app",
      "app in 8080 sg:alb",
      "app out 5432 sg:db",
      "app out 443 0.0.0.0/0",
      "db in 5432 sg:app",
      ...(paired ? ["db in 5432 sg:db", "db out 5432 sg:db"] : []),
      // The paired guard's Lambda runs in the VPC: out to PostgreSQL and the AWS APIs, admitted by the databases' group.
      ...(scenario === "paired" ? ["guard-sg out 5432 sg:db", "guard-sg out 443 0.0.0.0/0", "db in 5432 sg:guard-sg"] : []),
    ].sort();
    expect(securityChain(run())).toEqual(expected);
    const openIngress = run()
      .ofType(T.ingress)
      .filter((rule) => rule.inputs.cidrIpv4 !== undefined || rule.inputs.cidrIpv6 !== undefined);
    for (const rule of openIngress) {
      expect(rule.inputs.securityGroupId).toBe(run().one(T.sg, "sg-alb").id);
      expect([80, 443]).toContain(rule.inputs.fromPort);
    }
    // The groups themselves carry no inline rules.
    for (const group of run().ofType(T.sg)) {
      expect(group.inputs.ingress ?? []).toEqual([]);
      expect(group.inputs.egress ?? []).toEqual([]);
    }
  });

  it("gives each color a target group with its health check and deregistration delay, green's even when disabled", () => {
    const config = scenarios[scenario]!()["bluegreen:app"];
    for (const color of ["blue", "green"]) {
      const tg = run().one(T.tg, `${color}-tg`).inputs;
      expect(tg).toMatchObject({ port: 8080, protocol: "HTTP", targetType: "instance", deregistrationDelay: 30 });
      expect(tg.healthCheck).toMatchObject({
        enabled: true,
        path: config.healthCheck.path,
        port: "traffic-port",
        interval: config.healthCheck.intervalSeconds,
        timeout: config.healthCheck.timeoutSeconds,
        healthyThreshold: config.healthCheck.healthyThreshold,
        unhealthyThreshold: config.healthCheck.unhealthyThreshold,
        matcher: "200",
      });
    }
  });

  it("launches instances with IMDSv2 only (hop limit 1), an encrypted gp3 root volume and no secret in user data", () => {
    const enabled = scenario === "greenDisabled" ? ["blue"] : ["blue", "green"];
    expect(
      run()
        .ofType(T.lt)
        .map((lt) => lt.name)
        .sort(),
    ).toEqual(enabled.map((color) => `${color}-lt`));
    for (const lt of run().ofType(T.lt)) {
      expect(lt.inputs.metadataOptions).toEqual({
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: "disabled",
      });
      expect(lt.inputs.blockDeviceMappings).toEqual([
        { deviceName: "/dev/xvda", ebs: { volumeType: "gp3", volumeSize: 20, encrypted: "true", deleteOnTermination: "true" } },
      ]);
      expect(lt.inputs.vpcSecurityGroupIds).toEqual([run().one(T.sg, "sg-app").id]);
      expect(lt.inputs.imageId).toBe("ami-0a1b2c3d4e5f67890");
      expect(lt.inputs.iamInstanceProfile.arn).toBe(run().one(T.profile, lt.name.replace("-lt", "-profile")).state.arn);
      const userData = decode(lt.inputs.userData);
      // No secret-looking variable, no credentials in a URL, nothing of the database's secret.
      for (const [, name] of userData.matchAll(/-e '([A-Za-z_][A-Za-z0-9_]*)=/g)) expect(name).not.toMatch(/PASSWORD|PASSWD|SECRET|TOKEN|KEY/i);
      expect(userData).not.toMatch(/:\/\/[^/\s:@]*:[^\s/@]+@/);
      expect(userData).not.toMatch(/secretsmanager|rds!|PGPASSWORD|MasterUserPassword/i);
    }
    if (scenario === "greenDisabled") {
      expect(decode(run().one(T.lt, "blue-lt").inputs.userData)).toBe(BLUE_USER_DATA);
    } else {
      const green = decode(run().one(T.lt, "green-lt").inputs.userData);
      expect(green).toContain("docker run");
      expect(green).toContain("'123456789012.dkr.ecr.eu-west-1.amazonaws.com/booking-app:1.9.0'");
      expect(green).toContain("-e 'ENABLE_FORM_MAPPER_V1=true'");
      expect(green).toContain("-e 'BLUEGREEN_COLOR=green'");
      expect(green).toContain("-p 8080:8080");
    }
  });

  it("runs each enabled color in an Auto Scaling group on private subnets, ELB health checks, attached to its target group", () => {
    const { outputs } = run();
    const privateSubnetIds =
      scenario === "paired"
        ? EXISTING.privateSubnetIds
        : run()
            .ofType(T.subnet)
            .filter((s) => s.name.includes("private"))
            .map((s) => s.id);
    for (const color of ["blue", "green"] as const) {
      const enabled = !(scenario === "greenDisabled" && color === "green");
      const asgs = run()
        .ofType(T.asg)
        .filter((asg) => asg.name === `${color}-asg`);
      expect(asgs).toHaveLength(enabled ? 1 : 0);
      if (!enabled) {
        expect(outputs.asgNames[color]).toBeNull();
        continue;
      }
      const asg = asgs[0]!;
      expect(asg.inputs.vpcZoneIdentifiers).toEqual(privateSubnetIds);
      expect(asg.inputs.healthCheckType).toBe("ELB");
      expect(asg.inputs.targetGroupArns).toEqual([outputs.targetGroupArns[color]]);
      expect(asg.inputs).toMatchObject({ minSize: 2, maxSize: 6, desiredCapacity: 2 });
      expect(asg.inputs.launchTemplate.id).toBe(run().one(T.lt, `${color}-lt`).id);
      expect(outputs.asgNames[color]).toBe(asg.state.name);
    }
  });

  it("gives instances only SSM core (plus read access to their own ECR repository)", () => {
    // The guard's Lambda role and policy are checked in guard.test.ts.
    const ofInstances = (type: string) =>
      run()
        .ofType(type)
        .filter((resource) => !resource.name.startsWith("guard-"));
    const attachments = run().ofType(T.attachment);
    expect(attachments.map((attachment) => attachment.inputs.policyArn)).toEqual(attachments.map(() => "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"));
    expect(attachments).toHaveLength(ofInstances(T.role).length);
    for (const role of ofInstances(T.role)) {
      expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([
        { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
      ]);
      expect(role.inputs.managedPolicyArns).toBeUndefined();
    }
    for (const policy of ofInstances(T.rolePolicy)) {
      const statements = JSON.parse(policy.inputs.policy).Statement;
      expect(statements).toEqual([
        { Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
        {
          Effect: "Allow",
          Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
          Resource: "arn:aws:ecr:eu-west-1:123456789012:repository/booking-app",
        },
      ]);
    }
    // userData instead of an image: no ECR access at all.
    expect(ofInstances(T.rolePolicy)).toHaveLength(scenario === "greenDisabled" ? 0 : 2);
  });

  it("creates private, encrypted PostgreSQL with an RDS-managed password, backups and deletion protection", () => {
    const expectedInstances = { shared: ["db-shared"], paired: ["db-blue", "db-green"], greenDisabled: ["db-blue"] }[scenario]!;
    const instances = run().ofType(T.db);
    expect(instances.map((db) => db.name).sort()).toEqual(expectedInstances);
    const subnetGroup = run().one(T.dbSubnets);
    const parameterGroup = run().one(T.dbParams);
    for (const db of instances) {
      expect(db.inputs).toMatchObject({
        engine: "postgres",
        engineVersion: "16", // a major alone: RDS picks the current minor
        instanceClass: "db.r6g.large",
        storageEncrypted: true,
        publiclyAccessible: false,
        manageMasterUserPassword: true,
        backupRetentionPeriod: 14,
        deletionProtection: true,
        multiAz: true,
        skipFinalSnapshot: false,
        dbName: "booking",
        username: "booking",
        dbSubnetGroupName: subnetGroup.state.name,
        parameterGroupName: parameterGroup.state.name,
        vpcSecurityGroupIds: [run().one(T.sg, "sg-db").id],
      });
      expect(db.inputs.password).toBeUndefined();
    }
    expect(parameterGroup.inputs.family).toBe("postgres16");
    expect(parameterGroup.inputs.parameters).toEqual([
      { name: "rds.logical_replication", value: "1", applyMethod: "pending-reboot" },
      { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
    ]);
    const privateSubnetIds =
      scenario === "paired"
        ? EXISTING.privateSubnetIds
        : run()
            .ofType(T.subnet)
            .filter((s) => s.name.includes("private"))
            .map((s) => s.id);
    expect(subnetGroup.inputs.subnetIds).toEqual(privateSubnetIds);
  });

  it("exports database endpoints, secret ARNs and instance ids per color, without any password", () => {
    const { outputs } = run();
    const instanceOf = (name: string) => run().one(T.db, name).state;
    const expected = {
      shared: { blue: "db-shared", green: "db-shared" },
      paired: { blue: "db-blue", green: "db-green" },
      greenDisabled: { blue: "db-blue", green: null },
    }[scenario]!;
    for (const color of ["blue", "green"] as const) {
      const name = expected[color];
      if (name === null) {
        expect(outputs.databaseEndpoints[color]).toBeNull();
        expect(outputs.databaseSecretArns[color]).toBeNull();
        expect(outputs.databaseInstanceIds[color]).toBeNull();
        continue;
      }
      expect(outputs.databaseEndpoints[color]).toBe(instanceOf(name).endpoint);
      expect(outputs.databaseSecretArns[color]).toBe(instanceOf(name).masterUserSecrets[0].secretArn);
      expect(outputs.databaseInstanceIds[color]).toBe(instanceOf(name).identifier);
    }
    expect(outputs.databaseMode).toBe(scenario === "shared" ? "shared" : "paired");
    expect(JSON.stringify(outputs)).not.toMatch(/password/i);
  });

  it("alarms per enabled color on 5xx count, 5xx rate, p95 latency and unhealthy hosts, by TargetGroup and LoadBalancer", () => {
    const { outputs } = run();
    const colors = scenario === "greenDisabled" ? ["blue"] : ["blue", "green"];
    const alarms = run().ofType(T.alarm);
    expect(alarms).toHaveLength(4 * colors.length);
    expect(outputs.alarmNames.sort()).toEqual(alarms.map((alarm) => alarm.inputs.name).sort());
    for (const color of ["blue", "green"] as const) {
      const names = colors.includes(color)
        ? ["target-5xx-count", "target-5xx-rate", "target-p95-latency", "unhealthy-hosts"].map((suffix) => `bluegreen-${scenario}-${color}-${suffix}`)
        : [];
      expect(outputs.alarmNamesByColor[color]).toEqual(names);
    }
    const dimensionsOf = (color: string) => ({ TargetGroup: outputs.targetGroupArnSuffixes[color], LoadBalancer: outputs.albArnSuffix });
    for (const color of colors) {
      const alarm = (suffix: string) => alarms.find((a) => a.inputs.name === `bluegreen-${scenario}-${color}-${suffix}`)!.inputs;
      expect(alarm("target-5xx-count")).toMatchObject({
        metricName: "HTTPCode_Target_5XX_Count",
        statistic: "Sum",
        period: 60,
        threshold: 10,
        dimensions: dimensionsOf(color),
      });
      expect(alarm("target-p95-latency")).toMatchObject({
        metricName: "TargetResponseTime",
        extendedStatistic: "p95",
        period: 60,
        threshold: 0.8,
        dimensions: dimensionsOf(color),
      });
      expect(alarm("unhealthy-hosts")).toMatchObject({
        metricName: "UnHealthyHostCount",
        statistic: "Maximum",
        period: 60,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        dimensions: dimensionsOf(color),
      });
      const rate = alarm("target-5xx-rate");
      expect(rate.threshold).toBe(0.01);
      expect(rate.metricQueries).toEqual([
        {
          id: "errors",
          returnData: false,
          metric: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_Target_5XX_Count", dimensions: dimensionsOf(color), period: 60, stat: "Sum" },
        },
        {
          id: "requests",
          returnData: false,
          metric: { namespace: "AWS/ApplicationELB", metricName: "RequestCount", dimensions: dimensionsOf(color), period: 60, stat: "Sum" },
        },
        { id: "rate", expression: "IF(requests > 0, errors / requests, 0)", label: `${color} 5xx rate`, returnData: true },
      ]);
      for (const suffix of ["target-5xx-count", "target-5xx-rate", "target-p95-latency", "unhealthy-hosts"]) expect(alarm(suffix).evaluationPeriods).toBe(3);
    }
  });

  it("exports the stack's identity and its database name", () => {
    expect(run().outputs.pulumiProject).toBe("bluegreen");
    expect(run().outputs.pulumiStack).toBe(scenario);
    expect(run().outputs.databaseName).toBe("booking");
  });

  it("names each final snapshot with a RandomId suffix whose keepers are the instance's identity", () => {
    for (const db of run().ofType(T.db)) {
      const slot = db.name.replace(/^db-/, "");
      const suffix = run().one(T.randomId, `${db.name}-final-snapshot`);
      expect(suffix.inputs).toEqual({ byteLength: 4, keepers: { slot, engine: "postgres", dbName: "booking", username: "booking", storageEncrypted: "true" } });
      expect(db.inputs.finalSnapshotIdentifier).toBe(`bluegreen-${scenario.toLowerCase()}-${slot}-final-${suffix.state.hex}`);
      expect(db.inputs.finalSnapshotIdentifier).toMatch(/^[a-z][a-z0-9-]{0,254}$/);
    }
    const identifiers = run()
      .ofType(T.db)
      .map((db) => db.inputs.finalSnapshotIdentifier);
    expect(new Set(identifiers).size).toBe(identifiers.length);
  });

  it("paired: one replication secret per database (RandomPassword; username, host, port, dbname), exported; shared: none", () => {
    const { outputs } = run();
    if (scenario === "shared") {
      expect(outputs.replicationSecretArns).toEqual({ blue: null, green: null });
      expect(run().ofType(T.secret)).toEqual([]);
      return;
    }
    const colors = scenario === "paired" ? (["blue", "green"] as const) : (["blue"] as const);
    for (const color of colors) {
      const secret = run().one(T.secret, `db-${color}-replication`);
      expect(outputs.replicationSecretArns[color]).toBe(secret.state.arn);
      const version = run().one(T.secretVersion, `db-${color}-replication`);
      expect(version.inputs.secretId).toBe(secret.id);
      const password = run().one(T.randomPassword, `db-${color}-replication-password`);
      expect(password.inputs).toMatchObject({ length: 40, special: false });
      // The secret string is a secret Output (the password); under mocks it arrives wrapped.
      const raw = version.inputs.secretString;
      const text = typeof raw === "string" ? raw : raw.value;
      const db = run().one(T.db, `db-${color}`).state;
      expect(JSON.parse(text)).toEqual({
        engine: "postgres",
        username: "bluegreen_replication",
        password: password.state.result,
        host: db.address,
        port: 5432,
        dbname: "booking",
      });
    }
    if (scenario === "greenDisabled") expect(outputs.replicationSecretArns.green).toBeNull();
    expect(outputs.replicationSecretArns.blue).not.toBe(outputs.replicationSecretArns.green);
  });

  it("exports ARN suffixes in the form CloudWatch dimensions use", () => {
    const { outputs } = run();
    expect(outputs.albArnSuffix).toMatch(/^app\/[^/]+\/[^/]+$/);
    expect(outputs.albArn.endsWith(`loadbalancer/${outputs.albArnSuffix}`)).toBe(true);
    expect(outputs.albDnsName).toBe(run().one(T.alb).state.dnsName);
    for (const color of ["blue", "green"]) {
      expect(outputs.targetGroupArnSuffixes[color]).toMatch(/^targetgroup\/[^/]+\/[^/]+$/);
      expect(outputs.targetGroupArns[color].endsWith(outputs.targetGroupArnSuffixes[color])).toBe(true);
      expect(outputs.targetGroupNames[color]).toBe(run().one(T.tg, `${color}-tg`).state.name);
    }
    expect(outputs.region).toBe("eu-west-1");
  });
});

describe("shared (Pulumi.prod.yaml)", () => {
  const run = () => runs.shared!;

  it("declares the expected set of resources", () => {
    expect(countsOf(run())).toEqual({
      vpc: 1,
      subnet: 4,
      igw: 1,
      nat: 2,
      eip: 2,
      routeTable: 3,
      route: 3,
      defaultSg: 1,
      sg: 3,
      ingress: 6,
      egress: 3,
      // role and rolePolicy: the instances' two, and the guard's.
      alb: 1,
      listener: 2,
      rule: 3,
      tg: 2,
      lt: 2,
      asg: 2,
      role: 3,
      attachment: 2,
      rolePolicy: 3,
      profile: 2,
      db: 1,
      dbSubnets: 1,
      dbParams: 1,
      alarm: 8,
      ssmParameter: 1,
      randomId: 1,
      randomPassword: 0,
      secret: 0,
      secretVersion: 0,
    });
  });

  it("terminates TLS with a TLS 1.3 policy and redirects HTTP to HTTPS", () => {
    const https = run().one(T.listener, "web-https").inputs;
    expect(https).toMatchObject({ port: 443, protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" });
    expect(https.certificateArn).toMatch(/^arn:aws:acm:/);
    const http = run().one(T.listener, "web-http-redirect").inputs;
    expect(http).toMatchObject({ port: 80, protocol: "HTTP" });
    expect(http.defaultActions).toEqual([{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }]);
    expect(run().outputs.listenerArns).toEqual([run().one(T.listener, "web-https").state.arn]);
  });

  it("keeps deletion protection and writes access logs as configured", () => {
    const alb = run().one(T.alb).inputs;
    expect(alb.enableDeletionProtection).toBe(true);
    expect(alb.desyncMitigationMode).toBe("defensive");
    expect(alb.accessLogs).toEqual({ enabled: true, bucket: "example-prod-alb-logs", prefix: "bluegreen" });
  });

  it("creates the VPC: subnets from the allocator, public routes via the internet gateway, one NAT per AZ", () => {
    const vpc = run().one(T.vpc);
    expect(vpc.inputs).toMatchObject({ cidrBlock: "10.40.0.0/16", enableDnsHostnames: true, enableDnsSupport: true });
    const plan = allocateSubnets("10.40.0.0/16", ["eu-west-1a", "eu-west-1b"]);
    for (const zone of plan) {
      expect(run().one(T.subnet, `network-public-${zone.availabilityZone}`).inputs).toMatchObject({
        cidrBlock: zone.publicCidr,
        availabilityZone: zone.availabilityZone,
        mapPublicIpOnLaunch: false,
      });
      expect(run().one(T.subnet, `network-private-${zone.availabilityZone}`).inputs).toMatchObject({
        cidrBlock: zone.privateCidr,
        availabilityZone: zone.availabilityZone,
        mapPublicIpOnLaunch: false,
      });
      const nat = run().one(T.nat, `network-nat-${zone.availabilityZone}`);
      expect(nat.inputs.subnetId).toBe(run().one(T.subnet, `network-public-${zone.availabilityZone}`).id);
      expect(run().one(T.route, `network-private-${zone.availabilityZone}-default`).inputs).toMatchObject({
        destinationCidrBlock: "0.0.0.0/0",
        natGatewayId: nat.id,
      });
    }
    expect(run().one(T.route, "network-public-default").inputs).toMatchObject({ destinationCidrBlock: "0.0.0.0/0", gatewayId: run().one(T.igw).id });
    expect(run().one(T.defaultSg).inputs).toMatchObject({ ingress: [], egress: [] });
    expect(run().one(T.alb).inputs.subnets).toEqual(plan.map((zone) => run().one(T.subnet, `network-public-${zone.availabilityZone}`).id));
  });
});

describe("paired", () => {
  const run = () => runs.paired!;

  it("declares the expected set of resources (existing VPC: no network resources)", () => {
    expect(countsOf(run())).toEqual({
      // sg, ingress, egress, role and rolePolicy: the paired guard's too (its group, 5432 in on the databases' group, 5432 and 443 out).
      vpc: 0,
      subnet: 0,
      igw: 0,
      nat: 0,
      eip: 0,
      routeTable: 0,
      route: 0,
      defaultSg: 0,
      sg: 4,
      ingress: 6,
      egress: 6,
      alb: 1,
      listener: 1,
      rule: 3,
      tg: 2,
      lt: 2,
      asg: 2,
      role: 3,
      attachment: 2,
      rolePolicy: 3,
      profile: 2,
      db: 2,
      dbSubnets: 1,
      dbParams: 1,
      alarm: 8,
      ssmParameter: 1,
      randomId: 2,
      randomPassword: 2,
      secret: 2,
      secretVersion: 2,
    });
  });

  it("serves plain HTTP without a certificate, with the configured ALB options and stickiness", () => {
    const listener = run().one(T.listener).inputs;
    expect(listener).toMatchObject({ port: 80, protocol: "HTTP" });
    expect(listener.sslPolicy).toBeUndefined();
    expect(listener.defaultActions[0].forward.stickiness).toEqual({ enabled: true, duration: 300 });
    expect(listener.defaultActions[0].forward.targetGroups.map((group: { weight: number }) => group.weight)).toEqual([0, 100]);
    const alb = run().one(T.alb).inputs;
    expect(alb).toMatchObject({ enableDeletionProtection: false, desyncMitigationMode: "strictest", subnets: EXISTING.publicSubnetIds });
    expect(alb.accessLogs).toBeUndefined();
    expect(run().one(T.sg, "sg-alb").inputs.vpcId).toBe(EXISTING.vpcId);
    expect(run().outputs.testHeader).toBe("x-color");
  });

  it("gives each color its own database", () => {
    const { outputs } = run();
    expect(outputs.databaseEndpoints.blue).not.toBe(outputs.databaseEndpoints.green);
    expect(outputs.databaseSecretArns.blue).not.toBe(outputs.databaseSecretArns.green);
  });
});

describe("green disabled", () => {
  const run = () => runs.greenDisabled!;

  it("declares no compute, database or alarms for green, keeps its target group at weight 0", () => {
    expect(countsOf(run())).toEqual({
      vpc: 1,
      subnet: 6,
      igw: 1,
      nat: 1,
      eip: 1,
      routeTable: 4,
      route: 4,
      defaultSg: 1,
      sg: 3,
      ingress: 5,
      egress: 4,
      alb: 1,
      listener: 1,
      rule: 3,
      tg: 2,
      lt: 1,
      asg: 1,
      role: 1,
      attachment: 1,
      rolePolicy: 0,
      profile: 1,
      db: 1,
      dbSubnets: 1,
      dbParams: 1,
      alarm: 4,
      ssmParameter: 1,
      randomId: 1,
      randomPassword: 1,
      secret: 1,
      secretVersion: 1,
    });
    expect(
      run()
        .resources.filter((resource) => resource.name.startsWith("green") && resource.custom)
        .map((resource) => resource.type),
    ).toEqual([T.tg]);
    const forward = run().one(T.listener).inputs.defaultActions[0].forward;
    expect(forward.targetGroups).toEqual([
      { arn: run().outputs.targetGroupArns.blue, weight: 100 },
      { arn: run().outputs.targetGroupArns.green, weight: 0 },
    ]);
    expect(forward.stickiness).toEqual({ enabled: false, duration: 1 });
  });

  it("routes every private subnet through the single NAT gateway", () => {
    const nat = run().one(T.nat);
    const privateRoutes = run()
      .ofType(T.route)
      .filter((route) => route.name.startsWith("network-private"));
    expect(privateRoutes).toHaveLength(3);
    for (const route of privateRoutes) expect(route.inputs.natGatewayId).toBe(nat.id);
    const cidrs = run()
      .ofType(T.subnet)
      .map((subnet) => subnet.inputs.cidrBlock);
    expect(new Set(cidrs).size).toBe(6);
    for (const cidr of cidrs) expect(cidr).toMatch(/^10\.50\.\d+\.\d+\/23$/);
  });
});

describe("database lifecycle: protect and retainOnDelete", () => {
  const options = async (stack: string, database: Record<string, unknown> = {}) => {
    const config = prodConfigMap();
    Object.assign(config["bluegreen:database"], database);
    const run = await runProgram(config, stack);
    const db = run.one(T.db);
    return { protect: db.protect, retainOnDelete: db.retainOnDelete };
  };

  it("on by default for production-looking stack names, off otherwise", async () => {
    for (const stack of ["prod", "production", "live", "eu-prod", "prod-2", "Live"])
      expect(await options(stack), stack).toEqual({ protect: true, retainOnDelete: true });
    for (const stack of ["dev", "staging", "product", "prodigy", "olive"])
      expect(await options(stack), stack).toEqual({ protect: false, retainOnDelete: false });
  });

  it("config overrides the default either way", async () => {
    expect(await options("prod", { protect: false, retainOnDelete: false })).toEqual({ protect: false, retainOnDelete: false });
    expect(await options("dev", { protect: true })).toEqual({ protect: true, retainOnDelete: false });
  });
});

describe("config errors stop the program before any resource", () => {
  it("reports the path and rule of each issue", async () => {
    const config = prodConfigMap();
    config["bluegreen:traffic"].weights = { blue: 50, green: 40 };
    await expect(runProgram(config, "bad")).rejects.toThrow("invalid stack config (Pulumi.bad.yaml):\n  traffic.weights: blue + green must be 100 (got 90)");
  });

  it("refuses an unknown bluegreen: key (a typo must not fall back to defaults)", async () => {
    await expect(runProgram({ ...prodConfigMap(), "bluegreen:rolout": { bakeSeconds: 60 } }, "typo")).rejects.toThrow("bluegreen:rolout: unknown key");
  });
});
