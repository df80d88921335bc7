// The cutover plan: the rollout policy from Pulumi.<stack>.yaml turned into explicit steps.
// Pure: no I/O, no clock. The plan is recorded in the journal at the start of a run, so a
// resumed run follows the plan it started with even if the config changed in between.

import type { DatabaseMode, GateConfig, HookConfig, RolloutConfig } from "../../infra/config.js";
import type { Weights } from "./ports.js";
import { UsageError } from "./errors.js";
import { formatPercent } from "./format.js";
import { ENGINE_DEFAULTS, WARMUP_SECONDS_BY_MODE } from "../../infra/vocabulary/rolloutDefaults.js";
import { pauseSeconds } from "../../infra/vocabulary/pauseDuration.js";
import { capacityPolicyOf, DEFAULT_CAPACITY_POLICY, type CapacityPolicy } from "./capacity.js";

export const BLUE_ONLY: Weights = Object.freeze({ blue: 100, green: 0 }) as Weights;

/** How often the engine reads weights back while verifying a write. */
export const DEFAULT_VERIFY_INTERVAL_MS = ENGINE_DEFAULTS.verifyIntervalMs;
/** Paired mode: how long the fenced switch waits for replication to catch up. */
export const DEFAULT_CATCH_UP_TIMEOUT_MS = ENGINE_DEFAULTS.catchUpTimeoutMs;

export interface PlanStep {
  /** 0-based position in the plan. */
  index: number;
  /** The weights this step writes. */
  weights: Weights;
  /** Bake time after the weights are verified; 0 = no bake (the final 100% step is watched by monitoring). */
  bakeMs: number;
  /** Passing polls the bake needs: ceil(bakeMs / pollMs). */
  pollsRequired: number;
  /** shift: a weighted step; fenced-switch: the paired-database switch behind the write fence. */
  kind: "shift" | "fenced-switch";
  /** After the bake: wait for an operator (`promote`) or a duration; the cutover exits meanwhile. Absent: no pause. */
  pause?: PlanPause;
}

/** A step's pause (rollout.strategy.steps[].pause). */
export type PlanPause = { kind: "promote" } | { kind: "timed"; ms: number };

export interface Plan {
  strategy: RolloutConfig["strategy"]["type"];
  databaseMode: DatabaseMode;
  /** Paired databases: a single fenced switch. */
  fenced: boolean;
  /** Live weights when the plan was built. */
  startWeights: Weights;
  steps: PlanStep[];
  /** Post-switch monitoring with the same gates. */
  monitorMs: number;
  monitorPollsRequired: number;
  /** Poll interval and gate window; never below the metrics source's resolution. */
  pollMs: number;
  /** True when pollMs was raised to the metrics resolution. */
  pollRaisedToResolution: boolean;
  verifyTimeoutMs: number;
  verifyIntervalMs: number;
  catchUpTimeoutMs: number;
  gates: GateConfig;
  hooks: HookConfig[];
  snapshot: { enabled: boolean; timeoutMs: number };
  parityMaxAgeMs: number;
  /** Where every rollback goes. */
  rollbackWeights: Weights;
  /** rollout.capacity and blueKeepSeconds; absent in plans journaled before capacity existed (then the check's defaults apply). */
  capacity?: CapacityPolicy;
}

export interface PlanOptions {
  databaseMode: DatabaseMode;
  /** Live weights now; steps at or below green's current share are already done and left out. */
  startWeights?: Weights;
  /** MetricsSource.resolutionMs: polls are never more frequent than this. */
  resolutionMs?: number;
  catchUpTimeoutMs?: number;
  verifyIntervalMs?: number;
}

/** A rollout policy the engine cannot run safely: bad input, exit 2. */
export class PlanError extends UsageError {
  override name = "PlanError";
}

function weightsFor(greenPercent: number): Weights {
  return { blue: 100 - greenPercent, green: greenPercent };
}

