// The guard's Lambda entry point (infra/guard.ts bundles this file with esbuild into index.js,
// handler "index.handler", runtime nodejs24.x). One JSON log line per invocation says what it
// decided and why; the rollback itself is journaled like any other (see ./guard.ts).
//
// The deadline: the function's remaining time minus GUARD_CLEANUP_RESERVE_MS is the rollback's
// (deps.rollbackDeadline); every AWS call carries the deadline's signal, and once it has passed,
// the reserve's (for the failed-rollback journal save and the lock release), as in `rollback`.

import { elbSdk, ssmSdk } from "../../aws/sdk.js";
import { clientConfig } from "../../aws/errors.js";
import {
  createGuardDeps,
  GUARD_CLEANUP_RESERVE_MS,
  GUARD_ENV,
  parseGuardConfig,
  runGuard,
  type AlarmStateChangeEvent,
  type GuardOutcome,
  type GuardWiring,
} from "./awsGuard.js";

export interface LambdaContext {
  functionName?: string;
  awsRequestId?: string;
  /** Lambda's: milliseconds left before the function's timeout. */
  getRemainingTimeInMillis?: () => number;
}

export async function handler(event: AlarmStateChangeEvent, context: LambdaContext = {}): Promise<GuardOutcome> {
  return runHandler(event, context);
}

/**
 * The handler with its replication port replaceable (tests: a fake over the mocked AWS calls), and
 * `deadline`, a signal that ends the work like the function's remaining time does (tests abort it
 * on an event instead of waiting for a timer).
 */
export async function runHandler(
  event: AlarmStateChangeEvent,
  context: LambdaContext,
  ports: Pick<GuardWiring, "replication"> & { deadline?: AbortSignal } = {},
): Promise<GuardOutcome> {
  const config = parseGuardConfig(process.env[GUARD_ENV]);
  const settings = clientConfig(config.region);
  const work = new AbortController();
  const hard = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  const reason = new Error(`the guard's deadline (the function's timeout less ${GUARD_CLEANUP_RESERVE_MS / 1000} s for recording the outcome) has passed`);
  const remainingMs = context.getRemainingTimeInMillis?.();
  if (remainingMs !== undefined) {
    timers.push(setTimeout(() => work.abort(reason), Math.max(0, remainingMs - GUARD_CLEANUP_RESERVE_MS)));
    timers.push(setTimeout(() => hard.abort(reason), Math.max(0, remainingMs - 1_000)));
  }
  const { deadline, ...wiring } = ports;
  deadline?.addEventListener("abort", () => work.abort(reason), { once: true });
  const deps = createGuardDeps(
    config,
    { ssm: new (ssmSdk().SSMClient)(settings), elb: new (elbSdk().ElasticLoadBalancingV2Client)(settings) },
    { signal: () => (work.signal.aborted ? hard.signal : work.signal), ...wiring },
  );
  const invocation = `${context.functionName ?? "lambda"} ${context.awsRequestId ?? "local"}`;
  try {
    const deadlineAt = remainingMs !== undefined ? Date.now() + remainingMs - GUARD_CLEANUP_RESERVE_MS : undefined;
    const outcome = await runGuard(deps, config, event, invocation, { rollbackDeadline: work.signal }, deadlineAt);
    // A rollback that could not verify blue is an error: Lambda records the failure and retries the
    // invocation (infra/guard.ts); its one log line is the error's, below.
    if (outcome.acted && outcome.outcome !== "rolled-back") throw new Error(`guard rollback ${outcome.outcome}: ${outcome.reason}`);
    console.log(JSON.stringify({ guard: config.stack, databaseMode: config.databaseMode, alarm: event.detail?.alarmName ?? null, ...outcome }));
    return outcome;
  } catch (error) {
    console.error(JSON.stringify({ guard: config.stack, error: (error as Error).message }));
    throw error;
  } finally {
    for (const timer of timers) clearTimeout(timer);
    await deps.close().catch(() => undefined);
  }
}
