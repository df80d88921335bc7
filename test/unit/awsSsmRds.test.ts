import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, RDSClient } from "@aws-sdk/client-rds";
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { AwsThrottledError } from "../../scripts/aws/errors.js";
import { RdsSnapshotter, snapshotIdentifier } from "../../scripts/aws/rdsSnapshot.js";
import { SSM_MAX_VALUE_BYTES, SsmJournalStore, decodeJournal, encodeJournal } from "../../scripts/aws/ssmJournal.js";
import { SsmLock } from "../../scripts/aws/ssmLock.js";
import { LockHeldError } from "../../scripts/core/ports.js";

const ssm = mockClient(SSMClient);
const rds = mockClient(RDSClient);
const creds = { accessKeyId: "AKID", secretAccessKey: "x" };
const ssmClient = () => new SSMClient({ region: "eu-west-1", credentials: creds });
const PROD = { project: "bluegreen", stack: "prod" };
const holder = { owner: "ana@ops-1 pid 42", since: 1_700_000_000_000, operation: "cutover" };
const awsError = (name: string, message = name) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

beforeEach(() => {
  ssm.reset();
  rds.reset();
});

describe("SsmLock", () => {
  it("acquires with an atomic create: PutParameter Overwrite=false under /bluegreen/<project>/<stack>/lock", async () => {
    ssm.on(PutParameterCommand).resolves({ Version: 1 });
    await new SsmLock(ssmClient(), PROD).acquire(holder);
    const input = ssm.commandCalls(PutParameterCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ Name: "/bluegreen/bluegreen/prod/lock", Overwrite: false, Type: "String" });
    expect(JSON.parse(input.Value!)).toEqual(holder);
  });

  it("names the holder when the lock exists", async () => {
    ssm.on(PutParameterCommand).rejects(awsError("ParameterAlreadyExists"));
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(holder) } });
    const error = await new SsmLock(ssmClient(), PROD).acquire({ ...holder, owner: "bob@ops-2 pid 7" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as LockHeldError).holder).toEqual(holder);
    expect((error as Error).message).toContain("ana@ops-1 pid 42");
  });

  it("releases only when we hold it; breakLock deletes whoever holds it", async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(holder) } });
    ssm.on(DeleteParameterCommand).resolves({});
    const lock = new SsmLock(ssmClient(), PROD);
    await lock.release("someone else");
    expect(ssm.commandCalls(DeleteParameterCommand)).toHaveLength(0);
    await lock.release(holder.owner);
    expect(ssm.commandCalls(DeleteParameterCommand)[0]!.args[0].input).toEqual({ Name: "/bluegreen/bluegreen/prod/lock" });
    expect(await lock.breakLock()).toEqual(holder);
  });

  it("reads no holder when the parameter does not exist", async () => {
    ssm.on(GetParameterCommand).rejects(awsError("ParameterNotFound"));
    expect(await new SsmLock(ssmClient(), PROD).current()).toBeNull();
  });

  it("surfaces throttling as an error, never as an acquired lock", async () => {
    ssm.on(PutParameterCommand).rejects(awsError("ThrottlingException", "Rate exceeded"));
    await expect(new SsmLock(ssmClient(), PROD).acquire(holder)).rejects.toBeInstanceOf(AwsThrottledError);
  });
});

describe("SsmJournalStore", () => {
  it("saves JSON under /bluegreen/<project>/<stack>/journal with Intelligent-Tiering and loads it back", async () => {
    ssm.on(PutParameterCommand).resolves({ Version: 2 });
    const store = new SsmJournalStore(ssmClient(), PROD);
    const journal = { format: "bluegreen-cutover-journal", phase: "baking", timeline: [{ type: "decision", at: 1 }] };
    await store.save(journal);
    const input = ssm.commandCalls(PutParameterCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ Name: "/bluegreen/bluegreen/prod/journal", Overwrite: true, Tier: "Intelligent-Tiering", Type: "String" });
    expect(JSON.parse(input.Value!)).toEqual(journal);
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: input.Value } });
    expect(await store.load()).toEqual(journal);
  });

  it("loads null when there is no journal", async () => {
    ssm.on(GetParameterCommand).rejects(awsError("ParameterNotFound"));
    expect(await new SsmJournalStore(ssmClient(), PROD).load()).toBeNull();
  });

  it("compresses a large journal and compacts gate readings when even that does not fit", () => {
    const reading = (i: number) => ({
      type: "gate-reading",
      at: i,
      verdict: { detail: `poll ${i} ${"x".repeat(40)}`, noise: Math.random().toString(36).repeat(4) },
    });
    const journal = {
      format: "bluegreen-cutover-journal",
      phase: "baking",
      timeline: [{ type: "plan", at: 0 }, ...Array.from({ length: 400 }, (_, i) => reading(i + 1))],
    };
    const encoded = encodeJournal(journal);
    expect(Buffer.byteLength(encoded)).toBeLessThanOrEqual(SSM_MAX_VALUE_BYTES);
    const decoded = decodeJournal(encoded) as typeof journal;
    expect(decoded.phase).toBe("baking");
    expect(decoded.timeline[0]).toEqual({ type: "plan", at: 0 });
    expect(decoded.timeline.at(-1)).toEqual(journal.timeline.at(-1));
    expect(JSON.parse(encoded)).toMatchObject({ bluegreenJournal: "gzip+base64" });

    const medium = { timeline: Array.from({ length: 60 }, (_, i) => ({ type: "gate-reading", at: i, detail: "same words again and again" })) };
    expect(Buffer.byteLength(JSON.stringify(medium))).toBeGreaterThan(SSM_MAX_VALUE_BYTES / 4);
    expect(decodeJournal(encodeJournal(medium))).toEqual(medium);
  });
});

