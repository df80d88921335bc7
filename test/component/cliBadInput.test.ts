// Bad input, as a new user gives it: every case exits 2 with a message that names the field or
// the flag, before any AWS call (the mock AWS endpoint sees nothing), and changes nothing on disk.
// Identity before action: --stack and --config must match the stack outputs' own identity.

import { spawn } from "node:child_process";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import type { MockAws } from "../../bench/rollbackStartup.js";
import { exitCodeFor } from "../../scripts/cli/common.js";
import { cutoverMain } from "../../scripts/cli/cutoverMain.js";
import { maintenanceMain } from "../../scripts/cli/maintenanceMain.js";
import { promoteMain } from "../../scripts/cli/promoteMain.js";
import { rollbackMain } from "../../scripts/cli/rollbackMain.js";
import { statusMain } from "../../scripts/cli/statusMain.js";
import { syncMain } from "../../scripts/cli/syncMain.js";
import { redact, redactUrl } from "../../scripts/core/redact.js";
import { ROOT, useCliHarness, type CliMain, type StackOutputs } from "../support/cliHarness.js";
import { writeFilledProdConfig } from "../support/prodConfig.js";

const cli = useCliHarness({ dirPrefix: "bluegreen-badinput-", weights: { blue: 0, green: 100 }, copyProdConfig: true });
const { run } = cli;
let mock: MockAws;
let dir: string;
let outputs: StackOutputs;
beforeEach(() => void ({ mock, dir, outputs } = cli));

/** Every file in the working directory, with its contents: "nothing changed" is this, unchanged. */
async function snapshotDir(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of await readdir(dir, { recursive: true })) {
    try {
      files[name] = await readFile(join(dir, name), "utf8");
    } catch {
      // a directory
    }
  }
  return files;
}

