// The hook check before any lock: a hook's program (its command line's first word after any
// VAR=value) must exist and be executable, resolved against the hooks' directory or on PATH;
// shell builtins pass; the error names every hook at fault and the path it looked at.

import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkHookCommands, hookProgram } from "../../scripts/hooks/hookCommands.js";
import { prodConfigMap } from "../support/stackConfigs.js";

describe("a hook's program", () => {
  test.each([
    ["./smoke/book.sh", "./smoke/book.sh"],
    ["  ./smoke/book.sh --fast  ", "./smoke/book.sh"],
    ["SMOKE_PET_ID=3 DEBUG=1 ./smoke/book.sh", "./smoke/book.sh"],
    ["'./my-hook.sh' x", "./my-hook.sh"],
    ["node scripts/smoke.js", "node"],
    ["(cd x && ./y)", null],
    ["$HOME/hook.sh", null],
    ["", null],
  ])("%j → %j", (command, program) => {
    expect(hookProgram(command)).toBe(program);
  });
});

describe("checkHookCommands", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "bluegreen-hooks-"));
    await writeFile(join(dir, "ok.sh"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    await writeFile(join(dir, "plain.sh"), "#!/bin/sh\nexit 0\n");
    await chmod(join(dir, "plain.sh"), 0o644);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));
  const check = (hooks: { name: string; command: string }[], path = "/usr/bin:/bin") =>
    checkHookCommands(hooks, { cwd: dir, path, configPath: "Pulumi.prod.yaml" });

  test("an executable file, a program on PATH, a builtin: nothing to say", async () => {
    await expect(
      check([
        { name: "a", command: "./ok.sh" },
        { name: "b", command: "sh -c true" },
        { name: "c", command: "exit 0" },
        { name: "d", command: `${dir}/ok.sh` },
      ]),
    ).resolves.toBeUndefined();
  });

  test("missing, not executable, not on PATH: exit 2 naming each hook and the path it looked at", async () => {
    const failure = check([
      { name: "smoke-booking", command: "./smoke/book-and-read-back.sh" },
      { name: "plain", command: "./plain.sh" },
      { name: "tool", command: "no-such-tool-bluegreen --x" },
      { name: "fine", command: "./ok.sh" },
    ]);
    await expect(failure).rejects.toMatchObject({ exitCode: 2 });
    const message = await failure.catch((error: Error) => error.message);
    expect(message).toContain(`hook smoke-booking: ./smoke/book-and-read-back.sh does not exist (looked for ${join(dir, "smoke/book-and-read-back.sh")})`);
    expect(message).toContain(`hook plain: ./plain.sh is not executable (${join(dir, "plain.sh")}): chmod +x it`);
    expect(message).toContain("hook tool: no-such-tool-bluegreen is not on PATH");
    expect(message).not.toContain("hook fine");
    expect(message).toMatch(/^Pulumi\.prod\.yaml rollout\.hooks: /);
  });

  test("a directory is not a hook", async () => {
    await expect(check([{ name: "dir", command: "./" }])).rejects.toThrow(/hook dir: \.\/ is not a file/);
  });

  test("the repository's example hook, as the filled-in Pulumi.prod.yaml names it, passes", async () => {
    const root = join(import.meta.dirname, "../..");
    const hooks = prodConfigMap()["bluegreen:rollout"].hooks as { name: string; command: string }[];
    expect(hooks).toEqual([expect.objectContaining({ name: "smoke-booking", command: "./examples/hooks/smoke-booking.sh" })]);
    await expect(checkHookCommands(hooks, { cwd: root, path: "", configPath: "x" })).resolves.toBeUndefined();
  });
});
