// `status --watch`, pure parts and the loop on the virtual clock: the sparklines (both colors on
// one scale), the evidence against its boundary, the run's picture from a journal the real engine
// wrote over the fakes, and the loop: it ends when the run ends, on Ctrl-C in the middle of a
// wait, and after its bound of frames.

import { describe, expect, test } from "vitest";
import { runCutover } from "../../scripts/core/engine.js";
import { parseJournal, type Journal } from "../../scripts/core/journal.js";
import { buildSeries, type SeriesEvidence } from "../../scripts/core/reportSeries.js";
import { NO_PALETTE } from "../../scripts/cli/plainPrinter.js";
import type { StatusReport } from "../../scripts/cli/statusMain.js";
import { renderWatchFrame, runInProgress, watchStatus, type WatchReading } from "../../scripts/cli/status/watch.js";
import { evidenceLine, renderRunPicture, sparkline } from "../../scripts/cli/status/watchView.js";
import { FakeClock, FakeWorld, testRollout } from "../support/fakes.js";

const SECOND = 1000;

describe("sparklines and evidence", () => {
  test("one block per value on the given scale; a gap for no data; all lowest when nothing moved", () => {
    expect(sparkline([0, 0.5, 1], 1)).toBe("▁▅█");
    expect(sparkline([0.2, null, 0.4], 0.4)).toBe("▅ █");
    expect(sparkline([0, 0, 0], 0)).toBe("▁▁▁");
    expect(sparkline([2], 1)).toBe("█"); // above the scale: clipped
  });

  test("the evidence bar is the statistic's way to its boundary on a log scale", () => {
    const e = (statistic: number): SeriesEvidence => ({
      at: "",
      step: 1,
      phase: "baking",
      metric: "errors",
      statistic,
      boundary: 100,
      status: "open",
      dispersion: null,
    });
    expect(evidenceLine(e(1), 10)).toContain("░░░░░░░░░░ statistic 1.00 of boundary 100.00 (open)");
    expect(evidenceLine(e(10), 10)).toContain("█████░░░░░");
    expect(evidenceLine(e(1000), 10)).toContain("██████████");
  });
});

/** A journal written by the real engine over the fakes: the default (sequential) judge, paused at 25%. */
async function recordedJournal(): Promise<Journal> {
  const world = new FakeWorld();
  const rollout = testRollout({ strategy: { type: "canary", steps: [5, { percent: 25, pause: "promote" }, 100] } });
  await runCutover(world.deps(), {
    rollout: { ...rollout, gates: { ...rollout.gates, mode: "sequential" } as typeof rollout.gates },
    databaseMode: "shared",
    owner: "alice",
    stack: "prod",
  });
  return parseJournal(world.journal.value);
}

describe("the run's picture", () => {
  test("each color's 5xx rate and slow share over the recent windows, and the judge's latest evidence", async () => {
    const journal = await recordedJournal();
    const series = buildSeries(journal);
    expect(series.windows.length).toBeGreaterThan(2);
    const lines = renderRunPicture(series, NO_PALETTE, { windows: 6 });
    const text = lines.join("\n");
    const shown = Math.min(6, series.windows.length);
    expect(lines[0]).toMatch(new RegExp(`^recent windows \\(${shown}, now step 2, last ends \\d\\d:\\d\\d:\\d\\dZ\\)$`));
    for (const label of ["5xx rate", "slow share"]) expect(text).toContain(label);
    const sparklines = lines.filter((l) => /(blue |green) [▁▂▃▄▅▆▇█ ]+ {2}/.test(l));
    expect(sparklines).toHaveLength(4); // two metrics × two colors
    for (const line of sparklines) expect(/(?:blue |green) ([▁▂▃▄▅▆▇█ ]+) {2}/.exec(line)![1]).toHaveLength(shown);
    expect(text).toMatch(/evidence against its boundary \(step 2\)/);
    expect(text).toMatch(/statistic \S+ of boundary \S+ \((open|ruled-out-large|[a-z-]+)\)/);
  });

  test("no judged window yet", () => {
    expect(renderRunPicture(null, NO_PALETTE)).toEqual(["recent windows", "  no window judged yet"]);
  });
});

