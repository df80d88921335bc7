// The rollout policy part of the stack config schema (`bluegreen:rollout`): strategy, bakes,
// the judge's gates, hooks, snapshot, capacity, migrations. Read by the cutover scripts; the
// whole schema is assembled in config.ts. Imports nothing from Pulumi or AWS.

import { z } from "zod";
import { MAX_PAUSE_SECONDS, pauseSeconds } from "./vocabulary/pauseDuration.js";
import { int, seconds } from "./configRules.js";
import { GATE_DEFAULTS as G, ROLLOUT_DEFAULTS as R } from "./vocabulary/rolloutDefaults.js";

const pause = z
  .string()
  .refine((value) => value === "promote" || pauseSeconds(value) !== null, 'must be "promote" or a duration such as "90s", "45m", "36h", "2d"')
  .refine((value) => value === "promote" || (pauseSeconds(value) ?? 0) <= MAX_PAUSE_SECONDS, "must be at most 30 days (30d)")
  .describe('after the step\'s bake: "promote" (an operator continues) or a duration; the cutover exits and `npm run promote` continues');

const canaryStep = z.union([int(1, 100), z.object({ percent: int(1, 100), bakeSeconds: seconds(0, 86400).optional(), pause: pause.optional() }).strict()]);

const strategy = z.discriminatedUnion(
  "type",
  [
    z
      .object({
        type: z.literal("canary"),
        steps: z
          .array(canaryStep)
          .min(1, "must list at least one step")
          .default(R.strategy.steps)
          .superRefine((steps, ctx) => {
            const percents = steps.map((step) => (typeof step === "number" ? step : step.percent));
            for (let i = 1; i < percents.length; i++) {
              if ((percents[i] ?? 0) <= (percents[i - 1] ?? 0)) {
                ctx.addIssue({ code: "custom", path: [i], message: `must be greater than the step before (${percents[i - 1]})` });
              }
            }
            if (percents.at(-1) !== 100) ctx.addIssue({ code: "custom", message: `the last step must be 100 (got ${percents.at(-1)})` });
            const last = steps.at(-1);
            if (typeof last === "object" && last.pause !== undefined) {
              ctx.addIssue({
                code: "custom",
                path: [steps.length - 1, "pause"],
                message: "is not allowed on the last (100%) step: nothing is left to promote",
              });
            }
          }),
      })
      .strict(),
    z.object({ type: z.literal("linear"), stepPercent: int(1, 100), intervalSeconds: seconds(1, 86400) }).strict(),
    z.object({ type: z.literal("all-at-once") }).strict(),
  ],
  { error: () => 'must set type to "canary", "linear" or "all-at-once"' },
);

const ratio = (min: number) => z.number().min(min, `must be at least ${min}`).max(1000, "must be at most 1000");
const fraction = (what: string) => z.number().gt(0, "must be greater than 0").max(1, `must be at most 1 (a fraction, ${what})`);

// The latency bound that makes a request "slow" for the sequential judge.
const slowThreshold = z.union(
  [
    z.object({ from: z.enum(["blue-p95", "blue-p99"]) }).strict(),
    z.object({ ms: z.number().positive("must be positive").max(600_000, "must be at most 600000") }).strict(),
  ],
  { error: () => 'must be { from: "blue-p95" }, { from: "blue-p99" } or { ms: <milliseconds> }' },
);

