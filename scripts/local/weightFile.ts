// The sandbox's owner of the live weights: a small JSON file in the run directory that the
// engine's WeightRecorder port writes each weight it reaches into (atomically), and the demo
// reads back for its summary. Production keeps that record elsewhere; the demo must not depend on the CLI's Pulumi stack-config write-back.

import type { WeightRecorder, Weights } from "../core/ports.js";
import { readTextIfExists, writeFileAtomic } from "../fs/atomicFile.js";

interface WeightRecord {
  format: "bluegreen-sandbox-weights";
  weights: Weights;
  recordedAt: string;
}

export class LocalWeightRecorder implements WeightRecorder {
  constructor(readonly path: string) {}

  async record(weights: Weights): Promise<void> {
    const record: WeightRecord = {
      format: "bluegreen-sandbox-weights",
      weights: { blue: weights.blue, green: weights.green },
      recordedAt: new Date().toISOString(),
    };
    await writeFileAtomic(this.path, `${JSON.stringify(record, null, 2)}\n`);
  }
}

/** The last weights recorded in `path`, or null when none were (or the file is not a record). */
export async function readRecordedWeights(path: string): Promise<Weights | null> {
  const text = await readTextIfExists(path);
  if (text === null) return null;
  try {
    const record = JSON.parse(text) as Partial<WeightRecord>;
    const weights = record.weights;
    if (record.format !== "bluegreen-sandbox-weights" || !weights || !Number.isInteger(weights.blue) || !Number.isInteger(weights.green)) return null;
    return { blue: weights.blue, green: weights.green };
  } catch {
    return null;
  }
}
