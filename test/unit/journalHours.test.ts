// A rollout over hours against SSM's real size limits: the default canary with a 30-minute
// `pause: promote` and a 2-hour timed pause, resumed and promoted, with the journal in an SSM fake
// that refuses values over 4 KB (Standard) / 8 KB (Advanced) and ALB metrics published as the
// load balancer's nodes deliver them. Every journal the run saved must load back with the judge's
// evidence and the plan exactly as the engine held them, and a new process must be able to resume
// from each one of them.

import { SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, test } from "vitest";
import { parseStackConfig, type RolloutConfig } from "../../infra/config.js";
import { SsmJournalStore } from "../../scripts/aws/ssmJournal.js";
import { runCutover, type CutoverRequest } from "../../scripts/core/engine.js";
import { expectedLiveWeights } from "../../scripts/core/engine/routes.js";
import { parseJournal, trustedPart, type Journal } from "../../scripts/core/journal.js";
import { parseJudgeState } from "../../scripts/core/judge/index.js";
import { isTerminal } from "../../scripts/core/phases.js";
import type { JournalStore } from "../../scripts/core/ports.js";
import { FakeSsm, type StoredParameter } from "../support/fakeSsm.js";
import { FakeClock, FakeWorld, PublishedMetrics, type TrafficModel } from "../support/fakes.js";

const mock = mockClient(SSMClient);
const client = () => new SSMClient({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "x" } });
const PROD = { project: "bluegreen", stack: "prod" };
const JOURNAL = "/bluegreen/bluegreen/prod/journal";
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ALICE = "alice@ops-1 pid 4242";
const BOB = "bob@ops-2 pid 77";

beforeEach(() => mock.reset());

/** The stack's default rollout policy, with pauses at 25% (promote) and 50% (2 hours). */
function hoursRollout(): RolloutConfig {
  const rollout = parseStackConfig({
    region: "eu-west-1",
    network: { mode: "create", availabilityZones: ["eu-west-1a", "eu-west-1b"] },
    app: { blue: { amiId: "ami-0abc12345def67890", userData: "x" }, green: { amiId: "ami-0abc12345def67890", userData: "x" } },
    database: { mode: "shared" },
    traffic: { weights: { blue: 100, green: 0 } },
  }).rollout;
  return { ...rollout, strategy: { type: "canary", steps: [5, { percent: 25, pause: "promote" }, { percent: 50, pause: "2h" }, 100] } } as RolloutConfig;
}

const traffic: TrafficModel = { requestsPerMinute: 2_000, errorRate: () => 0.002 };

function request(extra: Partial<CutoverRequest> = {}): CutoverRequest {
  return { rollout: hoursRollout(), databaseMode: "shared", owner: ALICE, stack: "prod", skipSnapshot: "unit test", ...extra };
}

/** What the engine handed to save, next to what the fake SSM then held. */
class Recorded implements JournalStore {
  readonly saved: { journal: Journal; store: Map<string, StoredParameter> }[] = [];
  constructor(
    private readonly inner: SsmJournalStore,
    private readonly ssm: FakeSsm,
  ) {}
  load() {
    return this.inner.load();
  }
  async save(journal: unknown) {
    await this.inner.save(journal);
    this.saved.push({ journal: structuredClone(journal) as Journal, store: this.ssm.copy() });
  }
}

function world(clock = new FakeClock()) {
  const w = new FakeWorld({ writeLagMs: 7_000, clock });
  // ALB metrics as three load-balancer nodes publish them, each 60–150 s after the minute.
  const metrics = new PublishedMetrics(w.clock, w.router, traffic, { seed: 11, spread: { nodes: 3, minDelayMs: 60_000, maxDelayMs: 150_000 } });
  return { w, metrics };
}