describe("RdsSnapshotter", () => {
  it("creates a snapshot of blue's instance and waits with the SDK waiter until it is available", async () => {
    rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: "creating" } });
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolvesOnce({ DBSnapshots: [{ Status: "creating" }] })
      .resolves({ DBSnapshots: [{ Status: "available" }] });
    const now = new Date(Date.UTC(2025, 5, 1, 12, 30, 5));
    const snapshotter = new RdsSnapshotter(new RDSClient({ region: "eu-west-1", credentials: creds }), {
      stack: "prod",
      instanceId: "bg-prod-blue-db",
      now: () => now,
      minDelaySeconds: 0.01,
      maxDelaySeconds: 0.02,
    });
    const snapshot = await snapshotter.snapshot("pre-cutover", 10_000);
    expect(snapshot.id).toBe("bluegreen-prod-pre-cutover-20250601-123005");
    expect(rds.commandCalls(CreateDBSnapshotCommand)[0]!.args[0].input).toMatchObject({
      DBInstanceIdentifier: "bg-prod-blue-db",
      DBSnapshotIdentifier: "bluegreen-prod-pre-cutover-20250601-123005",
    });
    expect(rds.commandCalls(DescribeDBSnapshotsCommand).length).toBeGreaterThanOrEqual(2);
    expect(rds.commandCalls(DescribeDBSnapshotsCommand)[0]!.args[0].input).toEqual({ DBSnapshotIdentifier: snapshot.id });
  });

  const snapshotter = (over: Partial<{ instanceId: string }> = {}) =>
    new RdsSnapshotter(new RDSClient({ region: "eu-west-1", credentials: creds }), {
      stack: "prod",
      instanceId: over.instanceId ?? "bg-prod-blue-db",
      minDelaySeconds: 0.01,
      maxDelaySeconds: 0.02,
    });
  const label = "bluegreen-2026-01-15T09-00-00-000Z-ab12cd";
  const id = "bluegreen-prod-2026-01-15t09-00-00-000z-ab12cd";

  it("hands the id out before waiting (the engine journals it there)", async () => {
    const order: string[] = [];
    rds.on(CreateDBSnapshotCommand).callsFake(() => (order.push("create"), { DBSnapshot: { Status: "creating" } }));
    rds.on(DescribeDBSnapshotsCommand).callsFake(() => (order.push("describe"), { DBSnapshots: [{ DBSnapshotIdentifier: id, Status: "available" }] }));
    const snapshot = await snapshotter().snapshot(label, 10_000, undefined, async (created) => void order.push(`journaled ${created}`));
    expect(snapshot.id).toBe(id);
    expect(order.slice(0, 2)).toEqual(["create", `journaled ${id}`]);
    expect(order.slice(2).every((step) => step === "describe")).toBe(true);
  });

  it("a resumed run adopts its own snapshot (DBSnapshotAlreadyExists of our instance) and waits while it is still creating", async () => {
    rds.on(CreateDBSnapshotCommand).rejects(awsError("DBSnapshotAlreadyExists"));
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolvesOnce({ DBSnapshots: [{ DBSnapshotIdentifier: id, DBInstanceIdentifier: "bg-prod-blue-db", Status: "creating" }] })
      .resolvesOnce({ DBSnapshots: [{ DBSnapshotIdentifier: id, DBInstanceIdentifier: "bg-prod-blue-db", Status: "creating" }] })
      .resolves({ DBSnapshots: [{ DBSnapshotIdentifier: id, DBInstanceIdentifier: "bg-prod-blue-db", Status: "available" }] });
    const journaled: string[] = [];
    const snapshot = await snapshotter().snapshot(label, 10_000, undefined, async (created) => void journaled.push(created));
    expect(snapshot.id).toBe(id);
    expect(journaled).toEqual([id]);
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(1);
    expect(rds.commandCalls(DescribeDBSnapshotsCommand).length).toBeGreaterThanOrEqual(3); // the adoption check, then the waiter
  });

  it("an adopted snapshot already available is not waited for; one of another instance is refused", async () => {
    rds.on(CreateDBSnapshotCommand).rejects(awsError("DBSnapshotAlreadyExists"));
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ DBSnapshotIdentifier: id, DBInstanceIdentifier: "bg-prod-blue-db", Status: "available" }] });
    await expect(snapshotter().snapshot(label, 10_000)).resolves.toMatchObject({ id });
    expect(rds.commandCalls(DescribeDBSnapshotsCommand)).toHaveLength(1);
    await expect(snapshotter({ instanceId: "someone-elses-db" }).snapshot(label, 10_000)).rejects.toThrow(
      /already exists and is not of someone-elses-db .*not adopting it/,
    );
  });

  it("makes valid snapshot identifiers", () => {
    expect(snapshotIdentifier("Prod_EU", "--run 1--", new Date(Date.UTC(2025, 0, 2, 3, 4, 5)))).toBe("bluegreen-prod-eu-run-1-20250102-030405");
    expect(snapshotIdentifier("prod", "bluegreen-2026-01-15T09-00-00-000Z-ab12cd", new Date())).toBe("bluegreen-prod-2026-01-15t09-00-00-000z-ab12cd");
  });
});