/** A config whose aliases expand without bound (a "billion laughs"). */
function aliasBomb(): string {
  const lines = ["config:", '  a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) lines.push(`  a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(",")}]`);
  return `${lines.join("\n")}\n`;
}

const F = ["--outputs", "outputs.json"];
const write = (name: string, text: string) => () => writeFile(join(dir, name), text);
const outputsWithout =
  (...keys: string[]) =>
  () => {
    const copy: Record<string, unknown> = { ...outputs };
    for (const key of keys) delete copy[key];
    return writeFile(join(dir, "outputs.json"), JSON.stringify(copy));
  };

interface Case {
  name: string;
  main: CliMain;
  argv: string[];
  setup?: () => Promise<unknown>;
  message: RegExp;
}

const cases: Case[] = [
  // Identity before action.
  {
    name: "rollback --stack <typo>: the outputs are prod's",
    main: rollbackMain,
    argv: ["--stack", "prdo", ...F],
    message: /--stack prdo does not match the stack outputs from --outputs outputs\.json: they belong to project bluegreen, stack prod/,
  },
  { name: "status --stack nosuch", main: statusMain, argv: ["--stack", "nosuch", ...F], message: /--stack nosuch does not match the stack outputs/ },
  { name: "maintenance --stack <typo>", main: maintenanceMain, argv: ["on", "--stack", "staging", ...F], message: /--stack staging does not match/ },
  {
    name: "promote --stack <typo>",
    main: promoteMain,
    argv: ["--stack", "staging", ...F, "--config", "Pulumi.prod.yaml"],
    message: /--stack staging does not match the stack outputs/,
  },
  {
    name: "cutover --stack org/otherproject/prod",
    main: cutoverMain,
    argv: ["--stack", "acme/shop/prod", ...F, "--yes", "--config", "Pulumi.prod.yaml"],
    message: /--stack acme\/shop\/prod does not match .*project bluegreen, stack prod/,
  },
  {
    name: "no --stack: the only Pulumi.<stack>.yaml here is another stack's",
    main: rollbackMain,
    argv: [...F],
    setup: async () => {
      await rm(join(dir, "Pulumi.prod.yaml"));
      await writeFilledProdConfig(join(dir, "Pulumi.staging.yaml"));
    },
    message: /--stack staging \(picked because it is the only Pulumi\.<stack>\.yaml here\) does not match the stack outputs/,
  },
  {
    name: "--config of another stack",
    main: maintenanceMain,
    argv: ["off", "--stack", "prod", ...F, "--config", "Pulumi.staging.yaml"],
    message: /--config \S*Pulumi\.staging\.yaml is stack staging's config, but the stack outputs .* are stack prod's/,
  },
  {
    name: "outputs that do not name their stack, from a bare --outputs FILE",
    main: rollbackMain,
    argv: ["--stack", "prod", ...F],
    setup: outputsWithout("pulumiProject", "pulumiStack"),
    message: /do not say which stack they belong to .*--allow-unverified-stack/,
  },
  {
    name: "outputs with a project but no stack",
    main: statusMain,
    argv: ["--stack", "prod", ...F],
    setup: outputsWithout("pulumiStack"),
    message: /pulumiProject and pulumiStack come together/,
  },
  // Names that would escape a directory or an SSM hierarchy.
  {
    name: "--stack ../../etc (rollback)",
    main: rollbackMain,
    argv: ["--stack", "../../etc", ...F],
    message: /--stack "\.\.\/\.\.\/etc": must be a Pulumi stack name/,
  },
  { name: "--stack ../../etc (status)", main: statusMain, argv: ["--stack", "../../etc"], message: /must be a Pulumi stack name/ },
  { name: "--stack .. (maintenance)", main: maintenanceMain, argv: ["on", "--stack", ".."], message: /must be a Pulumi stack name/ },
  // Flags.
  {
    name: "cutover --dry-run --resume",
    main: cutoverMain,
    argv: ["--stack", "prod", ...F, "--dry-run", "--resume"],
    message: /--dry-run and --resume do not go together/,
  },
  {
    name: "rollback --deadline 0",
    main: rollbackMain,
    argv: ["--stack", "prod", ...F, "--deadline", "0"],
    message: /--deadline 0: must be a number of seconds from 1 to 3600/,
  },
  { name: "rollback --deadline soon", main: rollbackMain, argv: ["--stack", "prod", ...F, "--deadline", "soon"], message: /--deadline soon: must be a number/ },
  // Config files.
  {
    name: "a YAML alias bomb as config (cutover)",
    main: cutoverMain,
    argv: ["--stack", "prod", ...F, "--yes"],
    setup: write("Pulumi.prod.yaml", aliasBomb()),
    message: /Pulumi\.prod\.yaml: not usable YAML: .*alias/,
  },
  {
    name: "a YAML alias bomb as config (status)",
    main: statusMain,
    argv: ["--stack", "prod", ...F],
    setup: write("Pulumi.prod.yaml", aliasBomb()),
    message: /Pulumi\.prod\.yaml: not usable YAML: .*alias/,
  },
  {
    name: "bakeSeconds: 1e309",
    main: cutoverMain,
    argv: ["--stack", "prod", ...F, "--yes"],
    setup: () => writeFilledProdConfig(join(dir, "Pulumi.prod.yaml"), (text) => text.replace(/bakeSeconds: \d+/, "bakeSeconds: 1e309")),
    message: /rollout\.bakeSeconds: must be a finite number \(got Infinity/,
  },
];

describe("bad input: exit 2, the field or flag named, no AWS call, nothing changed", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    await c.setup?.();
    const before = await snapshotDir();
    const result = await run(c.main, c.argv);
    expect(result.out).toMatch(c.message);
    expect(result.code, result.out).toBe(2);
    expect(mock.calls).toEqual([]);
    expect(await snapshotDir()).toEqual(before);
  });

  it("the bomb message does not dump the YAML library's stack or the document", async () => {
    await writeFile(join(dir, "Pulumi.prod.yaml"), aliasBomb());
    const result = await run(statusMain, ["--stack", "prod", ...F]);
    expect(result.out.split("\n").filter((l) => l.startsWith("error:"))).toHaveLength(1);
    expect(result.out).not.toMatch(/\bat .*\.js:\d+/);
  });
});

