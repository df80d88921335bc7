// A paired-database rollout through the orchestrator: the advance handler
// (scripts/app/orchestrator/advance.ts) in-process over the engine's fakes (fence, replication
// both ways), driven by the generated rollout state machine on the local ASL runner. The lossless
// switch (fence → catch-up → exact parity → sequences → reverse replication → flip → fence off)
// runs inside one invocation; monitoring goes on across Wait states with the lock free and the
// fence off; a breach while monitoring is the fenced rollback, in an invocation too. The
// preflight's parity is the one the execution input's checkout record carries, never a file.

import { describe, expect, test } from "vitest";
import { handleOrchestratorEvent, type OrchestratorEvent } from "../../scripts/app/orchestrator/advance.js";
import { parseJournal } from "../../scripts/core/journal.js";
import type { CheckoutRecord } from "../../scripts/core/orchestrator/checkout.js";
import { LocalStepFunctions, type Json } from "../../scripts/core/orchestrator/localRunner.js";
import { ROLLOUT_ERRORS, rolloutStateMachine } from "../../scripts/core/orchestrator/stateMachine.js";
import { colorMetrics, FakeWorld, splitReply } from "../support/fakes.js";
import { defaultRollout } from "../support/orchestrated.js";

const FUNCTION = "arn:aws:lambda:eu-west-1:123456789012:function:bluegreen-prod-advance";
const MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:bluegreen-prod-rollout";

function setUp() {
  const world = new FakeWorld({ writeLagMs: 200 });
  const rollout = defaultRollout({ type: "all-at-once" });
  const log: string[] = [];
  const waits: { seconds: number; phase: string; lockFree: boolean; fence: string }[] = [];
  // One ordered log of the side effects on the databases, the fence and the listeners.
  const fence = world.fence.set.bind(world.fence);
  world.fence.set = async (mode) => {
    log.push(`fence ${mode}`);
    return fence(mode);
  };
  const replication = world.replication;
  for (const name of ["waitForCatchUp", "copySequences", "start", "parity"] as const) {
    const original = (replication[name] as (...args: unknown[]) => Promise<unknown>).bind(replication);
    (replication as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      log.push(`${name}${args[0] !== undefined ? ` ${String(args[0])}` : ""}`);
      return original(...args);
    };
  }
  world.router.onWrite = (w) => log.push(`write ${w.blue}/${w.green}`);
  // A file-based parity source here would say "nothing": the handler must not read it.
  world.parity.result = null;
  let invocations = 0;
  const functions: Record<string, (payload: Json) => Promise<Json>> = {
    [FUNCTION]: async (payload) => {
      invocations += 1;
      return handleOrchestratorEvent(
        payload as OrchestratorEvent,
        { stack: "prod", rollout, databaseMode: "paired" },
        { deps: world.deps(), approvals: { record: () => Promise.reject(new Error("no approval in an all-at-once rollout")) } },
      );
    },
  };
  const sfn = new LocalStepFunctions({
    clock: world.clock,
    functions,
    onWait: (_execution, _state, seconds) => {
      waits.push({
        seconds,
        phase: world.journal.value ? parseJournal(world.journal.value).phase : "none",
        lockFree: world.lock.holder === null,
        fence: world.fence.mode,
      });
    },
  });
  sfn.createStateMachine(MACHINE, rolloutStateMachine({ advanceFunctionArn: FUNCTION }));
  const checkout = (parityAgeMs: number, identical = true): CheckoutRecord => ({
    checkedAt: world.clock.now(),
    migrations: { dir: "migrations", expand: "none" },
    parity: { identical, checkedAt: world.clock.now() - parityAgeMs, summary: "3 tables, 12000 rows identical" },
  });
  return { world, sfn, log, waits, checkout, invocations: () => invocations };
}

