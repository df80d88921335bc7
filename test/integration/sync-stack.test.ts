// `sync --stack NAME --outputs FILE`: URLs from the stack outputs and Secrets Manager. A mock
// proves the request shape and the URL built from the answer; behaviour is proved elsewhere.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { urlsFromStack } from "../../scripts/postgres/sync/stackOutputs.js";
import { UsageError } from "../../scripts/cli/common.js";

let dir = "";
const sm = mockClient(SecretsManagerClient);

describe("sync: connections from stack outputs", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sync-stack-"));
    process.env.AWS_REGION = "us-east-1";
  });
  afterAll(async () => {
    sm.restore();
    await rm(dir, { recursive: true, force: true });
  });

  it("reads endpoints and secrets, builds URLs with TLS and an encoded password", async () => {
    const file = join(dir, "outputs.json");
    await writeFile(
      file,
      JSON.stringify({
        databaseEndpoints: { blue: "blue.abc.us-east-1.rds.amazonaws.com:5432", green: { address: "green.abc.us-east-1.rds.amazonaws.com", port: 6543 } },
        databaseSecretArns: { blue: "arn:aws:secretsmanager:us-east-1:1:secret:blue", green: "arn:aws:secretsmanager:us-east-1:1:secret:green" },
      }),
    );
    sm.reset();
    sm.on(GetSecretValueCommand, { SecretId: "arn:aws:secretsmanager:us-east-1:1:secret:blue" }).resolves({ SecretString: JSON.stringify({ username: "app", password: "p@ss:w/rd", dbname: "shop" }) });
    sm.on(GetSecretValueCommand, { SecretId: "arn:aws:secretsmanager:us-east-1:1:secret:green" }).resolves({ SecretString: JSON.stringify({ username: "app", password: "other" }) });
    const urls = await urlsFromStack({ file, stack: "prod", database: undefined });
    const blue = new URL(urls.blue);
    expect(blue.hostname).toBe("blue.abc.us-east-1.rds.amazonaws.com");
    expect(decodeURIComponent(blue.password)).toBe("p@ss:w/rd");
    expect(blue.pathname).toBe("/shop");
    expect(blue.searchParams.get("sslmode")).toBe("verify-full");
    const green = new URL(urls.green);
    expect(green.port).toBe("6543");
    expect(green.pathname).toBe("/postgres");
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      "arn:aws:secretsmanager:us-east-1:1:secret:blue",
      "arn:aws:secretsmanager:us-east-1:1:secret:green",
    ]);
  });

  it("names the missing output when the file is not a paired-database stack", async () => {
    const file = join(dir, "shared.json");
    await writeFile(file, JSON.stringify({ databaseEndpoint: "one.rds.amazonaws.com:5432" }));
    await expect(urlsFromStack({ file })).rejects.toThrow(UsageError);
    await expect(urlsFromStack({ file })).rejects.toThrow(/databaseEndpoints/);
  });
});
