// rollout.gates (validated config) → JudgeSettings, and the state's constructor and validator.

import type { GateConfig } from "../../../infra/config.js";
// Not from infra/config.ts: that loads zod, and the judge is on rollback's start-up path.
import { GATE_DEFAULTS, WARMUP_SECONDS_BY_MODE } from "../../../infra/vocabulary/rolloutDefaults.js";
import { emptyScatter } from "./dispersion.js";
import { emptyLogLik, RHO_GRID } from "./statistics.js";
import type { JudgeMetric, JudgeSettings, JudgeState, MetricAccumulator, MetricEffect, ResolveJudgeOptions } from "./types.js";
import { JUDGE_METRICS } from "./types.js";

/** Confidence of the "rules out" bounds: 95%. See JudgeSettings.ruleOutAlpha. */
export const RULE_OUT_ALPHA = 0.05;
/** At most 40% of what the fail test needs from one window: one minute never fails a step, nor two; three extreme ones do. */
export const WINDOW_SHARE = 0.4;

/** The settings the judge uses for a cutover with `judgedPhases` judged phases. */
export function resolveJudgeSettings(configured: Partial<GateConfig>, options: ResolveJudgeOptions): JudgeSettings {
  const judgedPhases = Math.max(1, Math.floor(options.judgedPhases));
  const present = Object.fromEntries(Object.entries(configured).filter(([, value]) => value !== undefined)) as Partial<GateConfig>;
  const gates = { ...GATE_DEFAULTS, ...present };
  const warmupSeconds = present.warmupSeconds ?? WARMUP_SECONDS_BY_MODE[options.databaseMode ?? "shared"];
  const settings: JudgeSettings = {
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
    warmupMs: warmupSeconds * 1000,
    windowShare: WINDOW_SHARE,
  };
  assertValidSettings(settings);
  return settings;
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
  if (!(settings.warmupMs >= 0 && Number.isFinite(settings.warmupMs))) bad(`warmupMs must be a number ≥ 0 (got ${settings.warmupMs})`);
  if (!(settings.windowShare > 0 && settings.windowShare <= 1)) bad(`windowShare must be in (0, 1] (got ${settings.windowShare})`);
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
  return {
    greenRequests: 0,
    greenCount: 0,
    blueRequests: 0,
    blueCount: 0,
    logLik: emptyLogLik(),
    extraVariance: 0,
    dispersion: 1,
    effectiveCount: 0,
    effectiveRequests: 0,
  };
}

export function emptyMetrics(): Record<JudgeMetric, MetricAccumulator> {
  return { errors: emptyAccumulator(), slow: emptyAccumulator() };
}

export function newJudgeState(): JudgeState {
  return {
    version: 2,
    phaseKey: null,
    windowsJudged: 0,
    extensionsUsed: 0,
    lastWindowEnd: null,
    metrics: emptyMetrics(),
    scatter: { errors: emptyScatter(), slow: emptyScatter() },
    blue: { at: [], requests: [], errors: [], slow: [] },
    historyWindows: 0,
    reference: null,
    ceilingStreak: { windows: 0, errors: 0, requests: 0, lastErrors: 0, lastRequests: 0 },
  };
}

/** A deep copy (the judge never mutates its input); by hand, as it runs once per window. */
export function cloneJudgeState(state: JudgeState): JudgeState {
  const metric = (m: MetricAccumulator): MetricAccumulator => ({ ...m, logLik: m.logLik.slice() });
  const reference = state.reference;
  return {
    ...state,
    metrics: { errors: metric(state.metrics.errors), slow: metric(state.metrics.slow) },
    scatter: { errors: { ...state.scatter.errors }, slow: { ...state.scatter.slow } },
    blue: { at: state.blue.at.slice(), requests: state.blue.requests.slice(), errors: state.blue.errors.slice(), slow: state.blue.slow.slice() },
    reference: reference === null ? null : { errors: reference.errors && { ...reference.errors }, slow: reference.slow && { ...reference.slow } },
    ceilingStreak: { ...state.ceilingStreak },
  };
}

const isCount = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value) && value >= 0;
const isNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/**
 * Validate a state read back from the journal. Throws an Error naming the bad field. A state of the
 * previous judge (version 1) cannot be carried over: the phase's evidence starts again, which only
 * ever makes a decision later, never looser.
 */
