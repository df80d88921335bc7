// Lock over SSM Parameter Store: `/bluegreen/<project>/<stack>/lock`.
//
// The name carries the Pulumi project and stack (from the stack outputs), so two projects' `prod`
// stacks in one account and region never share a lock. The lock is owned by a token: the holder's
// run id (with its owner). When the SDK retries a PutParameter whose first attempt did succeed
// (the answer was lost), the retry gets ParameterAlreadyExists; reading the parameter back then
// shows our own token, and that is an acquired lock, not a lock held by someone else.
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
import { SsmParameters, stackParameterName, type SsmParameterOptions, type StackIdentity } from "./ssmParameters.js";

export { ssmParameterPrefix, type SsmParameterOptions, type StackIdentity } from "./ssmParameters.js";

/** The same holder: the token (run id) and the owner both match. */
function sameHolder(a: LockHolder, b: LockHolder): boolean {
  return a.runId !== undefined && a.runId === b.runId && a.owner === b.owner && a.operation === b.operation;
}

export class SsmLock implements Lock {
  readonly name: string;
  private readonly parameters: SsmParameters;

  constructor(client: SSMClient, identity: StackIdentity, options: SsmParameterOptions = {}) {
    this.name = stackParameterName(identity, "lock");
    this.parameters = new SsmParameters(client, options);
  }

  async acquire(holder: LockHolder): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const created = await this.parameters.put(this.name, JSON.stringify(holder), {
        overwrite: false,
        description: "bluegreen: who is moving traffic for this stack (delete only with rollback --force)",
      });
      if (created) return;
      const current = await this.current();
      // Our own token: an SDK retry of a PutParameter that had already succeeded.
      if (current && sameHolder(current, holder)) return;
      if (current) throw new LockHeldError(current);
      // Released between our create and our read: try again.
    }
    throw new Error(`could not acquire ${this.name}: it keeps appearing and disappearing`);
  }

  async current(): Promise<LockHolder | null> {
    const value = await this.parameters.get(this.name);
    return value === null ? null : parseHolder(value);
  }

  async release(owner: string): Promise<void> {
    const holder = await this.current();
    if (!holder || holder.owner !== owner) return;
    await this.parameters.delete(this.name);
  }

  async breakLock(): Promise<LockHolder | null> {
    const holder = await this.current();
    if (holder) await this.parameters.delete(this.name);
    return holder;
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
