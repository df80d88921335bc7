// Boot scripts and the write fence definition: pure helpers beside the components.
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FENCE_BODY, FENCE_HEADER, FENCE_METHODS, fenceAction, fenceConditions } from "../../infra/fence.js";
import { containerUserData, parseEcrImage, renderUserData, shellQuote } from "../../infra/userData.js";

describe("shellQuote", () => {
  it("always evaluates back to the original string in sh", () => {
    // One shell per batch keeps this fast: print every quoted value NUL-separated.
    const values = fc.sample(
      fc.string({ unit: "binary" }).filter((s) => !s.includes("\0")),
      200,
    );
    values.push("it's", "$(rm -rf /)", "`id`", "a\nb", "\\", "'", "''", "$HOME", "*");
    const script = values.map((value) => `printf '%s\\0' ${shellQuote(value)}`).join("\n");
    const output = execFileSync("sh", ["-c", script], { encoding: "utf8" });
    expect(output.split("\0").slice(0, -1)).toEqual(values);
  });
});

describe("parseEcrImage", () => {
  it("finds registry, region and repository of ECR images", () => {
    expect(parseEcrImage("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/booking-app:1.9.0")).toEqual({
      registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
      accountId: "123456789012",
      region: "eu-west-1",
      repository: "team/booking-app",
      repositoryArn: "arn:aws:ecr:eu-west-1:123456789012:repository/team/booking-app",
    });
    expect(parseEcrImage(`123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:${"a".repeat(64)}`)?.repository).toBe("app");
    expect(parseEcrImage("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:1")?.repositoryArn).toBe(
      "arn:aws-cn:ecr:cn-north-1:123456789012:repository/app",
    );
  });

  it("returns null for other registries", () => {
    expect(parseEcrImage("nginx:1.27")).toBeNull();
    expect(parseEcrImage("ghcr.io/acme/app:1")).toBeNull();
  });
});

describe("containerUserData", () => {
  const spec = {
    color: "green" as const,
    version: "1.9.0",
    containerImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/booking-app:1.9.0",
    port: 8080,
    region: "eu-west-1",
    environment: { ENABLE_FORM_MAPPER_V1: "true", GREETING: "it's $HOME" },
  };

  it("runs the image with the port and every variable, quoted", () => {
    const script = containerUserData(spec);
    expect(script.startsWith("#!/bin/bash\n")).toBe(true);
    expect(script).toContain("set -euo pipefail");
    expect(script).toContain("docker login --username AWS --password-stdin '123456789012.dkr.ecr.eu-west-1.amazonaws.com'");
    expect(script).toContain("-p 8080:8080");
    expect(script).toContain(`-e 'ENABLE_FORM_MAPPER_V1=true'`);
    expect(script).toContain(`-e 'GREETING=it'\\''s $HOME'`);
    expect(script).toContain(`-e 'BLUEGREEN_COLOR=green'`);
    expect(script).toContain(`-e 'APP_VERSION=1.9.0'`);
    expect(script).toContain(`-e 'PORT=8080'`);
    expect(script.trimEnd().endsWith(`'${spec.containerImage}'`)).toBe(true);
  });

  it("is valid bash", () => {
    execFileSync("bash", ["-n"], { input: containerUserData(spec) });
  });

  it("skips the ECR login for other registries", () => {
    expect(containerUserData({ ...spec, containerImage: "nginx:1.27" })).not.toContain("docker login");
  });

  it("uses the operator's own userData verbatim when given", () => {
    expect(renderUserData({ userData: "#!/bin/sh\necho hi\n", environment: {} }, { color: "blue", port: 80, region: "eu-west-1" })).toBe(
      "#!/bin/sh\necho hi\n",
    );
    expect(() => renderUserData({ environment: {} }, { color: "blue", port: 80, region: "eu-west-1" })).toThrow("app.blue: set userData or containerImage");
  });
});

describe("write fence", () => {
  it("is inert until the scripts drop the header condition", () => {
    expect(fenceConditions("inert")).toEqual([
      { httpRequestMethod: { values: [...FENCE_METHODS] } },
      { httpHeader: { httpHeaderName: FENCE_HEADER, values: ["armed"] } },
    ]);
    expect(fenceConditions("writes")).toEqual([{ httpRequestMethod: { values: ["POST", "PUT", "PATCH", "DELETE"] } }]);
    expect(fenceConditions("all")).toEqual([{ pathPattern: { values: ["*"] } }]);
  });

  it("answers 503 with a short JSON body (ALB fixed responses allow at most 1024 bytes)", () => {
    const action = fenceAction();
    expect(action).toEqual({ type: "fixed-response", fixedResponse: { statusCode: "503", contentType: "application/json", messageBody: FENCE_BODY } });
    expect(Buffer.byteLength(FENCE_BODY)).toBeLessThanOrEqual(1024);
    expect(JSON.parse(FENCE_BODY).error).toBe("write_fence");
  });
});
