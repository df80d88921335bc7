// The `npm run parity` command line: exit codes, output modes, report files, and no
// password in anything it prints. One server holds both "blue" and "green" databases.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { createDatabases, execSql, runScript, type ScriptRun as Run } from "../support/postgres.js";

let server: LocalPostgres;
let cwd: string;

const cli = (args: string[]): Promise<Run> => runScript("parity", args, cwd);

beforeAll(async () => {
  server = await startPostgres({ label: "parity-cli" });
  cwd = await mkdtemp(join(tmpdir(), "parity-cli-"));
  await createDatabases(server, "blue_db", "green_db");
  for (const db of ["blue_db", "green_db"]) {
    const url = server.url(db);
    await execSql(url, "CREATE TABLE public.items (id int PRIMARY KEY, v text); INSERT INTO public.items SELECT g, 'v' || g FROM generate_series(1, 100) g");
    await execSql(url, "CREATE TABLE public.other (id int PRIMARY KEY, v text); INSERT INTO public.other SELECT g, 'o' || g FROM generate_series(1, 10) g");
    if (db === "green_db") await execSql(url, "UPDATE public.other SET v = 'changed' WHERE id = 3; DELETE FROM public.other WHERE id = 9");
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

const blue = () => server.url("blue_db");
const green = () => server.url("green_db");
const noSecret = (r: Run, ...secrets: string[]) => {
  for (const s of [server.password, ...secrets]) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
};

describe("parity command line", () => {
  it("--help exits 0 and documents the options", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    for (const flag of ["--blue", "--green", "--stack", "--include", "--exclude", "--limit", "--parallel", "--json", "--report", "--strict-privileges"]) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain("4 cannot compare");
  });

  it("exit 0 on identical data; --json on stdout; --report and reports/parity-latest.json written", async () => {
    const reportFile = join(cwd, "out", "parity.json");
    const r = await cli(["--blue", blue(), "--green", green(), "--include", "public.items", "--json", "--report", reportFile]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ kind: "parity", identical: true });
    expect(report.blue.target).toMatch(/^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/blue_db$/);
    expect(JSON.parse(await readFile(reportFile, "utf8")).finishedAt).toBe(report.finishedAt);
    expect(JSON.parse(await readFile(join(cwd, "reports/parity-latest.json"), "utf8")).finishedAt).toBe(report.finishedAt);
    expect(r.stderr).toContain("parity: tables");
    noSecret(r);
  });

  it("exit 1 with the differing keys in the human report", async () => {
    const r = await cli(["--blue", blue(), "--green", green(), "--no-save"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("✗ public.other");
    expect(r.stdout).toMatch(/missing on green\s+id=9/);
    expect(r.stdout).toMatch(/changed\s+id=3: v/);
    expect(r.stdout).toContain("DIFFERENT");
    noSecret(r);
  });

  it("exit 2 on a bad URL, an unknown table pattern, a bad number or a bad outputs file", async () => {
    const badUrl = await cli(["--blue", "not a url", "--green", green(), "--no-save"]);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/--blue: not a valid URL/);

    const wrongScheme = await cli(["--blue", "mysql://u:topsecret@h/db", "--green", green(), "--no-save"]);
    expect(wrongScheme.code).toBe(2);
    noSecret(wrongScheme, "topsecret");

    const pattern = await cli(["--blue", blue(), "--green", green(), "--include", "public.nope*", "--no-save"]);
    expect(pattern.code).toBe(2);
    expect(pattern.stderr).toContain('no table matches "public.nope*"');
    noSecret(pattern);

    const limit = await cli(["--blue", blue(), "--green", green(), "--limit", "lots"]);
    expect(limit.code).toBe(2);

    const outputs = join(cwd, "outputs.json");
    await writeFile(
      outputs,
      JSON.stringify({ databaseEndpoints: { blue: "h:5432" }, databaseSecretArns: { blue: "arn:aws:secretsmanager:eu-west-1:1:secret:b" } }),
    );
    const stack = await cli(["--outputs", outputs, "--no-save"]);
    expect(stack.code).toBe(2);
    expect(stack.stderr).toContain("databaseEndpoints.green: is missing");

    const shared = join(cwd, "shared.json");
    await writeFile(shared, JSON.stringify({ prod: { databaseMode: "shared", databaseEndpoints: { blue: "one:5432", green: "one:5432" } } }));
    const sharedRun = await cli(["--stack", "prod", "--outputs", shared, "--no-save"]);
    expect(sharedRun.code).toBe(2);
    expect(sharedRun.stderr).toMatch(/database\.mode is shared .*parity does not apply: it applies to database\.mode paired/);

    const both = await cli(["--stack", "prod", "--blue", blue(), "--no-save"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("not both");
    noSecret(both);

    const missing = await cli(["--no-save"]);
    expect(missing.code).toBe(2);
  });

  it("exit 3 on a wrong password or an unreachable server, without printing the password", async () => {
    const wrong = new URL(blue());
    wrong.password = "Wrong-Pass-123";
    const auth = await cli(["--blue", wrong.toString(), "--green", green(), "--no-save"]);
    expect(auth.code).toBe(3);
    expect(auth.stderr).toMatch(/blue database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/blue_db: authentication failed/);
    noSecret(auth, "Wrong-Pass-123");

    const port = await freePort();
    const down = await cli(["--blue", blue(), "--green", `postgres://postgres:Secret-999@127.0.0.1:${port}/x`, "--no-save"]);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/green database .*cannot reach the server \(ECONNREFUSED\)/);
    noSecret(down, "Secret-999");
  });
});
