// Connections from the stack outputs (scripts/postgres/stackDatabases.ts), as `sync --stack`,
// `parity --stack`, `status` and the paired switch use them: outputs read with loadRawOutputs,
// endpoints validated, the RDS-managed secrets read once each, URL and config built with the one
// TLS policy. A mock proves the request shape and what is built from the answer; replication
// behaviour is proved elsewhere.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { connectionsFromOutputs, databaseConnections, parseStackDatabases, rdsTrust } from "../../scripts/postgres/stackDatabases.js";
import { loadRawOutputs } from "../../scripts/app/stackOutputs.js";
import { UnreachableError, UsageError } from "../../scripts/cli/common.js";

let dir = "";
const sm = mockClient(SecretsManagerClient);
const arn = (c: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${c}`;
const paired = {
  databaseMode: "paired",
  databaseEndpoints: { blue: "blue.abc.us-east-1.rds.amazonaws.com:5432", green: "green.abc.us-east-1.rds.amazonaws.com:6543" },
  databaseSecretArns: { blue: arn("blue"), green: arn("green") },
};
const savedRootCert = process.env.PGSSLROOTCERT;

describe("connections from stack outputs", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sync-stack-"));
  });
  afterEach(() => {
    if (savedRootCert === undefined) delete process.env.PGSSLROOTCERT;
    else process.env.PGSSLROOTCERT = savedRootCert;
  });
  afterAll(async () => {
    sm.restore();
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the outputs file, both secrets, and builds verify-full URLs and configs that never show the password", async () => {
    const file = join(dir, "outputs.json");
    await writeFile(file, JSON.stringify({ prod: paired }));
    const ca = join(dir, "rds-ca.pem");
    await writeFile(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    process.env.PGSSLROOTCERT = ca;
    sm.reset();
    sm.on(GetSecretValueCommand, { SecretId: arn("blue") }).resolves({
      SecretString: JSON.stringify({ username: "app", password: "p@ss:w/rd", dbname: "shop" }),
    });
    sm.on(GetSecretValueCommand, { SecretId: arn("green") }).resolves({ SecretString: JSON.stringify({ username: "app", password: "other-secret" }) });

    const raw = await loadRawOutputs({ stack: "prod", outputsFile: file, cwd: dir });
    const conns = await connectionsFromOutputs(raw, { purpose: "sync" });
    const blue = new URL(conns.blue.url);
    expect(blue.hostname).toBe("blue.abc.us-east-1.rds.amazonaws.com");
    expect(decodeURIComponent(blue.password)).toBe("p@ss:w/rd");
    expect(blue.pathname).toBe("/shop");
    expect(blue.searchParams.get("sslmode")).toBe("verify-full");
    expect(blue.searchParams.get("sslrootcert")).toBe(ca);
    expect(conns.blue.config).toMatchObject({ host: "blue.abc.us-east-1.rds.amazonaws.com", port: 5432, user: "app", password: "p@ss:w/rd", database: "shop" });
    expect(conns.blue.config.ssl).toMatchObject({ rejectUnauthorized: true, ca: expect.stringContaining("BEGIN CERTIFICATE") });
    const green = new URL(conns.green.url);
    expect(green.port).toBe("6543");
    expect(green.pathname).toBe("/app"); // infra's default database name
    expect(conns.green.display).toBe("postgres://app:***@green.abc.us-east-1.rds.amazonaws.com:6543/app");
    expect(conns.green.tls).toContain(`PGSSLROOTCERT ${ca}`);
    // Serialised or inspected by mistake, a connection shows no password.
    for (const text of [JSON.stringify(conns), inspect(conns, { depth: 5, showHidden: false }), String(Object.keys(conns.blue))]) {
      expect(text).not.toContain("p@ss");
      expect(text).not.toContain("other-secret");
    }
    expect(
      sm
        .commandCalls(GetSecretValueCommand)
        .map((c) => c.args[0].input.SecretId)
        .sort(),
    ).toEqual([arn("blue"), arn("green")]);
  });

  it("--database and the outputs' databaseName pick the database; --sslmode overrides verify-full", async () => {
    delete process.env.PGSSLROOTCERT;
    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: "app", password: "pw-123", dbname: "fromsecret" }) });
    const named = await databaseConnections(parseStackDatabases({ ...paired, databaseName: "orders" }, "f"));
    expect(named.blue.config.database).toBe("orders");
    const flag = await databaseConnections(parseStackDatabases(paired, "f"), { database: "shop", sslmode: "disable" });
    expect(new URL(flag.green.url).pathname).toBe("/shop");
    expect(new URL(flag.green.url).searchParams.get("sslmode")).toBe("disable");
    expect(flag.green.config.ssl).toBe(false);
  });

  it("validation names the path and the rule; shared mode and a disabled color are refused clearly", () => {
    expect(() => parseStackDatabases({ databaseEndpoint: "one.rds.amazonaws.com:5432" }, "--outputs f.json", "sync")).toThrow(UsageError);
    expect(() => parseStackDatabases({}, "--outputs f.json", "sync")).toThrow(/--outputs f\.json are not what sync needs:\n {2}databaseEndpoints: is missing/);
    const bad = { databaseEndpoints: { blue: "h:99999", green: null }, databaseSecretArns: { blue: "nope", green: arn("g") }, databaseName: "" };
    let message = "";
    try {
      parseStackDatabases(bad, "src", "parity");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('databaseEndpoints.blue: must be "host:port"');
    expect(message).toContain("databaseEndpoints.green: is null: the stack has no green database");
    expect(message).toContain("databaseSecretArns.blue: must be a secretsmanager ARN");
    expect(message).toContain("databaseName: must be a non-empty string");
    expect(() => parseStackDatabases({ ...paired, databaseMode: "shared" }, "src", "parity")).toThrow(
      /database\.mode is shared .* parity does not apply: it applies to database\.mode paired/,
    );
    const same = { databaseEndpoints: { blue: "one:5432", green: "one:5432" }, databaseSecretArns: { blue: arn("a"), green: arn("a") } };
    expect(() => parseStackDatabases(same, "src", "sync")).toThrow(/the same server \(one:5432\): that is database\.mode shared, where sync does not apply/);
    expect(parseStackDatabases(paired, "src").endpoints.green).toEqual({ host: "green.abc.us-east-1.rds.amazonaws.com", port: 6543 });
  });

  it("secret errors: not found is bad input, network is unreachable, and no secret text is ever quoted", async () => {
    const db = parseStackDatabases(paired, "--outputs f.json");
    sm.reset();
    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: "ResourceNotFoundException" }));
    await expect(databaseConnections(db)).rejects.toThrow(UsageError);
    await expect(databaseConnections(db)).rejects.toThrow(/databaseSecretArns\.(blue|green) in --outputs f\.json/);
    sm.reset();
    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error("connect ETIMEDOUT"), { name: "TimeoutError" }));
    await expect(databaseConnections(db)).rejects.toThrow(UnreachableError);
    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: "not-json-TopSecret" });
    const error = await databaseConnections(db).catch((e: Error) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).not.toContain("TopSecret");
  });

  it("PGSSLROOTCERT that cannot be read is bad input, not a silent fallback", async () => {
    process.env.PGSSLROOTCERT = join(dir, "missing.pem");
    await expect(rdsTrust()).rejects.toThrow(/PGSSLROOTCERT .*missing\.pem: cannot be read/);
  });
});
