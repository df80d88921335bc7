// Stack identity in the database commands: `parity --stack X --outputs F` and `sync <cmd> --stack X
// --outputs F` check F against X in loadRawOutputs, as cutover, rollback and status do. Another
// stack's outputs are exit 2 before anything is read or connected to: no secret read, no
// connection to the databases they name (counting TCP servers on 127.0.0.1 stand in for them),
// no file written. Their own outputs get past the check: the secrets are read and the databases
// are connected to (the counting servers drop each connection, so the command then exits 3).

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { exitCodeFor, type ExitCode } from "../../scripts/cli/common.js";
import { parityMain } from "../../scripts/cli/parityMain.js";
import { loadRawOutputs } from "../../scripts/app/stackOutputs.js";
import { syncMain } from "../../scripts/cli/syncMain.js";

const secretsManager = mockClient(SecretsManagerClient);
const arn = (color: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-${color}-AbCdEf`;
const servers: Server[] = [];
const ports = { blue: 0, green: 0 };
let connections = 0;
const sockets = new Set<Socket>();
let dir = "";
const savedCwd = process.cwd();

/** Paired outputs whose databases are the counting servers. */
function pairedOutputs(identity: { pulumiProject?: string; pulumiStack?: string }) {
  return {
    ...identity,
    databaseMode: "paired",
    databaseName: "app",
    databaseEndpoints: { blue: `127.0.0.1:${ports.blue}`, green: `127.0.0.1:${ports.green}` },
    databaseSecretArns: { blue: arn("blue"), green: arn("green") },
  };
}

async function snapshotDir(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of await readdir(dir, { recursive: true })) files[name] = await readFile(join(dir, name), "utf8").catch(() => "(directory)");
  return files;
}

async function run(main: (args: string[]) => Promise<ExitCode>, args: string[]): Promise<{ code: ExitCode; message: string; stderr: string }> {
  const writes: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => (writes.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), message: "", stderr: writes.join("") };
  } catch (error) {
    return { code: exitCodeFor(error), message: (error as Error).message, stderr: writes.join("") };
  } finally {
    process.stderr.write = original;
  }
}

beforeAll(async () => {
  for (const color of ["blue", "green"] as const) {
    const server = createServer((socket) => {
      connections += 1;
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
      socket.destroy(); // no PostgreSQL here: the client sees the connection dropped
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    ports[color] = (server.address() as { port: number }).port;
  }
});

afterAll(async () => {
  secretsManager.restore();
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "bluegreen-identity-db-"));
  process.chdir(dir); // parity writes reports/parity-latest.json under the working directory
  connections = 0;
  secretsManager.reset();
  secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: "app", password: "pw-Secret-123" }) });
  await writeFile(join(dir, "staging.json"), JSON.stringify(pairedOutputs({ pulumiProject: "bluegreen", pulumiStack: "staging" })));
  await writeFile(join(dir, "old.json"), JSON.stringify(pairedOutputs({})));
});

afterEach(async () => {
  process.chdir(savedCwd);
  await rm(dir, { recursive: true, force: true });
});

const commands = [
  ["parity", (stack: string, file: string, ...more: string[]) => run(parityMain, ["--stack", stack, "--outputs", file, ...more])],
  [
    "sync status",
    (stack: string, file: string, ...more: string[]) => run(syncMain, ["status", "--stack", stack, "--outputs", file, "--sslmode", "disable", ...more]),
  ],
  [
    "sync start",
    (stack: string, file: string, ...more: string[]) =>
      run(syncMain, ["start", "--stack", stack, "--outputs", file, "--sslmode", "disable", "--no-wait", ...more]),
  ],
  [
    "sync stop",
    (stack: string, file: string, ...more: string[]) => run(syncMain, ["stop", "--stack", stack, "--outputs", file, "--sslmode", "disable", ...more]),
  ],
] as const;

describe.each(commands)("%s --stack X --outputs F", (_name, command) => {
  it("refuses another stack's outputs: exit 2, no secret read, no connection, nothing written", async () => {
    const before = await snapshotDir();
    const result = await command("prod", "staging.json");
    expect(result.code, result.message).toBe(2);
    expect(result.message).toMatch(
      /--stack prod does not match the stack outputs from --outputs staging\.json: they belong to project bluegreen, stack staging/,
    );
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(connections).toBe(0);
    expect(await snapshotDir()).toEqual(before);
  });

  it("refuses outputs that do not name their stack from a bare file, unless --allow-unverified-stack", async () => {
    const refused = await command("prod", "old.json");
    expect(refused.code, refused.message).toBe(2);
    expect(refused.message).toMatch(/do not say which stack they belong to .*--allow-unverified-stack/);
    expect(connections).toBe(0);

    const allowed = await command("prod", "old.json", "--allow-unverified-stack");
    expect(allowed.stderr).toMatch(/warning: --allow-unverified-stack: acting on --outputs old\.json as stack prod without proof/);
    expect(connections).toBeGreaterThan(0);
    expect(allowed.code, allowed.message).toBe(3);
  });

  it("accepts its own outputs: the secrets are read and the databases connected to", async () => {
    const result = await command("staging", "staging.json");
    expect(secretsManager.commandCalls(GetSecretValueCommand).length).toBeGreaterThan(0);
    expect(connections).toBeGreaterThan(0);
    // The stand-in drops every connection: unreachable, not bad input.
    expect(result.code, result.message).toBe(3);
    expect(result.message).not.toContain("pw-Secret-123");
  });
});

describe("loadRawOutputs: the identity every command gets", () => {
  it("without --stack (a bare --outputs FILE) nothing is claimed: the outputs' own identity, or none", async () => {
    expect((await loadRawOutputs({ outputsFile: "staging.json", cwd: dir })).identity).toEqual({
      project: "bluegreen",
      stack: "staging",
      verifiedBy: "outputs",
    });
    expect((await loadRawOutputs({ outputsFile: "old.json", cwd: dir })).identity).toBeNull();
  });

  it("a file keyed by stack name identifies its entry; another key is not taken for it", async () => {
    await writeFile(join(dir, "keyed.json"), JSON.stringify({ staging: pairedOutputs({}) }));
    expect((await loadRawOutputs({ stack: "staging", outputsFile: "keyed.json", cwd: dir })).identity).toEqual({
      project: "bluegreen",
      stack: "staging",
      verifiedBy: "source",
    });
    await expect(loadRawOutputs({ stack: "prod", outputsFile: "keyed.json", cwd: dir })).rejects.toThrow(/do not say which stack they belong to/);
  });

  it("malformed identity fields are bad input, never an identity", async () => {
    await writeFile(join(dir, "bad.json"), JSON.stringify(pairedOutputs({ pulumiProject: "bluegreen", pulumiStack: "../prod" })));
    await expect(loadRawOutputs({ stack: "prod", outputsFile: "bad.json", cwd: dir })).rejects.toThrow(/pulumiStack: must be a Pulumi name/);
    await writeFile(join(dir, "array.json"), "[]");
    await expect(loadRawOutputs({ outputsFile: "array.json", cwd: dir })).rejects.toThrow(/\(root\): must be a JSON object/);
  });
});
