// Placeholders (REPLACE-ME-<what>) in the stack config: the committed example is refused, exit 2,
// every key that still holds one named; filled in, it is accepted; one left over is named alone.
// Through both doors: the schema the Pulumi program and the scripts share (infra/config.ts), and
// the scripts' file loader (scripts/app/pulumiConfigFile.ts).

import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, parsePulumiConfigMap } from "../../infra/config.js";
import { fillPlaceholders, findPlaceholders } from "../../infra/placeholders.js";
import { loadStackConfig, PulumiConfigWeightRecorder } from "../../scripts/app/pulumiConfigFile.js";
import { filledExampleConfig } from "../../scripts/cli/exampleConfig.js";
import { exitCodeFor } from "../../scripts/cli/common.js";
import { COMMITTED_PLACEHOLDERS, committedProdConfig, filledProdConfig } from "../support/prodConfig.js";
import { prodConfigMap } from "../support/stackConfigs.js";

const ROOT = join(import.meta.dirname, "../..");
const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "bluegreen-placeholders-"));
  made.push(dir);
  return dir;
}

function refusal(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected the config to be refused");
}

const committedMap = (): Record<string, any> => parse(committedProdConfig()).config;
const expectedIssues = (list: readonly { path: string; token: string }[]) => list.map(({ path, token }) => ({ path, message: `still holds ${token}` }));

