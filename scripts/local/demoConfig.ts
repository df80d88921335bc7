// The demo's stack config: a sandbox `Pulumi.demo.yaml` with the sections the sandbox uses
// (database, traffic, rollout), validated by the same zod schema as production
// (infra/config.ts), with sandbox-sized timings: seconds instead of minutes.
//
// The sandbox has no VPC, ALB or instances, so the network/app sections are left out; the
// sections it does use are parsed by exactly the production rules.

import { writeFile } from "node:fs/promises";
import { stringify } from "yaml";
import { stackConfigSchema, ConfigError, type DatabaseMode, type RolloutConfig, type StackConfig } from "../../infra/config.js";

export type DemoTimings = "demo" | "ci";

export interface DemoPolicy {
  database: StackConfig["database"];
  traffic: StackConfig["traffic"];
  rollout: RolloutConfig;
  /** The raw `config:` map written to Pulumi.demo.yaml. */
  configMap: Record<string, unknown>;
}

/**
 * Gates for a loopback sandbox. Latencies here are single-digit milliseconds, where a ratio
 * between colors is noise (6 ms vs 11 ms is not a regression), so the relative p95 check is
 * loosened and the absolute limit (400 ms) does the work; the error-rate gates are the
 * production defaults. minRequests is sized to the demo's load (≈300 req/s: 15 green
 * requests per 1 s window at 5%).
 */
const SANDBOX_GATES = {
  maxErrorRate: 0.01,
  errorRateFactor: 2,
  errorRateMargin: 0.005,
  maxP95Ms: 400,
  p95Factor: 20,
  minRequests: 8,
  inconclusiveExtensions: 3,
  maxConsecutiveMetricErrors: 3,
  minHealthyTargets: 1,
};

const TIMINGS: Record<DemoTimings, { bakeSeconds: number; monitorSeconds: number }> = {
  // Each 5%/25% step bakes 4 polls; 100% is watched for 5 s.
  demo: { bakeSeconds: 4, monitorSeconds: 5 },
  // Compressed for CI, still at least two passing polls per step.
  ci: { bakeSeconds: 2, monitorSeconds: 2 },
};

export function buildDemoPolicy(mode: DatabaseMode, timings: DemoTimings = "demo", overrides: Partial<{ bakeSeconds: number; monitorSeconds: number }> = {}): DemoPolicy {
  const t = { ...TIMINGS[timings], ...overrides };
  const rawDatabase = { mode, engineVersion: "17", multiAz: false, deletionProtection: false, databaseName: "booking", username: "booking" };
  const rawTraffic = { weights: { blue: 100, green: 0 }, stickiness: false, testHeader: "x-bluegreen-color" };
  const rawRollout = {
    // Paired databases switch all at once behind the write fence; a shared one takes canary steps.
    strategy: mode === "paired" ? { type: "all-at-once" } : { type: "canary", steps: [5, 25, 100] },
    bakeSeconds: t.bakeSeconds,
    pollIntervalSeconds: 1,
    monitorSeconds: t.monitorSeconds,
    verifyTimeoutSeconds: 5,
    gates: SANDBOX_GATES,
    hooks: [],
    snapshot: { enabled: true, timeoutSeconds: 60 },
    parityMaxAgeSeconds: 300,
  };
  const shape = stackConfigSchema.shape;
  const issues: { path: string; message: string }[] = [];
  const parse = <T>(name: string, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown): T => {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) issues.push({ path: [`bluegreen:${name}`, ...issue.path.map(String)].join("."), message: issue.message });
    return undefined as T;
  };
  const database = parse<StackConfig["database"]>("database", shape.database, rawDatabase);
  const traffic = parse<StackConfig["traffic"]>("traffic", shape.traffic, rawTraffic);
  const rollout = parse<RolloutConfig>("rollout", shape.rollout, rawRollout);
  if (issues.length > 0) throw new ConfigError(issues, "sandbox Pulumi.demo.yaml");
  return {
    database,
    traffic,
    rollout,
    configMap: { "bluegreen:database": rawDatabase, "bluegreen:traffic": rawTraffic, "bluegreen:rollout": rawRollout },
  };
}

export async function writeDemoStackFile(path: string, policy: DemoPolicy): Promise<void> {
  const header = [
    "# Sandbox stack config written by `npm run demo` (removed with the run directory).",
    "# The same schema as Pulumi.prod.yaml checks these sections; timings are seconds, not minutes.",
    "# The cutover writes each weight it reaches back into bluegreen:traffic.weights, as in production.",
  ].join("\n");
  await writeFile(path, `${header}\n${stringify({ config: policy.configMap })}`);
}
