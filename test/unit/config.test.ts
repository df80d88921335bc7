// The stack config schema (infra/config.ts): the committed example parses, defaults are filled
// in, and a table of bad configs each fails with the exact path and message an operator sees.
import { describe, expect, it } from "vitest";
import { ConfigError, parsePulumiConfigMap, parseStackConfig, TLS13_POLICY, type ConfigIssue } from "../../infra/config.js";
import { prodConfigMap } from "../support/stackConfigs.js";

type ConfigMap = Record<string, any>;

function issuesOf(configMap: ConfigMap): ConfigIssue[] {
  try {
    parsePulumiConfigMap(configMap);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected the config to be refused");
}

describe("Pulumi.prod.yaml", () => {
  it("parses with parsePulumiConfigMap", () => {
    const config = parsePulumiConfigMap(prodConfigMap());
    expect(config.region).toBe("eu-west-1");
    expect(config.database.mode).toBe("shared");
    expect(config.traffic.weights).toEqual({ blue: 100, green: 0 });
    expect(config.rollout.strategy).toEqual({ type: "canary", steps: [5, 25, 100] });
    expect(config.traffic.https?.sslPolicy).toMatch(TLS13_POLICY);
  });

  it("fills in defaults for a minimal config", () => {
    const config = parseStackConfig({
      region: "eu-west-1",
      network: { mode: "create", availabilityZones: ["eu-west-1a", "eu-west-1b"] },
      app: { blue: { amiId: "ami-0a1b2c3d4e5f67890", containerImage: "nginx:1.27" }, green: { enabled: false } },
      database: { mode: "shared" },
      traffic: { weights: { blue: 100, green: 0 } },
    });
    expect(config.network).toEqual({ mode: "create", cidr: "10.40.0.0/16", availabilityZones: ["eu-west-1a", "eu-west-1b"], natGateways: "single" });
    expect(config.loadBalancer).toEqual({ deletionProtection: true, desyncMitigationMode: "defensive", idleTimeoutSeconds: 60 });
    expect(config.app.deregistrationDelaySeconds).toBe(30);
    expect(config.app.alarms).toEqual({ evaluationPeriods: 3, errorCountThreshold: 10, errorRateThreshold: 0.01, p95ThresholdMs: 1000 });
    expect(config.app.blue.rootVolume).toEqual({ deviceName: "/dev/xvda", sizeGb: 20 });
    expect(config.database).toMatchObject({ engineVersion: "16", backupRetentionDays: 7, deletionProtection: true, multiAz: true });
    expect(config.traffic).toEqual({ weights: { blue: 100, green: 0 }, stickiness: false, testHeader: "x-bluegreen-color" });
    expect(config.rollout.strategy).toEqual({ type: "canary", steps: [5, 25, 100] });
    expect(config.rollout.monitorSeconds).toBe(300);
  });

  it("accepts the existing-VPC form, paired databases with all-at-once, and stickiness", () => {
    const map = prodConfigMap();
    map["bluegreen:network"] = {
      mode: "existing",
      vpcId: "vpc-0abc12345",
      publicSubnetIds: ["subnet-0aaa1111", "subnet-0bbb2222"],
      privateSubnetIds: ["subnet-0ccc3333", "subnet-0ddd4444"],
    };
    map["bluegreen:database"].mode = "paired";
    map["bluegreen:rollout"].strategy = { type: "all-at-once" };
    map["bluegreen:traffic"].stickiness = { durationSeconds: 600 };
    const config = parsePulumiConfigMap(map);
    expect(config.network.mode).toBe("existing");
    expect(config.traffic.stickiness).toEqual({ durationSeconds: 600 });
  });

  it("ignores other namespaces but refuses unknown bluegreen keys", () => {
    expect(() => parsePulumiConfigMap({ ...prodConfigMap(), "aws:profile": "prod", "other:key": 1 })).not.toThrow();
    expect(issuesOf({ ...prodConfigMap(), "bluegreen:trafic": {} })).toEqual([
      {
        path: "bluegreen:trafic",
        message:
          "unknown key; expected one of bluegreen:network, bluegreen:loadBalancer, bluegreen:app, bluegreen:database, bluegreen:traffic, bluegreen:rollout",
      },
    ]);
  });

  it("prints every issue with its path in the error message", () => {
    const map = prodConfigMap();
    map["bluegreen:traffic"].weights = { blue: 50, green: 40 };
    expect(() => parsePulumiConfigMap(map, "Pulumi.prod.yaml")).toThrow("invalid Pulumi.prod.yaml:\n  traffic.weights: blue + green must be 100 (got 90)");
  });
});

const SHARED_ALL_AT_ONCE = "all-at-once";

/** [name, mutation of a valid Pulumi config map, expected issues (exact)] */
const BAD_CONFIGS: [string, (map: ConfigMap) => void, ConfigIssue[]][] = [
  [
    "weights not summing to 100",
    (m) => (m["bluegreen:traffic"].weights = { blue: 50, green: 40 }),
    [{ path: "traffic.weights", message: "blue + green must be 100 (got 90)" }],
  ],
  [
    "a weight above 100",
    (m) => (m["bluegreen:traffic"].weights = { blue: 120, green: -20 }),
    [
      { path: "traffic.weights.blue", message: "must be at most 100" },
      { path: "traffic.weights.green", message: "must be at least 0" },
    ],
  ],
  [
    "a fractional weight",
    (m) => (m["bluegreen:traffic"].weights = { blue: 99.5, green: 0.5 }),
    [
      { path: "traffic.weights.blue", message: "must be an integer" },
      { path: "traffic.weights.green", message: "must be an integer" },
    ],
  ],
  [
    "a weight given as a string",
    (m) => (m["bluegreen:traffic"].weights = { blue: "100", green: 0 }),
    [{ path: "traffic.weights.blue", message: "must be number (got string)" }],
  ],
  [
    "canary with paired databases",
    (m) => (m["bluegreen:database"].mode = "paired"),
    [
      {
        path: "rollout.strategy.type",
        message:
          '"canary" is refused with database.mode "paired": a weighted split would send users\' writes to two different databases (split brain). Use "all-at-once" (the fenced paired switch) or database.mode "shared"',
      },
    ],
  ],
  [
    "linear with paired databases",
    (m) => {
      m["bluegreen:database"].mode = "paired";
      m["bluegreen:rollout"].strategy = { type: "linear", stepPercent: 10, intervalSeconds: 300 };
    },
    [
      {
        path: "rollout.strategy.type",
        message:
          '"linear" is refused with database.mode "paired": a weighted split would send users\' writes to two different databases (split brain). Use "all-at-once" (the fenced paired switch) or database.mode "shared"',
      },
    ],
  ],
  [
    "green disabled but given traffic",
    (m) => {
      m["bluegreen:app"].green = { enabled: false };
      m["bluegreen:traffic"].weights = { blue: 90, green: 10 };
    },
    [{ path: "traffic.weights.green", message: "must be 0 while app.green.enabled is false (got 10)" }],
  ],
  [
    "blue disabled",
    (m) => (m["bluegreen:app"].blue.enabled = false),
    [{ path: "app.blue.enabled", message: "blue must stay enabled: it is where rollback sends traffic" }],
  ],
  [
    "a bad AMI id",
    (m) => (m["bluegreen:app"].blue.amiId = "ami-XYZ"),
    [{ path: "app.blue.amiId", message: "must be an AMI id such as ami-0abc12345def67890" }],
  ],
  [
    "an enabled color without an AMI",
    (m) => delete m["bluegreen:app"].green.amiId,
    [{ path: "app.green.amiId", message: "is required when the color is enabled" }],
  ],
  [
    "both userData and containerImage",
    (m) => (m["bluegreen:app"].blue.userData = "#!/bin/bash\necho hi"),
    [{ path: "app.blue.userData", message: "set exactly one of userData or containerImage" }],
  ],
  [
    "minSize above maxSize",
    (m) => Object.assign(m["bluegreen:app"].green, { minSize: 5, maxSize: 3, desiredCapacity: 3 }),
    [
      { path: "app.green.minSize", message: "must not exceed maxSize (5 > 3)" },
      { path: "app.green.desiredCapacity", message: "must be between minSize and maxSize (5..3, got 3)" },
    ],
  ],
  [
    "one availability zone",
    (m) => (m["bluegreen:network"].availabilityZones = ["eu-west-1a"]),
    [{ path: "network.availabilityZones", message: "must list at least two availability zones (an ALB needs two)" }],
  ],
  [
    "a repeated availability zone",
    (m) => (m["bluegreen:network"].availabilityZones = ["eu-west-1a", "eu-west-1a"]),
    [{ path: "network.availabilityZones", message: "must not repeat an availability zone" }],
  ],
  [
    "availability zones outside the region",
    (m) => (m["bluegreen:network"].availabilityZones = ["us-east-1a", "us-east-1b"]),
    [{ path: "network.availabilityZones", message: "must all be in region eu-west-1" }],
  ],
  [
    "a network without mode",
    (m) => (m["bluegreen:network"] = { cidr: "10.0.0.0/16" }),
    [{ path: "network.mode", message: 'must set mode to "create" (new VPC) or "existing" (vpcId and subnet ids)' }],
  ],
  [
    "a VPC CIDR too large",
    (m) => (m["bluegreen:network"].cidr = "10.0.0.0/8"),
    [{ path: "network.cidr", message: "must be a valid IPv4 CIDR with a prefix between /16 and /24 (room for four subnets per AZ)" }],
  ],
  [
    "a pre-TLS 1.3 policy",
    (m) => (m["bluegreen:traffic"].https.sslPolicy = "ELBSecurityPolicy-2016-08"),
    [{ path: "traffic.https.sslPolicy", message: "must be a TLS 1.3 policy with TLS 1.2 as minimum, such as ELBSecurityPolicy-TLS13-1-2-2021-06" }],
  ],
  [
    "a TLS 1.3 policy that still accepts TLS 1.0",
    (m) => (m["bluegreen:traffic"].https.sslPolicy = "ELBSecurityPolicy-TLS13-1-0-2021-06"),
    [{ path: "traffic.https.sslPolicy", message: "must be a TLS 1.3 policy with TLS 1.2 as minimum, such as ELBSecurityPolicy-TLS13-1-2-2021-06" }],
  ],
  [
    "a certificate that is not an ACM ARN",
    (m) => (m["bluegreen:traffic"].https.certificateArn = "arn:aws:iam::123456789012:server-certificate/x"),
    [{ path: "traffic.https.certificateArn", message: "must be an ACM certificate ARN" }],
  ],
  [
    "a secret-looking environment variable",
    (m) => (m["bluegreen:app"].green.environment.DB_PASSWORD = "hunter2"),
    [
      {
        path: "app.green.environment.DB_PASSWORD",
        message: "looks like a secret; user data is readable by anyone who can describe the launch template: store it in Secrets Manager and read it at boot",
      },
    ],
  ],
  [
    "a connection string with a password",
    (m) => (m["bluegreen:app"].blue.environment.DATABASE_URL = "postgres://booking:hunter2@db.internal:5432/booking"),
    [
      {
        path: "app.blue.environment.DATABASE_URL",
        message: "contains a URL with a password; user data is readable by anyone who can describe the launch template: store it in Secrets Manager",
      },
    ],
  ],
  [
    "user data with a password in a URL",
    (m) => {
      delete m["bluegreen:app"].blue.containerImage;
      m["bluegreen:app"].blue.userData = "#!/bin/bash\nexport DATABASE_URL=postgres://app:s3cret@db:5432/app\n";
    },
    [
      {
        path: "app.blue.userData",
        message: "contains a URL with a password; user data is readable by anyone who can describe the launch template: store it in Secrets Manager",
      },
    ],
  ],
  [
    "an invalid environment variable name",
    (m) => (m["bluegreen:app"].blue.environment["FEATURE-FLAG"] = "on"),
    [{ path: "app.blue.environment.FEATURE-FLAG", message: "must be a valid environment variable name" }],
  ],
  [
    "backup retention under 7 days",
    (m) => (m["bluegreen:database"].backupRetentionDays = 3),
    [{ path: "database.backupRetentionDays", message: "must be at least 7" }],
  ],
  [
    "PostgreSQL older than 14",
    (m) => (m["bluegreen:database"].engineVersion = "13.12"),
    [{ path: "database.engineVersion", message: "must be PostgreSQL 14 or newer (parity hashes rows with hash_record_extended)" }],
  ],
  [
    "an unknown database mode",
    (m) => (m["bluegreen:database"].mode = "replicated"),
    [{ path: "database.mode", message: 'must be "shared" (one RDS for both colors) or "paired" (one per color)' }],
  ],
  [
    "storage autoscaling below allocated storage",
    (m) => (m["bluegreen:database"].maxAllocatedStorageGb = 100),
    [{ path: "database.maxAllocatedStorageGb", message: "must be greater than allocatedStorageGb (100)" }],
  ],
  [
    "desync mitigation monitor",
    (m) => (m["bluegreen:loadBalancer"].desyncMitigationMode = "monitor"),
    [{ path: "loadBalancer.desyncMitigationMode", message: 'must be "defensive" or "strictest" ("monitor" lets desync attacks through)' }],
  ],
  ["an unknown key", (m) => (m["bluegreen:traffic"].weight = { blue: 100, green: 0 }), [{ path: "traffic", message: 'unknown key "weight"' }]],
  [
    "a test header reserved for the fence",
    (m) => (m["bluegreen:traffic"].testHeader = "x-bluegreen-fence"),
    [{ path: "traffic.testHeader", message: "is reserved for the write fence" }],
  ],
  [
    "stickiness of zero seconds",
    (m) => (m["bluegreen:traffic"].stickiness = { durationSeconds: 0 }),
    [{ path: "traffic.stickiness.durationSeconds", message: "must be at least 1" }],
  ],
  [
    "stickiness switched on without a duration",
    (m) => (m["bluegreen:traffic"].stickiness = true),
    [{ path: "traffic.stickiness", message: "must be false or { durationSeconds: 1..604800 }" }],
  ],
  ["a section that is not an object", (m) => (m["bluegreen:database"] = "shared"), [{ path: "database", message: "must be object (got string)" }]],
  [
    "canary steps not increasing",
    (m) => (m["bluegreen:rollout"].strategy.steps = [5, 5, 100]),
    [{ path: "rollout.strategy.steps.1", message: "must be greater than the step before (5)" }],
  ],
  [
    "a canary that never reaches 100",
    (m) => (m["bluegreen:rollout"].strategy.steps = [5, 25, 50]),
    [{ path: "rollout.strategy.steps", message: "the last step must be 100 (got 50)" }],
  ],
  [
    "a bake shorter than the poll interval",
    (m) => (m["bluegreen:rollout"].bakeSeconds = 30),
    [{ path: "rollout.bakeSeconds", message: "must be at least pollIntervalSeconds (60) so every step is checked at least once" }],
  ],
  [
    "two hooks with one name",
    (m) => m["bluegreen:rollout"].hooks.push({ name: "smoke-booking", command: "true" }),
    [{ path: "rollout.hooks.1.name", message: 'repeats hook name "smoke-booking"' }],
  ],
  [
    "a health-check timeout not below the interval",
    (m) => (m["bluegreen:app"].healthCheck.timeoutSeconds = 10),
    [{ path: "app.healthCheck.timeoutSeconds", message: "must be less than intervalSeconds" }],
  ],
  ["no region", (m) => delete m["aws:region"], [{ path: "region", message: "is required" }]],
  ["no traffic section", (m) => delete m["bluegreen:traffic"], [{ path: "traffic", message: "is required" }]],
];

describe("bad configs", () => {
  it("has a table of at least 15 cases", () => expect(BAD_CONFIGS.length).toBeGreaterThanOrEqual(15));

  it.each(BAD_CONFIGS)("refuses %s", (_name, mutate, expected) => {
    const map = prodConfigMap();
    mutate(map);
    expect(issuesOf(map)).toEqual(expected);
  });

  it(`accepts paired databases with ${SHARED_ALL_AT_ONCE}`, () => {
    const map = prodConfigMap();
    map["bluegreen:database"].mode = "paired";
    map["bluegreen:rollout"].strategy = { type: SHARED_ALL_AT_ONCE };
    expect(parsePulumiConfigMap(map).database.mode).toBe("paired");
  });
});
