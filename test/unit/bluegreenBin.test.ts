// The `bluegreen` bin (package.json "bin"): one entry dispatching to every command, loading only
// the named command's module (rollback's start-up does not grow), with nothing but the command's
// output on stdout, so `npx bluegreen … --json` is clean JSON.

import { spawn } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/cliHarness.js";

function bluegreen(args: string[], cwd = ROOT): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), join(ROOT, "scripts/bluegreen.ts"), ...args], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}

describe("npx bluegreen", () => {
  it("is the package's bin, built to dist/", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.bin).toEqual({ bluegreen: "dist/scripts/bluegreen.js" });
    expect(pkg.scripts.prepare).toContain("chmodSync('dist/scripts/bluegreen.js', 0o755)");
  });

  it("--help lists every operator command that npm run has", { timeout: 30_000 }, async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    const commands = Object.entries(pkg.scripts).flatMap(([name, script]) => (/^node dist\/scripts\/\w+\.js$/.test(script) ? [name] : []));
    const help = await bluegreen(["--help"]);
    expect(help.code).toBe(0);
    for (const name of commands) expect(help.stdout).toMatch(new RegExp(`^  ${name}\\s`, "m"));
  });

  it("an unknown command is exit 2 naming the commands; none is exit 2 with the usage", { timeout: 30_000 }, async () => {
    const unknown = await bluegreen(["rollbak"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "rollbak": one of cutover, rollback/);
    const none = await bluegreen([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^Usage: bluegreen <command>/);
  });

  it("dispatches with the command's own flags and exit codes; --json output is JSON lines only", { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "bluegreen-bin-"));
    try {
      await copyFile(join(ROOT, "test/fixtures/reports/clean-cutover.json"), join(dir, "run.json"));
      const result = await bluegreen(["report", "--json", "run.json"], dir);
      expect(result.code, result.stderr).toBe(0);
      const lines = result.stdout.trim().split("\n");
      expect(lines.map((line) => JSON.parse(line) as { type: string })).toEqual([expect.objectContaining({ type: "report", html: join(dir, "run.html") })]);
      const bad = await bluegreen(["rollback", "--reason", "--dry-run"], dir);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--reason takes a value, but the next argument is "--dry-run"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("loads only the named command: nothing but the exit-code module at start-up", async () => {
    const source = await readFile(join(ROOT, "scripts/bluegreen.ts"), "utf8");
    const staticImports = [...source.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    expect(staticImports).toEqual(["./cli/common.js"]);
  });
});
