import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { encodeWeights as infraEncode, weightsParameterName as infraName, decideWeights, lockParameterName } from "../../infra/liveWeights.js";
import { decodeWeights, encodeWeights, SsmWeightsParameter, weightsParameterName } from "../../scripts/aws/weightsParameter.js";

const ssm = mockClient(SSMClient);
const client = () => new SSMClient({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "x" } });
const awsError = (name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 400 } });

beforeEach(() => ssm.reset());

describe("SsmWeightsParameter", () => {
  it("records each weight with PutParameter Overwrite=true under /bluegreen/<project>/<stack>/weights, nothing else sent", async () => {
    ssm.on(PutParameterCommand).resolves({ Version: 3 });
    const recorder = new SsmWeightsParameter(client(), { project: "bluegreen", stack: "prod" });
    await recorder.record({ blue: 95, green: 5 });
    await recorder.record({ blue: 0, green: 100 });
    expect(ssm.commandCalls(PutParameterCommand).map((call) => call.args[0].input)).toEqual([
      { Name: "/bluegreen/bluegreen/prod/weights", Value: '{"blue":95,"green":5}', Type: "String", Overwrite: true },
      { Name: "/bluegreen/bluegreen/prod/weights", Value: '{"blue":0,"green":100}', Type: "String", Overwrite: true },
    ]);
  });

  it("a refused write is an error the engine sees (access denied: unreachable, exit 3)", async () => {
    ssm.on(PutParameterCommand).rejects(awsError("AccessDeniedException"));
    await expect(new SsmWeightsParameter(client(), { project: "p", stack: "s" }).record({ blue: 100, green: 0 })).rejects.toThrow(
      /PutParameter \/bluegreen\/p\/s\/weights: access denied/,
    );
  });

  it("reads: absent, valid, or present but invalid", async () => {
    const parameter = new SsmWeightsParameter(client(), { project: "p", stack: "s" });
    ssm
      .on(GetParameterCommand)
      .rejectsOnce(awsError("ParameterNotFound"))
      .resolvesOnce({ Parameter: { Value: '{"blue":25,"green":75}' } })
      .resolvesOnce({ Parameter: { Value: "oops" } });
    expect(await parameter.read()).toEqual({ exists: false });
    expect(await parameter.read()).toEqual({ exists: true, weights: { blue: 25, green: 75 }, raw: '{"blue":25,"green":75}' });
    expect(await parameter.read()).toEqual({ exists: true, weights: null, raw: "oops" });
  });

  it("refuses a name SSM would refuse", () => {
    expect(() => weightsParameterName({ project: "bluegreen", stack: "a/b" })).toThrow(/cannot be part of an SSM parameter name/);
  });
});

describe("scripts and program agree", () => {
  it("on the parameter's name and encoding, and the program reads back what the scripts write", () => {
    for (const [project, stack] of [
      ["bluegreen", "prod"],
      ["shop", "eu-live.2"],
    ] as const) {
      expect(weightsParameterName({ project, stack })).toBe(infraName(project, stack));
    }
    for (const weights of [
      { blue: 100, green: 0 },
      { blue: 95, green: 5 },
      { blue: 0, green: 100 },
    ]) {
      expect(encodeWeights(weights)).toBe(infraEncode(weights));
      expect(decodeWeights(encodeWeights(weights))).toEqual(weights);
      const names = { weights: infraName("p", "s"), lock: lockParameterName("p", "s") };
      expect(decideWeights({ [names.weights]: encodeWeights(weights) }, names, { blue: 50, green: 50 }, { greenEnabled: true }).weights).toEqual(weights);
    }
    for (const bad of ['{"blue":60,"green":60}', "[]", '{"blue":"100","green":0}']) expect(decodeWeights(bad)).toBeNull();
  });
});
