// The `rollout` policy's defaults, one copy: the config schema (infra/rolloutConfig.ts) fills a
// config with them, and the engine falls back on them where a plan or a config is missing (a
// journaled plan from an older version, a rollback whose config cannot be read). Free of zod:
// the engine's judge and `npm run rollback` read them on its start-up path, which must not load
// the config schema (infra/config.ts).

/** rollout.gates when the config leaves it out; also fills keys a journaled plan from an older version lacks. */
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

/** The rest of `rollout` when the config leaves it out. */
export const ROLLOUT_DEFAULTS = {
  strategy: { type: "canary" as const, steps: [5, 25, 100] },
  bakeSeconds: 300,
  pollIntervalSeconds: 60,
  monitorSeconds: 300,
  verifyTimeoutSeconds: 60,
  snapshot: { enabled: true, timeoutSeconds: 3600 },
  parityMaxAgeSeconds: 3600,
  capacity: { mode: "check" as const, headroom: 0, scaleTimeoutSeconds: 900, scaleDownBlue: false },
  blueKeepSeconds: 3600,
  migrationsDir: "migrations",
  contractAfterSeconds: 3600,
  /** Paired mode: after the write fence reads back, how long writes already inside the apps get to commit. */
  fenceDrainSeconds: 3,
  hookTimeoutSeconds: 60,
};

/** What the engine itself falls back on (not in the config): read-back polling and the paired catch-up. */
export const ENGINE_DEFAULTS = {
  /** How often the engine reads weights back while verifying a write. */
  verifyIntervalMs: 1_000,
  /** A rollback's read-back bound when the journal holds no plan (rollout.verifyTimeoutSeconds). */
  verifyTimeoutMs: ROLLOUT_DEFAULTS.verifyTimeoutSeconds * 1000,
  /** Paired mode: how long the fenced switch (and a rollback) waits for replication to catch up. */
  catchUpTimeoutMs: 30_000,
};
