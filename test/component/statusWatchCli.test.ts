// `status --watch` in process against the local mock AWS endpoint: with no run in progress it
// draws one frame and stops (plain mode: stdout is not a terminal); --json gives one JSON line per
// frame; --interval is checked before any AWS call.

import { describe, expect, it } from "vitest";
import { statusMain } from "../../scripts/cli/statusMain.js";
import { useCliHarness } from "../support/cliHarness.js";

const cli = useCliHarness({ dirPrefix: "bluegreen-watch-", weights: { blue: 100, green: 0 }, copyProdConfig: true });
const base = ["--stack", "prod", "--outputs", "outputs.json"];

describe("status --watch", () => {
  it("no run in progress: one frame (plain, appended), then it stops, exit 0", async () => {
    const result = await cli.run(statusMain, [...base, "--watch", "--interval", "1"]);
    expect(result.code, result.out).toBe(0);
    expect(result.stdout).toMatch(/^status --watch · every 1 s · \d\d:\d\d:\d\dZ · Ctrl-C stops\n\nstack prod/);
    expect(result.stdout).toContain("recent windows\n  no window judged yet");
    expect(result.stdout).not.toContain("\x1b["); // plain: no cursor movement, no color
    expect(result.stderr).toContain("status --watch: no run in progress; stopped watching");
  });

  it("--json: one JSON line per frame", async () => {
    const result = await cli.run(statusMain, [...base, "--watch", "--json"]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: "status", frame: 0, report: { stack: "prod" } });
  });

  it.each([
    [["--interval", "5"], /--interval is for --watch/],
    [["--watch", "--interval", "0"], /--interval 0: must be an integer 1..3600/],
    [["--watch", "--interval", "1.5"], /--interval 1.5: must be an integer/],
  ])("%j: exit 2, no AWS call", async (extra, message) => {
    const result = await cli.run(statusMain, [...base, ...extra]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(cli.mock.calls).toEqual([]);
  });
});
