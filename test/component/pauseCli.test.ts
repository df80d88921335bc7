// `npm run promote` and a paused cutover, in process, against the local mock AWS endpoint (the
// SDK's own AWS_ENDPOINT_URL, as in cliCommands.test.ts): the cutover pauses and exits 0 saying
// how to continue; status shows the paused step; promote refuses what is not paused (exit 2, no
// write) and continues what is; a timed pause refuses an early promote unless --now.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import type { MockAws } from "../../bench/rollbackStartup.js";
import { decodeJournal, encodeJournal } from "../../scripts/aws/ssmJournal.js";
import { cutoverMain } from "../../scripts/cli/cutoverMain.js";
import { promoteMain } from "../../scripts/cli/promoteMain.js";
import { rollbackMain } from "../../scripts/cli/rollbackMain.js";
import { statusMain } from "../../scripts/cli/statusMain.js";
import { prodConfigWithRollout, useCliHarness, type StackOutputs } from "../support/cliHarness.js";

const cli = useCliHarness({ dirPrefix: "bluegreen-promote-", weights: { blue: 100, green: 0 } });
const { run } = cli;
let mock: MockAws;
let dir: string;
let outputs: StackOutputs;
beforeEach(() => void ({ mock, dir, outputs } = cli));
const base = ["--stack", "prod", "--outputs", "outputs.json"];
const JOURNAL = "/bluegreen/bluegreen/prod/journal";

async function writeConfig(pause: string): Promise<void> {
  const rollout = [
    "    strategy:",
    "      type: canary",
    `      steps: [{ percent: 10, pause: "${pause}" }, 100]`,
    "    bakeSeconds: 0",
    "    monitorSeconds: 0",
    "    verifyTimeoutSeconds: 5",
  ];
  await writeFile(join(dir, "Pulumi.prod.yaml"), await prodConfigWithRollout(rollout));
}

const listenerWeights = () => mock.state.listeners.get(outputs.listenerArns[0]!)!.weights;
const writes = () => mock.calls.filter((c) => /^(Modify|Put|Delete|Create|Set)/.test(c.action) && c.params.Name !== "/bluegreen/bluegreen/prod/lock");