describe("the committed Pulumi.prod.yaml", () => {
  it("is refused with exit 2, every key that holds a placeholder named, in document order", () => {
    const error = refusal(() => parsePulumiConfigMap(committedMap(), "Pulumi.prod.yaml"));
    expect(exitCodeFor(error)).toBe(2);
    expect(error.issues).toEqual(expectedIssues(COMMITTED_PLACEHOLDERS));
    expect(error.message.split("\n")[0]).toBe(
      "Pulumi.prod.yaml: 8 keys still hold placeholders (REPLACE-ME-...): replace each with this stack's own value before `pulumi up` or a cutover:",
    );
    for (const { path, token } of COMMITTED_PLACEHOLDERS) expect(error.message).toContain(`\n  ${path}: still holds ${token}`);
  });

  it("is refused by the scripts' loader too (what cutover, promote and status read)", async () => {
    const path = join(await tempDir(), "Pulumi.prod.yaml");
    await writeFile(path, committedProdConfig());
    const error = await loadStackConfig(path).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(exitCodeFor(error)).toBe(2);
    expect((error as ConfigError).issues).toEqual(expectedIssues(COMMITTED_PLACEHOLDERS));
  });

  it("filled in by the tests' harness, is accepted, with the fixture's values where the placeholders were", async () => {
    const config = parsePulumiConfigMap(prodConfigMap());
    expect(config.traffic.https?.certificateArn).toMatch(/^arn:aws:acm:eu-west-1:123456789012:certificate\//);
    expect(config.app.green.containerImage).toBe("123456789012.dkr.ecr.eu-west-1.amazonaws.com/booking-app:1.9.0");
    expect(config.rollout.hooks.map((hook) => hook.command)).toEqual(["./examples/hooks/smoke-booking.sh"]);
    const path = join(await tempDir(), "Pulumi.prod.yaml");
    await writeFile(path, filledProdConfig());
    await expect(loadStackConfig(path)).resolves.toMatchObject({ region: "eu-west-1" });
  });

  it("filled in but one: exit 2 naming that key alone (both colors' image registry, when it is that one)", async () => {
    const values = parse(await readFile(join(ROOT, "test/fixtures/placeholder-values.yaml"), "utf8")) as Record<string, string>;
    for (const left of ["REPLACE-ME-certificate-arn", "REPLACE-ME-registry", "REPLACE-ME-smoke-test-command"]) {
      const { [left]: _kept, ...others } = values;
      const text = fillPlaceholders(committedProdConfig(), others);
      const error = refusal(() => parsePulumiConfigMap(parse(text).config));
      expect(exitCodeFor(error)).toBe(2);
      expect(error.issues).toEqual(expectedIssues(COMMITTED_PLACEHOLDERS.filter(({ token }) => token === left)));
    }
  });

  it("the weights write-back keeps the placeholders as they are (it edits only the two numbers)", async () => {
    const path = join(await tempDir(), "Pulumi.prod.yaml");
    await writeFile(path, committedProdConfig());
    await new PulumiConfigWeightRecorder(path).record({ blue: 75, green: 25 });
    const after = await readFile(path, "utf8");
    expect(after.split("\n").filter((line) => line.includes("REPLACE-ME"))).toEqual(
      committedProdConfig()
        .split("\n")
        .filter((line) => line.includes("REPLACE-ME")),
    );
  });
});

describe("what counts as a placeholder", () => {
  const base = () => prodConfigMap();

  it("the marker inside a value, in any letter case: a lower-cased bucket name is still one", () => {
    const map = base();
    map["bluegreen:loadBalancer"].accessLogs.bucket = "replace-me-logs";
    map["bluegreen:traffic"].https.certificateArn = "arn:aws:acm:eu-west-1:REPLACE-ME-account:certificate/1234";
    expect(refusal(() => parsePulumiConfigMap(map)).issues).toEqual([
      { path: "loadBalancer.accessLogs.bucket", message: "still holds replace-me-logs" },
      { path: "traffic.https.certificateArn", message: "still holds REPLACE-ME-account" },
    ]);
  });

  it("names the token only, never the rest of the value (it may be a secret)", () => {
    const map = base();
    map["bluegreen:app"].green.userData = "#!/bin/sh\nexport DATABASE_URL=postgres://app:hunter2@REPLACE-ME-db-host/app\n";
    delete map["bluegreen:app"].green.containerImage;
    const error = refusal(() => parsePulumiConfigMap(map));
    expect(error.issues).toEqual([{ path: "app.green.userData", message: "still holds REPLACE-ME-db-host" }]);
    expect(error.message).not.toContain("hunter2");
  });

  it("in keys and list items, and in aws:region", () => {
    expect(
      findPlaceholders({ region: "REPLACE-ME-region", app: { blue: { environment: { REPLACE_ME: "x", "REPLACE-ME-name": "y" } } }, steps: [5, "REPLACE-ME"] }),
    ).toEqual([
      { path: "region", tokens: ["REPLACE-ME-region"] },
      { path: "app.blue.environment.REPLACE-ME-name", tokens: ["REPLACE-ME-name"] },
      { path: "steps.1", tokens: ["REPLACE-ME"] },
    ]);
    const map = base();
    map["aws:region"] = "REPLACE-ME-region";
    expect(refusal(() => parsePulumiConfigMap(map)).issues).toEqual([{ path: "region", message: "still holds REPLACE-ME-region" }]);
  });

  it("placeholders are named before any other rule (the refusal lists them, not the regexes they fail)", () => {
    const map = committedMap();
    map["bluegreen:traffic"].weights = { blue: 50, green: 40 };
    expect(refusal(() => parsePulumiConfigMap(map)).issues.map((issue) => issue.path)).toEqual(COMMITTED_PLACEHOLDERS.map(({ path }) => path));
  });
});

describe("the fill-in used by the tests, the docs examples and bench:rollback", () => {
  it("leaves a token without a value as it is, so the parser names it", () => {
    expect(fillPlaceholders("a: REPLACE-ME-x\nb: REPLACE-ME-y/z\n", { "REPLACE-ME-y": "y" })).toBe("a: REPLACE-ME-x\nb: y/z\n");
  });

  it("refuses to hand out the example when the fixture lacks a placeholder's value, naming it", async () => {
    const root = await tempDir();
    await writeFile(join(root, "Pulumi.prod.yaml"), committedProdConfig());
    await cp(join(ROOT, "test/fixtures"), join(root, "test/fixtures"), { recursive: true, filter: (source) => !source.includes("reports") });
    const fixture = join(root, "test/fixtures/placeholder-values.yaml");
    await writeFile(
      fixture,
      (await readFile(fixture, "utf8"))
        .split("\n")
        .filter((line) => !line.startsWith("REPLACE-ME-ami-id:"))
        .join("\n"),
    );
    expect(() => filledExampleConfig(root)).toThrow(
      "test/fixtures/placeholder-values.yaml has no value for REPLACE-ME-ami-id (bluegreen:app.blue.amiId); REPLACE-ME-ami-id (bluegreen:app.green.amiId)",
    );
  });
});
