// The previous judge, frozen: bench/judge.ts runs it beside the current one on the same traffic.
// Not used by the product; do not change it (the comparison is only meaningful against the original).
//
// rollout.gates (validated config) → JudgeSettings, and the state's constructor and validator.

/** The gate defaults the previous judge shipped with (frozen here for the comparison). */
const GATE_DEFAULTS = {
  mode: "sequential" as "sequential" | "thresholds",
  falseRollbackBudget: 0.01,
  minErrorRatio: 2,
  minErrorIncrease: 0.005,
  minSlowRatio: 1.5,
  minSlowIncrease: 0.02,
  slowThreshold: { from: "blue-p95" } as { from: "blue-p95" | "blue-p99" } | { ms: number },
  largestRegression: 5,
  maxExtensions: 10,
  onUndecided: "fail" as "fail" | "promote",
  errorRateCeiling: 0.1,
  ceilingMinErrors: 10,
  maxErrorRate: 0.01,
  errorRateFactor: 2,
  errorRateMargin: 0.005,
  maxP95Ms: 1000,
  p95Factor: 1.5,
  minRequests: 50,
  inconclusiveExtensions: 3,
};
export type LegacyGateConfig = typeof GATE_DEFAULTS;
type GateConfig = Partial<LegacyGateConfig>;
import { emptyLogLik, RHO_GRID } from "./statistics.js";
import type { JudgeMetric, JudgeSettings, JudgeState, MetricAccumulator, MetricEffect, ResolveJudgeOptions } from "./types.js";
import { JUDGE_METRICS } from "./types.js";

/** Confidence of the "rules out" bounds: 95%. See JudgeSettings.ruleOutAlpha. */
export const RULE_OUT_ALPHA = 0.05;

/** The settings the judge uses for a cutover with `judgedPhases` judged phases. */
export function resolveJudgeSettings(configured: GateConfig, options: ResolveJudgeOptions): JudgeSettings {
  const judgedPhases = Math.max(1, Math.floor(options.judgedPhases));
  const gates = withDefaults(configured);
  const settings: JudgeSettings = {
    mode: gates.mode,
    falseRollbackBudget: gates.falseRollbackBudget,
    judgedPhases,
    alphaPerTest: gates.falseRollbackBudget / (judgedPhases * JUDGE_METRICS.length),
    ruleOutAlpha: RULE_OUT_ALPHA,
    errors: { minRatio: gates.minErrorRatio, minIncrease: gates.minErrorIncrease },
    slow: { minRatio: gates.minSlowRatio, minIncrease: gates.minSlowIncrease },
    largestRegression: gates.largestRegression,
    maxExtensions: gates.maxExtensions,
    onUndecided: gates.onUndecided,
    errorRateCeiling: gates.errorRateCeiling,
    ceilingMinErrors: gates.ceilingMinErrors,
    slowThreshold: { ...gates.slowThreshold },
    thresholds: {
      maxErrorRate: gates.maxErrorRate,
      errorRateFactor: gates.errorRateFactor,
      errorRateMargin: gates.errorRateMargin,
      maxP95Ms: gates.maxP95Ms,
      p95Factor: gates.p95Factor,
      minRequests: gates.minRequests,
      inconclusiveExtensions: gates.inconclusiveExtensions,
    },
  };
  assertValidSettings(settings);
  return settings;
}

/**
 * A plan journaled by a version before the judge has gates without its keys: fill them from the
 * config defaults, and keep such a run on the per-window thresholds it was planned with.
 */
function withDefaults(gates: GateConfig): LegacyGateConfig {
  const present = Object.fromEntries(Object.entries(gates).filter(([, value]) => value !== undefined)) as GateConfig;
  const mode = present.mode ?? (Object.keys(present).length > 0 ? "thresholds" : GATE_DEFAULTS.mode);
  return { ...GATE_DEFAULTS, ...present, mode };
}

/** Settings are journaled with the plan; a hand-edited or corrupt one must not silently weaken the judge. */
export function assertValidSettings(settings: JudgeSettings): void {
  const bad = (what: string) => {
    throw new Error(`invalid judge settings: ${what}`);
  };
  if (!(settings.alphaPerTest > 0 && settings.alphaPerTest < 1)) bad(`alphaPerTest must be in (0, 1) (got ${settings.alphaPerTest})`);
  if (!(settings.ruleOutAlpha > 0 && settings.ruleOutAlpha < 1)) bad(`ruleOutAlpha must be in (0, 1) (got ${settings.ruleOutAlpha})`);
  for (const metric of JUDGE_METRICS) {
    const effect = settings[metric];
    if (!(effect.minRatio > 1)) bad(`${metric}.minRatio must be greater than 1 (got ${effect.minRatio})`);
    if (!(effect.minIncrease > 0 && effect.minIncrease <= 1)) bad(`${metric}.minIncrease must be in (0, 1] (got ${effect.minIncrease})`);
    if (settings.largestRegression < effect.minRatio) bad(`largestRegression must be at least ${metric}.minRatio`);
  }
  if (!Number.isInteger(settings.maxExtensions) || settings.maxExtensions < 0) bad(`maxExtensions must be an integer ≥ 0`);
}

