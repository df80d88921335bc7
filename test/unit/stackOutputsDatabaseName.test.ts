// One source for the database name, and the weights parameter of the outputs' own stack: the
// contract carries databaseName (null in older outputs) and weightsParameterName; outputs whose
// weights parameter belongs to another project or stack are refused; the cutover refuses a config
// whose database name disagrees with the deployed one, and a paired stack whose outputs name none.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parseRollbackOutputs, parseStackOutputs } from "../../infra/vocabulary/stackOutputs.js";
import { crossCheck } from "../../scripts/app/cutover.js";
import type { StackConfig } from "../../infra/config.js";

const example = JSON.parse(readFileSync(join(import.meta.dirname, "../../examples/stack-outputs.prod.json"), "utf8")) as Record<string, unknown>;
const config = (databaseName: string, mode: "shared" | "paired" = "shared") =>
  ({ region: "eu-west-1", database: { mode, databaseName } }) as unknown as StackConfig;

describe("the outputs contract", () => {
  test("databaseName and weightsParameterName are read; absent in older outputs they are null", () => {
    expect(parseStackOutputs(example, "x")).toMatchObject({ databaseName: "booking", weightsParameterName: "/bluegreen/bluegreen/prod/weights" });
    const { databaseName: _d, weightsParameterName: _w, ...older } = example;
    expect(parseStackOutputs(older, "x")).toMatchObject({ databaseName: null, weightsParameterName: null });
  });

  test("a weights parameter of another project or stack is refused, naming both", () => {
    expect(() => parseStackOutputs({ ...example, weightsParameterName: "/bluegreen/bluegreen/staging/weights" }, "outputs.json")).toThrow(
      /weightsParameterName: \/bluegreen\/bluegreen\/staging\/weights belongs to another project or stack than pulumiProject\/pulumiStack \(bluegreen\/prod: \/bluegreen\/bluegreen\/prod\/weights\)/,
    );
    expect(() => parseStackOutputs({ ...example, weightsParameterName: "/bluegreen/other-project/prod/weights" }, "x")).toThrow(/belongs to another project/);
    expect(() => parseStackOutputs({ ...example, databaseName: "" }, "x")).toThrow(/databaseName: must not be empty/);
  });

  test("a rollback is never refused over them", () => {
    expect(() => parseRollbackOutputs({ ...example, weightsParameterName: "/bluegreen/x/y/weights", databaseName: 7 }, "x")).not.toThrow();
  });
});

describe("cutover: the config may only agree with the deployed database name", () => {
  const outputs = parseStackOutputs(example, "outputs.json");

  test("the same name: fine", () => {
    expect(() => crossCheck(config("booking"), outputs, "Pulumi.prod.yaml", "outputs.json")).not.toThrow();
  });

  test("another name: exit 2, run pulumi up or fix the config", () => {
    expect(() => crossCheck(config("orders"), outputs, "Pulumi.prod.yaml", "outputs.json")).toThrow(
      /Pulumi\.prod\.yaml says database\.databaseName "orders", the deployed stack \(outputs\.json\) says "booking": run `pulumi up` first/,
    );
  });

  test("paired outputs that name no database: exit 2, never the config's name in its place", () => {
    const paired = { ...outputs, databaseMode: "paired" as const, databaseName: null };
    expect(() => crossCheck(config("booking", "paired"), paired, "Pulumi.prod.yaml", "outputs.json")).toThrow(/name no databaseName .*run `pulumi up`/);
  });
});
