// Lock over SSM Parameter Store: `/bluegreen/<stack>/lock`.
//
// PutParameter with Overwrite=false is an atomic create: of two operators racing, exactly one
// succeeds and the other gets ParameterAlreadyExists, reads the holder and is told who holds it.
// Release deletes the parameter only when we are the holder. That check-then-delete is the one
// non-atomic step (SSM has no conditional delete); it can only misfire if someone force-breaks our
// lock and a third run acquires it inside the milliseconds between our read and our delete.
//
// Why not DynamoDB (conditional writes and deletes, TTL)? It needs a table in the stack and one
// more SDK client on rollback's start-up path, for a lock that is taken a few times a day by
// humans; SSM needs no infrastructure beyond IAM and is atomic where it matters (acquire).

import type { SSMClient } from "@aws-sdk/client-ssm";
import { LockHeldError, type Lock, type LockHolder } from "../core/ports.js";
import { awsErrorCode, classifyAwsError } from "./errors.js";
import { ssmSdk } from "./sdk.js";

const { DeleteParameterCommand, GetParameterCommand, PutParameterCommand } = ssmSdk();

export function ssmParameterPrefix(stack: string): string {
  return `/bluegreen/${stack}`;
}

export class SsmLock implements Lock {
  readonly name: string;

  constructor(
    private readonly client: SSMClient,
    stack: string,
  ) {
    this.name = `${ssmParameterPrefix(stack)}/lock`;
  }

  async acquire(holder: LockHolder): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.client.send(
          new PutParameterCommand({
            Name: this.name,
            Value: JSON.stringify(holder),
            Type: "String",
            Overwrite: false,
            Description: "bluegreen: who is moving traffic for this stack (delete only with rollback --force)",
          }),
        );
        return;
      } catch (error) {
        if (awsErrorCode(error) !== "ParameterAlreadyExists") throw classifyAwsError(error, `PutParameter ${this.name}`);
      }
      const current = await this.current();
      if (current) throw new LockHeldError(current);
      // Released between our create and our read: try again.
    }
    throw new Error(`could not acquire ${this.name}: it keeps appearing and disappearing`);
  }

  async current(): Promise<LockHolder | null> {
    try {
      const out = await this.client.send(new GetParameterCommand({ Name: this.name }));
      return parseHolder(out.Parameter?.Value);
    } catch (error) {
      if (awsErrorCode(error) === "ParameterNotFound") return null;
      throw classifyAwsError(error, `GetParameter ${this.name}`);
    }
  }

  async release(owner: string): Promise<void> {
    const holder = await this.current();
    if (!holder || holder.owner !== owner) return;
    await this.delete();
  }

  async breakLock(): Promise<LockHolder | null> {
    const holder = await this.current();
    if (holder) await this.delete();
    return holder;
  }

  private async delete(): Promise<void> {
    try {
      await this.client.send(new DeleteParameterCommand({ Name: this.name }));
    } catch (error) {
      if (awsErrorCode(error) === "ParameterNotFound") return;
      throw classifyAwsError(error, `DeleteParameter ${this.name}`);
    }
  }
}

function parseHolder(value: string | undefined): LockHolder {
  try {
    const parsed = JSON.parse(value ?? "") as Partial<LockHolder>;
    if (typeof parsed.owner === "string" && typeof parsed.since === "number" && typeof parsed.operation === "string") {
      const holder: LockHolder = { owner: parsed.owner, since: parsed.since, operation: parsed.operation };
      if (typeof parsed.runId === "string") holder.runId = parsed.runId;
      return holder;
    }
  } catch {
    // fall through: someone wrote the parameter by hand
  }
  return { owner: `unknown (unreadable lock value ${JSON.stringify((value ?? "").slice(0, 80))})`, since: 0, operation: "unknown" };
}
