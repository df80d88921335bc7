// The operator's Ctrl-C policy for `npm run cutover` (scripts/cli/cutoverInterrupt.ts), over the
// engine and the fakes: the first Ctrl-C stops the cutover, waits for it, rolls back to blue and
// lifts a raised write fence; the second exits at once and says where things were left.
// No real signals: the Ctrl-C source is a button, the exit a recorder; virtual clock only.

import { describe, expect, test } from "vitest";
import { runCutover, runRollback, type CutoverRequest, type EngineDeps } from "../../scripts/core/engine.js";
import type { EngineEvent } from "../../scripts/core/events.js";
import { outcomeOf, parseJournal } from "../../scripts/core/journal.js";
import { answerNoOnAbort, LastKnownState, runWithOperatorPolicy, type InterruptSource } from "../../scripts/app/policies/cutoverInterrupt.js";
import type { DatabaseMode } from "../../infra/config.js";
import { FakeWorld, testRollout } from "../support/fakes.js";

const OWNER = "alice@ops-1 pid 4242";
const FIX = "npm run rollback -- --stack prod --force";

class CtrlC implements InterruptSource {
  private listeners: (() => void)[] = [];
  subscribe(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }
  press(): void {
    for (const listener of [...this.listeners]) listener();
  }
  get subscribed(): number {
    return this.listeners.length;
  }
}

interface Setup {
  world: FakeWorld;
  ctrlC: CtrlC;
  stderr: string[];
  exits: number[];
  /** Everything in order: engine events as "event:<type>", stderr lines as "say:<text>", exits. */
  log: string[];
  run: () => ReturnType<typeof runWithOperatorPolicy>;
}

function setup(mode: DatabaseMode, onEvent: (event: EngineEvent, s: Setup) => void = () => undefined): Setup {
  const world = new FakeWorld();
  const state = new LastKnownState();
  const s = { world, ctrlC: new CtrlC(), stderr: [] as string[], exits: [] as number[], log: [] as string[] } as Setup;
  const deps: EngineDeps = world.deps({
    events: (event) => {
      world.events.push(event);
      state.observe(event);
      s.log.push(`event:${event.type}`);
      onEvent(event, s);
    },
  });
  const request: CutoverRequest = {
    rollout: testRollout(mode === "paired" ? { strategy: { type: "all-at-once" } } : {}),
    databaseMode: mode,
    owner: OWNER,
    stack: "prod",
  };
  s.run = () =>
    runWithOperatorPolicy({
      interrupts: s.ctrlC,
      stderr: {
        write: (text: string) => {
          for (const line of text.split("\n").slice(0, -1)) {
            s.stderr.push(line);
            s.log.push(`say:${line}`);
          }
        },
      },
      exitNow: (code) => {
        s.exits.push(code);
        s.log.push(`exit:${code}`);
      },
      rollbackCommand: FIX,
      state,
      cutover: (signal) => runCutover(deps, { ...request, signal }),
      rollback: () => runRollback(deps, { owner: OWNER, databaseMode: mode, stack: "prod", reason: "Ctrl-C" }),
    });
  return s;
}

