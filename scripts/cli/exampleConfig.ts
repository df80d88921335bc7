// The repository's example stack config (Pulumi.prod.yaml) as an operator would fill it in: every
// REPLACE-ME-<what> placeholder replaced by the realistic value test/fixtures/placeholder-values.yaml
// gives it. For the tools that must run the example as a deployable stack (the generated docs
// examples, bench:rollback, the tests' harness); operators never go through here.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { fillPlaceholders, findPlaceholders } from "../../infra/placeholders.js";

export const EXAMPLE_CONFIG = "Pulumi.prod.yaml";
export const PLACEHOLDER_VALUES = "test/fixtures/placeholder-values.yaml";

/** The stand-in value of each placeholder token, from the fixture under `root`. */
export function placeholderValues(root: string): Record<string, string> {
  const values: unknown = parse(readFileSync(join(root, PLACEHOLDER_VALUES), "utf8"));
  if (values === null || typeof values !== "object" || Array.isArray(values)) throw new Error(`${PLACEHOLDER_VALUES}: expected a map of placeholder to value`);
  for (const [token, value] of Object.entries(values)) {
    if (typeof value !== "string" || findPlaceholders(value).length > 0) throw new Error(`${PLACEHOLDER_VALUES}: ${token} must map to a real value`);
  }
  return values as Record<string, string>;
}

/** The example config's text with every placeholder filled in; throws naming any placeholder the fixture has no value for. */
export function filledExampleConfig(root: string): string {
  const filled = fillPlaceholders(readFileSync(join(root, EXAMPLE_CONFIG), "utf8"), placeholderValues(root));
  const left = findPlaceholders((parse(filled) as { config?: unknown }).config);
  if (left.length > 0) throw new Error(`${PLACEHOLDER_VALUES} has no value for ${left.map(({ path, tokens }) => `${tokens.join(", ")} (${path})`).join("; ")}`);
  return filled;
}
