// The `rollout` policy's defaults, one copy: the config schema (infra/rolloutConfig.ts) fills a
// config with them, and the engine falls back on them where a plan or a config is missing (a
// journaled plan from an older version, a rollback whose config cannot be read). Free of zod:
// the engine's judge and `npm run rollback` read them on its start-up path, which must not load
// the config schema (infra/config.ts).

/** rollout.gates when the config leaves it out; also fills keys a journaled plan from an older version lacks. */
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

/** The CloudWatch alarms' fixed limits when app.alarms leaves them out (what the guard acts on). */
export const ALARM_DEFAULTS = { evaluationPeriods: 3, errorCountThreshold: 10, errorRateThreshold: 0.01, p95ThresholdMs: 1000 };

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
