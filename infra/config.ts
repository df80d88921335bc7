// The stack config schema: one file (Pulumi.<stack>.yaml) configures the infrastructure and
// the rollout policy. The Pulumi program and the operator scripts both parse it here, so
// they can never disagree about what a key means. Errors name the path and the rule.
//
// Imports nothing from Pulumi or AWS: the scripts load this module on their start-up path.

import { z } from "zod";
import { int, seconds } from "./configRules.js";
import { findPlaceholders, placeholderHeadline, placeholderIssues } from "./placeholders.js";
import { rollout } from "./rolloutConfig.js";
import { UsageError } from "./vocabulary/errors.js";

export { GATE_DEFAULTS, ROLLOUT_DEFAULTS } from "./vocabulary/rolloutDefaults.js";

/** Pulumi project name; config keys live under this namespace (`bluegreen:traffic`). */
export const PROJECT = "bluegreen";
/** The top-level config keys this project reads, in the order they are documented. */
export const CONFIG_KEYS = ["network", "loadBalancer", "app", "database", "traffic", "rollout"] as const;

// ---------------------------------------------------------------------------------------------
// network

const cidr = z
  .string()
  .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/, "must be an IPv4 CIDR block such as 10.40.0.0/16")
  .refine((value) => {
    const [address, bits] = value.split("/") as [string, string];
    return address.split(".").every((octet) => Number(octet) <= 255) && Number(bits) >= 16 && Number(bits) <= 24;
  }, "must be a valid IPv4 CIDR with a prefix between /16 and /24 (room for four subnets per AZ)");

const createNetwork = z
  .object({
    mode: z.literal("create").describe("create a VPC with public and private subnets and NAT"),
    cidr: cidr.default("10.40.0.0/16").describe("VPC CIDR block, /16 to /24"),
    availabilityZones: z
      .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, "must be an availability zone name such as eu-west-1a"))
      .min(2, "must list at least two availability zones (an ALB needs two)")
      .max(6, "must list at most six availability zones")
      .refine((zones) => new Set(zones).size === zones.length, "must not repeat an availability zone")
      .describe("at least two AZs"),
    natGateways: z.enum(["single", "per-az"]).default("single").describe("one NAT gateway, or one per AZ for zone independence"),
  })
  .strict();

const subnetIds = z
  .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, "must be a subnet id such as subnet-0abc1234"))
  .min(2, "must list at least two subnets in different availability zones");

const existingNetwork = z
  .object({
    mode: z.literal("existing").describe("use a VPC that exists already"),
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, "must be a VPC id such as vpc-0abc1234"),
    publicSubnetIds: subnetIds.describe("subnets for the ALB"),
    privateSubnetIds: subnetIds.describe("subnets for instances and databases"),
  })
  .strict();

const network = z.discriminatedUnion("mode", [createNetwork, existingNetwork], {
  error: () => 'must set mode to "create" (new VPC) or "existing" (vpcId and subnet ids)',
});

// ---------------------------------------------------------------------------------------------
// load balancer

const loadBalancer = z
  .object({
    deletionProtection: z.boolean().default(true).describe("refuse to delete the ALB"),
    desyncMitigationMode: z
      .enum(["defensive", "strictest"], { error: () => 'must be "defensive" or "strictest" ("monitor" lets desync attacks through)' })
      .default("defensive"),
    idleTimeoutSeconds: seconds(1, 4000).default(60),
    accessLogs: z
      .object({
        bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name"),
        prefix: z.string().default("alb"),
      })
      .strict()
      .optional()
      .describe("S3 bucket for ALB access logs; off when absent"),
  })
  .strict()
  .default({ deletionProtection: true, desyncMitigationMode: "defensive", idleTimeoutSeconds: 60 });

// ---------------------------------------------------------------------------------------------
// app

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Environment variables end up in launch-template user data, which anyone with
// ec2:DescribeLaunchTemplateVersions can read. Secrets belong in Secrets Manager.
const SECRET_LOOKING = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|ACCESS_KEY|API_KEY)/i;
/** A URL that carries a password (`scheme://user:password@host`), e.g. a database connection string. */
export const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:[^\s/@]+@/i;

/** The header of the write fence's inert condition (infra/fence.ts); the test header may not reuse it. */
export const RESERVED_HEADERS = ["x-bluegreen-fence"] as const;

