// The SSM journal keeps what a resume trusts: compaction only ever drops descriptive timeline
// events (and says so in the journal), a journal larger than one parameter is stored in
// content-addressed parts, and nothing is written that would not load back.

import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, test } from "vitest";
import { MAX_PARTS, SSM_MAX_VALUE_BYTES, SsmJournalStore, decodeJournal, encodeJournal } from "../../scripts/aws/ssmJournal.js";
import { runCutover } from "../../scripts/core/engine.js";
import { compactJournal, isDroppableEvent, parseJournal, trustedPart, type Journal } from "../../scripts/core/journal.js";
import { parseJudgeState } from "../../scripts/core/judge/index.js";
import { buildReport } from "../../scripts/core/report.js";
import { FakeSsm } from "../support/fakeSsm.js";
import { FakeWorld, testRollout } from "../support/fakes.js";

const mock = mockClient(SSMClient);
const client = () => new SSMClient({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "x" } });
const PROD = { project: "bluegreen", stack: "prod" };
const NAME = "/bluegreen/bluegreen/prod/journal";

beforeEach(() => mock.reset());

/** A real journal of a sequential-judge cutover paused at 25% (judge state, plan, readings). */
async function pausedJournal(): Promise<Journal> {
  const world = new FakeWorld();
  const base = testRollout({ strategy: { type: "canary", steps: [5, { percent: 25, pause: "promote" }, 100] } });
  const rollout = { ...base, gates: { ...base.gates, mode: "sequential" as const } };
  const result = await runCutover(world.deps(), { rollout, databaseMode: "shared", owner: "alice@ops-1 pid 1", stack: "prod", skipSnapshot: "unit test" });
  expect(result.outcome).toBe("paused");
  const journal = parseJournal(world.journal.value);
  expect(journal.judge).toBeTruthy();
  return journal;
}

/** The journal with `readings` more judge readings (as hours of baking would add). */
function grown(journal: Journal, readings: number): Journal {
  const reading = journal.timeline.find((e) => e.type === "judge-reading")!;
  const extra = Array.from({ length: readings }, (_, i) => ({ ...structuredClone(reading), at: reading.at + (i + 1) * 60_000, poll: i + 100 }));
  return { ...journal, timeline: [...journal.timeline, ...extra] };
}

describe("the SSM fake enforces the service's limits", () => {
  test("4 KB Standard, 8 KB Advanced, Intelligent-Tiering picks, no downgrade, create-only without Overwrite", async () => {
    const ssm = new FakeSsm();
    ssm.install(mock);
    const c = client();
    const put = (Value: string, extra: Record<string, unknown> = {}) =>
      c.send(new PutParameterCommand({ Name: "/p", Value, Type: "String", Overwrite: true, ...extra }));
    await expect(put("x".repeat(4097), { Tier: "Standard" })).rejects.toThrow(/Standard tier parameters support a maximum parameter value of 4096 characters/);
    await put("x".repeat(4096));
    expect(ssm.parameters.get("/p")!.tier).toBe("Standard");
    await put("x".repeat(5000), { Tier: "Intelligent-Tiering" });
    expect(ssm.parameters.get("/p")!.tier).toBe("Advanced");
    await put("x".repeat(10), { Tier: "Intelligent-Tiering" });
    expect(ssm.parameters.get("/p")!.tier).toBe("Advanced"); // never back
    await expect(put("x", { Tier: "Standard" })).rejects.toThrow(/cannot be downgraded/);
    await expect(put("x".repeat(8193), { Tier: "Advanced" })).rejects.toThrow(/less than or equal to 8192/);
    await expect(put("y", { Overwrite: false })).rejects.toMatchObject({ name: "ParameterAlreadyExists" });
    await expect(c.send(new GetParameterCommand({ Name: "/missing" }))).rejects.toMatchObject({ name: "ParameterNotFound" });
    expect(ssm.refused).toBe(2);
  });

  test("the store's requests: parts and envelope with Overwrite and Intelligent-Tiering, the envelope last", async () => {
    const ssm = new FakeSsm(NAME);
    ssm.install(mock);
    await new SsmJournalStore(client(), PROD).save(grown(await pausedJournal(), 120));
    const puts = mock.commandCalls(PutParameterCommand).map((call) => call.args[0].input);
    expect(puts.length).toBeGreaterThan(2);
    expect(puts.every((input) => input.Overwrite === true && input.Tier === "Intelligent-Tiering" && input.Type === "String")).toBe(true);
    expect(puts.at(-1)!.Name).toBe(NAME);
    expect(puts.slice(0, -1).every((input) => input.Name!.startsWith(`${NAME}/part/`))).toBe(true);
  });
});

