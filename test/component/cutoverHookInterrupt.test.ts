// Ctrl-C while an after-step hook hangs (`sleep 30`): `npm run cutover` in process against the
// mock AWS of bench/rollbackStartup.ts, with the real ShellHookRunner. The first Ctrl-C must stop
// the hook (its whole process group) instead of waiting it out, then follow the cutover's policy:
// traffic back to blue, lock released, exit 130. The moment is an event (the pid file the hook
// writes first), never a delay; nothing asserts on elapsed time.

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cutoverMain } from "../../scripts/cli/cutoverMain.js";
import { groupAlive } from "../support/processGroups.js";
import { prodConfigWithRollout, useCliHarness } from "../support/cliHarness.js";

const cli = useCliHarness({
  dirPrefix: "bluegreen-hook-interrupt-",
  weights: { blue: 100, green: 0 },
  prepare: async (dir) =>
    writeFile(
      join(dir, "Pulumi.prod.yaml"),
      await prodConfigWithRollout([
        "    strategy:",
        "      type: canary",
        "      steps: [10, 100]",
        "    bakeSeconds: 0 # tests: no bake",
        "    monitorSeconds: 0",
        "    verifyTimeoutSeconds: 5",
        "    hooks:",
        "      - name: smoke",
        "        command: echo $$ > hook.pid; sleep 30",
        "        timeoutSeconds: 600",
      ]),
    ),
});
const groups = new Set<number>();

/** Poll (bounded) for an event; the 5 s bound is far under the hook's 30 s. */
async function until<T>(read: () => Promise<T | null>, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await read();
    if (value !== null) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never happened: ${what}`);
}

afterEach(() => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // gone, as it should be
    }
  }
  groups.clear();
});

describe("cutover: Ctrl-C while a hook hangs", () => {
  it("stops the hook's process group, rolls traffic back to blue, releases the lock, exit 130", { timeout: 30_000 }, async () => {
    const running = cli.run(cutoverMain, ["--stack", "prod", "--outputs", "outputs.json", "--yes"]);
    const pgid = await until(async () => {
      const text = await readFile(join(cli.dir, "hook.pid"), "utf8").catch(() => "");
      return text.endsWith("\n") ? Number(text.trim()) : null;
    }, "the hook to start");
    groups.add(pgid);
    expect(await groupAlive(pgid)).toBe(true);
    process.emit("SIGINT", "SIGINT"); // the first Ctrl-C only: a second exits the process
    const result = await running;
    expect(result.code, result.out).toBe(130);
    expect(result.out).toMatch(/hook smoke \(after-step\) stopped after \d+ ms/);
    expect(result.out).not.toMatch(/hook smoke .*FAILED|TIMED OUT/);
    await until(async () => ((await groupAlive(pgid)) ? null : true), "the hook's processes to be gone");
    expect(cli.mock.state.listeners.get(cli.outputs.listenerArns[0]!)!.weights).toEqual({ blue: 100, green: 0 });
    expect(cli.mock.state.parameters.has("/bluegreen/bluegreen/prod/lock")).toBe(false);
  });
});