function report(lastRun: StatusReport["lastRun"]): StatusReport {
  const unread = { ok: false as const, error: "not read", unreachable: false };
  return {
    stack: "prod",
    region: "eu-west-1",
    databaseMode: "shared",
    configPath: "Pulumi.prod.yaml",
    configWeights: { ok: true, value: { blue: 100, green: 0 } },
    parameterWeights: unread,
    pulumiUpWeights: null,
    routes: {
      ok: true,
      value: [
        { route: "listener/app/x/1/abc", weights: { blue: 75, green: 25 }, stickinessSeconds: null, drift: false, differs: { parameter: null, config: true } },
      ],
    },
    drift: null,
    configDiffersFromParameter: null,
    health: { blue: unread, green: unread },
    alarms: { ok: true, value: [] },
    fence: null,
    lock: { ok: true, value: null },
    lastRun,
    replication: null,
    deadline: { seconds: 20, passed: false, unanswered: [] },
  };
}
const running = report({ ok: true, value: { runId: "r1", operation: "cutover", phase: "baking", outcome: null, updatedAt: "", last: null, pause: null } });
const ended = report({
  ok: true,
  value: { runId: "r1", operation: "cutover", phase: "succeeded", outcome: "succeeded", updatedAt: "", last: null, pause: null },
});

describe("the loop, on the virtual clock", () => {
  test("a run in progress: not when none, ended, paused; yes while the last run could not be read", () => {
    expect(runInProgress(running)).toBe(true);
    expect(runInProgress(ended)).toBe(false);
    expect(runInProgress(report({ ok: true, value: null }))).toBe(false);
    expect(runInProgress(report({ ok: false, error: "throttled", unreachable: false }))).toBe(true);
  });

  test("redraws every interval until the run ends", async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const drawn: number[] = [];
    const readings: WatchReading[] = [running, running, running, ended].map((r) => ({ report: r, journal: null }));
    const result = await watchStatus({
      intervalMs: 10 * SECOND,
      maxFrames: 100,
      clock,
      signal: new AbortController().signal,
      read: async () => readings.shift()!,
      draw: (_reading, frame) => drawn.push(frame),
    });
    expect(result).toMatchObject({ frames: 4, end: "run-ended" });
    expect(drawn).toEqual([0, 1, 2, 3]);
    expect(clock.now() - start).toBe(30 * SECOND);
  });

  test("Ctrl-C in the middle of a wait ends it at once", async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const stop = new AbortController();
    clock.at(start + 25 * SECOND, () => stop.abort());
    let reads = 0;
    const result = await watchStatus({
      intervalMs: 10 * SECOND,
      maxFrames: 100,
      clock,
      signal: stop.signal,
      read: async () => (reads++, { report: running, journal: null }),
      draw: () => undefined,
    });
    expect(result).toMatchObject({ frames: 3, end: "interrupted" });
    expect(reads).toBe(3);
    expect(clock.now() - start).toBe(25 * SECOND);
  });

  test("bounded: at most maxFrames frames", async () => {
    const clock = new FakeClock();
    let reads = 0;
    const result = await watchStatus({
      intervalMs: 10 * SECOND,
      maxFrames: 5,
      clock,
      signal: new AbortController().signal,
      read: async () => (reads++, { report: running, journal: null }),
      draw: () => undefined,
    });
    expect(result).toMatchObject({ frames: 5, end: "frame-limit" });
    expect(reads).toBe(5);
  });

  test("a frame: the header, the status sections, the run's picture", async () => {
    const journal = await recordedJournal();
    const frame = renderWatchFrame({ report: running, journal }, NO_PALETTE, { intervalSeconds: 10, at: Date.UTC(2026, 11, 6, 12, 0, 5) });
    expect(frame).toMatch(/^status --watch · every 10 s · 12:00:05Z · Ctrl-C stops\n\nstack prod/);
    expect(frame).toContain("live listener/app/x/1/abc: blue 75 / green 25");
    expect(frame).toContain("recent windows (");
    expect(frame).toContain("evidence against its boundary");
  });
});