/** Build the explicit plan. Throws PlanError on a policy the engine cannot run safely. */
export function buildPlan(rollout: RolloutConfig, options: PlanOptions): Plan {
  const startWeights = options.startWeights ?? BLUE_ONLY;
  if (!isValidWeights(startWeights)) {
    throw new PlanError(`start weights must be integers 0..100 summing to 100 (got blue ${startWeights.blue}, green ${startWeights.green})`);
  }
  const resolutionMs = Math.max(0, options.resolutionMs ?? 0);
  const configuredPollMs = rollout.pollIntervalSeconds * 1000;
  // Windows are whole multiples of the source's resolution (one-minute ALB metrics: 60 s, 120 s, ...),
  // so a window never reads part of a bucket (core/engine/windows.ts).
  const pollMs = resolutionMs > 0 ? Math.ceil(Math.max(configuredPollMs, resolutionMs) / resolutionMs) * resolutionMs : Math.max(configuredPollMs, 1);
  const fenced = options.databaseMode === "paired";

  if (fenced && rollout.strategy.type !== "all-at-once") {
    throw new PlanError(`"${rollout.strategy.type}" is refused with database.mode "paired": a weighted split sends writes to two databases; use "all-at-once"`);
  }

  // Target green percentages with their own bake (undefined = the policy's bakeSeconds).
  let targets: { percent: number; bakeSeconds: number | undefined; pause?: string | undefined }[];
  switch (rollout.strategy.type) {
    case "canary":
      targets = rollout.strategy.steps.map((step) =>
        typeof step === "number" ? { percent: step, bakeSeconds: undefined } : { percent: step.percent, bakeSeconds: step.bakeSeconds, pause: step.pause },
      );
      break;
    case "linear": {
      targets = [];
      const stepPercent = rollout.strategy.stepPercent;
      if (!Number.isInteger(stepPercent) || stepPercent < 1) throw new PlanError(`linear stepPercent must be an integer ≥ 1 (got ${stepPercent})`);
      for (let percent = stepPercent; percent < 100; percent += stepPercent) {
        targets.push({ percent, bakeSeconds: rollout.strategy.intervalSeconds });
      }
      targets.push({ percent: 100, bakeSeconds: undefined });
      break;
    }
    case "all-at-once":
      targets = [{ percent: 100, bakeSeconds: undefined }];
      break;
  }
  if (targets.length === 0 || targets.at(-1)?.percent !== 100) throw new PlanError("the last step must reach 100% green");
  for (let i = 1; i < targets.length; i++) {
    if (targets[i]!.percent <= targets[i - 1]!.percent) throw new PlanError(`step ${i + 1} must be greater than the step before`);
  }

  // Steps already reached are skipped; the final 100% step is always kept (writing it is idempotent).
  const remaining = targets.filter((target, i) => target.percent > startWeights.green || i === targets.length - 1);

  const steps: PlanStep[] = remaining.map((target, index) => {
    const final = target.percent === 100;
    // The final step is watched by the monitoring window, unless the step sets its own bake.
    const seconds = final ? (target.bakeSeconds ?? 0) : (target.bakeSeconds ?? rollout.bakeSeconds);
    // A bake shorter than one poll would never be checked: round it up to one window.
    const bakeMs = seconds > 0 ? Math.max(seconds * 1000, pollMs) : 0;
    const step: PlanStep = {
      index,
      weights: weightsFor(target.percent),
      bakeMs,
      pollsRequired: Math.ceil(bakeMs / pollMs),
      kind: fenced ? "fenced-switch" : "shift",
    };
    const pause = target.pause === undefined || final ? undefined : planPause(target.pause);
    if (pause) step.pause = pause;
    return step;
  });

  const monitorMs = rollout.monitorSeconds > 0 ? Math.max(rollout.monitorSeconds * 1000, pollMs) : 0;
  return {
    strategy: rollout.strategy.type,
    databaseMode: options.databaseMode,
    fenced,
    startWeights: { ...startWeights },
    steps,
    monitorMs,
    monitorPollsRequired: Math.ceil(monitorMs / pollMs),
    pollMs,
    pollRaisedToResolution: pollMs > configuredPollMs,
    verifyTimeoutMs: rollout.verifyTimeoutSeconds * 1000,
    verifyIntervalMs: options.verifyIntervalMs ?? DEFAULT_VERIFY_INTERVAL_MS,
    catchUpTimeoutMs: options.catchUpTimeoutMs ?? DEFAULT_CATCH_UP_TIMEOUT_MS,
    gates: { ...rollout.gates },
    hooks: rollout.hooks.map((hook) => ({ ...hook })),
    snapshot: { enabled: rollout.snapshot.enabled, timeoutMs: rollout.snapshot.timeoutSeconds * 1000 },
    parityMaxAgeMs: rollout.parityMaxAgeSeconds * 1000,
    rollbackWeights: { ...BLUE_ONLY },
    ...(rollout.capacity ? { capacity: capacityPolicyOf(rollout) } : {}),
  };
}

