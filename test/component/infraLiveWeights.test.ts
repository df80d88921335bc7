// Who owns the live weights, under Pulumi mocks: the stack's SSM weights parameter, read at preview
// time, decides the listener's forward action; config only seeds it; a held lock stops the program.
import { describe, expect, it } from "vitest";
import { decideWeights, lockParameterName, stackParameterPath, weightsParameterName } from "../../infra/liveWeights.js";
import { prodConfigMap, runProgram } from "./infraHarness.js";

const LISTENER = "aws:lb/listener:Listener";
const PARAMETER = "aws:ssm/parameter:Parameter";
/** The provider marks a parameter's value secret: the mock sees it wrapped. */
const plain = (value: any): string => (value && typeof value === "object" && "value" in value ? value.value : value);
const weightsOf = (run: Awaited<ReturnType<typeof runProgram>>) =>
  run
    .ofType(LISTENER)
    .filter((listener) => listener.inputs.defaultActions[0].type === "forward")
    .map((listener) => listener.inputs.defaultActions[0].forward.targetGroups.map((group: { weight: number }) => group.weight));

describe("the listener forwards the live weights", () => {
  it("parameter at 0/100, config at 100/0: the listener forwards 0/100, and the parameter keeps its value", async () => {
    const config = prodConfigMap();
    expect(config["bluegreen:traffic"].weights).toEqual({ blue: 100, green: 0 });
    const run = await runProgram(config, "prod", { parameters: { "/bluegreen/bluegreen/prod/weights": '{"blue":0,"green":100}' } });
    expect(weightsOf(run)).toEqual([[0, 100]]);
    const parameter = run.one(PARAMETER);
    expect(parameter.inputs.name).toBe("/bluegreen/bluegreen/prod/weights");
    // What the program would (re)write is what it read: an adoption moves nothing.
    expect(JSON.parse(plain(parameter.inputs.value))).toEqual({ blue: 0, green: 100 });
    expect(parameter.ignoreChanges).toEqual(["value"]);
    expect(run.outputs.weightsParameterName).toBe("/bluegreen/bluegreen/prod/weights");
  });

  it("no parameter yet (first pulumi up): config seeds both the listener and the parameter", async () => {
    const config = prodConfigMap();
    config["bluegreen:traffic"].weights = { blue: 75, green: 25 };
    const run = await runProgram(config, "seed");
    expect(weightsOf(run)).toEqual([[75, 25]]);
    expect(JSON.parse(plain(run.one(PARAMETER).inputs.value))).toEqual({ blue: 75, green: 25 });
    expect(run.one(PARAMETER).inputs).toMatchObject({ type: "String", overwrite: true });
  });

  it("reads the stack's hierarchy with one GetParametersByPath through the provider, before declaring anything", async () => {
    const run = await runProgram(prodConfigMap(), "prod-eu");
    expect(run.invokes).toEqual([
      { token: "aws:ssm/getParametersByPath:getParametersByPath", inputs: { path: "/bluegreen/bluegreen/prod-eu", recursive: false, withDecryption: false } },
    ]);
  });

  it("another stack's parameters are not this stack's", async () => {
    const run = await runProgram(prodConfigMap(), "staging", {
      parameters: {
        "/bluegreen/bluegreen/prod/weights": '{"blue":0,"green":100}',
        "/bluegreen/bluegreen/prod/lock": '{"owner":"x","operation":"cutover","since":0}',
      },
    });
    expect(weightsOf(run)).toEqual([[100, 0]]);
  });
});

describe("a held lock stops the program", () => {
  it("fails naming the holder and the commands that finish or undo the move; nothing is declared", async () => {
    const holder = { owner: "alice@laptop pid 4242", operation: "cutover", since: Date.parse("2026-12-01T10:00:00Z") };
    const resourcesBefore: unknown[] = [];
    await expect(
      runProgram(prodConfigMap(), "prod", {
        parameters: { "/bluegreen/bluegreen/prod/lock": JSON.stringify(holder), "/bluegreen/bluegreen/prod/weights": '{"blue":95,"green":5}' },
      }).then((run) => resourcesBefore.push(...run.resources)),
    ).rejects.toThrow(
      /\/bluegreen\/bluegreen\/prod\/lock is held \(cutover by alice@laptop pid 4242 since 2026-12-01T10:00:00\.000Z\).*npm run cutover -- --resume.*npm run rollback/s,
    );
    expect(resourcesBefore).toEqual([]);
  });
});

describe("decideWeights", () => {
  const names = { weights: weightsParameterName("p", "s"), lock: lockParameterName("p", "s") };
  const seed = { blue: 100, green: 0 };

  it("names the hierarchy and its parameters", () => {
    expect(stackParameterPath("bluegreen", "prod")).toBe("/bluegreen/bluegreen/prod");
    expect(names).toEqual({ weights: "/bluegreen/p/s/weights", lock: "/bluegreen/p/s/lock" });
  });

  it("prefers the parameter, falls back to the seed only when it is absent", () => {
    expect(decideWeights({ [names.weights]: '{"blue":40,"green":60}' }, names, seed, { greenEnabled: true })).toEqual({
      weights: { blue: 40, green: 60 },
      source: "parameter",
    });
    expect(decideWeights({}, names, seed, { greenEnabled: true })).toEqual({ weights: seed, source: "config" });
  });

  it("refuses a parameter that is not two percentages summing to 100 (never a silent seed)", () => {
    for (const bad of ["", "not json", '{"blue":50}', '{"blue":50,"green":40}', '{"blue":-1,"green":101}', '{"blue":50.5,"green":49.5}', "[100,0]"]) {
      expect(() => decideWeights({ [names.weights]: bad }, names, seed, { greenEnabled: true }), bad).toThrow(
        /does not hold the live weights.*aws ssm put-parameter --overwrite --name \/bluegreen\/p\/s\/weights/,
      );
    }
  });

  it("refuses traffic on a disabled green", () => {
    expect(() => decideWeights({ [names.weights]: '{"blue":0,"green":100}' }, names, seed, { greenEnabled: false })).toThrow(
      /green 100% but app.green.enabled is false/,
    );
  });

  it("a lock with an unreadable holder still stops it", () => {
    expect(() => decideWeights({ [names.lock]: "garbage" }, names, seed, { greenEnabled: true })).toThrow(/is held \(an unreadable holder\)/);
  });
});