describe("identity by source: outputs without pulumiProject / pulumiStack", () => {
  it("a file keyed by stack name identifies its entry: accepted, lock under /bluegreen/bluegreen/prod", async () => {
    const { pulumiProject: _p, pulumiStack: _s, ...old } = outputs;
    await writeFile(join(dir, "outputs.json"), JSON.stringify({ prod: old }));
    const result = await run(rollbackMain, ["--stack", "prod", ...F]);
    expect(result.code, result.out).toBe(0);
    expect(mock.calls[0]).toMatchObject({ action: "PutParameter", params: { Name: "/bluegreen/bluegreen/prod/lock" } });
  });

  it("--allow-unverified-stack takes a bare file as the named stack's, and says so", async () => {
    const { pulumiProject: _p, pulumiStack: _s, ...old } = outputs;
    await writeFile(join(dir, "outputs.json"), JSON.stringify(old));
    const result = await run(rollbackMain, ["--stack", "prod", ...F, "--allow-unverified-stack"]);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(/warning: --allow-unverified-stack: acting on --outputs outputs\.json as stack prod without proof/);
  });

  it("two projects' prod stacks: the lock is the outputs' project's", async () => {
    await writeFile(join(dir, "outputs.json"), JSON.stringify({ ...outputs, pulumiProject: "shop" }));
    mock.state.parameters.set("/bluegreen/bluegreen/prod/lock", JSON.stringify({ owner: "ana@ops-1 pid 42", since: 1, operation: "cutover", runId: "r1" }));
    const result = await run(rollbackMain, ["--stack", "prod", ...F]);
    expect(result.code, result.out).toBe(0); // the other project's lock is not ours to respect
    expect(mock.calls[0]).toMatchObject({ action: "PutParameter", params: { Name: "/bluegreen/shop/prod/lock" } });
    expect(mock.state.parameters.has("/bluegreen/bluegreen/prod/lock")).toBe(true);
  });
});

describe("other commands' bad input", () => {
  const sync = async (args: string[]) => {
    try {
      return { code: await syncMain(args), message: "" };
    } catch (error) {
      return { code: exitCodeFor(error), message: (error as Error).message };
    }
  };

  it("sync stop with two bad URLs names both", async () => {
    const result = await sync(["stop", "--blue", "mysql://db/app", "--green", "not a url"]);
    expect(result.code).toBe(2);
    expect(result.message).toMatch(/--blue: URL scheme must be postgres:\/\/ .*; --green: not a valid URL/);
  });

  it("sync with sslmode=bogus says which flag and which values are allowed", async () => {
    // Without a password: one on the command line is refused before the URL is read.
    const result = await sync(["status", "--blue", "postgres://u@127.0.0.1:1/app?sslmode=bogus", "--green", "postgres://u@127.0.0.1:1/app"]);
    expect(result.code).toBe(2);
    expect(result.message).toBe("--blue: sslmode=bogus is not one of disable, allow, prefer, require, verify-ca, verify-full, no-verify");
    const flag = await sync(["status", "--stack", "prod", "--sslmode", "bogus"]);
    expect(flag.code).toBe(2);
    expect(flag.message).toMatch(/^--sslmode bogus: must be one of disable/);
  });

  it("npm run bench:rollback -- --help prints the help and runs nothing", { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "bench/rollbackStartup.ts"), "--help"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: npm run bench:rollback/);
    expect(out).not.toMatch(/run 1:/);
  });
});

describe("passwords masked wherever a URL may carry one", () => {
  it.each([
    ["user info", "postgres://app:hunter22@db:5432/app", "postgres://app:***@db:5432/app"],
    ["a password= query parameter", "postgres://db:5432/app?sslmode=verify-full&password=hunter22", "postgres://db:5432/app?sslmode=verify-full&password=***"],
    ["sslpassword= too", "postgres://app@db/app?sslpassword=hunter22", "postgres://app@db/app?sslpassword=***"],
    ["a key=value conninfo string", "host=db user=app password=hunter22 dbname=app", "host=db user=app password=*** dbname=app"],
    ["a quoted conninfo value", "host=db password='hunter 22'", "host=db password='***'"],
  ])("%s", (_name, url, masked) => {
    expect(redactUrl(url)).toBe(masked);
    expect(redact(`failed: ${url}`)).not.toContain("hunter");
  });
});
