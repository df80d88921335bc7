// The previous judge, frozen: bench/judge.ts runs it beside the current one on the same traffic.
// Not used by the product; do not change it (the comparison is only meaningful against the original).
//
// The statistical judge's public types. Pure data: no I/O, no clock.
//
// What the judge does, in one paragraph. Over the windows of one phase (a bake step, or the
// monitoring after 100%), it compares green's share of errors (and of slow requests) with blue's
// over the SAME minutes. Conditional on the errors both colors made in a window, green's errors are
// Binomial(n, θ) with θ = ρ·g / (ρ·g + b), where g and b are the requests each color served and ρ is
// the ratio green rate / blue rate. A mixture of likelihood ratios over ρ ≥ the smallest regression
// worth catching, against ρ = 1, multiplied over windows, is a nonnegative supermartingale while green
// is no worse than blue, so by Ville's inequality "fail when it reaches 1/α" keeps the probability of
// rolling back a good release below α however often the judge looks. This is the conditional test for
// time-inhomogeneous Poisson counts of Lindon & Malek, "Anytime-Valid Inference for Multinomial Count
// Data", NeurIPS 2022 (arXiv:2011.03567), with a discrete mixture over ρ (Robbins 1970; Johari,
// Pekelis & Walsh, "Always Valid Inference", Operations Research 2022; docs/gates.md). The same likelihoods, read the
// other way, give an anytime-valid upper bound on ρ: the regression size the evidence rules out.
// When green carries 100% there is no concurrent blue: green is compared with blue's rate pooled
// over this cutover's earlier windows (or the pre-cutover baseline), frozen at the phase's start.
//
// How the bake module uses it (scripts/core/engine/bake.ts, H3b):
//   const settings = resolveJudgeSettings(plan.gates, { judgedPhases });   // once per run
//   let state = journal.judge ?? newJudgeState();                          // survives a resume
//   each poll: const verdict = judgeStep(settings, state, newWindows, context);
//              state = verdict.state; journal.judge = state; persist; act on verdict.decision;
//              log describeVerdict(verdict).

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
   * Requests slower than the latency bound (JudgeSettings.slowThreshold; TC(bound:) on AWS, the
   * sandbox's histogram). null: no latency data in this window — the window then adds no latency
   * evidence (it is never read as "no slow requests").
   */
  slow: number | null;
  /** Reported, not judged (the thresholds mode judges them). */
  p95Ms?: number | null;
  p99Ms?: number | null;
}

/**
 * One window of evidence. The bake module passes only windows that belong to the step (start at or
 * after the step's verified time plus the source's publication delay; straddling windows dropped) and
 * whose observed split is consistent with the weights. Each window is counted once: a window that
 * ends at or before the last one already judged (state.lastWindowEnd) is ignored, so re-sending
 * windows after a resume is harmless.
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
   * blue's rate is near 0 and a ratio says nothing.
   *
   * The two forms meet at the reference rate r* = minIncrease / (minRatio − 1) (0.5% for errors with
   * ×2 / +0.5 points). A regression of size k (k = minRatio: the smallest worth catching; k =
   * largestRegression: the large one) is green's rate ≥ blue's + (k − 1) × max(blue's rate, r*):
   * a ratio above r*, an absolute increase below it. The fail test is the ratio test over the grid
   * ρ ≥ minRatio (which, with blue at 0 errors, also fails green for errors blue does not make);
   * promotion needs the size-k regression ruled out in either form.
   */
  minIncrease: number;
}

/** Everything the judge needs, resolved from rollout.gates and the plan. Plain data (journaled with the plan). */
export interface JudgeSettings {
  /** "sequential" (default): this judge; "thresholds": the old per-window gates (scripts/core/gates.ts), for comparison. */
  mode: "sequential" | "thresholds";
  /** Probability of rolling back a release as good as blue, over the whole cutover (default 0.01). */
  falseRollbackBudget: number;
  /** Phases the budget is split over (steps with a bake, plus monitoring). */
  judgedPhases: number;
  /** falseRollbackBudget / (judgedPhases × 2 metrics): the α of one metric's test in one phase. */
  alphaPerTest: number;
  /**
   * Confidence of the "rules out" statements (the upper bound on the regression, used to promote).
   * 0.05 = a 95% anytime-valid bound. Not part of the false-rollback budget: it bounds the chance
   * that a regression larger than the one claimed ruled out gets promoted.
   */
  ruleOutAlpha: number;
  errors: MetricEffect;
  slow: MetricEffect;
  /**
   * The "large" regression (× factor, default 5) a decision must at least rule out. Its absolute
   * counterpart is (largestRegression − 1) × max(blue's rate, r*) (see MetricEffect.minIncrease).
   */
  largestRegression: number;
  /** Extra windows a bake may take when the traffic did not decide by the end of the bake. */
  maxExtensions: number;
  /** What happens when even the extensions did not decide: fail (default) or promote. Never promotes without green requests. */
  onUndecided: "fail" | "promote";
  /** Hard ceiling: green's 5xx rate in one window above this fails at once (with ceilingMinErrors). */
  errorRateCeiling: number;
  /** The ceiling needs at least this many green errors in the window (one error in ten requests is not a breach). */
  ceilingMinErrors: number;
  /** How the slow bound is chosen (for the metrics plumbing and the report; the judge only sees counts). */
  slowThreshold: SlowThreshold;
  /** Thresholds mode only: the old gate config, evaluated per window by gates.ts. */
  thresholds: {
    maxErrorRate: number;
    errorRateFactor: number;
    errorRateMargin: number;
    maxP95Ms: number;
    p95Factor: number;
    minRequests: number;
    inconclusiveExtensions: number;
  };
}