describe("compactJournal", () => {
  test("drops only the oldest descriptive events, counts them, and leaves everything else as it was", async () => {
    const journal = grown(await pausedJournal(), 40);
    const compacted = compactJournal(journal)!;
    expect(trustedPart(compacted)).toEqual(trustedPart(journal));
    const kept = journal.timeline.filter((e) => !isDroppableEvent(e));
    expect(compacted.timeline.filter((e) => !isDroppableEvent(e))).toEqual(kept);
    const droppedCount = journal.timeline.length - compacted.timeline.length;
    expect(droppedCount).toBeGreaterThan(0);
    expect(compacted.compacted!.events).toBe(droppedCount);
    expect(Object.values(compacted.compacted!.byType).reduce((a, b) => a + b, 0)).toBe(droppedCount);
    // The newest reading stays; repeated compaction ends (null) instead of touching anything else.
    expect(compacted.timeline.at(-1)).toEqual(journal.timeline.at(-1));
    let current: Journal | null = compacted;
    let rounds = 0;
    while (current && rounds < 50) {
      const next = compactJournal(current);
      if (!next) break;
      current = next;
      rounds += 1;
    }
    expect(current!.timeline.filter(isDroppableEvent).length).toBeLessThanOrEqual(5);
    expect(trustedPart(current!)).toEqual(trustedPart(journal));
    expect(parseJournal(structuredClone(current)).compacted!.events).toBe(journal.timeline.length - current!.timeline.length);
  });
});

describe("SsmJournalStore against SSM's size limits", () => {
  test("a journal over 8 KB goes into content-addressed parts, loads back whole, and stale parts are deleted", async () => {
    const ssm = new FakeSsm(NAME);
    ssm.install(mock);
    const store = new SsmJournalStore(client(), PROD);
    const big = grown(await pausedJournal(), 120);
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(4 * SSM_MAX_VALUE_BYTES);
    await store.save(big);
    const parts = [...ssm.parameters.keys()].filter((name) => name.startsWith(`${NAME}/part/`));
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.length).toBeLessThanOrEqual(MAX_PARTS);
    expect([...ssm.parameters.values()].every((p) => Buffer.byteLength(p.value) <= 8192)).toBe(true);
    const loaded = parseJournal(await new SsmJournalStore(client(), PROD).load());
    expect(loaded).toEqual(big);
    parseJudgeState(loaded.judge);

    // Smaller again: the journal parameter alone; the parts only the old envelope listed are gone.
    const paused = await pausedJournal();
    const small = { ...paused, timeline: paused.timeline.slice(0, 10) };
    await store.save(small);
    expect([...ssm.parameters.keys()].filter((name) => name.startsWith(`${NAME}/part/`))).toEqual([]);
    expect(await store.load()).toEqual(small);
  });

  test("beyond the parts, the timeline is compacted and recorded; the judge's state and the plan are whole", async () => {
    const ssm = new FakeSsm(NAME);
    ssm.install(mock);
    const journal = await pausedJournal();
    // Readings that do not compress: far more than the parts hold.
    const noisy = grown(journal, 900);
    for (const event of noisy.timeline)
      if (event.type === "judge-reading") (event as { note?: string }).note = Array.from({ length: 10 }, () => Math.random().toString(36).slice(2)).join("");
    await new SsmJournalStore(client(), PROD).save(noisy);
    const loaded = parseJournal(await new SsmJournalStore(client(), PROD).load());
    expect(loaded.compacted!.events).toBeGreaterThan(0);
    expect(loaded.compacted!.byType["judge-reading"]).toBeGreaterThan(0);
    expect(loaded.judge).toEqual(journal.judge);
    expect(loaded.plan).toEqual(journal.plan);
    expect(trustedPart(loaded)).toEqual(trustedPart(noisy));
    expect(ssm.refused).toBe(0);
    // The report says what the stored copy lacks.
    expect(buildReport(loaded).markdown).toMatch(
      new RegExp(`\\| Timeline compacted \\| ${loaded.compacted!.events} descriptive event\\(s\\) dropped from the stored journal \\([^|]*judge-reading \\d+`),
    );
  });

  test("a journal that would not load back is refused and nothing is written", async () => {
    const ssm = new FakeSsm(NAME);
    ssm.install(mock);
    const journal = await pausedJournal();
    const broken = structuredClone(journal) as Journal & { judge: { metrics: { errors: { logLik: number[] } } } };
    broken.judge.metrics.errors.logLik[3] = Number.NaN; // JSON writes null: the judge would refuse it on resume
    await expect(new SsmJournalStore(client(), PROD).save(broken)).rejects.toThrow(
      /refusing to write \/bluegreen\/bluegreen\/prod\/journal: the journal would not load back/,
    );
    expect(ssm.calls.filter((c) => c.command === "Put")).toEqual([]);
  });

  test("a journal whose trusted part alone exceeds the parts is refused, never cut", async () => {
    const ssm = new FakeSsm(NAME);
    ssm.install(mock);
    const journal = await pausedJournal();
    const huge = {
      ...journal,
      plan: {
        ...journal.plan!,
        hooks: Array.from({ length: 4000 }, () => ({ name: Math.random().toString(36), command: Math.random().toString(36).repeat(4) })),
      },
    };
    await expect(new SsmJournalStore(client(), PROD).save(huge)).rejects.toThrow(
      /does not fit in 8 SSM parameter\(s\) of 8192 bytes even with its timeline compacted; nothing was cut from the plan or the judge's evidence/,
    );
    expect(ssm.calls.filter((c) => c.command === "Put")).toEqual([]);
  });

  test("the one-parameter encoding compacts readings of an engine journal and decodes to it", async () => {
    const journal = grown(await pausedJournal(), 300);
    const value = encodeJournal(journal);
    expect(Buffer.byteLength(value)).toBeLessThanOrEqual(SSM_MAX_VALUE_BYTES);
    const back = parseJournal(decodeJournal(value));
    expect(trustedPart(back)).toEqual(trustedPart(journal));
    expect(back.compacted!.events).toBeGreaterThan(0);
  });
});
