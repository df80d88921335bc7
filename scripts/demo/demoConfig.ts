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
 * Gates for a loopback sandbox: the production judge (docs/gates.md) with the production
 * false-rollback budget (1%) and ratios (errors ×2, slow share ×1.5, decisions that rule out ×5);
 * the absolute error effect is +1 point instead of +0.5 (at the demo's load a +0.5 point
 * regression is bench material, not demo material). What is sized to the sandbox is time: windows
 * of one second, bakes of seconds. The judge promotes a step once the bake is over and the smallest
 * regression is ruled out, or, after extensions, the large one; it never promotes earlier than the
 * evidence allows, so the extensions are generous (20): an idle machine at ≈300 req/s decides in its
 * bakes, a busy one (fewer, slower requests, latencies that jump from second to second) takes the
 * extra windows it needs instead of failing "undecided". A crashed green (router 502s) breaks the
 * 10% ceiling in its first two windows. Slow means slower than 250 ms (fixed, see slowThreshold
 * below): a --fault latency=800ms green is slow on every request, and a bound read from blue's
 * p99 on a busy loopback could exceed the fault itself.
 * Warm-up: the sandbox's windows are one poll interval long, and a color that just got traffic (or
 * the writes a paired switch's fence held back) settles within two of them; a third for paired.
 */
const SANDBOX_GATES = {
  falseRollbackBudget: 0.01,
  minErrorRatio: 2,
  minErrorIncrease: 0.01,
  minSlowRatio: 1.5,
  minSlowIncrease: 0.02,
  // A fixed bound: on loopback a request takes a few ms, in bursts (GC, commits), and the p95 of a
  // few seconds before the cutover is mostly warm-up; a bound derived from it would count bursts
  // as regressions once green is compared with a frozen reference at 100%. Production: blue-p95.
  slowThreshold: { ms: 250 },
  largestRegression: 5,
  // Up to 20 more one-second windows when the traffic has not decided: the judge promotes as soon as
  // it can, so an idle machine never uses them; a busy one, whose requests are fewer and slower, does.
  maxExtensions: 20,
  onUndecided: "fail",
  errorRateCeiling: 0.1,
  ceilingMinErrors: 10,
  maxConsecutiveMetricErrors: 3,
  minHealthyTargets: 1,
};

interface Timing {
  /** The 5% step's bake without and with a background error rate (see SANDBOX_GATES). */
  firstStepBakeSeconds: number;
  firstStepBakeSecondsWithBackground: number;
  bakeSeconds: number;
  monitorSeconds: number;
}

const TIMINGS: Record<DemoTimings, Timing> = {
  demo: { firstStepBakeSeconds: 12, firstStepBakeSecondsWithBackground: 30, bakeSeconds: 5, monitorSeconds: 5 },
  // CI runs the same sizes: the judge needs the traffic, not the wall time, and CI has the same load.
  ci: { firstStepBakeSeconds: 12, firstStepBakeSecondsWithBackground: 30, bakeSeconds: 5, monitorSeconds: 3 },
};

/** What the demo's traffic looks like, for sizing the bakes. */
export interface DemoTraffic {
  /** Both colors fail this share of requests all along (--background-error-rate). */
  backgroundErrorRate?: number;
}

export function buildDemoPolicy(
  mode: DatabaseMode,
  timings: DemoTimings = "demo",
  overrides: Partial<{ firstStepBakeSeconds: number; bakeSeconds: number; monitorSeconds: number }> = {},
  load: DemoTraffic = {},
): DemoPolicy {
  const sized = TIMINGS[timings];
  const firstStepBakeSeconds = (load.backgroundErrorRate ?? 0) > 0 ? sized.firstStepBakeSecondsWithBackground : sized.firstStepBakeSeconds;
  const t = { firstStepBakeSeconds, bakeSeconds: sized.bakeSeconds, monitorSeconds: sized.monitorSeconds, ...overrides };
  const rawDatabase = { mode, engineVersion: "17", multiAz: false, deletionProtection: false, databaseName: "booking", username: "booking" };
  const rawTraffic = { weights: { blue: 100, green: 0 }, stickiness: false, testHeader: "x-bluegreen-color" };
  const rawRollout = {
    // Paired databases switch all at once behind the write fence; a shared one takes canary steps.
    strategy: mode === "paired" ? { type: "all-at-once" } : { type: "canary", steps: [{ percent: 5, bakeSeconds: t.firstStepBakeSeconds }, 25, 100] },
    bakeSeconds: t.bakeSeconds,
    pollIntervalSeconds: 1,
    monitorSeconds: t.monitorSeconds,
    verifyTimeoutSeconds: 5,
    // two windows of warm-up after each shift (three after a paired switch), in the sandbox's one-second windows
    gates: { ...SANDBOX_GATES, warmupSeconds: mode === "paired" ? 3 : 2 },
    hooks: [],
    snapshot: { enabled: true, timeoutSeconds: 60 },
    parityMaxAgeSeconds: 300,
  };
  const shape = stackConfigSchema.shape;
  const issues: { path: string; message: string }[] = [];
  const parse = <T>(
    name: string,
    schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } },
    value: unknown,
  ): T => {
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
    "# The weights each step reaches are recorded in weights.json beside it (the sandbox's weight owner), not here.",
  ].join("\n");
  await writeFile(path, `${header}\n${stringify({ config: policy.configMap })}`);
}
