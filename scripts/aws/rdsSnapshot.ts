// Snapshotter over RDS: CreateDBSnapshot of blue's instance, then the SDK's own waiter
// (waitUntilDBSnapshotAvailable) until it is available, bounded by the caller's timeout.
//
// Idempotent: the identifier comes from the run's label (the run id), so a resumed run asks for
// the same snapshot again. CreateDBSnapshot then answers DBSnapshotAlreadyExists; when that
// snapshot is of our instance (DescribeDBSnapshots), it is ours: adopted, and waited for if it is
// still being created. A snapshot of that name of another instance is an error. The id is handed
// to `onCreated` before the wait starts, so the journal holds it while the run waits.

import type { RDSClient } from "@aws-sdk/client-rds";
import type { Snapshot, Snapshotter } from "../core/ports.js";
import { awsCall, awsErrorCode, classifyAwsError } from "./errors.js";
import { rdsSdk } from "./sdk.js";

const { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, waitUntilDBSnapshotAvailable } = rdsSdk();

/**
 * RDS snapshot identifiers: letters, digits, hyphens; a letter first; no "--"; no trailing "-"; ≤ 255.
 * `bluegreen-<stack>-<label>`; the time is appended when the label carries none (the engine's
 * labels hold the run id, which starts with the run's time).
 */
export function snapshotIdentifier(stack: string, label: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-").toLowerCase();
  const core = label.replace(/^bluegreen-/i, "");
  const raw = `bluegreen-${stack}-${core}${/\d{6}/.test(core.replace(/\D/g, "")) ? "" : `-${stamp}`}`.toLowerCase();
  const cleaned = raw
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "");
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

  async snapshot(label: string, timeoutMs: number, signal?: AbortSignal, onCreated?: (id: string) => Promise<void>): Promise<Snapshot> {
    const now = this.options.now ?? (() => new Date());
    const id = snapshotIdentifier(this.options.stack, label, now());
    const created = await this.create(id, label, signal);
    if (onCreated) await onCreated(id);
    if (created === "available") return { id, availableAt: now().getTime() };
    const maxWaitSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    try {
      await waitUntilDBSnapshotAvailable(
        {
          client: this.client,
          maxWaitTime: maxWaitSeconds,
          minDelay: this.options.minDelaySeconds ?? 15,
          maxDelay: this.options.maxDelaySeconds ?? 60,
          ...(signal ? { abortSignal: signal } : {}),
        },
        { DBSnapshotIdentifier: id },
      );
    } catch (error) {
      throw waiterError(error, id, maxWaitSeconds);
    }
    return { id, availableAt: now().getTime() };
  }

  /** Create the snapshot, or adopt ours of the same name (a resumed run). "available" when adopted already available. */
  private async create(id: string, label: string, signal: AbortSignal | undefined): Promise<"creating" | "available"> {
    const instance = this.options.instanceId;
    const options = signal ? { abortSignal: signal } : {};
    try {
      await this.client.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: instance,
          DBSnapshotIdentifier: id,
          Tags: [
            { Key: "bluegreen:stack", Value: this.options.stack },
            { Key: "bluegreen:label", Value: label },
          ],
        }),
        options,
      );
      return "creating";
    } catch (error) {
      if (awsErrorCode(error) !== "DBSnapshotAlreadyExists") throw classifyAwsError(error, `CreateDBSnapshot ${instance} → ${id}`);
    }
    const out = await awsCall(`DescribeDBSnapshots ${id}`, () => this.client.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }), options));
    const existing = (out.DBSnapshots ?? []).find((snapshot) => snapshot.DBSnapshotIdentifier === id);
    if (!existing || existing.DBInstanceIdentifier !== instance) {
      throw new Error(
        `snapshot ${id} already exists and is not of ${instance} (it is of ${existing?.DBInstanceIdentifier ?? "an unknown instance"}): not adopting it`,
      );
    }
    if (existing.Status === "available") return "available";
    if (existing.Status !== "creating")
      throw new Error(`snapshot ${id} (this run's, from an earlier attempt) is ${existing.Status ?? "in an unknown state"}, not creating or available`);
    return "creating";
  }
}

/** The SDK waiter throws TimeoutError / a JSON-encoded result; say what happened in words. */
function waiterError(error: unknown, id: string, maxWaitSeconds: number): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes("Waiter has timed out")) return new Error(`snapshot ${id} was not available after ${maxWaitSeconds}s (rollout.snapshot.timeoutSeconds)`);
  if (message.startsWith("{")) {
    try {
      const result = JSON.parse(message) as { state?: string; reason?: unknown };
      return new Error(
        `snapshot ${id} did not become available (${result.state ?? "failed"}${result.reason ? `: ${JSON.stringify(result.reason).slice(0, 300)}` : ""})`,
      );
    } catch {
      // not the waiter's JSON: classify below
    }
  }
  return classifyAwsError(error, `waiting for snapshot ${id}`);
}