describe("a cutover resumed after it stopped during the snapshot wait", () => {
  it("journals the id before waiting, then adopts its own snapshot instead of failing with DBSnapshotAlreadyExists", async () => {
    const { runCutover } = await import("../../scripts/core/engine.js");
    const { parseJournal } = await import("../../scripts/core/journal.js");
    const { FakeWorld, testRollout } = await import("../support/fakes.js");
    const world = new FakeWorld();
    const snapshotter = new RdsSnapshotter(new RDSClient({ region: "eu-west-1", credentials: creds }), {
      stack: "prod",
      instanceId: "bg-prod-blue-db",
      minDelaySeconds: 0.01,
      maxDelaySeconds: 0.02,
    });
    const request = {
      rollout: testRollout({ bakeSeconds: 0, monitorSeconds: 0 }),
      databaseMode: "shared" as const,
      owner: "ana pid 1",
      runId: "2026-01-15T09-00-00-000Z-ab12cd",
    };
    const id = "bluegreen-prod-2026-01-15t09-00-00-000z-ab12cd";
    const existing = (status: string) => ({ DBSnapshots: [{ DBSnapshotIdentifier: id, DBInstanceIdentifier: "bg-prod-blue-db", Status: status }] });

    // First run: RDS starts the snapshot; the operator stops the run while the waiter polls.
    const stop = new AbortController();
    rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: "creating" } });
    rds.on(DescribeDBSnapshotsCommand).callsFake(() => {
      stop.abort("operator pressed Ctrl-C");
      return existing("creating");
    });
    const first = await runCutover(world.deps({ snapshotter }), { ...request, signal: stop.signal });
    expect(first.outcome).toBe("interrupted");
    const stored = parseJournal(await world.journal.load());
    expect(stored.phase).toBe("preflight");
    expect(stored.snapshot).toEqual({ taken: true, id, availableAt: null, durationMs: null });

    // Resume: CreateDBSnapshot says it exists; it is ours, still creating: adopted and waited for.
    rds.reset();
    rds.on(CreateDBSnapshotCommand).rejects(awsError("DBSnapshotAlreadyExists"));
    rds.on(DescribeDBSnapshotsCommand).resolvesOnce(existing("creating")).resolvesOnce(existing("creating")).resolves(existing("available"));
    const resumed = await runCutover(world.deps({ snapshotter }), { ...request, resume: true });
    expect(resumed.outcome).toBe("succeeded");
    expect(rds.commandCalls(CreateDBSnapshotCommand).map((c) => c.args[0].input.DBSnapshotIdentifier)).toEqual([id]);
    const done = parseJournal(await world.journal.load());
    expect(done.snapshot).toMatchObject({ taken: true, id });
    expect((done.snapshot as { availableAt: number | null }).availableAt).not.toBeNull();
  });
});