const rootVolume = z
  .object({
    deviceName: z
      .string()
      .regex(/^\/dev\/[a-z0-9]+$/, 'must be a device name such as "/dev/xvda"')
      .default("/dev/xvda")
      .describe("the AMI's root device (Amazon Linux: /dev/xvda)"),
    sizeGb: int(8, 16384).default(20),
  })
  .strict();

const colorEnvironment = z
  .object({
    enabled: z.boolean().default(true).describe("green may be off: no compute, no database, weight 0"),
    version: z.string().min(1).max(64).optional().describe("label of the app version this color runs"),
    amiId: z
      .string()
      .regex(/^ami-[0-9a-f]{8,17}$/, "must be an AMI id such as ami-0abc12345def67890")
      .optional(),
    instanceType: z
      .string()
      .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "must be an EC2 instance type such as t3.small")
      .default("t3.small"),
    minSize: int(0, 100).default(2),
    maxSize: int(1, 100).default(4),
    desiredCapacity: int(0, 100).default(2),
    userData: z.string().min(1).optional().describe("a shell script run at boot; or use containerImage"),
    containerImage: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._/:@-]*$/i, "must be a container image reference such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:2.0")
      .optional()
      .describe("an image run with Docker at boot, publishing app.port"),
    environment: z
      .record(z.string().regex(ENV_NAME, "must be a valid environment variable name"), z.string())
      .default({})
      .describe("per-color variables, e.g. feature flags like ENABLE_FORM_MAPPER_V1; never secrets (they end up in user data)"),
    rootVolume: rootVolume.default({ deviceName: "/dev/xvda", sizeGb: 20 }).describe("encrypted gp3 root volume"),
  })
  .strict()
  .superRefine((color, ctx) => {
    if (!color.enabled) return;
    if (color.amiId === undefined) ctx.addIssue({ code: "custom", path: ["amiId"], message: "is required when the color is enabled" });
    if ((color.userData === undefined) === (color.containerImage === undefined)) {
      ctx.addIssue({ code: "custom", path: ["userData"], message: "set exactly one of userData or containerImage" });
    }
    if (color.minSize > color.maxSize) {
      ctx.addIssue({ code: "custom", path: ["minSize"], message: `must not exceed maxSize (${color.minSize} > ${color.maxSize})` });
    }
    if (color.desiredCapacity < color.minSize || color.desiredCapacity > color.maxSize) {
      ctx.addIssue({
        code: "custom",
        path: ["desiredCapacity"],
        message: `must be between minSize and maxSize (${color.minSize}..${color.maxSize}, got ${color.desiredCapacity})`,
      });
    }
    for (const [name, value] of Object.entries(color.environment)) {
      if (SECRET_LOOKING.test(name)) {
        ctx.addIssue({
          code: "custom",
          path: ["environment", name],
          message: "looks like a secret; user data is readable by anyone who can describe the launch template: store it in Secrets Manager and read it at boot",
        });
      } else if (URL_WITH_PASSWORD.test(value)) {
        ctx.addIssue({
          code: "custom",
          path: ["environment", name],
          message: "contains a URL with a password; user data is readable by anyone who can describe the launch template: store it in Secrets Manager",
        });
      }
    }
    if (color.userData !== undefined && URL_WITH_PASSWORD.test(color.userData)) {
      ctx.addIssue({
        code: "custom",
        path: ["userData"],
        message: "contains a URL with a password; user data is readable by anyone who can describe the launch template: store it in Secrets Manager",
      });
    }
  });

const healthCheck = z
  .object({
    path: z
      .string()
      .regex(/^\/[\x21-\x7e]*$/, 'must be an absolute path such as "/health"')
      .default("/health"),
    intervalSeconds: seconds(5, 300).default(10),
    timeoutSeconds: seconds(2, 120).default(5),
    healthyThreshold: int(2, 10).default(3),
    unhealthyThreshold: int(2, 10).default(2),
    matcher: z
      .string()
      .regex(/^\d{3}([-,]\d{3})*$/, 'must be HTTP codes such as "200" or "200-299"')
      .default("200"),
  })
  .strict()
  .refine((check) => check.timeoutSeconds < check.intervalSeconds, {
    path: ["timeoutSeconds"],
    message: "must be less than intervalSeconds",
  });

const HEALTH_CHECK_DEFAULTS = { path: "/health", intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 2, matcher: "200" };

