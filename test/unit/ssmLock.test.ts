// The SSM lock's identity and ownership: named by project and stack, owned by the run's token.
// Request shapes with aws-sdk-client-mock; a small in-memory parameter store behind it gives
// PutParameter Overwrite=false its real semantics (create or ParameterAlreadyExists).

import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient, type PutParameterCommandInput } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { SsmJournalStore } from "../../scripts/aws/ssmJournal.js";
import { ssmParameterPrefix, SsmLock } from "../../scripts/aws/ssmLock.js";
import { LockHeldError, type LockHolder } from "../../scripts/core/ports.js";

const ssm = mockClient(SSMClient);
const client = () => new SSMClient({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "x" } });
const awsError = (name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 400 } });
const holder: LockHolder = { owner: "ana@ops-1 pid 42", since: 1_700_000_000_000, operation: "rollback", runId: "2026-01-15T09-00-00-000Z-k3v9q2" };

/** PutParameter / GetParameter / DeleteParameter over a Map, as SSM answers them. */
function parameterStore(): Map<string, string> {
  const store = new Map<string, string>();
  ssm.on(PutParameterCommand).callsFake((input: PutParameterCommandInput) => {
    if (store.has(input.Name!) && !input.Overwrite) throw awsError("ParameterAlreadyExists");
    store.set(input.Name!, input.Value!);
    return { Version: 1 };
  });
  ssm.on(GetParameterCommand).callsFake((input: { Name: string }) => {
    if (!store.has(input.Name)) throw awsError("ParameterNotFound");
    return { Parameter: { Name: input.Name, Value: store.get(input.Name) } };
  });
  ssm.on(DeleteParameterCommand).callsFake((input: { Name: string }) => {
    if (!store.delete(input.Name)) throw awsError("ParameterNotFound");
    return {};
  });
  return store;
}

beforeEach(() => ssm.reset());

describe("SsmLock names", () => {
  it("lock and journal live under /bluegreen/<project>/<stack>/", () => {
    expect(new SsmLock(client(), { project: "shop", stack: "prod" }).name).toBe("/bluegreen/shop/prod/lock");
    expect(new SsmJournalStore(client(), { project: "shop", stack: "prod" }).name).toBe("/bluegreen/shop/prod/journal");
  });

  it("refuses names SSM would not take, or that would climb the hierarchy", () => {
    for (const stack of ["..", ".", "a/b", "prod lock", ""])
      expect(() => ssmParameterPrefix({ project: "shop", stack })).toThrow(/cannot be part of an SSM parameter name/);
  });

  it("two projects with the same stack name do not share a lock", async () => {
    const store = parameterStore();
    await new SsmLock(client(), { project: "shop", stack: "prod" }).acquire(holder);
    const other: LockHolder = { ...holder, owner: "bob@ops-2 pid 7", runId: "other-run" };
    await new SsmLock(client(), { project: "billing", stack: "prod" }).acquire(other);
    expect([...store.keys()].sort()).toEqual(["/bluegreen/billing/prod/lock", "/bluegreen/shop/prod/lock"]);
    // The same project's second acquire is refused and names the holder.
    const error = await new SsmLock(client(), { project: "shop", stack: "prod" }).acquire(other).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as LockHeldError).holder).toEqual(holder);
  });
});

describe("SsmLock ownership by token", () => {
  it("a retried PutParameter whose first attempt succeeded acquires its own lock", async () => {
    // The SDK's retry of a create whose answer was lost: the parameter exists, and it is ours.
    ssm.on(PutParameterCommand).rejects(awsError("ParameterAlreadyExists"));
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(holder) } });
    await expect(new SsmLock(client(), { project: "bluegreen", stack: "prod" }).acquire(holder)).resolves.toBeUndefined();
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(1);
    expect(ssm.commandCalls(GetParameterCommand)[0]!.args[0].input).toEqual({ Name: "/bluegreen/bluegreen/prod/lock" });
  });

  it("the same owner with another run id is someone else: refused", async () => {
    ssm.on(PutParameterCommand).rejects(awsError("ParameterAlreadyExists"));
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify({ ...holder, runId: "an-earlier-run" }) } });
    await expect(new SsmLock(client(), { project: "bluegreen", stack: "prod" }).acquire(holder)).rejects.toBeInstanceOf(LockHeldError);
  });

  it("a holder without a token never matches (locks written before tokens, by hand)", async () => {
    const { runId: _, ...tokenless } = holder;
    ssm.on(PutParameterCommand).rejects(awsError("ParameterAlreadyExists"));
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(tokenless) } });
    await expect(new SsmLock(client(), { project: "bluegreen", stack: "prod" }).acquire(tokenless)).rejects.toBeInstanceOf(LockHeldError);
  });

  it("passes the command's AbortSignal on every call", async () => {
    parameterStore();
    const controller = new AbortController();
    const lock = new SsmLock(client(), { project: "bluegreen", stack: "prod" }, { signal: () => controller.signal });
    await lock.acquire(holder);
    await lock.release(holder.owner);
    expect(ssm.calls()).toHaveLength(3); // put, get (still ours?), delete
    for (const call of ssm.calls()) expect(((call.args as unknown[])[1] as { abortSignal?: AbortSignal }).abortSignal).toBe(controller.signal);
  });
});
