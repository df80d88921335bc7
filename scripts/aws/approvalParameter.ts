// The approval an orchestrated rollout waits for (`pause: promote`): the rollout state machine's
// AwaitApproval task hands the advance Lambda a task token, which it keeps here until `promote`
// sends it back to Step Functions (SendTaskSuccess) and deletes it. One parameter per stack,
// `/bluegreen/<project>/<stack>/approval`, a SecureString: whoever holds the token can release
// the pause. Encrypted with the account's AWS managed key aws/ssm, whose key policy lets any
// principal of the account use it through SSM, so the roles need no KMS statement.

import type { SSMClient } from "@aws-sdk/client-ssm";
import type { SignalSource } from "./errors.js";
import { approvalParameterName, SsmParameters, type StackIdentity } from "./ssmParameters.js";

/** What the parameter holds (JSON). */
export interface PendingApproval {
  runId: string;
  /** 0-based step of the `pause: promote` waiting. */
  step: number;
  taskToken: string;
  /** Epoch ms when the Lambda recorded it. */
  recordedAt: number;
}

/** The port the advance handler records an approval's token through. */
export interface ApprovalStore {
  record(approval: PendingApproval): Promise<void>;
}

export function encodePendingApproval(approval: PendingApproval): string {
  return JSON.stringify({ runId: approval.runId, step: approval.step, taskToken: approval.taskToken, recordedAt: approval.recordedAt });
}

/** The approval a value holds, or null when it is not one. */
export function decodePendingApproval(value: string | null): PendingApproval | null {
  if (value === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  const p = (parsed && typeof parsed === "object" ? parsed : {}) as Record<string, unknown>;
  if (typeof p.runId !== "string" || p.runId.length === 0) return null;
  if (typeof p.step !== "number" || !Number.isInteger(p.step) || p.step < 0) return null;
  if (typeof p.taskToken !== "string" || p.taskToken.length === 0) return null;
  if (typeof p.recordedAt !== "number" || !Number.isFinite(p.recordedAt)) return null;
  return { runId: p.runId, step: p.step, taskToken: p.taskToken, recordedAt: p.recordedAt };
}

export class SsmApprovalParameter implements ApprovalStore {
  readonly name: string;
  private readonly parameters: SsmParameters;

  constructor(client: SSMClient, identity: StackIdentity, options: { signal?: SignalSource } = {}) {
    this.name = approvalParameterName(identity);
    this.parameters = new SsmParameters(client, options);
  }

  /** Overwrites: a token left by an earlier pause can never be answered anyway (its task is gone). */
  async record(approval: PendingApproval): Promise<void> {
    await this.parameters.put(this.name, encodePendingApproval(approval), {
      overwrite: true,
      type: "SecureString",
      description: "bluegreen: the task token of the orchestrated rollout's pending approval (promote sends it back)",
    });
  }

  /** The pending approval, or null when there is none (or it is not readable as one). */
  async read(): Promise<PendingApproval | null> {
    return decodePendingApproval(await this.parameters.get(this.name, { decrypt: true }));
  }

  async delete(): Promise<void> {
    await this.parameters.delete(this.name);
  }
}
