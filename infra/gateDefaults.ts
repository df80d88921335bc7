// rollout.gates when the config leaves it out; also fills keys a journaled plan from an older
// version lacks. Its own module, free of zod: the engine's judge reads it, and the judge is on
// `npm run rollback`'s start-up path, which must not load the config schema (infra/config.ts).

export const GATE_DEFAULTS = {
  falseRollbackBudget: 0.01,
  minErrorRatio: 2,
  minErrorIncrease: 0.005,
  minSlowRatio: 1.5,
  minSlowIncrease: 0.02,
  slowThreshold: { from: "blue-p95" as const },
  largestRegression: 5,
  maxExtensions: 10,
  onUndecided: "fail" as const,
  errorRateCeiling: 0.1,
  ceilingMinErrors: 10,
  maxConsecutiveMetricErrors: 3,
  minHealthyTargets: 1,
};

/**
 * The warm-up skipped at the start of every step when rollout.gates.warmupSeconds is not set: a
 * color that just got more traffic fills caches, JIT and pools for a minute or two (and one-minute
 * metrics windows are aligned, so part of a third may go too); after a paired switch green also
 * drains the writes the fence held back.
 */
export const WARMUP_SECONDS_BY_MODE = { shared: 120, paired: 180 } as const;