// CloudWatch alarms per color: what the guard acts on while no cutover process is judging. The
// judge compares green with blue; an alarm can only compare a color with fixed limits.
const alarms = z
  .object({
    evaluationPeriods: int(1, 60).default(3).describe("consecutive 1-minute periods in breach before ALARM"),
    errorCountThreshold: int(1, 1_000_000).default(10).describe("target 5xx responses per minute"),
    errorRateThreshold: z
      .number()
      .gt(0, "must be greater than 0")
      .max(1, "must be at most 1 (a fraction, 0.01 = 1%)")
      .default(0.01)
      .describe("target 5xx / requests per minute"),
    p95ThresholdMs: z.number().positive("must be positive").max(600_000, "must be at most 600000").default(1000).describe("p95 TargetResponseTime"),
    actionsTopicArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, "must be an SNS topic ARN")
      .optional()
      .describe("SNS topic notified on ALARM and OK; none when absent"),
  })
  .strict();

const app = z
  .object({
    port: int(1, 65535).default(8080),
    healthCheck: healthCheck.default(HEALTH_CHECK_DEFAULTS),
    deregistrationDelaySeconds: seconds(0, 3600).default(30),
    alarms: alarms.default({ evaluationPeriods: 3, errorCountThreshold: 10, errorRateThreshold: 0.01, p95ThresholdMs: 1000 }),
    blue: colorEnvironment,
    green: colorEnvironment,
  })
  .strict()
  .superRefine((value, ctx) => {
    if (!value.blue.enabled) {
      ctx.addIssue({ code: "custom", path: ["blue", "enabled"], message: "blue must stay enabled: it is where rollback sends traffic" });
    }
  });

// ---------------------------------------------------------------------------------------------
// database

const database = z
  .object({
    mode: z
      .enum(["shared", "paired"], { error: () => 'must be "shared" (one RDS for both colors) or "paired" (one per color)' })
      .describe("shared: canary steps allowed; paired: all-at-once behind a write fence"),
    engineVersion: z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a PostgreSQL major version such as "16", or an exact one such as "16.4"')
      .refine((version) => Number(version.split(".")[0]) >= 14, "must be PostgreSQL 14 or newer (parity hashes rows with hash_record_extended)")
      // A major version alone: RDS creates the instance at that major's current default minor and
      // autoMinorVersionUpgrade keeps it current, with no "downgrade" diff after AWS upgrades it. An
      // exact minor pinned here fails `pulumi up` once RDS has deprecated that minor. The default
      // stays on major 16 (it was "16.4"): a changed default must never ask RDS for a major upgrade
      // of a running database (the provider treats "16" as matching the 16.x it runs).
      .default("16")
      .describe('major version ("16": RDS picks the current minor, upgrades keep it current) or an exact minor'),
    instanceClass: z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS instance class such as db.t4g.medium")
      .default("db.t4g.medium"),
    allocatedStorageGb: int(20, 65536).default(50),
    maxAllocatedStorageGb: int(20, 65536).optional().describe("storage autoscaling ceiling; off when absent"),
    multiAz: z.boolean().default(true),
    backupRetentionDays: int(7, 35).default(7),
    deletionProtection: z.boolean().default(true),
    databaseName: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/, "must be a lower-case identifier")
      .default("app"),
    username: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,15}$/, "must be a lower-case identifier of at most 16 characters")
      .default("app"),
    protect: z
      .boolean()
      .optional()
      .describe("Pulumi `protect` on the instances: destroy and replacement refuse; default true for stacks named prod/production/live"),
    retainOnDelete: z
      .boolean()
      .optional()
      .describe("Pulumi `retainOnDelete`: a deletion leaves the instance in AWS; default true for stacks named prod/production/live"),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.maxAllocatedStorageGb !== undefined && value.maxAllocatedStorageGb <= value.allocatedStorageGb) {
      ctx.addIssue({
        code: "custom",
        path: ["maxAllocatedStorageGb"],
        message: `must be greater than allocatedStorageGb (${value.allocatedStorageGb})`,
      });
    }
  });

// ---------------------------------------------------------------------------------------------
// traffic

const weight = int(0, 100);

const weights = z
  .object({ blue: weight, green: weight })
  .strict()
  .superRefine((value, ctx) => {
    if (value.blue + value.green !== 100) {
      ctx.addIssue({ code: "custom", message: `blue + green must be 100 (got ${value.blue + value.green})` });
    }
  });

