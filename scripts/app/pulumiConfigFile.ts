// Pulumi.<stack>.yaml on disk: load and validate it (infra/config.ts), and, opt-in
// (`--write-config`), write the weights a cutover or rollback reaches into `bluegreen:traffic.weights`.
// The live weights' owner is the stack's SSM weights parameter (scripts/aws/weightsParameter.ts,
// README "Who owns the weights"); this file's weights only seed it, so the write-back is a courtesy
// for operators who want the file to follow, never what keeps `pulumi up` in step.
//
// The write-back edits the parsed YAML document in place (the `yaml` library's Document API), so
// comments, key order, flow sequences and quoting stay as the operator wrote them; only the two
// numbers change. It writes a temporary file beside the original and renames it over, so a crash
// leaves either the old file or the new one, never half of each.

import type { Document } from "yaml";
import type { StackConfig } from "../../infra/config.js";
import type { WeightRecorder, Weights } from "../core/ports.js";
import { writeFileAtomic } from "../fs/atomicFile.js";
import { UsageError } from "../core/errors.js";
import { readInputFile } from "./inputFiles.js";

/** infra/config.ts PROJECT + ":traffic"; spelled out so this module does not load zod on rollback's path. */
const TRAFFIC_KEY = "bluegreen:traffic";

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readInputFile(path, what);
  } catch (error) {
    if (error instanceof UsageError && (error as { code?: string }).code !== "ENOENT") throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new UsageError(`${what} ${path} does not exist (is the stack name right? pass --stack NAME or --config FILE)`);
    throw new UsageError(`${what} ${path} cannot be read: ${(error as Error).message}`);
  }
}

async function parseYamlDocument(path: string, text: string): Promise<Document> {
  const { parseDocument } = await import("yaml");
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const where = first.linePos?.[0] ? `:${first.linePos[0].line}:${first.linePos[0].col}` : "";
    throw new UsageError(`${path}${where}: not valid YAML: ${first.message.split("\n")[0]}`);
  }
  return doc;
}

function configMapOf(path: string, doc: Document): Record<string, unknown> {
  let root: unknown;
  try {
    root = doc.toJS() as unknown;
  } catch (error) {
    // The yaml library refuses documents whose aliases expand without bound (a "billion laughs").
    throw new UsageError(`${path}: not usable YAML: ${(error as Error).message.split("\n")[0]} (remove the anchors/aliases that multiply)`);
  }
  const config = root && typeof root === "object" ? (root as Record<string, unknown>).config : undefined;
  if (!config || typeof config !== "object" || Array.isArray(config)) {
    throw new UsageError(`${path}: expected a top-level "config:" map (the Pulumi stack config file)`);
  }
  return config as Record<string, unknown>;
}

/** Load and validate a stack config file. Throws UsageError (missing, bad YAML) or ConfigError (exit 2 both). */
export async function loadStackConfig(path: string): Promise<StackConfig> {
  const text = await readText(path, "stack config");
  const doc = await parseYamlDocument(path, text);
  const { parsePulumiConfigMap } = await import("../../infra/config.js");
  return parsePulumiConfigMap(configMapOf(path, doc), path);
}

/** The weights the config file declares (no full validation: `status` shows drift even when the rest is broken). */
export async function readConfigWeights(path: string): Promise<Weights | null> {
  const doc = await parseYamlDocument(path, await readText(path, "stack config"));
  const weights = (configMapOf(path, doc)[TRAFFIC_KEY] as { weights?: Partial<Weights> } | undefined)?.weights;
  if (!weights || !Number.isInteger(weights.blue) || !Number.isInteger(weights.green)) return null;
  return { blue: weights.blue!, green: weights.green! };
}

/** Set `bluegreen:traffic.weights` in the YAML text; comments and formatting elsewhere are kept. */
export async function withWeights(path: string, text: string, weights: Weights): Promise<string> {
  const doc = await parseYamlDocument(path, text);
  if (!doc.hasIn(["config", TRAFFIC_KEY])) throw new UsageError(`${path}: no config."${TRAFFIC_KEY}" to record weights in`);
  doc.setIn(["config", TRAFFIC_KEY, "weights", "blue"], weights.blue);
  doc.setIn(["config", TRAFFIC_KEY, "weights", "green"], weights.green);
  return doc.toString({ flowCollectionPadding: false, lineWidth: 0 });
}

export { writeFileAtomic };

/** WeightRecorder for --write-config: each weight reached also goes into Pulumi.<stack>.yaml. */
export class PulumiConfigWeightRecorder implements WeightRecorder {
  constructor(readonly path: string) {}

  async record(weights: Weights): Promise<void> {
    const text = await readText(this.path, "stack config");
    const next = await withWeights(this.path, text, weights);
    if (next !== text) await writeFileAtomic(this.path, next);
  }
}
