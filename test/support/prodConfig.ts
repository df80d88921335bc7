// The tests' one way to the example stack config: Pulumi.prod.yaml with every REPLACE-ME-<what>
// placeholder replaced by the realistic value test/fixtures/placeholder-values.yaml gives it
// (the committed file itself is refused until an operator fills it in). Every test that uses the
// example as a working config goes through here.

import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { filledExampleConfig } from "../../scripts/cli/exampleConfig.js";

const ROOT = join(import.meta.dirname, "../..");

/** The repository's Pulumi.prod.yaml, filled in (comments and layout as committed). */
export function filledProdConfig(): string {
  return filledExampleConfig(ROOT);
}

/** Writes the filled-in Pulumi.prod.yaml to `path`, through `edit` first when given. */
export async function writeFilledProdConfig(path: string, edit: (text: string) => string = (text) => text): Promise<void> {
  await writeFile(path, edit(filledProdConfig()));
}

/** The repository's Pulumi.prod.yaml as committed, placeholders and all (what the refusal tests feed the commands). */
export function committedProdConfig(): string {
  return readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8");
}

/** Every key of the committed Pulumi.prod.yaml that holds a placeholder, with the token, as config errors name them. */
export const COMMITTED_PLACEHOLDERS: readonly { path: string; token: string }[] = [
  { path: "loadBalancer.accessLogs.bucket", token: "REPLACE-ME-alb-log-bucket" },
  { path: "app.alarms.actionsTopicArn", token: "REPLACE-ME-alarm-topic-arn" },
  { path: "app.blue.amiId", token: "REPLACE-ME-ami-id" },
  { path: "app.blue.containerImage", token: "REPLACE-ME-registry" },
  { path: "app.green.amiId", token: "REPLACE-ME-ami-id" },
  { path: "app.green.containerImage", token: "REPLACE-ME-registry" },
  { path: "traffic.https.certificateArn", token: "REPLACE-ME-certificate-arn" },
  { path: "rollout.hooks.0.command", token: "REPLACE-ME-smoke-test-command" },
];
