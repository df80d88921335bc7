// The commands over the committed Pulumi.prod.yaml, its REPLACE-ME-<what> placeholders left in:
// cutover (run, dry run, offline plan) and promote refuse with exit 2, naming every key, before
// any AWS call and with nothing changed; the same file filled in is accepted. Rollback is the
// exception on purpose: it must work from any state, so it warns and still sends traffic to blue.
// In process against the local mock AWS endpoint (test/support/cliHarness.ts).

import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { cutoverMain } from "../../scripts/cli/cutoverMain.js";
import { promoteMain } from "../../scripts/cli/promoteMain.js";
import { rollbackMain } from "../../scripts/cli/rollbackMain.js";
import { useCliHarness, type CliMain } from "../support/cliHarness.js";
import { COMMITTED_PLACEHOLDERS, committedProdConfig } from "../support/prodConfig.js";

const cli = useCliHarness({ dirPrefix: "bluegreen-placeholders-", weights: { blue: 100, green: 0 }, copyProdConfig: true });
const F = ["--outputs", "outputs.json"];

async function snapshotDir(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of await readdir(cli.dir, { recursive: true })) {
    try {
      files[name] = await readFile(join(cli.dir, name), "utf8");
    } catch {
      // a directory
    }
  }
  return files;
}

const refusing: { name: string; main: CliMain; argv: string[] }[] = [
  { name: "cutover --yes", main: cutoverMain, argv: ["--stack", "prod", ...F, "--yes"] },
  { name: "cutover --dry-run", main: cutoverMain, argv: ["--stack", "prod", ...F, "--dry-run"] },
  { name: "cutover --dry-run --offline", main: cutoverMain, argv: ["--stack", "prod", "--dry-run", "--offline"] },
  { name: "promote", main: promoteMain, argv: ["--stack", "prod", ...F] },
];

describe("the committed Pulumi.prod.yaml, placeholders left in", () => {
  beforeEach(() => writeFile(join(cli.dir, "Pulumi.prod.yaml"), committedProdConfig()));

  it.each(refusing.map((c) => [c.name, c] as const))("%s: exit 2 naming every key that holds one, no AWS call, nothing changed", async (_name, c) => {
    const before = await snapshotDir();
    const result = await cli.run(c.main, c.argv);
    expect(result.code, result.out).toBe(2);
    expect(result.stderr).toContain("Pulumi.prod.yaml: 8 keys still hold placeholders (REPLACE-ME-...)");
    for (const { path, token } of COMMITTED_PLACEHOLDERS) expect(result.stderr).toContain(`  ${path}: still holds ${token}\n`);
    expect(cli.mock.calls).toEqual([]);
    expect(await snapshotDir()).toEqual(before);
  });

  it("one placeholder left (the certificate): exit 2 naming that key alone", async () => {
    const { filledProdConfig } = await import("../support/prodConfig.js");
    const arn = /arn:aws:acm:\S+/.exec(filledProdConfig())![0];
    await writeFile(join(cli.dir, "Pulumi.prod.yaml"), filledProdConfig().replace(arn, "REPLACE-ME-certificate-arn"));
    const result = await cli.run(cutoverMain, ["--stack", "prod", ...F, "--dry-run"]);
    expect(result.code, result.out).toBe(2);
    expect(result.stderr).toContain("Pulumi.prod.yaml: 1 key still holds a placeholder (REPLACE-ME-...)");
    expect(result.stderr.split("\n").filter((line) => line.startsWith("  "))).toEqual([
      "  traffic.https.certificateArn: still holds REPLACE-ME-certificate-arn",
    ]);
    expect(cli.mock.calls).toEqual([]);
  });

  it("rollback still rolls back (it must work from any state) and says the config needs filling in", async () => {
    cli.mock.reset();
    const { seedFromOutputs } = await import("../../bench/rollbackStartup.js");
    seedFromOutputs(cli.mock, cli.outputs, { blue: 25, green: 75 });
    const result = await cli.run(rollbackMain, ["--stack", "prod", ...F]);
    expect(result.code, result.out).toBe(0);
    expect(result.stderr).toMatch(
      /warning: \S*Pulumi\.prod\.yaml: 8 keys still hold placeholders \(REPLACE-ME-\.\.\.\).* \(rollback goes on; fix the config before the next cutover\)/,
    );
    expect(cli.mock.calls.some((call) => call.action === "ModifyListener")).toBe(true);
  });
});

describe("the same file filled in (the harness's default)", () => {
  it("cutover --dry-run reads the stack and prints the plan: exit 0", async () => {
    const result = await cli.run(cutoverMain, ["--stack", "prod", ...F, "--dry-run"]);
    expect(result.code, result.out).toBe(0);
    expect(result.stdout).toMatch(/Plan: canary, shared database/);
    expect(result.out).not.toContain("REPLACE-ME");
  });
});
