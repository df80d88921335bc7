// The secrets table: every way a database password can be put on a command line is refused
// (exit 2) with the ways to give it instead, and the password appears nowhere — not on stdout,
// not on stderr, not in any file the command leaves. The alternatives work; embedded PostgreSQL's
// password file is private while it exists and gone afterwards.

import { lstat, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cutoverMain } from "../../scripts/cli/cutoverMain.js";
import { migrateMain } from "../../scripts/cli/migrateMain.js";
import { parityMain } from "../../scripts/cli/parityMain.js";
import { rollbackMain } from "../../scripts/cli/rollbackMain.js";
import { syncMain } from "../../scripts/cli/syncMain.js";
import { startPostgres } from "../../scripts/local/embeddedPostgres.js";
import { runProcessMain, useCliHarness, type CliRun } from "../support/cliHarness.js";

const SECRET = "hunter22-Zq";
const cli = useCliHarness({ dirPrefix: "bluegreen-secrets-", weights: { blue: 100, green: 0 }, copyProdConfig: true });

async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(dir, { recursive: true })) {
    const path = join(dir, name);
    if (!(await lstat(path)).isFile()) continue;
    if ((await readFile(path, "utf8")).includes(needle)) found.push(name);
  }
  return found;
}

const FORMS: [string, string][] = [
  ["URL user info", `postgres://app:${SECRET}@db.internal:5432/app`],
  ["?password=", `postgres://app@db.internal:5432/app?sslmode=verify-full&password=${SECRET}`],
  ["&sslpassword=", `postgres://app@db.internal/app?sslmode=verify-full&sslpassword=${SECRET}`],
  ["conninfo password=", `host=db.internal user=app dbname=app password=${SECRET}`],
  ["conninfo password = quoted", `host=db.internal user=app password = '${SECRET}'`],
  ["postgresql:// scheme", `postgresql://app:${SECRET}@db.internal/app`],
];

type Runner = (value: string) => Promise<CliRun>;
const COMMANDS: [string, Runner][] = [
  ["parity --blue", (v) => runProcessMain(parityMain, ["--blue", v, "--green", "postgres://app@db/app", "--no-save"])],
  ["parity --green=…", (v) => runProcessMain(parityMain, ["--blue", "postgres://app@db/app", `--green=${v}`, "--no-save"])],
  ["sync start --blue", (v) => runProcessMain(syncMain, ["start", "--blue", v, "--green", "postgres://app@db/app", "--dry-run"])],
  [
    "sync start --source-url-for-target",
    (v) => runProcessMain(syncMain, ["start", "--blue", "postgres://a@db/app", "--green", "postgres://a@db/app", "--source-url-for-target", v]),
  ],
  ["migrate up --database-url", (v) => cli.run(migrateMain, ["up", "--database-url", v, "--dir", "."], { rawArgv: true })],
  ["migrate plan --green", (v) => cli.run(migrateMain, ["plan", "--blue", "postgres://a@db/app", "--green", v], { rawArgv: true })],
];

describe("a password on the command line: refused, and never printed or written", () => {
  for (const [command, runner] of COMMANDS) {
    it.each(FORMS)(`${command}: %s`, async (_form, value) => {
      const result = await runner(value);
      expect(result.code, result.out).toBe(2);
      expect(result.out).toMatch(/a password on the command line is refused/);
      expect(result.out).toMatch(/--blue-env VAR .* PGPASSWORD .* pgpass\/service file .* --stack NAME \(the stack's Secrets Manager secret\)/);
      expect(result.out).not.toContain(SECRET);
      expect(await filesContaining(cli.dir, SECRET)).toEqual([]);
      expect(cli.mock.calls).toEqual([]);
    });
  }

  it.each([
    ["cutover --webhook", cutoverMain],
    ["rollback --webhook", rollbackMain],
  ] as const)("%s with credentials in the URL", async (_name, main) => {
    const result = await cli.run(
      main,
      ["--stack", "prod", "--outputs", "outputs.json", "--yes", "--webhook", `https://ops:${SECRET}@hooks.example.com/x`].filter(
        (a) => main === cutoverMain || a !== "--yes",
      ),
    );
    expect(result.code, result.out).toBe(2);
    expect(result.out).not.toContain(SECRET);
    expect(cli.mock.calls).toEqual([]);
  });
});

describe("the alternatives", () => {
  it("--blue-env names a variable; unset or malformed names are refused", async () => {
    const unset = await runProcessMain(parityMain, ["--blue-env", "BLUEGREEN_NOT_SET_X", "--green", "postgres://a@db/app", "--no-save"]);
    expect(unset.code).toBe(2);
    expect(unset.out).toMatch(/--blue-env BLUEGREEN_NOT_SET_X: the environment variable BLUEGREEN_NOT_SET_X is not set/);
    const malformed = await runProcessMain(syncMain, ["status", "--blue-env", "not-a-name", "--green", "postgres://a@db/app"]);
    expect(malformed.code).toBe(2);
    expect(malformed.out).toMatch(/--blue-env "not-a-name": must be the name of an environment variable/);
  });

  it("a URL from --blue-env is read and validated like --blue, its password masked in errors", async () => {
    process.env.BLUEGREEN_SECRET_TEST_URL = `mysql://app:${SECRET}@db/app`;
    try {
      const result = await runProcessMain(parityMain, ["--blue-env", "BLUEGREEN_SECRET_TEST_URL", "--green", "postgres://a@db/app", "--no-save"]);
      expect(result.code).toBe(2);
      expect(result.out).toMatch(/--blue: expected a postgres:\/\/ or postgresql:\/\/ URL, got mysql:\/\/ in mysql:\/\/app:\*\*\*@db\/app/);
      expect(result.out).not.toContain(SECRET);
    } finally {
      delete process.env.BLUEGREEN_SECRET_TEST_URL;
    }
  });
});

describe("embedded PostgreSQL's password file", () => {
  it("is written in the server's own directory, private while initdb reads it, and gone afterwards", { timeout: 120_000 }, async () => {
    const tmpdirBefore = process.env.TMPDIR;
    let parent: string | null = null;
    const seen: { dirMode: number; fileMode: number; dirUid: number }[] = [];
    const poll = setInterval(() => {
      if (!parent) return;
      const dir = join(parent, "initdb-secret");
      readdir(dir)
        .then(async (names) => {
          for (const name of names.filter((n) => n.startsWith("pg-password-"))) {
            const [d, f] = await Promise.all([stat(dir), stat(join(dir, name))]);
            seen.push({ dirMode: d.mode & 0o777, fileMode: f.mode & 0o777, dirUid: d.uid });
          }
        })
        .catch(() => undefined);
    }, 2);
    const server = await startPostgres({ label: "secrets-test", onDirectory: (dir) => (parent = dir) }).finally(() => clearInterval(poll));
    try {
      expect(seen.length).toBeGreaterThan(0);
      for (const s of seen) {
        // Only initdb's user may enter the directory; as non-root the file itself is 0600.
        expect(s.dirMode).toBe(0o700);
        if (process.getuid?.() !== 0) expect(s.fileMode).toBe(0o600);
        else expect(s.dirUid).not.toBe(0);
      }
      expect(process.env.TMPDIR).toBe(tmpdirBefore);
      // The file was written in the server's own directory (seen above), not in the shared TMPDIR
      // (other processes on this machine write theirs there, so its listing proves nothing), and
      // that directory is gone.
      await expect(stat(join(parent!, "initdb-secret"))).rejects.toThrow(/ENOENT/);
    } finally {
      await server.stop();
    }
  });
});
