// The live weights' one owner (README "Who owns the weights", infra/liveWeights.ts): the SSM
// parameter `/bluegreen/<project>/<stack>/weights`, JSON {"blue":95,"green":5}. The engine's
// WeightRecorder port: after every weight a cutover or rollback reaches (and verifies), it is
// written here with PutParameter Overwrite=true, so the next `pulumi preview`/`up`, wherever it
// runs (CI, another checkout), builds the listener's forward action from it and moves nothing.
//
// The Pulumi program declares the parameter (ignoreChanges on its value); a stack deployed before
// that still works: Overwrite=true creates the parameter, and the program adopts it at its next
// `pulumi up` with the value it reads. Only Name, Value, Type and Overwrite are sent: PutParameter
// refuses Tags together with Overwrite, and the description and tags stay the program's.

import type { SSMClient } from "@aws-sdk/client-ssm";
import type { WeightRecorder, Weights } from "../core/ports.js";
import type { SignalSource } from "./errors.js";
import { SsmParameters, stackParameterName } from "./ssmParameters.js";

/** Which stack: the Pulumi project and the stack's short name (from the stack outputs). */
export interface WeightsParameterIdentity {
  project: string;
  stack: string;
}

/** Same name as infra/liveWeights.ts weightsParameterName (test/unit/weightsParameter.test.ts checks they agree). */
export function weightsParameterName(identity: WeightsParameterIdentity): string {
  return stackParameterName(identity, "weights");
}

/** The parameter's value (infra/liveWeights.ts encodeWeights writes the same). */
export function encodeWeights(weights: Weights): string {
  return JSON.stringify({ blue: weights.blue, green: weights.green });
}

/** The weights a value holds, or null when it is not two percentages summing to 100 (status shows that as invalid). */
export function decodeWeights(value: string | undefined): Weights | null {
  if (value === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  const p = (parsed && typeof parsed === "object" ? parsed : {}) as Record<string, unknown>;
  const ok = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 100;
  return ok(p.blue) && ok(p.green) && p.blue + p.green === 100 ? { blue: p.blue, green: p.green } : null;
}

export type ParameterWeights = { exists: false } | { exists: true; weights: Weights | null; raw: string };

export class SsmWeightsParameter implements WeightRecorder {
  readonly name: string;
  private readonly parameters: SsmParameters;

  constructor(
    client: SSMClient,
    identity: WeightsParameterIdentity,
    /** The command's deadline (rollback): each call is aborted with it. */
    options: { signal?: SignalSource } = {},
  ) {
    this.name = weightsParameterName(identity);
    this.parameters = new SsmParameters(client, options);
  }

  async record(weights: Weights): Promise<void> {
    await this.parameters.put(this.name, encodeWeights(weights), { overwrite: true });
  }

  /** What the parameter holds now (for `status`). */
  async read(): Promise<ParameterWeights> {
    const raw = await this.parameters.get(this.name);
    return raw === null ? { exists: false } : { exists: true, weights: decodeWeights(raw), raw };
  }
}
