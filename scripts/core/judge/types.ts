// The statistical judge's public types. Pure data: no I/O, no clock.
//
// What the judge does, in one paragraph. Over the windows of one phase (a bake step, or the
// monitoring after 100%), it compares green's rate of errors (and of slow requests) with blue's.
// While both colors serve traffic the comparison is over the SAME minutes: conditional on the
// events both colors had in a window, green's are Binomial(n, θ), θ = ρ·g / (ρ·g + b), with g and b
// the requests each color served and ρ = green's rate / blue's, so whatever moves both colors
// together cancels (Lindon & Malek, "Anytime-Valid Inference for Multinomial Count Data", NeurIPS
// 2022). Real traffic moves each color on its own too, more than binomial noise: each window's
// likelihood is tempered by its real variance over its binomial one, estimated from the scatter
// between the windows and from blue's own movement before the cutover (./dispersion.ts), and no
// single window may add more than a bounded share of the evidence. A mixture of these tempered
// likelihood ratios over ρ ≥ the smallest regression worth catching, multiplied over windows, fails
// the metric when it reaches 1/α; read the other way it rules regressions out. At 100% there is no
// concurrent blue: green is compared with blue's recent level, widened by how much blue itself
// moves from minute to minute and drifts over the hour. Operator's view: docs/gates.md.
//
// How the bake module uses it (scripts/core/engine/bake.ts):
//   const settings = judgeSettingsOf(plan);                                 // once per run
//   let state = journal.judge ?? newJudgeState();                          // survives a resume
//   once, before the first weight moves: state = withBlueHistory(state, blue's windows);
//   each poll: const verdict = judgeStep(settings, state, newWindows, context);
//              journal.judge = verdict.state; persist; act on verdict.decision.

/** The two metrics judged. */
export type JudgeMetric = "errors" | "slow";
export const JUDGE_METRICS: readonly JudgeMetric[] = ["errors", "slow"] as const;

/** One color's counts over one window. */
export interface ColorCounts {
  /** Requests the color served (ALB RequestCount per target group; sandbox router counter). */
  requests: number;
  /**
   * 5xx answers attributed to this color: the targets' own 5xx plus the ones the load balancer
   * answered for this color (502/503/504 on connection errors, timeouts, crashes).
   */
  errors: number;
  /**
   * Requests slower than the latency bound (JudgeSettings.slowThreshold). null: no latency data in
   * this window — the window then adds no latency evidence (it is never read as "no slow requests").
   */
  slow: number | null;
  /** Reported, not judged. */
  p95Ms?: number | null;
  p99Ms?: number | null;
}

/**
 * One window of evidence. Each window is counted once: a window that starts before the end of the
 * last one already judged (state.lastWindowEnd) is ignored, so re-sending windows after a resume
 * is harmless.
 */
export interface JudgeWindow {
  /** Epoch milliseconds, inclusive. */
  start: number;
  /** Epoch milliseconds, exclusive. */
  end: number;
  blue: ColorCounts;
  green: ColorCounts;
}

/** How the latency bound that makes a request "slow" is chosen (config rollout.gates.slowThreshold). */
export type SlowThreshold =
  /** Blue's p95 (or p99) read once before the first weight moves, then fixed for the whole cutover. */
  | { from: "blue-p95" | "blue-p99" }
  /** A fixed bound in milliseconds. */
  | { ms: number };

/** The smallest regression worth catching for one metric. */
export interface MetricEffect {
  /** Relative: green's rate ≥ blue's × minRatio (e.g. 2 for errors, 1.5 for the slow share). */
  minRatio: number;
  /**
   * Absolute: green's rate ≥ blue's + minIncrease (a fraction, 0.005 = +0.5 points). Matters where
   * blue's rate is near 0 and a ratio says nothing. The two forms meet at the reference rate
   * r* = minIncrease / (minRatio − 1); a regression of size k is green's rate ≥ blue's +
   * (k − 1) × max(blue's rate, r*).
   */
  minIncrease: number;
}