describe("a rollout over hours, journaled in SSM with its real size limits", () => {
  test("30-minute promote pause and 2-hour timed pause: promoted to the end, every saved journal loads whole and resumes", { timeout: 120_000 }, async () => {
    const ssm = new FakeSsm(JOURNAL);
    ssm.install(mock);
    const store = new Recorded(new SsmJournalStore(client(), PROD), ssm);
    const { w, metrics } = world();
    const deps = w.deps({ metrics, journal: store });

    const first = await runCutover(deps, request());
    expect(first.outcome, first.reason ?? "").toBe("paused");
    w.clock.advance(30 * MINUTE);
    const second = await runCutover(deps, request({ owner: BOB, resume: true }));
    expect(second.outcome, second.reason ?? "").toBe("paused");
    w.clock.advance(2 * HOUR);
    const third = await runCutover(deps, request({ owner: BOB, resume: true }));
    expect(third.outcome, third.reason ?? "").toBe("succeeded");
    expect(w.router.current()).toEqual({ blue: 0, green: 100 });
    expect(ssm.refused).toBe(0);
    // Every window was judged once all three nodes had published it.
    const readings = third.journal!.timeline.filter((e) => e.type === "judge-reading");
    expect(readings.length).toBeGreaterThan(10);
    expect(readings.every((r) => r.type === "judge-reading" && r.completeness?.complete === true && r.completeness.requests > 0)).toBe(true);

    // Every saved journal loads back with everything a resume trusts exactly as the engine held it.
    const sizes: number[] = [];
    for (const saved of store.saved) {
      const reader = new FakeSsm();
      reader.restore(saved.store);
      mock.reset();
      reader.install(mock);
      const loaded = parseJournal(await new SsmJournalStore(client(), PROD).load());
      expect(trustedPart(loaded)).toEqual(trustedPart(parseJournal(saved.journal)));
      if (loaded.judge) parseJudgeState(loaded.judge);
      sizes.push([...saved.store.values()].reduce((sum, p) => sum + Buffer.byteLength(p.value), 0));
    }
    const partsUsed = Math.max(...store.saved.map((s) => [...s.store.keys()].filter((k) => k.includes("/journal/part/")).length));
    console.log(
      `journal over ${(w.clock.now() - store.saved[0]!.journal.createdAt) / HOUR} h: ${store.saved.length} saves, stored bytes first ${sizes[0]} max ${Math.max(...sizes)} last ${sizes.at(-1)}, parts at most ${partsUsed}, judged windows ${third.journal!.timeline.filter((e) => e.type === "judge-reading").length} ` +
        `(per phase: ${[0, 1, 2, null].map((step) => readings.filter((r) => r.type === "judge-reading" && r.step === step && (step !== null || r.phase === "monitoring")).length).join(" / ")})`,
    );

    // A new process can resume from each saved journal of an unfinished run.
    let resumed = 0;
    for (const saved of store.saved) {
      const journal = parseJournal(saved.journal);
      if (isTerminal(journal.phase) || journal.phase === "idle") continue;
      const fresh = new FakeSsm(JOURNAL);
      fresh.restore(saved.store);
      mock.reset();
      fresh.install(mock);
      const { w: again, metrics: againMetrics } = world(new FakeClock(journal.updatedAt + MINUTE));
      // The same traffic history up to the save: the minutes the resumed bake reads were served at those weights.
      again.router.timeline.splice(0, again.router.timeline.length, ...w.router.timeline.filter((entry) => entry.from <= journal.updatedAt));
      const live = expectedLiveWeights(journal);
      if (live) again.router.set(live);
      const result = await runCutover(
        again.deps({ metrics: againMetrics, journal: new SsmJournalStore(client(), PROD) }),
        request({ owner: BOB, resume: true, pauseNow: true }),
      );
      expect(["succeeded", "paused"], `${journal.phase} step ${journal.step}: ${result.reason}`).toContain(result.outcome);
      expect(fresh.refused).toBe(0);
      resumed += 1;
    }
    expect(resumed).toBeGreaterThan(10);
  });
});
