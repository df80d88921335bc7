// The approval parameter of an orchestrated rollout (scripts/aws/approvalParameter.ts) over
// aws-sdk-client-mock: one name per stack, written as a SecureString, read decrypted, deleted;
// a value that is not an approval reads as none.

import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { decodePendingApproval, encodePendingApproval, SsmApprovalParameter } from "../../scripts/aws/approvalParameter.js";
import { approvalParameterName } from "../../scripts/aws/ssmParameters.js";

const identity = { project: "bluegreen", stack: "prod" };
const approval = { runId: "2026-12-06T11-00-00-000Z-x", step: 1, taskToken: "AQCEAAAAKgAAAA-token", recordedAt: 1_796_556_893_927 };

describe("the approval parameter", () => {
  const ssm = mockClient(SSMClient);
  let stored: Map<string, { value: string; type: string | undefined }>;
  beforeEach(() => {
    ssm.reset();
    stored = new Map();
    ssm.on(PutParameterCommand).callsFake((input: { Name: string; Value: string; Type?: string }) => {
      stored.set(input.Name, { value: input.Value, type: input.Type });
      return { Version: 1 };
    });
    ssm.on(GetParameterCommand).callsFake((input: { Name: string; WithDecryption?: boolean }) => {
      const found = stored.get(input.Name);
      if (!found) throw Object.assign(new Error("not found"), { name: "ParameterNotFound", $metadata: { httpStatusCode: 400 } });
      // SSM answers a SecureString without WithDecryption with the ciphertext.
      const value = found.type === "SecureString" && !input.WithDecryption ? "AQICAHh-ciphertext" : found.value;
      return { Parameter: { Name: input.Name, Type: found.type, Value: value } };
    });
    ssm.on(DeleteParameterCommand).callsFake((input: { Name: string }) => {
      if (!stored.delete(input.Name)) throw Object.assign(new Error("not found"), { name: "ParameterNotFound", $metadata: { httpStatusCode: 400 } });
      return {};
    });
  });

  it("is named under the stack's prefix, one per stack", () => {
    expect(approvalParameterName(identity)).toBe("/bluegreen/bluegreen/prod/approval");
    expect(approvalParameterName({ project: "bluegreen", stack: "prod-us" })).toBe("/bluegreen/bluegreen/prod-us/approval");
    expect(() => approvalParameterName({ project: "bluegreen", stack: "prod/../x" })).toThrow(/cannot be part of an SSM parameter name/);
  });

  it("records a SecureString (overwriting an older token), reads it decrypted, deletes it", async () => {
    const parameter = new SsmApprovalParameter(new SSMClient({ region: "eu-west-1" }), identity);
    expect(await parameter.read()).toBeNull();
    await parameter.record({ ...approval, taskToken: "older" });
    await parameter.record(approval);
    const puts = ssm.commandCalls(PutParameterCommand).map((call) => call.args[0].input);
    expect(puts.map((input) => [input.Name, input.Type, input.Overwrite])).toEqual([
      ["/bluegreen/bluegreen/prod/approval", "SecureString", true],
      ["/bluegreen/bluegreen/prod/approval", "SecureString", true],
    ]);
    expect(await parameter.read()).toEqual(approval);
    expect(ssm.commandCalls(GetParameterCommand).at(-1)!.args[0].input.WithDecryption).toBe(true);
    await parameter.delete();
    await parameter.delete(); // already gone: not an error
    expect(await parameter.read()).toBeNull();
  });

  it("a value that is not an approval reads as none", () => {
    expect(decodePendingApproval(encodePendingApproval(approval))).toEqual(approval);
    for (const value of ["not json", "{}", JSON.stringify({ ...approval, step: -1 }), JSON.stringify({ ...approval, taskToken: "" }), "null"])
      expect(decodePendingApproval(value), value).toBeNull();
  });
});
