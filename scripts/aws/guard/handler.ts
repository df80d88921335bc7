// The guard's Lambda entry point (infra/guard.ts bundles this file with esbuild into index.js,
// handler "index.handler", runtime nodejs20.x). One JSON log line per invocation says what it
// decided and why; the rollback itself is journaled like any other (see ./guard.ts).

import { elbSdk, ssmSdk } from "../sdk.js";
import { clientConfig } from "../errors.js";
import { createGuardDeps, GUARD_ENV, parseGuardConfig, runGuard, type AlarmStateChangeEvent, type GuardOutcome } from "./guard.js";

interface LambdaContext {
  functionName?: string;
  awsRequestId?: string;
}

export async function handler(event: AlarmStateChangeEvent, context: LambdaContext = {}): Promise<GuardOutcome> {
  const config = parseGuardConfig(process.env[GUARD_ENV]);
  const settings = clientConfig(config.region);
  const deps = createGuardDeps(config, { ssm: new (ssmSdk().SSMClient)(settings), elb: new (elbSdk().ElasticLoadBalancingV2Client)(settings) });
  const invocation = `${context.functionName ?? "lambda"} ${context.awsRequestId ?? "local"}`;
  try {
    const outcome = await runGuard(deps, config, event, invocation);
    console.log(JSON.stringify({ guard: config.stack, alarm: event.detail?.alarmName ?? null, ...outcome }));
    // A rollback that could not verify blue is an error: Lambda records the failure, EventBridge's retry policy tries again.
    if (outcome.acted && outcome.outcome !== "rolled-back") throw new Error(`guard rollback ${outcome.outcome}: ${outcome.reason}`);
    return outcome;
  } catch (error) {
    console.error(JSON.stringify({ guard: config.stack, error: (error as Error).message }));
    throw error;
  }
}
