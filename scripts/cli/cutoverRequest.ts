// What `npm run cutover`'s flags ask of the engine: the cutover request (hook environment, resume,
// early continue, the PROCEED question), the rollback command its Ctrl-C policy names, and the
// flags a Step Functions rollout cannot honour.

import type { StackOutputs } from "../../infra/vocabulary/stackOutputs.js";
import type { StackConfig } from "../../infra/config.js";
import type { OpenStack } from "../app/stack.js";
import type { CutoverRequest } from "../core/engine.js";
import type { CutoverOptions } from "./cutoverOptions.js";

export interface CutoverOperator {
  owner: string;
  /** Absent with --yes. */
  confirm?: () => Promise<boolean>;
}

export function cutoverRequest(
  opened: OpenStack,
  config: StackConfig,
  outputs: StackOutputs,
  options: CutoverOptions,
  operator: CutoverOperator,
): CutoverRequest {
  return {
    rollout: config.rollout,
    databaseMode: outputs.databaseMode,
    owner: operator.owner,
    stack: opened.short,
    hookEnv: {
      BLUEGREEN_STACK: opened.short,
      BLUEGREEN_ALB_DNS: outputs.albDnsName,
      BLUEGREEN_TEST_HEADER: outputs.testHeader,
      BLUEGREEN_REGION: outputs.region,
    },
    ...(options.skipSnapshot !== undefined ? { skipSnapshot: options.skipSnapshot } : {}),
    ...(options.resume ? { resume: true } : {}),
    ...(options.now ? { pauseNow: true } : {}),
    ...(operator.confirm ? { confirm: operator.confirm } : {}),
  };
}

/** The command the operator is told to run when a second Ctrl-C leaves traffic where it was. */
export function rollbackCommandFor(opened: OpenStack, options: CutoverOptions): string {
  return `npm run rollback -- --stack ${opened.name}${options.outputs ? ` --outputs ${options.outputs}` : ""}${options.config ? ` --config ${options.config}` : ""} --force`;
}

/** Flags given that a rollout on Step Functions does not support. */
export function unsupportedWhenOrchestrated(options: CutoverOptions): string[] {
  return [options.now && "--now", options.skipSnapshot !== undefined && "--skip-snapshot", options.writeConfig && "--write-config"].filter(
    (flag): flag is string => typeof flag === "string",
  );
}
