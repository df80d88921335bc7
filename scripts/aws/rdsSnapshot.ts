// Snapshotter over RDS: CreateDBSnapshot of blue's instance, then the SDK's own waiter
// (waitUntilDBSnapshotAvailable) until it is available, bounded by the caller's timeout.

import type { RDSClient } from "@aws-sdk/client-rds";
import type { Snapshot, Snapshotter } from "../core/ports.js";
import { awsCall, classifyAwsError } from "./errors.js";
import { rdsSdk } from "./sdk.js";

const { CreateDBSnapshotCommand, waitUntilDBSnapshotAvailable } = rdsSdk();

/**
 * RDS snapshot identifiers: letters, digits, hyphens; a letter first; no "--"; no trailing "-"; ≤ 255.
 * `bluegreen-<stack>-<label>`; the time is appended when the label carries none (the engine's
 * labels hold the run id, which starts with the run's time).
 */
export function snapshotIdentifier(stack: string, label: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-").toLowerCase();
  const core = label.replace(/^bluegreen-/i, "");
  const raw = `bluegreen-${stack}-${core}${/\d{6}/.test(core.replace(/\D/g, "")) ? "" : `-${stamp}`}`.toLowerCase();
  const cleaned = raw.replace(/[^a-z0-9-]+/g, "-").replace(/-{2,}/g, "-").replace(/^[^a-z]+/, "").replace(/-+$/, "");
  return cleaned.slice(0, 255).replace(/-+$/, "");
}

export interface RdsSnapshotOptions {
  stack: string;
  /** Blue's DB instance identifier. */
  instanceId: string;
  now?: () => Date;
  /** Waiter polling bounds in seconds (tests shorten them). */
  minDelaySeconds?: number;
  maxDelaySeconds?: number;
}

export class RdsSnapshotter implements Snapshotter {
  constructor(
    private readonly client: RDSClient,
    private readonly options: RdsSnapshotOptions,
  ) {}

  async snapshot(label: string, timeoutMs: number): Promise<Snapshot> {
    const now = this.options.now ?? (() => new Date());
    const id = snapshotIdentifier(this.options.stack, label, now());
    await awsCall(`CreateDBSnapshot ${this.options.instanceId} → ${id}`, () =>
      this.client.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: this.options.instanceId,
          DBSnapshotIdentifier: id,
          Tags: [
            { Key: "bluegreen:stack", Value: this.options.stack },
            { Key: "bluegreen:label", Value: label },
          ],
        }),
      ),
    );
    const maxWaitSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    try {
      await waitUntilDBSnapshotAvailable(
        {
          client: this.client,
          maxWaitTime: maxWaitSeconds,
          minDelay: this.options.minDelaySeconds ?? 15,
          maxDelay: this.options.maxDelaySeconds ?? 60,
        },
        { DBSnapshotIdentifier: id },
      );
    } catch (error) {
      throw waiterError(error, id, maxWaitSeconds);
    }
    return { id, availableAt: now().getTime() };
  }
}

/** The SDK waiter throws TimeoutError / a JSON-encoded result; say what happened in words. */
function waiterError(error: unknown, id: string, maxWaitSeconds: number): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes("Waiter has timed out")) return new Error(`snapshot ${id} was not available after ${maxWaitSeconds}s (rollout.snapshot.timeoutSeconds)`);
  if (message.startsWith("{")) {
    try {
      const result = JSON.parse(message) as { state?: string; reason?: unknown };
      return new Error(`snapshot ${id} did not become available (${result.state ?? "failed"}${result.reason ? `: ${JSON.stringify(result.reason).slice(0, 300)}` : ""})`);
    } catch {
      // not the waiter's JSON: classify below
    }
  }
  return classifyAwsError(error, `waiting for snapshot ${id}`);
}
