// `npm run cutover`'s input, all read and checked before any AWS call: the stack, its config and
// rollout policy, its outputs (cross-checked with the config), the hook commands, the webhook and
// the write fence paired mode needs. Anything wrong is exit 2 having changed nothing.

import type { StackConfig } from "../../infra/config.js";
import type { StackOutputs } from "../../infra/vocabulary/stackOutputs.js";
import { crossCheck } from "../app/cutover.js";
import { openStack, type OpenStack } from "../app/stack.js";
import { checkHookCommands } from "../hooks/hookCommands.js";
import { validateWebhook, type Io } from "./args.js";
import { UsageError } from "./common.js";
import type { CutoverOptions } from "./cutoverOptions.js";

export interface CutoverInput {
  opened: OpenStack;
  config: StackConfig;
  outputs: StackOutputs;
  webhookUrl: string | undefined;
}

export async function readCutoverInput(options: CutoverOptions, io: Io): Promise<CutoverInput> {
  const opened = await openStack(options, io, { configFirst: true });
  const config = await opened.config();
  const webhookUrl = validateWebhook(options.webhook ?? config.rollout.webhookUrl);
  const outputs = opened.outputs();
  crossCheck(config, outputs, opened.configPath, opened.raw.source);
  await checkHookCommands(config.rollout.hooks, { cwd: io.cwd, path: io.env.PATH, configPath: opened.configPath });
  if (outputs.databaseMode === "paired" && outputs.fenceRuleArns.length === 0) {
    throw new UsageError(`database.mode paired needs the write fence, and the stack outputs (${opened.raw.source}) list no fenceRuleArns: run \`pulumi up\``);
  }
  return { opened, config, outputs, webhookUrl };
}