const gates = z
  .object({
    mode: z
      .literal("sequential", { error: () => 'the per-window "thresholds" mode is retired: remove rollout.gates.mode (the statistical judge is the only one)' })
      .optional()
      .describe('retired: the statistical judge is the only one (accepted as "sequential" for older configs)'),
    falseRollbackBudget: z
      .number()
      .gt(0, "must be greater than 0")
      .max(0.2, "must be at most 0.2")
      .default(G.falseRollbackBudget)
      .describe("probability of rolling back a release as good as blue, over the whole cutover"),
    minErrorRatio: ratio(1.1).default(G.minErrorRatio).describe("smallest error-rate regression worth catching, × blue's rate"),
    minErrorIncrease: fraction("0.005 = +0.5 points").default(G.minErrorIncrease).describe("... or + this much where blue's rate is low"),
    minSlowRatio: ratio(1.05).default(G.minSlowRatio).describe("smallest slow-share regression worth catching, × blue's share"),
    minSlowIncrease: fraction("0.02 = +2 points").default(G.minSlowIncrease).describe("... or + this much where blue's slow share is low"),
    slowThreshold: slowThreshold.default(G.slowThreshold).describe("a request is slow above blue's p95 (read before the first shift) or a fixed bound"),
    largestRegression: ratio(1.1).default(G.largestRegression).describe("a decision must at least rule out this × regression; below it the bake extends"),
    maxExtensions: int(0, 1000).default(G.maxExtensions).describe("extra windows a step may take when its traffic did not decide"),
    onUndecided: z
      .enum(["fail", "promote"], { error: () => 'must be "fail" or "promote"' })
      .default(G.onUndecided)
      .describe("after the extensions; never promotes without green requests"),
    errorRateCeiling: fraction("0.1 = 10%").default(G.errorRateCeiling).describe("green's 5xx rate above this in two windows in a row fails at once ..."),
    ceilingMinErrors: int(1, 1_000_000).default(G.ceilingMinErrors).describe("... when those two windows hold at least this many green 5xx together"),
    warmupSeconds: seconds(0, 3600)
      .optional()
      .describe("windows that start less than this after a step's weights were verified are warm-up, not evidence (default 120; 180 with paired databases)"),
    maxConsecutiveMetricErrors: int(1, 100).default(G.maxConsecutiveMetricErrors),
    minHealthyTargets: int(1, 1000).default(G.minHealthyTargets),
  })
  .strict()
  .superRefine((value, ctx) => {
    for (const key of ["minErrorRatio", "minSlowRatio"] as const) {
      if (value.largestRegression < value[key]) {
        ctx.addIssue({ code: "custom", path: ["largestRegression"], message: `must be at least ${key} (${value[key]})` });
      }
    }
  });

const hook = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be a lower-case name such as smoke-booking"),
    command: z.string().min(1, "must not be empty"),
    timeoutSeconds: seconds(1, 3600).default(R.hookTimeoutSeconds),
    when: z.enum(["preflight", "after-step", "post-switch"]).default("after-step"),
  })
  .strict();

const releaseStack = z
  .object({
    stack: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/, "must be a Pulumi stack name"),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as eu-west-1"),
  })
  .strict();

// The release (wave) machine: one release over many stacks, wave after wave. Its role may start
// exactly these stacks' rollout machines (same project, same account), so they are listed here.
const release = z
  .object({
    waves: int(1, 20).describe("how many waves a release has (the machine has one Map state per wave; `release` passes that many)"),
    maxConcurrency: int(1, 40).default(1).describe("stacks rolled out at once within a wave"),
    bakeSeconds: seconds(0, 2_592_000).default(3600).describe("the wait between two waves"),
    stacks: z
      .array(releaseStack)
      .min(1, "must list at least one stack")
      .describe("every stack a release may roll out: its rollout machine is <project>-<stack>-rollout in that region, in this account"),
  })
  .strict();