/**
 * r* = minIncrease / (minRatio − 1): below this blue rate an absolute increase is what matters
 * (types.ts, MetricEffect.minIncrease).
 */
export function referenceRate(effect: MetricEffect): number {
  return effect.minIncrease / (effect.minRatio - 1);
}

/** The rate green must reach to be a regression of size k over blue's rate: blue + (k − 1)·max(blue, r*). */
export function regressionRate(effect: MetricEffect, blueRate: number, k: number): number {
  return blueRate + (k - 1) * Math.max(blueRate, referenceRate(effect));
}

function emptyAccumulator(): MetricAccumulator {
  return { greenRequests: 0, greenCount: 0, blueRequests: 0, blueCount: 0, logLik: emptyLogLik() };
}

export function emptyMetrics(): Record<JudgeMetric, MetricAccumulator> {
  return { errors: emptyAccumulator(), slow: emptyAccumulator() };
}

export function newJudgeState(): JudgeState {
  return {
    version: 1,
    phaseKey: null,
    windowsJudged: 0,
    extensionsUsed: 0,
    lastWindowEnd: null,
    metrics: emptyMetrics(),
    reference: null,
    blueBaseline: { requests: 0, errors: 0, slowRequests: 0, slow: 0 },
    thresholdPasses: 0,
  };
}

/** A deep copy (the judge never mutates its input). */
export function cloneJudgeState(state: JudgeState): JudgeState {
  const metric = (m: MetricAccumulator): MetricAccumulator => ({ ...m, logLik: m.logLik.slice() });
  return {
    ...state,
    metrics: { errors: metric(state.metrics.errors), slow: metric(state.metrics.slow) },
    reference:
      state.reference === null
        ? null
        : { errors: state.reference.errors && { ...state.reference.errors }, slow: state.reference.slow && { ...state.reference.slow } },
    blueBaseline: { ...state.blueBaseline },
  };
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

/** Validate a state read back from the journal. Throws an Error naming the bad field. */
export function parseJudgeState(value: unknown): JudgeState {
  const fail = (path: string, rule: string): never => {
    throw new Error(`invalid judge state: ${path} ${rule}`);
  };
  if (typeof value !== "object" || value === null) fail("(root)", "must be an object");
  const v = value as Record<string, unknown>;
  if (v.version !== 1) fail("version", "must be 1");
  if (v.phaseKey !== null && typeof v.phaseKey !== "string") fail("phaseKey", "must be a string or null");
  for (const key of ["windowsJudged", "extensionsUsed", "thresholdPasses"]) {
    if (!isCount(v[key]) || !Number.isInteger(v[key])) fail(key, "must be an integer ≥ 0");
  }
  if (v.lastWindowEnd !== null && !(typeof v.lastWindowEnd === "number" && Number.isFinite(v.lastWindowEnd))) fail("lastWindowEnd", "must be a number or null");
  const metrics = v.metrics as Record<string, unknown> | undefined;
  if (typeof metrics !== "object" || metrics === null) fail("metrics", "must be an object");
  for (const metric of JUDGE_METRICS) {
    const acc = (metrics as Record<string, unknown>)[metric] as Record<string, unknown> | undefined;
    if (typeof acc !== "object" || acc === null) fail(`metrics.${metric}`, "must be an object");
    for (const key of ["greenRequests", "greenCount", "blueRequests", "blueCount"]) {
      if (!isCount(acc![key])) fail(`metrics.${metric}.${key}`, "must be a number ≥ 0");
    }
    const logLik = acc!.logLik;
    if (!Array.isArray(logLik) || logLik.length !== RHO_GRID.length || !logLik.every((x) => typeof x === "number" && Number.isFinite(x))) {
      fail(`metrics.${metric}.logLik`, `must be ${RHO_GRID.length} finite numbers`);
    }
  }
  const baseline = v.blueBaseline as Record<string, unknown> | undefined;
  if (typeof baseline !== "object" || baseline === null) fail("blueBaseline", "must be an object");
  for (const key of ["requests", "errors", "slowRequests", "slow"]) {
    if (!isCount(baseline![key])) fail(`blueBaseline.${key}`, "must be a number ≥ 0");
  }
  if (v.reference !== null) {
    const reference = v.reference as Record<string, unknown> | undefined;
    if (typeof reference !== "object" || reference === null) fail("reference", "must be an object or null");
    for (const metric of JUDGE_METRICS) {
      const r = reference![metric] as Record<string, unknown> | null | undefined;
      if (r === null) continue;
      if (typeof r !== "object" || r === undefined) fail(`reference.${metric}`, "must be an object or null");
      if (r!.source !== "cutover" && r!.source !== "pre-cutover") fail(`reference.${metric}.source`, 'must be "cutover" or "pre-cutover"');
      for (const key of ["requests", "count", "rate"]) if (!isCount(r![key])) fail(`reference.${metric}.${key}`, "must be a number ≥ 0");
    }
  }
  return structuredClone(value as JudgeState);
}

/** Judged phases of a plan: every step with a bake, plus the monitoring window (at least 1). */
export function judgedPhasesOf(plan: { steps: readonly { bakeMs: number }[]; monitorMs: number }): number {
  return Math.max(1, plan.steps.filter((step) => step.bakeMs > 0).length + (plan.monitorMs > 0 ? 1 : 0));
}
