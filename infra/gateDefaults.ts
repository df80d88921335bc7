// rollout.gates when the config leaves it out; also fills keys a journaled plan from an older
// version lacks. Its own module, free of zod: the engine's judge reads it, and the judge is on
// `npm run rollback`'s start-up path, which must not load the config schema (infra/config.ts).

export const GATE_DEFAULTS = {
  mode: "sequential" as const,
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
  maxErrorRate: 0.01,
  errorRateFactor: 2,
  errorRateMargin: 0.005,
  maxP95Ms: 1000,
  p95Factor: 1.5,
  minRequests: 50,
  inconclusiveExtensions: 3,
  maxConsecutiveMetricErrors: 3,
  minHealthyTargets: 1,
};
