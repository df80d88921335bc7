// `npm run pause` and `npm run abort` in process against the local mock AWS endpoint (as the other
// command-line tests): the request lands in the stack's `request` SSM parameter naming the running
// session (run id and the lock's `since`); nothing is written when nothing can hold; abort writes
// its request before rollback's path breaks the cutover's lock and flips, never breaks a rollback's
// lock, and leaves no request behind.

import { beforeEach, describe, expect, it } from "vitest";
import type { MockAws } from "../../bench/rollbackStartup.js";
import { encodeJournal } from "../../scripts/aws/ssmJournal.js";
import { abortMain } from "../../scripts/cli/abortMain.js";
import { pauseMain } from "../../scripts/cli/pauseMain.js";
import { createJournal, type Journal } from "../../scripts/core/journal.js";
import { buildPlan } from "../../scripts/core/plan.js";
import type { LockHolder } from "../../scripts/core/ports.js";
import { useCliHarness, type StackOutputs } from "../support/cliHarness.js";
import { testRollout } from "../support/fakes.js";

const cli = useCliHarness({ dirPrefix: "bluegreen-verbs-", weights: { blue: 75, green: 25 } });
const { run } = cli;
let mock: MockAws;
let outputs: StackOutputs;
beforeEach(() => void ({ mock, outputs } = cli));

const base = ["--stack", "prod", "--outputs", "outputs.json"];
const PREFIX = "/bluegreen/bluegreen/prod";
const RUN_ID = "2026-12-06T10-00-00-000Z-abc123";
const CUTOVER: LockHolder = { owner: "alice@ops-elsewhere pid 4242", since: 1_765_000_000_000, operation: "cutover", runId: RUN_ID };

function seed(phase: Journal["phase"], step: number | null, holder: LockHolder | null): void {
  const journal = createJournal({
    runId: RUN_ID,
    operation: "cutover",
    owner: CUTOVER.owner,
    stack: "prod",
    databaseMode: "shared",
    plan: buildPlan(testRollout(), { databaseMode: "shared" }),
    now: CUTOVER.since,
  });
  journal.phase = phase;
  journal.step = step;
  mock.state.parameters.set(`${PREFIX}/journal`, encodeJournal(journal));
  if (holder) mock.state.parameters.set(`${PREFIX}/lock`, JSON.stringify(holder));
}

const request = () => {
  const value = mock.state.parameters.get(`${PREFIX}/request`);
  return value === undefined ? null : (JSON.parse(value) as Record<string, unknown>);
};
const listenerWeights = () => mock.state.listeners.get(outputs.listenerArns[0]!)!.weights;
const indexOf = (action: string, name?: string) => mock.calls.findIndex((c) => c.action === action && (name === undefined || c.params.Name === name));

describe("npm run pause", () => {
  it("--help names the verb and its flags", async () => {
    const help = await run(pauseMain, ["--help"]);
    expect(help.code).toBe(0);
    for (const flag of ["--stack", "--reason", "--json", "promote"]) expect(help.stdout).toContain(flag);
  });

  it("writes a request for the running session; the cutover holds at its next poll", async () => {
    seed("baking", 1, CUTOVER);
    const result = await run(pauseMain, [...base, "--reason", "smoke tests flaky"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/pause requested: run .* \(now at step 2, phase "baking"\) holds at its step's next poll/);
    expect(request()).toMatchObject({ kind: "pause", runId: RUN_ID, holderSince: CUTOVER.since, reason: "smoke tests flaky" });
    expect(listenerWeights()).toEqual({ blue: 75, green: 25 }); // pause moves no traffic
  });

  it("--json: one JSON line on stdout", async () => {
    seed("writing", 0, CUTOVER);
    const result = await run(pauseMain, [...base, "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ type: "pause", state: "requested", runId: RUN_ID, phase: "writing", step: 1 });
  });

  it.each([
    ["no journal", () => undefined, /no cutover is running on this stack/],
    ["a crashed run (no lock)", () => seed("baking", 1, null), /no cutover process holds the lock.*cutover --resume/],
    ["all traffic on green", () => seed("monitoring", null, CUTOVER), /no step to hold; `npm run abort`/],
    ["a rollback running", () => seed("rolling-back", 1, { ...CUTOVER, operation: "rollback" }), /rollback by .* does/],
  ])("%s: exit 2, nothing written", async (_name, setup, message) => {
    setup();
    const result = await run(pauseMain, base);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(indexOf("PutParameter")).toBe(-1);
  });

  it("already paused: exit 0, nothing written", async () => {
    seed("paused", 1, null);
    const result = await run(pauseMain, base);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/already paused at step 2/);
    expect(indexOf("PutParameter")).toBe(-1);
  });
});

describe("npm run abort", () => {
  it("--help names the verb and its flags", async () => {
    const help = await run(abortMain, ["--help"]);
    expect(help.code).toBe(0);
    for (const flag of ["--stack", "--reason", "--deadline", "--json"]) expect(help.stdout).toContain(flag);
  });

  it("tells the running cutover to stop, then breaks its lock and sends traffic back to blue", async () => {
    seed("baking", 1, CUTOVER);
    const result = await run(abortMain, [...base, "--reason", "customer complaints"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/abort: run .* \(cutover by alice@ops-elsewhere pid 4242\) is told to stop; rolling back now/);
    expect(listenerWeights()).toEqual({ blue: 100, green: 0 });
    // The request was written before any weight moved, then removed.
    const put = indexOf("PutParameter", `${PREFIX}/request`);
    expect(put).toBeGreaterThanOrEqual(0);
    expect(put).toBeLessThan(indexOf("ModifyListener"));
    expect(JSON.parse(mock.calls[put]!.params.Value as string)).toMatchObject({
      kind: "abort",
      runId: RUN_ID,
      holderSince: CUTOVER.since,
      reason: "customer complaints",
    });
    expect(request()).toBeNull();
    expect(mock.state.parameters.has(`${PREFIX}/lock`)).toBe(false);
  });

  it("with nothing running it is a rollback (idempotent)", async () => {
    const result = await run(abortMain, [...base, "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.split("\n")[0]!)).toEqual({ type: "abort", runId: null, running: false });
    expect(listenerWeights()).toEqual({ blue: 100, green: 0 });
    expect(indexOf("PutParameter", `${PREFIX}/request`)).toBe(-1);
  });

  it("never breaks another rollback's lock: exit 1, traffic untouched", async () => {
    seed("rolling-back", 1, { ...CUTOVER, operation: "rollback" });
    const result = await run(abortMain, base);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/rollback by alice@ops-elsewhere pid 4242 holds the lock/);
    expect(listenerWeights()).toEqual({ blue: 75, green: 25 });
    expect(mock.state.parameters.has(`${PREFIX}/lock`)).toBe(true);
  });
});