function planPause(text: string): PlanPause {
  if (text === "promote") return { kind: "promote" };
  const seconds = pauseSeconds(text);
  if (seconds === null) throw new PlanError(`pause must be "promote" or a duration such as "36h" (got "${text}")`);
  return { kind: "timed", ms: seconds * 1000 };
}

export function isValidWeights(weights: Weights): boolean {
  return Number.isInteger(weights.blue) && Number.isInteger(weights.green) && weights.blue >= 0 && weights.green >= 0 && weights.blue + weights.green === 100;
}

export function sameWeights(a: Weights, b: Weights): boolean {
  return a.blue === b.blue && a.green === b.green;
}

export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const parts: string[] = [];
  if (hours) parts.push(`${hours}h`);
  if (minutes) parts.push(`${minutes}m`);
  if (seconds) parts.push(`${seconds}s`);
  return parts.join(" ");
}

const percent = (fraction: number) => formatPercent(fraction);

export interface DescribePlanOptions {
  /** The operator asked to skip the snapshot (and said why). */
  snapshotSkipped?: string | boolean;
  /** Routes with stickiness: clients may stay on green for that long after a rollback. */
  stickinessSeconds?: number | null;
}

/** Human-readable plan for the CLI: steps, bake times, gates, API calls, rollback path. */
export function describePlan(plan: Plan, writes: string[], options: DescribePlanOptions = {}): string[] {
  const warmupMs = (plan.gates.warmupSeconds ?? WARMUP_SECONDS_BY_MODE[plan.databaseMode]) * 1000;
  const stepWord = plan.steps.length === 1 ? "step" : "steps";
  return [
    `Plan: ${plan.strategy}, ${plan.databaseMode} database${plan.fenced ? " (fenced switch)" : ""}, ${plan.steps.length} ${stepWord}, ` +
      `starting from blue ${plan.startWeights.blue} / green ${plan.startWeights.green}`,
    ...describePreflight(plan, options),
    ...describeSteps(plan, warmupMs),
    ...describeJudge(plan, warmupMs),
    ...describeRollbackPath(plan, writes, options),
  ];
}

/** What preflight checks before any weight moves. */
function describePreflight(plan: Plan, options: DescribePlanOptions): string[] {
  const g = plan.gates;
  const lines: string[] = [];
  lines.push("Preflight (before any weight moves):");
  lines.push(`  - green has at least ${g.minHealthyTargets} healthy target(s) and none unhealthy`);
  lines.push(`  - blue has healthy targets and none unhealthy (rollback needs somewhere to go)`);
  lines.push(...describeCapacity(plan));
  lines.push(`  - no stack alarm in ALARM`);
  if (plan.steps.some((step) => step.bakeMs > 0) || plan.monitorMs > 0) {
    const slow = g.slowThreshold as { from?: string } | undefined;
    const latency = slow?.from ? `, with latency data (the slow bound is blue's ${slow.from === "blue-p99" ? "p99" : "p95"})` : "";
    lines.push(`  - the judge's inputs: blue served requests in the last published minutes${latency}`);
  }
  if (options.snapshotSkipped) {
    const why = typeof options.snapshotSkipped === "string" ? `: ${options.snapshotSkipped}` : "";
    lines.push(`  - snapshot of blue's database SKIPPED at the operator's request${why}`);
  } else if (plan.snapshot.enabled) {
    lines.push(`  - snapshot of blue's database, waited on until available (timeout ${formatDuration(plan.snapshot.timeoutMs)})`);
  } else {
    lines.push(`  - snapshot disabled by rollout.snapshot.enabled: false`);
  }
  if (plan.fenced) {
    lines.push(`  - replication blue → green running; a passing parity result no older than ${formatDuration(plan.parityMaxAgeMs)}`);
  }
  for (const hook of plan.hooks.filter((h) => h.when === "preflight")) {
    lines.push(`  - hook ${hook.name}: ${hook.command} (timeout ${hook.timeoutSeconds}s)`);
  }

  return lines;
}