describe("first Ctrl-C", () => {
  test("mid-bake: the cutover stops and settles, then the rollback sends traffic to blue, said line by line", async () => {
    const s = setup("shared", (event, s) => {
      if (event.type === "judge-reading" && event.step === 1 && event.poll === 2) s.ctrlC.press();
    });
    const result = await s.run();
    expect(result.interrupted).toBe(true);
    expect(result.cutover.outcome).toBe("interrupted");
    expect(result.rollback?.outcome).toBe("rolled-back");
    expect(s.world.router.current()).toEqual({ blue: 100, green: 0 });
    expect(s.exits).toEqual([]);
    expect(s.ctrlC.subscribed).toBe(0);
    expect(s.world.lock.holder).toBeNull();
    const journal = parseJournal(s.world.journal.value);
    expect(outcomeOf(journal)).toBe("rolled-back");

    // Order: the Ctrl-C message, the engine settles (its "done: interrupted"), only then the rollback.
    const said = (text: string) => s.log.findIndex((entry) => entry.startsWith("say:") && entry.includes(text));
    const firstDone = s.log.indexOf("event:done");
    const rollbackStarted = s.log.indexOf("event:rollback-started");
    expect(said("Ctrl-C: stopping the cutover")).toBeGreaterThan(-1);
    expect(said("Ctrl-C: stopping the cutover")).toBeLessThan(firstDone);
    expect(firstDone).toBeLessThan(said('cutover stopped in phase "baking" at step 2'));
    expect(said("rolling back: all traffic to blue")).toBeLessThan(rollbackStarted);
    expect(said("rollback done: blue 100 / green 0 verified")).toBeGreaterThan(rollbackStarted);
    expect(s.world.events.filter((e) => e.type === "done").map((e) => (e as { outcome: string }).outcome)).toEqual(["interrupted", "rolled-back"]);
    expect(s.stderr.some((line) => line.startsWith("write fence"))).toBe(false); // shared mode: no fence to report on
  });

  test("paired, during catch-up under the write fence: rollback to blue and the fence is lifted", async () => {
    const s = setup("paired", (event, s) => {
      if (event.type === "fence" && event.mode === "writes") s.world.clock.at(s.world.clock.now() + 100, () => s.ctrlC.press());
    });
    s.world.replication.catchUpMs["blue-to-green"] = 20_000;
    const result = await s.run();
    expect(result.cutover.outcome).toBe("interrupted");
    expect(result.cutover.journal?.phase).toBe("catching-up");
    expect(result.rollback?.outcome).toBe("rolled-back");
    expect(s.world.fence.mode).toBe("off");
    expect(s.world.router.writes.map((w) => w.weights)).toEqual([{ blue: 100, green: 0 }]); // green never got traffic
    expect(s.stderr).toContain("rolling back: all traffic to blue, then lifting the write fence (Ctrl-C again to exit at once)");
    expect(s.stderr.at(-1)).toBe("write fence lifted: writes flow again");
    expect(s.exits).toEqual([]);
  });

  test("a cutover that ends by itself before the Ctrl-C is seen is left alone (no rollback)", async () => {
    const s = setup("shared", (event, s) => {
      if (event.type === "done") s.ctrlC.press();
    });
    const result = await s.run();
    expect(result.cutover.outcome).toBe("succeeded");
    expect(result.rollback).toBeNull();
    expect(s.world.router.current()).toEqual({ blue: 0, green: 100 });
  });
});

describe("second Ctrl-C", () => {
  test("during the rollback: exits at once with 130, printing the traffic and fence left and the command that fixes it", async () => {
    let presses = 0;
    const s = setup("paired", (event, s) => {
      if (event.type === "fence" && event.mode === "writes" && presses === 0) {
        presses += 1;
        s.world.clock.at(s.world.clock.now() + 100, () => s.ctrlC.press());
      }
      // The rollback's flip is written: the operator presses again before it is verified.
      if (event.type === "weights-written" && event.step === null && presses === 1) {
        presses += 1;
        s.ctrlC.press();
      }
    });
    s.world.replication.catchUpMs["blue-to-green"] = 20_000;
    s.world.router.writeLagMs = 5_000;
    await s.run();
    expect(s.exits).toEqual([130]);
    const from = s.stderr.indexOf("second Ctrl-C: exiting now, without waiting. Left as last seen:");
    expect(from).toBeGreaterThan(-1);
    expect(s.stderr.slice(from + 1, from + 7)).toEqual([
      "  traffic: blue 100 / green 0 (the last weights this process read back)",
      "    blue 100 / green 0 was being written and is NOT verified",
      '  write fence: "writes" (writes are answered 503)',
      `fix it with: ${FIX}`,
      "  (this process exits without releasing the lock; --force takes it over)",
      "  if the write fence is still up after that: npm run maintenance -- off",
    ]);
  });

  test("mid-bake, before the stop settled: the exit names the split traffic is in", async () => {
    const s = setup("shared", (event, s) => {
      if (event.type === "judge-reading" && event.step === 1 && event.poll === 1) {
        s.ctrlC.press();
        s.ctrlC.press();
      }
    });
    await s.run();
    expect(s.exits).toEqual([130]);
    expect(s.stderr).toContain("  traffic: blue 75 / green 25 (the last weights this process read back)");
    expect(s.stderr).toContain("  write fence: not raised by this process");
    expect(s.stderr).toContain(`fix it with: ${FIX}`);
  });
});