/**
 * TLS 1.3 policies of ELBv2 whose minimum is TLS 1.2 (`ELBSecurityPolicy-TLS13-1-2-*`, `-1-3-*`, FIPS and PQ
 * variants included). Pre-1.3 policies are refused, and so are `TLS13-1-0`/`TLS13-1-1`, which add TLS 1.3 but
 * still accept TLS 1.0/1.1 handshakes.
 */
export const TLS13_POLICY = /^ELBSecurityPolicy-TLS13-1-[23]-/;

const traffic = z
  .object({
    weights: weights.describe(
      "seeds the stack's SSM weights parameter on the first `pulumi up`; after that the parameter (written by the scripts) owns the live weights",
    ),
    stickiness: z
      .union([z.literal(false), z.object({ durationSeconds: seconds(1, 604800) }).strict()], {
        error: () => "must be false or { durationSeconds: 1..604800 }",
      })
      .default(false),
    https: z
      .object({
        certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, "must be an ACM certificate ARN"),
        sslPolicy: z
          .string()
          .regex(TLS13_POLICY, "must be a TLS 1.3 policy with TLS 1.2 as minimum, such as ELBSecurityPolicy-TLS13-1-2-2021-06")
          .default("ELBSecurityPolicy-TLS13-1-2-2021-06"),
      })
      .strict()
      .optional()
      .describe("HTTPS listener with an HTTP → HTTPS redirect; HTTP only when absent"),
    testHeader: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "must be a lower-case HTTP header name")
      .refine((name) => !(RESERVED_HEADERS as readonly string[]).includes(name), "is reserved for the write fence")
      .default("x-bluegreen-color")
      .describe("requests carrying `<header>: green` (or blue) go straight to that color"),
  })
  .strict();

// ---------------------------------------------------------------------------------------------
// the whole stack

export const stackConfigSchema = z
  .object({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as eu-west-1"),
    network,
    loadBalancer,
    app,
    database,
    traffic,
    rollout: rollout.default(() => rollout.parse({})),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (!config.app.green.enabled && config.traffic.weights.green !== 0) {
      ctx.addIssue({
        code: "custom",
        path: ["traffic", "weights", "green"],
        message: `must be 0 while app.green.enabled is false (got ${config.traffic.weights.green})`,
      });
    }
    if (config.database.mode === "paired" && config.rollout.strategy.type !== "all-at-once") {
      ctx.addIssue({
        code: "custom",
        path: ["rollout", "strategy", "type"],
        message:
          `"${config.rollout.strategy.type}" is refused with database.mode "paired": a weighted split would send users' writes to two ` +
          `different databases (split brain). Use "all-at-once" (the fenced paired switch) or database.mode "shared"`,
      });
    }
    if (config.network.mode === "create" && config.network.availabilityZones.some((zone) => !zone.startsWith(config.region))) {
      ctx.addIssue({ code: "custom", path: ["network", "availabilityZones"], message: `must all be in region ${config.region}` });
    }
  });

export type StackConfig = z.output<typeof stackConfigSchema>;
export type RolloutConfig = StackConfig["rollout"];
export type GateConfig = RolloutConfig["gates"];
export type HookConfig = RolloutConfig["hooks"][number];
export type ColorConfig = StackConfig["app"]["blue"];
export type DatabaseMode = StackConfig["database"]["mode"];

export interface ConfigIssue {
  /** Dotted path inside the stack config, e.g. "traffic.weights". */
  path: string;
  message: string;
}

/** The stack config breaks a rule: bad input, exit 2. */
export class ConfigError extends UsageError {
  override name = "ConfigError";
  constructor(
    readonly issues: ConfigIssue[],
    source = "stack config",
    headline = `invalid ${source}`,
  ) {
    super(`${headline}:\n${issues.map((issue) => `  ${issue.path || "(root)"}: ${issue.message}`).join("\n")}`);
  }
}

function typeOfInput(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "array";
  return typeof input;
}

