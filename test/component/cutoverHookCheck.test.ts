// `cutover` refuses, before any AWS call (so before the lock and any weight), a configured hook
// whose program is missing or not executable: exit 2 naming the hook and the path. The example
// hook Pulumi.prod.yaml names passes the check.

import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cutoverMain } from "../../scripts/cli/cutoverMain.js";
import { prodConfigWithRollout, useCliHarness } from "../support/cliHarness.js";

const cli = useCliHarness({ dirPrefix: "bluegreen-hookcheck-", weights: { blue: 100, green: 0 } });
const base = ["--stack", "prod", "--outputs", "outputs.json"];

async function configWithHook(command: string): Promise<void> {
  const rollout = [
    "    strategy: { type: canary, steps: [10, 100] }",
    "    bakeSeconds: 0",
    "    monitorSeconds: 0",
    "    hooks:",
    "      - name: smoke-booking",
    `        command: ${command}`,
    "        when: after-step",
  ];
  await writeFile(join(cli.dir, "Pulumi.prod.yaml"), await prodConfigWithRollout(rollout));
}

describe("cutover checks its hooks before anything", () => {
  it.each([[["--yes", "--skip-snapshot", "test"]], [["--dry-run"]]])("a missing hook script %j: exit 2 naming it, no AWS call", async (extra) => {
    await configWithHook("./smoke/book-and-read-back.sh");
    const result = await cli.run(cutoverMain, [...base, ...extra]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /rollout\.hooks: hook smoke-booking: \.\/smoke\/book-and-read-back\.sh does not exist \(looked for .*smoke\/book-and-read-back\.sh\)/,
    );
    expect(cli.mock.calls).toEqual([]);
  });

  it("a hook script that is not executable: exit 2, no AWS call", async () => {
    await mkdir(join(cli.dir, "smoke"));
    await writeFile(join(cli.dir, "smoke/check.sh"), "#!/bin/sh\nexit 0\n");
    await chmod(join(cli.dir, "smoke/check.sh"), 0o644);
    await configWithHook("./smoke/check.sh");
    const result = await cli.run(cutoverMain, [...base, "--dry-run"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/hook smoke-booking: \.\/smoke\/check\.sh is not executable .*chmod \+x it/);
    expect(cli.mock.calls).toEqual([]);
  });
});