/** Everything the judge needs, resolved from rollout.gates and the plan. Plain data (journaled with the plan). */
export interface JudgeSettings {
  /** Probability of rolling back a release as good as blue, over the whole cutover (default 0.01). */
  falseRollbackBudget: number;
  /** Phases the budget is split over (steps with a bake, plus monitoring). */
  judgedPhases: number;
  /** falseRollbackBudget / (judgedPhases × 2 metrics): the α of one metric's test in one phase. */
  alphaPerTest: number;
  /** Confidence of the "rules out" statements (0.05 = a 95% anytime-valid bound). */
  ruleOutAlpha: number;
  errors: MetricEffect;
  slow: MetricEffect;
  /** The "large" regression (× factor, default 5) a decision must at least rule out. */
  largestRegression: number;
  /** Extra windows a bake may take when the traffic did not decide by the end of the bake. */
  maxExtensions: number;
  /** What happens when even the extensions did not decide: fail (default) or promote. Never promotes without green requests. */
  onUndecided: "fail" | "promote";
  /** Hard ceiling: green's 5xx rate above this in two windows in a row (with ceilingMinErrors between them) fails at once. */
  errorRateCeiling: number;
  /** Green errors the two windows above the ceiling must hold together. */
  ceilingMinErrors: number;
  /** How the slow bound is chosen (for the metrics plumbing and the report; the judge only sees counts). */
  slowThreshold: SlowThreshold;
  /** Windows that start less than this after a step's weights were verified are warm-up, not evidence. */
  warmupMs: number;
  /** The most one window may add to the fail test, as a share of what it needs (0.4: three windows at least). */
  windowShare: number;
}

/** Where the phase is; the bake module builds it from the plan and the journal. */
export interface JudgeContext {
  /**
   * Identifies the phase ("step-1", "step-2", "monitoring"). When it differs from the state's, the
   * judge starts a new phase: the per-phase evidence is cleared, blue's history is kept.
   */
  phaseKey: string;
  phase: "baking" | "monitoring";
  /** Green's share from the verified weights, 0 < share ≤ 1 (monitoring: 1). */
  greenShare: number;
  /** Windows the bake needs before it may promote (plan.pollsRequired or monitorPollsRequired). */
  windowsRequired: number;
}

/** Accumulated evidence for one metric in the current phase. Internal; part of JudgeState. */
export interface MetricAccumulator {
  greenRequests: number;
  greenCount: number;
  blueRequests: number;
  blueCount: number;
  /** Σ over windows of the tempered, bounded log-likelihood at each grid point of ρ (RHO_GRID), relative to ρ = 1. */
  logLik: number[];
  /** The extra per-window variance the last window was tempered with (log scale), for the report. */
  extraVariance: number;
  /** The factor the last window's likelihood was divided by (≥ 1). */
  dispersion: number;
  /** Green's counts divided by each window's factor: what green's own rate bound may claim under that dispersion. */
  effectiveCount: number;
  effectiveRequests: number;
}

/** The scatter of the concurrent windows' log ratios (./dispersion.ts). */
export type ScatterState = import("./dispersion.js").ScatterAccumulator;

/** Blue's recent windows (history before the cutover, then every concurrent window), oldest first. */
export interface BlueHistory {
  /** Window ends (epoch ms). */
  at: number[];
  requests: number[];
  errors: number[];
  /** Slow requests; null where the window had no latency data. */
  slow: (number | null)[];
}

/** What green is compared with at 100%, fixed when the phase starts. */
export interface FrozenReference {
  /** Blue's windows it comes from: before the cutover only, or including the cutover's steps. */
  source: "cutover" | "pre-cutover";
  /** Blue's pooled counts over its recent windows (the level). */
  requests: number;
  count: number;
  /** The rate green is compared with: blue's level raised by its uncertainty and the drift blue may show by the end of the phase. */
  rate: number;
  /** Blue's minute-to-minute variance of the log rate beyond binomial noise (tempers each window). */
  minuteVariance: number;
  /** The same as a factor on binomial variance, capped (clumped counts). */
  clumping: number;
  /** Blue windows behind the estimate of its movement (0: assumed, no history). */
  historyWindows: number;
  /** The smallest ratio this phase can detect with about 95% probability within its windows and extensions; null: none up to ×1024. */
  detectableRatio: number | null;
}

/**
 * Everything that must survive a resume. JSON-serialisable (numbers, strings, arrays, plain objects;
 * no Infinity/NaN), a few KB. Treat as opaque: create with newJudgeState(), store verdict.state
 * after each call, restore with parseJudgeState() (which validates the shape).
 */
export interface JudgeState {
  version: 2;
  phaseKey: string | null;
  /** Windows judged in this phase (toward windowsRequired + extensionsUsed). */
  windowsJudged: number;
  extensionsUsed: number;
  /** End of the newest window judged in this phase; older windows are ignored. */
  lastWindowEnd: number | null;
  metrics: Record<JudgeMetric, MetricAccumulator>;
  /** Concurrent windows' scatter, over the whole cutover. */
  scatter: Record<JudgeMetric, ScatterState>;
  blue: BlueHistory;
  /** Windows of blue's history that came before the cutover. */
  historyWindows: number;
  /** Green at 100%: the frozen references; null in concurrent mode. */
  reference: Record<JudgeMetric, FrozenReference | null> | null;
  /** Windows in a row (this phase) in which green's 5xx rate was above the ceiling; counts of the last two, and of the last one. */
  ceilingStreak: { windows: number; errors: number; requests: number; lastErrors: number; lastRequests: number };
}

