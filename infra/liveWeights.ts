// Who owns the live weights (README "Who owns the weights"):
// one SSM parameter per stack, `/bluegreen/<project>/<stack>/weights`, holds the weights traffic
// is at, as JSON {"blue":95,"green":5}. The scripts write it after every weight they reach
// (scripts/aws/weightsParameter.ts); the program declares it with ignoreChanges on its value and
// builds the listener's forward action from what it reads there at preview time, so a `pulumi up`
// from CI or a second checkout agrees with live traffic. Config `traffic.weights` only seeds the
// parameter while it does not exist yet (the stack's first `pulumi up`).
//
// While a cutover or rollback holds the lock (`/bluegreen/<project>/<stack>/lock`, the scripts'
// SsmLock), the weights are moving: the program refuses to run, naming the holder and the
// command that finishes or undoes the move.
//
// How the parameters are read (a get-if-exists at preview time): one GetParametersByPath on the
// stack's hierarchy (aws.ssm.getParametersByPath, a data-source invoke through the program's own
// AWS provider). A parameter that does not exist is simply absent from the answer, and every
// real failure (AccessDenied, throttling, no network) fails the program. The alternatives were
// worse: aws.ssm.getParameter throws for a missing parameter, and catching that invoke error
// cannot tell ParameterNotFound from AccessDenied short of matching the provider's error text, a
// silent seed-from-config on a permission error being exactly the traffic move this prevents;
// calling the SSM SDK from the program would read with the language host's credential chain and
// region instead of the provider's (its profile, assumeRole, region), i.e. maybe another account.
// One call also reads lock and weights from the same moment.
//
// Pure except for readLiveWeights: the decision is unit-tested without the Pulumi runtime.

import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { tags } from "./tags.js";

export interface LiveWeights {
  blue: number;
  green: number;
}

/** The lock document the scripts write (scripts/core/ports.ts LockHolder). */
interface LockDocument {
  owner?: unknown;
  operation?: unknown;
  since?: unknown;
}

/** `/bluegreen/<project>/<stack>`: the stack's SSM hierarchy (lock, journal, weights). */
export function stackParameterPath(project: string, stack: string): string {
  return `/bluegreen/${project}/${stack}`;
}

export function weightsParameterName(project: string, stack: string): string {
  return `${stackParameterPath(project, stack)}/weights`;
}

export function lockParameterName(project: string, stack: string): string {
  return `${stackParameterPath(project, stack)}/lock`;
}

/** The parameter's value for these weights (what the scripts write too). */
export function encodeWeights(weights: LiveWeights): string {
  return JSON.stringify({ blue: weights.blue, green: weights.green });
}

export interface WeightsDecision {
  weights: LiveWeights;
  /** "parameter": read from SSM; "config": the parameter does not exist yet, config seeds it. */
  source: "parameter" | "config";
}

function describeHolder(text: string): string {
  let holder: LockDocument = {};
  try {
    holder = JSON.parse(text) as LockDocument;
  } catch {
    return "an unreadable holder";
  }
  const owner = typeof holder.owner === "string" ? holder.owner : "an unknown owner";
  const operation = typeof holder.operation === "string" ? holder.operation : "an operation";
  const since = typeof holder.since === "number" && Number.isFinite(holder.since) ? ` since ${new Date(holder.since).toISOString()}` : "";
  return `${operation} by ${owner}${since}`;
}

/**
 * From the parameters found under the stack's path (name → value): the weights the listener must
 * carry. Throws pulumi.RunError (printed without a stack trace) while the lock is held, or when the
 * weights parameter holds something that is not two percentages summing to 100.
 */
export function decideWeights(
  found: Record<string, string>,
  names: { weights: string; lock: string },
  seed: LiveWeights,
  options: { greenEnabled: boolean },
): WeightsDecision {
  const lock = found[names.lock];
  if (lock !== undefined) {
    throw new pulumi.RunError(
      `traffic is being moved: ${names.lock} is held (${describeHolder(lock)}). ` +
        "`pulumi preview`/`up` would race the scripts for the listener's weights, so it stops here. " +
        "Finish the move with `npm run cutover -- --resume` or undo it with `npm run rollback`, then run Pulumi again.",
    );
  }
  const text = found[names.weights];
  if (text === undefined) return { weights: seed, source: "config" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const p = (parsed && typeof parsed === "object" ? parsed : {}) as Record<string, unknown>;
  const isPercent = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 100;
  if (!isPercent(p.blue) || !isPercent(p.green) || p.blue + p.green !== 100) {
    throw new pulumi.RunError(
      `${names.weights} does not hold the live weights as {"blue": 0-100, "green": 0-100} summing to 100 (it holds ${JSON.stringify(text.slice(0, 80))}). ` +
        `Put the weights traffic is at: aws ssm put-parameter --overwrite --name ${names.weights} --value '{"blue":100,"green":0}'`,
    );
  }
  if (!options.greenEnabled && p.green !== 0) {
    throw new pulumi.RunError(
      `${names.weights} gives green ${p.green}% but app.green.enabled is false: roll back first (\`npm run rollback\`), then disable green`,
    );
  }
  return { weights: { blue: p.blue, green: p.green }, source: "parameter" };
}

/** Reads lock and weights with one GetParametersByPath (see the top of this file) and decides. */
export async function readLiveWeights(project: string, stack: string, seed: LiveWeights, options: { greenEnabled: boolean }): Promise<WeightsDecision> {
  const path = stackParameterPath(project, stack);
  const result = await aws.ssm.getParametersByPath({ path, recursive: false, withDecryption: false });
  const found: Record<string, string> = {};
  result.names.forEach((name, index) => {
    const value = result.values[index];
    if (value !== undefined) found[name] = value;
  });
  return decideWeights(found, { weights: weightsParameterName(project, stack), lock: lockParameterName(project, stack) }, seed, options);
}

export interface WeightsParameterArgs {
  /** The weights the parameter starts with when the program creates it. */
  initial: LiveWeights;
}

/** The SSM parameter itself; its value belongs to the scripts after creation. */
export function weightsParameter(
  name: string,
  project: string,
  stack: string,
  args: WeightsParameterArgs,
  opts: pulumi.CustomResourceOptions,
): aws.ssm.Parameter {
  return new aws.ssm.Parameter(
    name,
    {
      name: weightsParameterName(project, stack),
      type: "String",
      tier: "Standard",
      value: encodeWeights(args.initial),
      description: "bluegreen: the live weights; written by npm run cutover/rollback, read by every pulumi preview/up",
      // A parameter the scripts created before this stack declared it is adopted: the value
      // written is the one just read from it (readLiveWeights), so nothing moves.
      overwrite: true,
      tags: tags(name),
    },
    { ...opts, ignoreChanges: ["value"] },
  );
}