export function parseJudgeState(value: unknown): JudgeState {
  const fail = (path: string, rule: string): never => {
    throw new Error(`invalid judge state: ${path} ${rule}`);
  };
  if (typeof value !== "object" || value === null) fail("(root)", "must be an object");
  const v = value as Record<string, unknown>;
  if (v.version === 1) return newJudgeState();
  if (v.version !== 2) fail("version", "must be 2");
  if (v.phaseKey !== null && typeof v.phaseKey !== "string") fail("phaseKey", "must be a string or null");
  for (const key of ["windowsJudged", "extensionsUsed", "historyWindows"]) {
    if (!isCount(v[key]) || !Number.isInteger(v[key])) fail(key, "must be an integer ≥ 0");
  }
  if (v.lastWindowEnd !== null && !isNumber(v.lastWindowEnd)) fail("lastWindowEnd", "must be a number or null");
  const metrics = v.metrics as Record<string, Record<string, unknown>> | undefined;
  const scatter = v.scatter as Record<string, Record<string, unknown>> | undefined;
  if (typeof metrics !== "object" || metrics === null) fail("metrics", "must be an object");
  if (typeof scatter !== "object" || scatter === null) fail("scatter", "must be an object");
  for (const metric of JUDGE_METRICS) {
    const acc = metrics![metric];
    if (typeof acc !== "object" || acc === null) fail(`metrics.${metric}`, "must be an object");
    for (const key of ["greenRequests", "greenCount", "blueRequests", "blueCount", "extraVariance", "dispersion", "effectiveCount", "effectiveRequests"]) {
      if (!isCount(acc![key])) fail(`metrics.${metric}.${key}`, "must be a number ≥ 0");
    }
    const logLik = acc!.logLik;
    if (!Array.isArray(logLik) || logLik.length !== RHO_GRID.length || !logLik.every(isNumber)) {
      fail(`metrics.${metric}.logLik`, `must be ${RHO_GRID.length} finite numbers`);
    }
    const s = scatter![metric];
    if (typeof s !== "object" || s === null) fail(`scatter.${metric}`, "must be an object");
    for (const key of ["q", "df", "c", "k", "sw", "sw2", "swd", "swd2"]) if (!isNumber(s![key])) fail(`scatter.${metric}.${key}`, "must be a number");
  }
  parseBlue(v.blue, fail);
  parseReference(v.reference, fail);
  const streak = v.ceilingStreak as Record<string, unknown> | undefined;
  if (typeof streak !== "object" || streak === null) fail("ceilingStreak", "must be an object");
  for (const key of ["windows", "errors", "requests", "lastErrors", "lastRequests"])
    if (!isCount(streak![key])) fail(`ceilingStreak.${key}`, "must be a number ≥ 0");
  return structuredClone(value as JudgeState);
}

function parseBlue(value: unknown, fail: (path: string, rule: string) => never): void {
  const blue = value as Record<string, unknown> | undefined;
  if (typeof blue !== "object" || blue === null) fail("blue", "must be an object");
  const at = blue!.at;
  if (!Array.isArray(at) || !at.every(isNumber)) fail("blue.at", "must be numbers");
  for (const key of ["requests", "errors"]) {
    const list = blue![key];
    if (!Array.isArray(list) || list.length !== (at as unknown[]).length || !list.every(isCount)) fail(`blue.${key}`, "must be counts, one per window");
  }
  const slow = blue!.slow;
  if (!Array.isArray(slow) || slow.length !== (at as unknown[]).length || !slow.every((x) => x === null || isCount(x)))
    fail("blue.slow", "must be counts or null, one per window");
}

function parseReference(value: unknown, fail: (path: string, rule: string) => never): void {
  if (value === null) return;
  const reference = value as Record<string, unknown> | undefined;
  if (typeof reference !== "object" || reference === null) fail("reference", "must be an object or null");
  for (const metric of JUDGE_METRICS) {
    const r = reference![metric] as Record<string, unknown> | null | undefined;
    if (r === null) continue;
    if (typeof r !== "object" || r === undefined) fail(`reference.${metric}`, "must be an object or null");
    if (r!.source !== "cutover" && r!.source !== "pre-cutover") fail(`reference.${metric}.source`, 'must be "cutover" or "pre-cutover"');
    for (const key of ["requests", "count", "rate", "minuteVariance", "clumping", "historyWindows"]) {
      if (!isCount(r![key])) fail(`reference.${metric}.${key}`, "must be a number ≥ 0");
    }
    if (r!.detectableRatio !== null && !isCount(r!.detectableRatio)) fail(`reference.${metric}.detectableRatio`, "must be a number or null");
  }
}

/** Judged phases of a plan: every step with a bake, plus the monitoring window (at least 1). */
export function judgedPhasesOf(plan: { steps: readonly { bakeMs: number }[]; monitorMs: number }): number {
  return Math.max(1, plan.steps.filter((step) => step.bakeMs > 0).length + (plan.monitorMs > 0 ? 1 : 0));
}
