// The replication role's pieces that need no server: the SCRAM verifier (checked against the
// RFC 7677 example exchange), the subscription's conninfo, and reading replicationSecretArns from
// the stack outputs. test/integration/rotation.test.ts runs them against real PostgreSQL.
import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseStackDatabases } from "../../scripts/postgres/stackDatabases.js";
import { replicationConninfo, scramVerifier } from "../../scripts/postgres/sync/replicationRole.js";

describe("scramVerifier", () => {
  // RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
  const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64");
  const nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
  const keys = (verifier: string) => {
    const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier)!;
    return { iterations: Number(match[1]), salt: match[2]!, stored: Buffer.from(match[3]!, "base64"), server: Buffer.from(match[4]!, "base64") };
  };

  it("is what the RFC 7677 exchange proves: the server signature and the client proof check out", () => {
    const verifier = keys(scramVerifier("pencil", salt, 4096));
    expect(verifier).toMatchObject({ iterations: 4096, salt: "W22ZaJ0SNY7soEsUEjb6gQ==" });
    expect(createHmac("sha256", verifier.server).update(authMessage).digest("base64")).toBe("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    // ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); StoredKey = SHA-256(ClientKey).
    const proof = Buffer.from("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "base64");
    const signature = createHmac("sha256", verifier.stored).update(authMessage).digest();
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ signature[i]!));
    expect(createHash("sha256").update(clientKey).digest().equals(verifier.stored)).toBe(true);
  });

  it("draws a new salt each time and refuses what SASLprep would change", () => {
    expect(keys(scramVerifier("pencil")).salt).not.toBe(keys(scramVerifier("pencil")).salt);
    expect(() => scramVerifier("pässword")).toThrow(/printable ASCII/);
    expect(() => scramVerifier("with space")).toThrow(/printable ASCII/);
  });
});

describe("replicationConninfo", () => {
  it("quotes every value and connects as the role with TLS required", () => {
    expect(
      replicationConninfo({
        username: "bluegreen_replication",
        password: "p'q\\r",
        host: "db-blue.abc.eu-west-1.rds.amazonaws.com",
        port: 5432,
        dbname: "booking",
      }),
    ).toBe(
      "host='db-blue.abc.eu-west-1.rds.amazonaws.com' port='5432' dbname='booking' user='bluegreen_replication' password='p\\'q\\\\r' sslmode='require' connect_timeout='10'",
    );
  });
});

describe("replicationSecretArns in the stack outputs", () => {
  const base = {
    databaseMode: "paired",
    databaseEndpoints: { blue: "db-blue.x.eu-west-1.rds.amazonaws.com:5432", green: "db-green.x.eu-west-1.rds.amazonaws.com:5432" },
    databaseSecretArns: {
      blue: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-b",
      green: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-g",
    },
    databaseName: "booking",
  };
  const replication = {
    blue: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-blue-replication-a1",
    green: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-green-replication-b2",
  };

  it("reads them when the stack exports them, and does without for an older stack or a shared one's nulls", () => {
    expect(parseStackDatabases({ ...base, replicationSecretArns: replication }, "x").replicationSecretArns).toEqual(replication);
    expect(parseStackDatabases(base, "x").replicationSecretArns).toBeUndefined();
    expect(parseStackDatabases({ ...base, replicationSecretArns: { blue: null, green: null } }, "x").replicationSecretArns).toBeUndefined();
    expect(parseStackDatabases(base, "x").databaseName).toBe("booking");
  });

  it("refuses a half-set or malformed one, naming the path", () => {
    expect(() => parseStackDatabases({ ...base, replicationSecretArns: { blue: replication.blue, green: null } }, "x")).toThrow(
      /replicationSecretArns\.green: must be a secretsmanager ARN/,
    );
    expect(() => parseStackDatabases({ ...base, replicationSecretArns: ["a"] }, "x")).toThrow(/replicationSecretArns: must be an object/);
  });
});