export const rollout = z
  .object({
    strategy: strategy.default(R.strategy),
    bakeSeconds: seconds(0, 86400).default(R.bakeSeconds).describe("per step, unless the step sets its own"),
    pollIntervalSeconds: seconds(1, 3600).default(R.pollIntervalSeconds).describe("ALB metrics have 1-minute resolution: below 60 the AWS adapter polls at 60"),
    monitorSeconds: seconds(0, 86400).default(R.monitorSeconds).describe("post-switch monitoring with the same gates"),
    verifyTimeoutSeconds: seconds(1, 600).default(R.verifyTimeoutSeconds).describe("how long a weight write may take to read back"),
    gates: gates.default(G),
    hooks: z.array(hook).default([]),
    snapshot: z
      .object({ enabled: z.boolean().default(R.snapshot.enabled), timeoutSeconds: seconds(60, 86400).default(R.snapshot.timeoutSeconds) })
      .strict()
      .default(R.snapshot),
    parityMaxAgeSeconds: seconds(1, 604800).default(R.parityMaxAgeSeconds).describe("paired mode: the newest passing parity result may be at most this old"),
    capacity: z
      .object({
        mode: z
          .enum(["check", "match"], { error: () => 'must be "check" (refuse when green is too small) or "match" (scale green to blue first)' })
          .default(R.capacity.mode)
          .describe("check: green's healthy targets must carry each next share; match: first scale green's Auto Scaling group to blue's desired capacity"),
        headroom: z
          .number()
          .min(0, "must be at least 0")
          .max(10, "must be at most 10 (a fraction: 0.2 = 20% more than the share needs)")
          .default(R.capacity.headroom),
        scaleTimeoutSeconds: seconds(30, 7200)
          .default(R.capacity.scaleTimeoutSeconds)
          .describe("how long a scale-up (match, or blue back before a rollback) may take to show healthy targets"),
        scaleDownBlue: z
          .boolean()
          .default(R.capacity.scaleDownBlue)
          .describe("opt-in: after a successful cutover and blueKeepSeconds, `promote --scale-down-blue` sets blue's desired capacity to its minimum"),
      })
      .strict()
      .default(R.capacity),
    blueKeepSeconds: seconds(0, 2_592_000)
      .default(R.blueKeepSeconds)
      .describe("after a successful cutover, blue keeps its capacity at least this long (instant rollback)"),
    migrationsDir: z
      .string()
      .min(1, "must name a directory")
      .default(R.migrationsDir)
      .describe(
        "schema migrations: DIR/expand/*.sql run in the cutover's migrating phase, DIR/contract/*.sql with `npm run migrate -- contract` (docs/migrations.md)",
      ),
    contractAfterSeconds: seconds(0, 2_592_000)
      .default(R.contractAfterSeconds)
      .describe("`npm run migrate -- contract` (it closes the rollback path) is allowed this long after a successful cutover at the earliest"),
    fenceDrainSeconds: seconds(0, 120)
      .default(R.fenceDrainSeconds)
      .describe(
        "paired mode: after the write fence reads back, wait this long for writes already inside the apps to commit (longer than the slowest write request)",
      ),
    webhookUrl: z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
      .optional()
      .describe("Slack-compatible JSON events"),
    orchestrator: z
      .enum(["local", "stepfunctions"], { error: () => 'must be "local" (the cutover process) or "stepfunctions" (docs/orchestrated.md)' })
      .default("local")
      .describe("who drives a rollout between its waits: the cutover process, or a Step Functions state machine and the advance Lambda"),
    release: release.optional().describe("stepfunctions: also declare the release machine that runs one release over many stacks in waves"),
  })
  .strict()
  .superRefine((value, ctx) => {
    const hookNames = new Set<string>();
    value.hooks.forEach((entry, index) => {
      if (hookNames.has(entry.name)) ctx.addIssue({ code: "custom", path: ["hooks", index, "name"], message: `repeats hook name "${entry.name}"` });
      hookNames.add(entry.name);
    });
    if (value.orchestrator === "stepfunctions" && value.hooks.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["hooks"],
        message: 'must be empty with orchestrator "stepfunctions": hooks run shell commands from your checkout, and the advance Lambda has none',
      });
    }
    if (value.release && value.orchestrator !== "stepfunctions") {
      ctx.addIssue({
        code: "custom",
        path: ["release"],
        message: 'needs orchestrator "stepfunctions": the release machine starts the stacks\' rollout machines',
      });
    }
    if (value.bakeSeconds > 0 && value.bakeSeconds < value.pollIntervalSeconds) {
      ctx.addIssue({
        code: "custom",
        path: ["bakeSeconds"],
        message: `must be at least pollIntervalSeconds (${value.pollIntervalSeconds}) so every step is checked at least once`,
      });
    }
  });