export type JudgeDecision =
  /** A regression (or a ceiling breach) is shown: roll back now. */
  | "fail"
  /** The bake is over and the regression is ruled out (or onUndecided: promote after the extensions). */
  | "promote"
  /** Keep watching: the bake is not over. */
  | "continue"
  /** The bake is over but the traffic did not decide: one more window (extensionsUsed counts it). */
  | "extend"
  /** Out of extensions and not decided, onUndecided: fail (or no green request at all). Roll back. */
  | "undecided";

/** The size of regression the evidence rules out, in both forms. */
export interface RuledOut {
  /** Green's rate is below blue's × this (anytime-valid upper bound on ρ); null when the ratio is unbounded so far. */
  ratio: number | null;
  /** Green's rate is below this absolute rate (upper bound from green's own counts); null without green requests. */
  greenRateBelow: number | null;
}

export interface MetricEvidence {
  metric: JudgeMetric;
  /** concurrent: green vs blue over the same windows; reference: green vs blue's recent level (100%); none: nothing to compare with. */
  comparison: "concurrent" | "reference" | "none";
  greenCount: number;
  greenRequests: number;
  /** Concurrent: blue over the same windows. Reference: the reference's counts. */
  blueCount: number;
  blueRequests: number;
  /** The mixture likelihood ratio (e-value) against "green no worse than blue"; 1 = no evidence. */
  statistic: number;
  /** 1 / alpha: the statistic fails the metric at this value. */
  boundary: number;
  /** The per-window extra variance (log scale, beyond binomial) the evidence was tempered with. */
  extraVariance: number;
  /** The factor the newest window's likelihood was divided by (1: binomial). */
  dispersion: number;
  ruledOut: RuledOut;
  /**
   * regression: statistic ≥ boundary; ruled-out-minimal: the smallest regression worth catching is
   * ruled out; ruled-out-large: only the large one (×largestRegression) is; open: neither yet.
   */
  status: "regression" | "ruled-out-minimal" | "ruled-out-large" | "open";
  /** About how many more green requests (at the current rates) until the next rule-out; null when none needed or no estimate. */
  neededGreenRequests: number | null;
}

export interface CeilingCheck {
  breached: boolean;
  /** The windows above the ceiling in a row (their green errors and requests); null when none is. */
  streak: { windows: number; errors: number; requests: number } | null;
  ceiling: number;
  minErrors: number;
}

export interface JudgeVerdict {
  decision: JudgeDecision;
  /** The state to journal (a new object; the input state is not modified). */
  state: JudgeState;
  phaseKey: string;
  /** Windows counted in this phase so far / needed (windowsRequired + extensions used). */
  windowsJudged: number;
  windowsNeeded: number;
  extensionsUsed: number;
  maxExtensions: number;
  evidence: Record<JudgeMetric, MetricEvidence>;
  ceiling: CeilingCheck;
  /** At 100%: what this phase can detect at this traffic against blue's movement; null in concurrent phases. */
  detectable: { errors: number | null; slow: number | null } | null;
  /** Why: one sentence per reason with its counts, operator-readable (for breach messages and the report). */
  reasons: string[];
  /** The decision in one short sentence, without the counts (describeVerdict adds those). */
  summary: string;
  /** Windows of the call that were ignored (already judged, empty range, warm-up), with why. */
  ignoredWindows: { start: number; end: number; why: string }[];
}

/** expectedTimeToDecision's answer, for the traffic-aware plan (`cutover --dry-run`). */
export interface TimeToDecision {
  /** Green requests per minute at this share. */
  greenPerMinute: number;
  /** Minutes until an identical release rules out the smallest regression (×minRatio). null: never at this traffic. */
  ruleOutMinimalMinutes: number | null;
  /** Minutes until an identical release rules out the large regression (×largestRegression). null: never. */
  ruleOutLargeMinutes: number | null;
  /** Minutes until a regression of the smallest size worth catching is detected with about 95% probability. null: never. */
  detectMinimalMinutes: number | null;
  /** Minutes until a regression of the large size is detected with about 95% probability. null: never. */
  detectLargeMinutes: number | null;
  /** The metric that takes longest (errors at low baseline rates, usually). */
  slowestMetric: JudgeMetric;
  /** The chance an identical release is still undecided (not even the large regression ruled out) when the windows allowed run out. */
  undecidedChance: number;
}

/** Options for resolveJudgeSettings. */
export interface ResolveJudgeOptions {
  /** Phases judged in this cutover: steps with a bake plus monitoring (≥ 1). The budget is split over them. */
  judgedPhases: number;
  /** The warm-up when the config leaves it out depends on the database mode (a paired switch queues writes). */
  databaseMode?: "shared" | "paired";
}