/** Where the phase is; the bake module builds it from the plan and the journal. */
export interface JudgeContext {
  /**
   * Identifies the phase ("step-1", "step-2", "monitoring"). When it differs from the state's, the
   * judge starts a new phase: the per-phase evidence is cleared, blue's cutover baseline is kept.
   */
  phaseKey: string;
  phase: "baking" | "monitoring";
  /** Green's share from the verified weights, 0 < share ≤ 1 (monitoring: 1). */
  greenShare: number;
  /** Windows the bake needs before it may promote (plan.pollsRequired or monitorPollsRequired). */
  windowsRequired: number;
  /**
   * Blue's counts from before the cutover (e.g. the last hour of RequestCount and 5xx), used as the
   * reference at 100% when this cutover has no earlier concurrent windows (all-at-once). Optional.
   */
  preCutoverBaseline?: { requests: number; errors: number; slowRequests: number; slow: number } | null;
}

/** Accumulated evidence for one metric in the current phase. Internal; part of JudgeState. */
export interface MetricAccumulator {
  greenRequests: number;
  greenCount: number;
  blueRequests: number;
  blueCount: number;
  /** Σ over windows of the log-likelihood at each grid point of ρ (RHO_GRID in statistics.ts), relative to ρ = 1, rounded to 1e-6. */
  logLik: number[];
}

/** The rate green is compared with when blue has no concurrent traffic, frozen at the phase's start. */
export interface FrozenReference {
  /** Where it comes from: blue's windows earlier in this cutover, or the pre-cutover baseline. */
  source: "cutover" | "pre-cutover";
  requests: number;
  count: number;
  /** Upper confidence bound on blue's rate (the conservative reference: a false rollback needs green above it). */
  rate: number;
}

/**
 * Everything that must survive a resume. JSON-serialisable (numbers, strings, arrays, plain objects;
 * no Infinity/NaN), about 2 KB. Treat as opaque: create with newJudgeState(), store verdict.state after each call,
 * restore with parseJudgeState() (which validates the shape).
 */
export interface JudgeState {
  version: 1;
  phaseKey: string | null;
  /** Windows judged in this phase (toward windowsRequired + extensionsUsed). */
  windowsJudged: number;
  extensionsUsed: number;
  /** End of the newest window judged in this phase; older windows are ignored. */
  lastWindowEnd: number | null;
  metrics: Record<JudgeMetric, MetricAccumulator>;
  /** Reference mode (green at 100%): the frozen references; null in concurrent mode. */
  reference: Record<JudgeMetric, FrozenReference | null> | null;
  /** Blue's totals over every concurrent window of this cutover (all phases). */
  blueBaseline: { requests: number; errors: number; slowRequests: number; slow: number };
  /** Thresholds mode: passing windows in this phase. */
  thresholdPasses: number;
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
  /** concurrent: green vs blue over the same windows; reference: green vs a frozen blue rate (100%); none: nothing to compare with. */
  comparison: "concurrent" | "reference" | "none";
  greenCount: number;
  greenRequests: number;
  /** Concurrent: blue over the same windows. Reference: the frozen reference's counts. */
  blueCount: number;
  blueRequests: number;
  /** The mixture likelihood ratio (e-value) against "green no worse than blue"; 1 = no evidence. */
  statistic: number;
  /** 1 / alpha: the statistic fails the metric at this value. */
  boundary: number;
  ruledOut: RuledOut;
  /** regression: statistic ≥ boundary; ruled-out: the large regression ruled out (minimal: also ×minRatio); open: neither yet. */
  status: "regression" | "ruled-out-minimal" | "ruled-out-large" | "open";
  /**
   * About how many more green requests (at the current rates) until the large regression (status open)
   * or the minimal one (status ruled-out-large) is ruled out; null when nothing more is needed or no
   * estimate exists (no green traffic at all).
   */
  neededGreenRequests: number | null;
}

