// Placeholders in a stack config: values an operator must replace before anything is deployed
// (a certificate ARN, a log bucket, an AMI, an image registry, a hook command ...). The example
// Pulumi.prod.yaml writes each as `REPLACE-ME-<what>`, alone or inside a value
// (`REPLACE-ME-registry/booking-app:1.9.0`). The config parser refuses a config that still holds
// one, naming every key, so the example can never be deployed or cut over by mistake.
//
// Pure: no Pulumi, no AWS, no zod; the scripts load it on their start-up path.

/** Every placeholder starts with this marker; matched in any letter case (S3 bucket names are lower-case). */
export const PLACEHOLDER_MARKER = "REPLACE-ME";

/** One placeholder token: the marker and its `-<what>` suffix, up to the first character that is not a letter, digit or dash. */
const TOKEN = /replace-me[a-z0-9-]*/gi;

export interface Placeholder {
  /** Dotted path inside the stack config, as config errors name it (`traffic.https.certificateArn`, `rollout.hooks.0.command`). */
  path: string;
  /** The placeholder tokens found there; only the tokens, never the rest of the value (which may be a secret). */
  tokens: string[];
}

function tokensIn(text: string): string[] {
  return [...text.matchAll(TOKEN)].map((match) => match[0]);
}

function visit(value: unknown, path: string, found: Placeholder[]): void {
  if (typeof value === "string") {
    const tokens = tokensIn(value);
    if (tokens.length > 0) found.push({ path, tokens });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => visit(item, `${path}.${index}`, found));
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const childPath = path === "" ? key : `${path}.${key}`;
      const keyTokens = tokensIn(key);
      if (keyTokens.length > 0) found.push({ path: childPath, tokens: keyTokens });
      visit(item, childPath, found);
    }
  }
}

/** Every key of a plain config object ({ region, network, app, ... }) whose value (or name) holds a placeholder, in document order. */
export function findPlaceholders(config: unknown): Placeholder[] {
  const found: Placeholder[] = [];
  visit(config, "", found);
  return found;
}

/**
 * The text with each placeholder token replaced by its value (`values` maps tokens as written,
 * e.g. `REPLACE-ME-ami-id`, to what stands in their place). A token without a value is left as it is:
 * the config parser then names it.
 */
export function fillPlaceholders(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(TOKEN, (token) => values[token] ?? token);
}

/** The config error lines for placeholders found: the key, and the tokens it still holds. */
export function placeholderIssues(found: readonly Placeholder[]): { path: string; message: string }[] {
  return found.map(({ path, tokens }) => ({
    path,
    message: `still holds ${tokens.join(", ")}`,
  }));
}

/** The first line of the refusal: how many keys still hold a placeholder (a rollback's warning shows only this line). */
export function placeholderHeadline(source: string, found: readonly Placeholder[]): string {
  const keys = found.length === 1 ? "1 key still holds a placeholder" : `${found.length} keys still hold placeholders`;
  return `${source}: ${keys} (${PLACEHOLDER_MARKER}-...): replace each with this stack's own value before \`pulumi up\` or a cutover`;
}