function describeIssue(issue: z.core.$ZodIssue): ConfigIssue {
  const path = issue.path.map(String).join(".");
  let message = issue.message;
  if (issue.code === "invalid_type") {
    // Inputs are only reported because parseStackConfig asks for them (reportInput); they are
    // used for their type here and never copied into a message (they may be secrets).
    if (issue.input === undefined) message = "is required";
    // YAML reads 1e309 (and .inf) as Infinity, which zod rejects as "not a number": say what it is.
    else if (typeof issue.input === "number" && !Number.isFinite(issue.input))
      message = `must be a finite number (got ${String(issue.input)}: too large, or not a number)`;
    else if (message.startsWith("Invalid input")) message = `must be ${issue.expected} (got ${typeOfInput(issue.input)})`;
  } else if (issue.code === "unrecognized_keys") {
    message = `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((key) => `"${key}"`).join(", ")}`;
  } else if (issue.code === "invalid_key" && issue.issues[0]) {
    // A record key that fails its schema: report the key schema's own message.
    message = issue.issues[0].message;
  }
  return { path, message };
}

/** Validate a plain config object ({ region, network, app, ... }). Throws ConfigError; first of all for placeholders left in it. */
export function parseStackConfig(raw: unknown, source?: string): StackConfig {
  const placeholders = findPlaceholders(raw);
  if (placeholders.length > 0) throw new ConfigError(placeholderIssues(placeholders), source, placeholderHeadline(source ?? "stack config", placeholders));
  const result = stackConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(result.error.issues.map(describeIssue), source);
  return result.data;
}

/**
 * Validate the `config:` map of a Pulumi.<stack>.yaml file, whose keys are namespaced
 * (`aws:region`, `bluegreen:traffic`). Unknown `bluegreen:` keys are errors (typos must not
 * silently fall back to defaults); other namespaces are ignored.
 */
export function parsePulumiConfigMap(configMap: Record<string, unknown>, source?: string): StackConfig {
  const raw: Record<string, unknown> = {};
  const unknown: ConfigIssue[] = [];
  for (const [key, value] of Object.entries(configMap)) {
    if (key === "aws:region") raw.region = value;
    else if (key.startsWith(`${PROJECT}:`)) {
      const name = key.slice(PROJECT.length + 1);
      if ((CONFIG_KEYS as readonly string[]).includes(name)) raw[name] = value;
      else unknown.push({ path: key, message: `unknown key; expected one of ${CONFIG_KEYS.map((k) => `${PROJECT}:${k}`).join(", ")}` });
    }
  }
  if (unknown.length > 0) throw new ConfigError(unknown, source);
  return parseStackConfig(raw, source);
}

/**
 * Rules that involve more than one key (the superRefine checks above), for the generated config
 * reference (infra/configReference.ts). Keep in step with the checks; test/unit/config.test.ts
 * triggers each of them.
 */
export const CROSS_FIELD_RULES: readonly { path: string; rule: string }[] = [
  { path: "network.availabilityZones", rule: "mode create: every zone must be in `aws:region`" },
  { path: "app.blue.enabled", rule: "must be true: blue is where rollback sends traffic" },
  { path: "app.<color>.amiId", rule: "required when the color is enabled" },
  { path: "app.<color>.userData", rule: "an enabled color sets exactly one of userData or containerImage; neither may contain a URL with a password" },
  { path: "app.<color>.minSize", rule: "at most maxSize; desiredCapacity between minSize and maxSize" },
  {
    path: "app.<color>.environment",
    rule: "names that look like secrets (PASSWORD, SECRET, TOKEN, API_KEY, ...) and values with a password in a URL are refused: user data is readable",
  },
  { path: "app.healthCheck.timeoutSeconds", rule: "less than intervalSeconds" },
  { path: "database.maxAllocatedStorageGb", rule: "greater than allocatedStorageGb" },
  { path: "traffic.weights", rule: "blue + green must be 100" },
  { path: "traffic.weights.green", rule: "must be 0 while app.green.enabled is false" },
  { path: "rollout.strategy.type", rule: 'database.mode "paired" requires "all-at-once" (a weighted split would write to two databases)' },
  { path: "rollout.strategy.steps", rule: "strictly increasing, the last one 100" },
  { path: "rollout.bakeSeconds", rule: "0, or at least pollIntervalSeconds" },
  { path: "rollout.strategy.steps[].pause", rule: "not on the last (100%) step: nothing is left to promote" },
  { path: "rollout.hooks[].name", rule: "unique" },
  { path: "rollout.gates.largestRegression", rule: "at least minErrorRatio and minSlowRatio" },
  { path: "rollout.orchestrator", rule: '"stepfunctions" requires no rollout.hooks (the advance Lambda has no checkout)' },
  { path: "rollout.release", rule: 'only with orchestrator "stepfunctions"' },
];