/** Each step: its write, its bake, its hooks and pause; then the monitoring window. */
function describeSteps(plan: Plan, warmupMs: number): string[] {
  const g = plan.gates;
  const lines: string[] = [];
  const afterStep = plan.hooks.filter((h) => h.when === "after-step");
  const postSwitch = plan.hooks.filter((h) => h.when === "post-switch");
  lines.push("Steps:");
  for (const step of plan.steps) {
    const label = `  ${step.index + 1}. blue ${step.weights.blue} / green ${step.weights.green}`;
    if (step.kind === "fenced-switch") {
      lines.push(
        `${label}: fence writes (503) → wait for blue → green replication to catch up (≤ ${formatDuration(plan.catchUpTimeoutMs)}) → exact parity → ` +
          `copy sequences → start green → blue replication → flip weights, verified → lift the fence`,
      );
    } else {
      lines.push(`${label}: write, read back until equal (≤ ${formatDuration(plan.verifyTimeoutMs)})`);
    }
    if (step.bakeMs > 0) {
      lines.push(
        `     bake ${formatDuration(step.bakeMs)} after ${formatDuration(warmupMs)} of warm-up: ${step.pollsRequired} window(s) of ${formatDuration(plan.pollMs)} judged as one body of evidence (a regression fails it sooner; undecided: up to ${g.maxExtensions} more)`,
      );
    } else if (step.weights.green === 100) {
      lines.push(`     no bake: the monitoring window watches 100%`);
    } else {
      lines.push(`     no bake (bakeSeconds: 0): gates are not polled at this step`);
    }
    if (afterStep.length > 0) lines.push(`     then hooks: ${afterStep.map((h) => `${h.name} (≤ ${h.timeoutSeconds}s)`).join(", ")}`);
    if (step.pause) {
      lines.push(
        `     then PAUSE ${step.pause.kind === "promote" ? "until an operator runs `npm run promote`" : `for ${formatDuration(step.pause.ms)}, then \`npm run promote\``}: ` +
          "the cutover exits 0, the journal holds the step and its evidence, the guard watches green's alarms",
      );
    }
  }
  if (postSwitch.length > 0) lines.push(`After the switch, hooks: ${postSwitch.map((h) => `${h.name} (≤ ${h.timeoutSeconds}s)`).join(", ")}`);
  lines.push(
    plan.monitorMs > 0
      ? `Monitoring: ${formatDuration(plan.monitorMs)} at 100% green after ${formatDuration(warmupMs)} of warm-up (${plan.monitorPollsRequired} window(s)), against blue's level and how much blue moves`
      : "Monitoring: none (monitorSeconds: 0)",
  );

  return lines;
}

/** How the judge decides, in the plan's own numbers. */
function describeJudge(plan: Plan, warmupMs: number): string[] {
  const g = plan.gates;
  const lines: string[] = [];
  const slow = "ms" in g.slowThreshold ? `${g.slowThreshold.ms} ms` : `blue's ${g.slowThreshold.from === "blue-p99" ? "p99" : "p95"} before the first shift`;
  lines.push(
    `Judge: windows of ${formatDuration(plan.pollMs)} from each step's verified weights plus ${formatDuration(warmupMs)} of warm-up on, green against blue over the same windows (docs/gates.md):`,
  );
  if (plan.pollRaisedToResolution) lines.push(`  (window raised to the metrics resolution)`);
  lines.push(
    `  - rolls back when green's 5xx rate is shown ≥ blue's × ${g.minErrorRatio} (or + ${percent(g.minErrorIncrease)}), or its share of requests slower than ${slow} ≥ blue's × ${g.minSlowRatio} (or + ${percent(g.minSlowIncrease)})`,
  );
  lines.push(`  - at most ${percent(g.falseRollbackBudget)} chance of rolling back a release as good as blue, over the whole cutover, however often it looks`);
  lines.push(
    `  - promotes when the bake is over and the evidence rules out ×${g.minErrorRatio} errors and ×${g.minSlowRatio} slow; else up to ${g.maxExtensions} more window(s), ` +
      `after which ruling out ×${g.largestRegression} is enough; else ${g.onUndecided === "promote" ? "promotes" : "fails"} ("not enough traffic to decide")`,
  );
  lines.push(
    `  - at 100% green is compared with blue's recent level widened by how much blue moves on its own: there ruling out ×${g.largestRegression} promotes`,
  );
  lines.push(
    `  - each window counts by its real spread (estimated from blue's hour before and the windows so far), and no window counts for more than 40% of the evidence a rollback needs (one or two extreme minutes never roll back)`,
  );
  lines.push(
    `  - green 5xx rate above ${percent(g.errorRateCeiling)} in two windows in a row (at least ${g.ceilingMinErrors} errors between them) fails at once; green unhealthy targets = 0`,
  );
  lines.push(
    `  - a window is evidence only if it starts after the step's weights were verified, and once the metrics source has published it; a window whose split the weights do not explain is not evidence, three in a row fail ("weights not in effect")`,
  );
  lines.push(`  - ${g.maxConsecutiveMetricErrors} metric-provider error(s) in a row fail`);

  return lines;
}

/** The API calls per weight write, and the rollback path. */
function describeRollbackPath(plan: Plan, writes: string[], options: DescribePlanOptions): string[] {
  const lines: string[] = [];
  lines.push("API calls per weight write (then read back until equal):");
  for (const write of writes) lines.push(`  - ${write}`);
  if (writes.length === 0) lines.push("  - (the router describes no calls)");

  lines.push(
    `Rollback path, on any failure: one write of blue 100 / green 0 per route above, read back until equal (≤ ${formatDuration(plan.verifyTimeoutMs)})` +
      (plan.fenced ? `, behind the write fence after green → blue replication has caught up` : ""),
  );
  if (options.stickinessSeconds) {
    lines.push(`  note: stickiness may keep clients on green for up to ${formatDuration(options.stickinessSeconds * 1000)} after a rollback`);
  }
  const capacity = plan.capacity;
  if (capacity?.scaleDownBlue) {
    lines.push(
      `  after the switch blue keeps its capacity for ${formatDuration(capacity.blueKeepMs)}; \`promote --scale-down-blue\` may then set it to its minimum. ` +
        `A rollback after that first scales blue back and waits for healthy targets: up to ${formatDuration(capacity.scaleTimeoutMs)} more (instance launch + health checks)`,
    );
  }
  return lines;
}

function describeCapacity(plan: Plan): string[] {
  const capacity = plan.capacity ?? DEFAULT_CAPACITY_POLICY;
  const first = plan.steps[0]?.weights.green ?? 100;
  const headroom = capacity.headroom > 0 ? ` × (1 + ${capacity.headroom})` : "";
  const lines = [
    `  - green can carry ${first}%: healthy green targets ≥ ceil(blue's in-service capacity × ${first}%${headroom}), and the same before every later step`,
  ];
  if (capacity.mode === "match") {
    lines.unshift(
      `  - capacity match: green's Auto Scaling group raised to blue's desired capacity, new targets healthy within ${formatDuration(capacity.scaleTimeoutMs)}`,
    );
  }
  return lines;
}