export interface CeilingCheck {
  breached: boolean;
  /** The worst window: green errors and requests in it; null when no window had green requests. */
  worst: { errors: number; requests: number; start: number; end: number } | null;
  ceiling: number;
  minErrors: number;
}

export interface JudgeVerdict {
  decision: JudgeDecision;
  /** The state to journal (a new object; the input state is not modified). */
  state: JudgeState;
  mode: JudgeSettings["mode"];
  phaseKey: string;
  /** Windows counted in this phase so far / needed (windowsRequired + extensions used). */
  windowsJudged: number;
  windowsNeeded: number;
  extensionsUsed: number;
  maxExtensions: number;
  evidence: Record<JudgeMetric, MetricEvidence>;
  ceiling: CeilingCheck;
  /** Why: one sentence per reason with its counts, operator-readable (for breach messages and the report). */
  reasons: string[];
  /** The decision in one short sentence, without the counts (describeVerdict adds those). */
  summary: string;
  /** Thresholds mode: the per-window gate verdicts of this call (for the gate-reading events); empty in sequential mode. */
  gateVerdicts: import("./gates.js").GateVerdict[];
  /** Windows of the call that were ignored (already judged, or empty-range), with why. */
  ignoredWindows: { start: number; end: number; why: string }[];
}

/** expectedTimeToDecision's answer, for the traffic-aware plan (`cutover --dry-run`). */
export interface TimeToDecision {
  /** Green requests per minute at this share. */
  greenPerMinute: number;
  /** Minutes until an identical release rules out the smallest regression (×minRatio): it promotes at the end of a bake at least this long. null: never at this traffic. */
  ruleOutMinimalMinutes: number | null;
  /** Minutes until an identical release rules out the large regression (×largestRegression): below this the bake extends. null: never. */
  ruleOutLargeMinutes: number | null;
  /** Minutes until a regression of the smallest size worth catching is detected with about 95% probability. null: never. */
  detectMinimalMinutes: number | null;
  /** Minutes until a regression of the large size is detected with about 95% probability. null: never. */
  detectLargeMinutes: number | null;
  /** The metric that takes longest (errors at low baseline rates, usually). */
  slowestMetric: JudgeMetric;
}

// ---------------------------------------------------------------------------------------------
// The functions (implemented in the modules beside this one, exported from ./index.ts).

/** Options for resolveJudgeSettings. */
export interface ResolveJudgeOptions {
  /** Phases judged in this cutover: steps with a bake plus monitoring (≥ 1). The budget is split over them. */
  judgedPhases: number;
}

/** resolveJudgeSettings(gates, options): JudgeSettings — rollout.gates (validated config) → settings. */
export type ResolveJudgeSettings = (gates: import("./settings.js").LegacyGateConfig, options: ResolveJudgeOptions) => JudgeSettings;
/** newJudgeState(): an empty state (no phase yet, empty blue baseline). */
export type NewJudgeState = () => JudgeState;
/** parseJudgeState(value): a state read back from the journal, validated; throws Error naming the bad field. */
export type ParseJudgeState = (value: unknown) => JudgeState;
/**
 * judgeStep(settings, state, windows, context): add the new windows to the phase's evidence and decide.
 * Pure; never throws on data (bad counts are ignored windows with a reason); throws only on invalid settings.
 * Call it once per poll with the windows that became available (possibly none: then it decides on what it has).
 */
export type JudgeStep = (settings: JudgeSettings, state: JudgeState, windows: readonly JudgeWindow[], context: JudgeContext) => JudgeVerdict;
/** describeVerdict(verdict): one decision line with counts, statistic and boundary per metric. */
export type DescribeVerdict = (verdict: JudgeVerdict) => string;
/**
 * expectedTimeToDecision(settings, trafficPerMinute, share, baselineRate): how long a phase at this
 * traffic (all colors, requests per minute), green share (0 < share ≤ 1) and baseline error rate takes
 * to decide, for an identical release and for a regression (blue's slow share assumed 5% with the blue-p95
 * bound, 1% with blue-p99 or a fixed bound). At share 1 the reference is taken to be exactly the baseline.
 */
export type ExpectedTimeToDecision = (settings: JudgeSettings, trafficPerMinute: number, share: number, baselineRate: number) => TimeToDecision;
