// The SSM Parameter Store scaffolding the lock, the journal and the weights parameter share:
// the names (`/bluegreen/<project>/<stack>/<what>`), the tiers' size limits, and get / put /
// delete with the command's AbortSignal and the error classification of ./errors.ts.
//
// Sizes (Systems Manager quotas): a Standard parameter's value holds at most 4 KB (4,096
// characters), an Advanced one 8 KB; "Intelligent-Tiering" creates a Standard parameter while the
// value fits and an Advanced one once it does not (an Advanced parameter never goes back). SSM
// answers a larger value with ValidationException; the journal checks before it sends.

import type { SSMClient } from "@aws-sdk/client-ssm";
import { awsErrorCode, classifyAwsError, sendOptions, type SignalSource } from "./errors.js";
import { ssmSdk } from "./sdk.js";

const { DeleteParameterCommand, GetParameterCommand, PutParameterCommand } = ssmSdk();

/** Largest value of a Standard-tier parameter, in bytes. */
export const SSM_STANDARD_MAX_BYTES = 4096;
/** Largest value of an Advanced-tier parameter, in bytes. */
export const SSM_ADVANCED_MAX_BYTES = 8192;

/** SSM parameter names: letters, digits and _ . - / only; a Pulumi name uses no other characters. */
const SSM_NAME_PART = /^[A-Za-z0-9_.-]+$/;

/** Which stack the parameters belong to: the Pulumi project and the stack's short name. */
export interface StackIdentity {
  project: string;
  stack: string;
}

/** `/bluegreen/<project>/<stack>`: the prefix of every parameter the scripts keep for a stack. */
export function ssmParameterPrefix(identity: StackIdentity): string {
  for (const [what, value] of [
    ["project", identity.project],
    ["stack", identity.stack],
  ] as const) {
    if (!SSM_NAME_PART.test(value) || value === "." || value === "..")
      throw new Error(`${what} ${JSON.stringify(value)} cannot be part of an SSM parameter name`);
  }
  return `/bluegreen/${identity.project}/${identity.stack}`;
}

/** `/bluegreen/<project>/<stack>/<leaf>` (leaf: lock, journal, weights, journal/part/…). */
export function stackParameterName(identity: StackIdentity, leaf: string): string {
  for (const part of leaf.split("/")) {
    if (!SSM_NAME_PART.test(part)) throw new Error(`${JSON.stringify(leaf)} cannot be part of an SSM parameter name`);
  }
  return `${ssmParameterPrefix(identity)}/${leaf}`;
}

/**
 * `/bluegreen/<project>/<stack>/approval`: where an orchestrated rollout waiting for `pause: promote`
 * keeps the approval's task token (`{ runId, step, taskToken, recordedAt }` as JSON, a SecureString:
 * the token grants the approval). The advance Lambda writes it; `promote` reads it, sends the token
 * back to Step Functions and deletes it.
 */
export function approvalParameterName(identity: StackIdentity): string {
  return stackParameterName(identity, "approval");
}

export interface SsmParameterOptions {
  /** The AbortSignal for each call (the command's deadline). */
  signal?: SignalSource;
}

export interface PutOptions {
  overwrite: boolean;
  tier?: "Standard" | "Advanced" | "Intelligent-Tiering";
  description?: string;
  /** Default String; SecureString encrypts the value with the account's aws/ssm key. */
  type?: "String" | "SecureString";
}

/** Get / put / delete one parameter at a time, each call carrying the deadline's signal. */
export class SsmParameters {
  constructor(
    private readonly client: SSMClient,
    private readonly options: SsmParameterOptions = {},
  ) {}

  /** The value, or null when the parameter does not exist. `decrypt`: a SecureString's plain value. */
  async get(name: string, options: { decrypt?: boolean } = {}): Promise<string | null> {
    const abort = this.options.signal?.();
    try {
      const out = await this.client.send(new GetParameterCommand({ Name: name, ...(options.decrypt ? { WithDecryption: true } : {}) }), sendOptions(abort));
      return out.Parameter?.Value ?? null;
    } catch (error) {
      if (awsErrorCode(error) === "ParameterNotFound") return null;
      throw classifyAwsError(error, `GetParameter ${name}`, abort);
    }
  }

  /** PutParameter (String). With overwrite false, ParameterAlreadyExists is returned as false, not thrown. */
  async put(name: string, value: string, options: PutOptions): Promise<boolean> {
    const abort = this.options.signal?.();
    try {
      await this.client.send(
        new PutParameterCommand({
          Name: name,
          Value: value,
          Type: options.type ?? "String",
          Overwrite: options.overwrite,
          ...(options.tier ? { Tier: options.tier } : {}),
          ...(options.description ? { Description: options.description } : {}),
        }),
        sendOptions(abort),
      );
      return true;
    } catch (error) {
      if (!options.overwrite && awsErrorCode(error) === "ParameterAlreadyExists") return false;
      throw classifyAwsError(error, `PutParameter ${name}`, abort);
    }
  }

  /** DeleteParameter; a parameter that is already gone is not an error. */
  async delete(name: string): Promise<void> {
    const abort = this.options.signal?.();
    try {
      await this.client.send(new DeleteParameterCommand({ Name: name }), sendOptions(abort));
    } catch (error) {
      if (awsErrorCode(error) === "ParameterNotFound") return;
      throw classifyAwsError(error, `DeleteParameter ${name}`, abort);
    }
  }
}