describe("a paired rollout on the orchestrator", () => {
  test("the lossless switch runs in one invocation; monitoring goes on across Waits with the lock free and the fence off", async () => {
    const { world, sfn, log, waits, checkout, invocations } = setUp();
    const runId = "2026-12-06T14-00-00-000Z-paired";
    const done = await sfn.startExecution(MACHINE, runId, { runId, stack: "prod", checkout: checkout(60_000) }).result;

    expect(done.status).toBe("SUCCEEDED");
    expect(log).toEqual([
      "fence writes",
      "waitForCatchUp blue-to-green",
      "parity",
      "copySequences blue-to-green",
      "start green-to-blue",
      "write 0/100",
      "fence off",
    ]);
    expect(world.replication.calls).toContain("start green-to-blue copyData=false");
    const journal = parseJournal(world.journal.value);
    expect(journal).toMatchObject({ phase: "succeeded", runId });
    expect(journal.fence.periods).toEqual([expect.objectContaining({ purpose: "switch" })]);
    // The preflight judged the recorded result.
    const parityCheck = world.eventsOf("preflight-check").find((c) => c.check === "parity");
    expect(parityCheck).toMatchObject({ ok: true, detail: expect.stringContaining("3 tables, 12000 rows identical") });
    // Monitoring was held by the machine's Waits: nothing of ours ran between them, the fence was down.
    const monitoringWaits = waits.filter((w) => w.phase === "monitoring");
    expect(monitoringWaits.length).toBeGreaterThanOrEqual(3);
    expect(waits.every((w) => w.lockFree && w.fence === "off")).toBe(true);
    expect(invocations()).toBe(waits.length + 1);
    console.log(
      `paired all-at-once through the machine: ${done.transitions} transitions, ${invocations()} invocations, ${monitoringWaits.length} monitoring waits`,
    );
  });

  test("a breach while monitoring: the fenced rollback (green → blue catch-up, flip, fence off) in an invocation; the execution ends rolled back", async () => {
    const { world, sfn, log, checkout } = setUp();
    // Green fails half its requests once it has all the traffic.
    world.metrics.respond(({ window }) => {
      const weights = world.router.weightsAt(window.start);
      return weights.green === 100 ? { ...splitReply(weights), green: colorMetrics({ requests: 4000, errors5xx: 2000 }) } : splitReply(weights);
    });
    const runId = "run-paired-breach";
    const done = await sfn.startExecution(MACHINE, runId, { runId, stack: "prod", checkout: checkout(60_000) }).result;

    expect(done.status).toBe("FAILED");
    expect(done.error?.error).toBe(ROLLOUT_ERRORS.rolledBack);
    const afterSwitch = log.slice(log.indexOf("fence off") + 1);
    expect(afterSwitch).toEqual(["fence writes", "waitForCatchUp green-to-blue", "copySequences green-to-blue", "write 100/0", "fence off"]);
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    expect(world.fence.mode).toBe("off");
    expect(world.lock.holder).toBeNull();
    expect(parseJournal(world.journal.value).phase).toBe("rolled-back");
  });

  test.each([
    ["no checkout record (an execution not started by npm run cutover)", undefined, /carries no checkout record/],
    ["a parity result older than rollout.parityMaxAgeSeconds", "old", /old \(max /],
    ["a parity run that found differences", "different", /found differences/],
  ])("%s: preflight fails in the Lambda with nothing moved, the fence never raised", async (_name, kind, reason) => {
    const { world, sfn, log, checkout } = setUp();
    const maxAgeMs = defaultRollout().parityMaxAgeSeconds * 1000;
    const record = kind === undefined ? undefined : kind === "old" ? checkout(maxAgeMs + 60_000) : checkout(60_000, false);
    const done = await sfn.startExecution(MACHINE, "run-refused", { runId: "run-refused", stack: "prod", ...(record ? { checkout: record } : {}) }).result;

    expect(done.status).toBe("FAILED");
    expect(done.error?.error).toBe(ROLLOUT_ERRORS.failed);
    expect(log).toEqual([]);
    expect(world.fence.history).toEqual([]);
    expect(parseJournal(world.journal.value).phase).toBe("preflight-failed");
    expect(world.eventsOf("preflight-check").find((c) => c.check === "parity")).toMatchObject({ ok: false, detail: expect.stringMatching(reason) });
  });
});