describe("what the second Ctrl-C reports", () => {
  test("a resumed run has read nothing back yet; then the last verified weights, an unverified write and the fence", () => {
    const state = new LastKnownState();
    const base = { at: 0, runId: "r" };
    const plan = { ...base, type: "plan", operation: "cutover", plan: { startWeights: { blue: 100, green: 0 } }, lines: [] } as unknown as EngineEvent;
    state.observe(plan);
    expect(state.describe()).toEqual([
      "traffic: not read back by this process yet (the run's plan started from blue 100 / green 0)",
      "write fence: not raised by this process",
    ]);
    state.observe({ ...base, type: "weights-verified", step: 1, weights: { blue: 75, green: 25 }, ok: true, routes: [], waitedMs: 0 });
    state.observe({ ...base, type: "weights-written", step: 2, weights: { blue: 0, green: 100 }, attempt: 1 });
    state.observe({ ...base, type: "fence", mode: "writes", ok: true, detail: "" });
    expect(state.fenceUp).toBe(true);
    expect(state.describe()).toEqual([
      "traffic: blue 75 / green 25 (the last weights this process read back)",
      "  blue 0 / green 100 was being written and is NOT verified",
      'write fence: "writes" (writes are answered 503)',
    ]);
    state.observe({ ...base, type: "fence", mode: "off", ok: false, detail: "AccessDenied" }); // a failed lift changes nothing
    expect(state.fenceUp).toBe(true);
  });
});

describe("Ctrl-C at the PROCEED prompt", () => {
  test("answers no at once (nothing moved, no rollback), and lets stdin go", async () => {
    const s = setup("shared");
    let paused = 0;
    const never = () => new Promise<boolean>(() => undefined); // the operator types nothing
    const world = s.world;
    const result = await runWithOperatorPolicy({
      interrupts: s.ctrlC,
      stderr: { write: (text: string) => s.stderr.push(text) },
      exitNow: (code) => s.exits.push(code),
      rollbackCommand: FIX,
      state: new LastKnownState(),
      cutover: (signal) => {
        const confirm = answerNoOnAbort(never, signal, { pause: () => (paused += 1) });
        queueMicrotask(() => s.ctrlC.press());
        return runCutover(world.deps(), { rollout: testRollout(), databaseMode: "shared", owner: OWNER, stack: "prod", signal, confirm });
      },
      rollback: () => runRollback(world.deps(), { owner: OWNER, databaseMode: "shared" }),
    });
    expect(result.cutover.outcome).toBe("cancelled");
    expect(result.rollback).toBeNull();
    expect(result.interrupted).toBe(true);
    expect(paused).toBe(1);
    expect(world.router.writes).toEqual([]);
    expect(world.journal.stored).toBeNull();
    expect(world.lock.holder).toBeNull();
  });

  test("an answer given before any Ctrl-C is the answer", async () => {
    const controller = new AbortController();
    const confirm = answerNoOnAbort(async () => true, controller.signal, { pause: () => undefined });
    expect(await confirm()).toBe(true);
    controller.abort();
    expect(await answerNoOnAbort(async () => true, controller.signal, { pause: () => undefined })()).toBe(false);
  });
});