describe("a paused cutover and promote", () => {
  it("--help lists the flags", async () => {
    const result = await run(promoteMain, ["--help"]);
    expect(result.code).toBe(0);
    for (const flag of ["--now", "--when-due", "--scale-down-blue", "--stack", "--json"]) expect(result.stdout + result.stderr).toContain(flag);
  });

  it("pauses at 10% (exit 0, how to continue), status shows it, promote finishes it", async () => {
    await writeConfig("promote");
    const cutover = await run(cutoverMain, [...base, "--yes", "--skip-snapshot", "test stack"]);
    expect(cutover.code).toBe(0);
    expect(cutover.stderr).toMatch(/cutover paused/);
    expect(cutover.stderr).toMatch(/paused.*: nothing of this process keeps running; the guard watches green's alarms. Continue with `npm run promote`/);
    expect(listenerWeights()).toEqual({ blue: 90, green: 10 });
    expect(mock.state.parameters.has("/bluegreen/bluegreen/prod/lock")).toBe(false);
    expect(decodeJournal(mock.state.parameters.get(JOURNAL)!)).toMatchObject({ phase: "paused", step: 0 });

    const status = await run(statusMain, [...base, "--json"]);
    const report = JSON.parse(status.stdout);
    expect(report.lastRun.value.pause).toMatchObject({ step: 1, kind: "promote", weights: { blue: 90, green: 10 }, continuesAt: null });
    const text = await run(statusMain, base);
    expect(text.stdout).toMatch(/paused at step 1 \(blue 90 \/ green 10\) since .*: waits for `npm run promote`/);

    const promote = await run(promoteMain, base);
    expect(promote.stderr).toMatch(/promoting run .*: step 1 paused since/);
    expect(promote.stderr).toMatch(/cutover succeeded/);
    expect(promote.code).toBe(0);
    expect(listenerWeights()).toEqual({ blue: 0, green: 100 });
    expect(decodeJournal(mock.state.parameters.get(JOURNAL)!)).toMatchObject({ phase: "succeeded", pauses: [{ step: 0, promotedAt: expect.any(Number) }] });
  });

  it("promote refuses what is not paused: no journal, a finished run (exit 2, nothing written)", async () => {
    await writeConfig("promote");
    mock.calls.length = 0;
    const none = await run(promoteMain, base);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no cutover journal: nothing to promote/);
    expect(writes()).toEqual([]);

    await run(cutoverMain, [...base, "--yes", "--skip-snapshot", "test stack"]);
    await run(rollbackMain, base);
    mock.calls.length = 0;
    const finished = await run(promoteMain, base);
    expect(finished.code).toBe(2);
    expect(finished.stderr).toMatch(/nothing to promote: run .* is in phase "rolled-back", not paused/);
    expect(writes()).toEqual([]);
  });

  it("a timed pause: promote before its time exits 2 and changes nothing; --now continues", async () => {
    await writeConfig("36h");
    expect((await run(cutoverMain, [...base, "--yes", "--skip-snapshot", "test stack"])).code).toBe(0);
    mock.calls.length = 0;
    const early = await run(promoteMain, base);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/lasts until .*--now/);
    expect(writes()).toEqual([]);
    const resumeEarly = await run(cutoverMain, [...base, "--resume", "--yes"]);
    expect(resumeEarly.code).toBe(2);
    expect(writes()).toEqual([]);

    const now = await run(promoteMain, [...base, "--now"]);
    expect(now.code).toBe(0);
    expect(listenerWeights()).toEqual({ blue: 0, green: 100 });
    expect(decodeJournal(mock.state.parameters.get(JOURNAL)!)).toMatchObject({ phase: "succeeded", pauses: [{ early: true }] });
  });

  it("--when-due, for a schedule: nothing due is exit 0 with nothing changed; a timed pause that is over continues; an operator's pause is left to the operator", async () => {
    await writeConfig("36h");
    mock.calls.length = 0;
    const none = await run(promoteMain, [...base, "--when-due"]);
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/promote --when-due: there is no cutover journal; nothing was changed/);

    expect((await run(cutoverMain, [...base, "--yes", "--skip-snapshot", "test stack"])).code).toBe(0);
    mock.calls.length = 0;
    const early = await run(promoteMain, [...base, "--when-due", "--json"]);
    expect(early.code).toBe(0);
    expect(JSON.parse(early.stdout.trim().split("\n").at(-1)!)).toMatchObject({
      type: "promote-not-due",
      reason: expect.stringMatching(/the pause at step 1 lasts until /),
    });
    expect(writes()).toEqual([]);
    expect(listenerWeights()).toEqual({ blue: 90, green: 10 });
    expect((await run(promoteMain, [...base, "--when-due", "--now"])).code).toBe(2);

    // 36 hours later (the journal's pause, moved into the past): the scheduled run continues it.
    const journal = decodeJournal(mock.state.parameters.get(JOURNAL)!) as { pauses: { until: number | null }[] };
    journal.pauses[0]!.until = Date.now() - 1000;
    mock.state.parameters.set(JOURNAL, encodeJournal(journal as never));
    const due = await run(promoteMain, [...base, "--when-due"]);
    expect(due.code).toBe(0);
    expect(due.stderr).toMatch(/cutover succeeded/);
    expect(listenerWeights()).toEqual({ blue: 0, green: 100 });
    const again = await run(promoteMain, [...base, "--when-due"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/is in phase "succeeded", not paused; nothing was changed/);
  });

  it("--when-due leaves a `pause: promote` step to the operator", async () => {
    await writeConfig("promote");
    expect((await run(cutoverMain, [...base, "--yes", "--skip-snapshot", "test stack"])).code).toBe(0);
    mock.calls.length = 0;
    const scheduled = await run(promoteMain, [...base, "--when-due"]);
    expect(scheduled.code).toBe(0);
    expect(scheduled.stderr).toMatch(/step 1 waits for an operator's `npm run promote` \(pause: promote\); nothing was changed/);
    expect(writes()).toEqual([]);
    expect(listenerWeights()).toEqual({ blue: 90, green: 10 });
  });
});
