// The sequential judge (scripts/core/judge) as pure functions: decisions on crafted windows,
// properties over generated ones (fast-check), and seeded canary simulations with the bench's
// simulator (binomial noise, virtual clock).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig, stackConfigSchema } from "../../infra/config.js";
import {
  describeVerdict,
  judgeStep,
  withBlueHistory,
  judgedPhasesOf,
  newJudgeState,
  parseJudgeState,
  resolveJudgeSettings,
  type JudgeContext,
  type JudgeSettings,
  type JudgeState,
  type JudgeVerdict,
  type JudgeWindow,
} from "../../scripts/core/judge/index.js";
import { DEFAULT_PHASES, RELEASES, seededRandom, simulateCutover, type Release } from "../../bench/judgeSimulation.js";

const defaultGates = () => stackConfigSchema.shape.rollout.parse({}).gates;
const settingsWith = (overrides: Record<string, unknown> = {}, judgedPhases = 3): JudgeSettings =>
  resolveJudgeSettings(stackConfigSchema.shape.rollout.parse({ gates: overrides }).gates, { judgedPhases });

const MINUTE = 60_000;
const step1: JudgeContext = { phaseKey: "step-1", phase: "baking", greenShare: 0.05, windowsRequired: 5 };
const monitoring: JudgeContext = { phaseKey: "monitoring", phase: "monitoring", greenShare: 1, windowsRequired: 5 };

function w(i: number, green: [number, number, number | null], blue: [number, number, number | null]): JudgeWindow {
  return {
    start: i * MINUTE,
    end: (i + 1) * MINUTE,
    green: { requests: green[0], errors: green[1], slow: green[2] },
    blue: { requests: blue[0], errors: blue[1], slow: blue[2] },
  };
}

/** A judge that has seen an hour of calm blue before the cutover (no movement beyond binomial noise). */
function calm(): JudgeState {
  return withBlueHistory(
    newJudgeState(),
    Array.from({ length: 60 }, (_, i) => ({ end: (i - 60) * MINUTE, requests: 10_000, errors: 100, slow: 500 })),
  );
}

/** Feed windows one poll at a time; return every verdict. */
function run(settings: JudgeSettings, windows: JudgeWindow[], context: JudgeContext, state: JudgeState = calm()): JudgeVerdict[] {
  const verdicts: JudgeVerdict[] = [];
  for (const window of windows) {
    const verdict = judgeStep(settings, state, [window], context);
    verdicts.push(verdict);
    state = verdict.state;
  }
  return verdicts;
}

/** A standard normal draw (Box–Muller). */
function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** A Poisson draw: Knuth's product for small means, the normal approximation for large ones. */
function poissonDraw(rng: () => number, mean: number): number {
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(rng)));
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rng(); p > limit; p *= rng()) k += 1;
  return k;
}

const scenario = (trafficPerMinute: number, baselineErrorRate: number, release: Release) => ({ trafficPerMinute, baselineErrorRate, release });
const release = (name: string) => RELEASES.find((r) => r.name === name)!;

describe("settings", () => {
  it("splits the false-rollback budget over phases × metrics", () => {
    const s = resolveJudgeSettings(defaultGates(), { judgedPhases: 3 });
    expect(s.warmupMs).toBe(120_000);
    expect(resolveJudgeSettings(defaultGates(), { judgedPhases: 1, databaseMode: "paired" }).warmupMs).toBe(180_000);
    expect(s.alphaPerTest).toBeCloseTo(0.01 / 6, 12);
    expect(s.errors).toEqual({ minRatio: 2, minIncrease: 0.005 });
    expect(s.slow).toEqual({ minRatio: 1.5, minIncrease: 0.02 });
    expect(s.largestRegression).toBe(5);
    expect(s.onUndecided).toBe("fail");
    expect(judgedPhasesOf({ steps: [{ bakeMs: 300_000 }, { bakeMs: 300_000 }, { bakeMs: 0 }], monitorMs: 300_000 })).toBe(3);
  });

  it("config errors name the path and the rule", () => {
    const base = {
      region: "eu-west-1",
      network: { mode: "create", availabilityZones: ["eu-west-1a", "eu-west-1b"] },
      app: { blue: { amiId: "ami-0a1b2c3d4e5f67890", containerImage: "nginx:1.27" }, green: { enabled: false } },
      database: { mode: "shared" },
      traffic: { weights: { blue: 100, green: 0 } },
    };
    const issues = (gates: Record<string, unknown>) => {
      try {
        parseStackConfig({ ...base, rollout: { gates } });
      } catch (error) {
        if (error instanceof ConfigError) return error.issues;
        throw error;
      }
      return [];
    };
    expect(issues({ largestRegression: 1.5 })).toEqual([{ path: "rollout.gates.largestRegression", message: "must be at least minErrorRatio (2)" }]);
    expect(issues({ falseRollbackBudget: 0 })).toEqual([{ path: "rollout.gates.falseRollbackBudget", message: "must be greater than 0" }]);
    expect(issues({ onUndecided: "maybe" })).toEqual([{ path: "rollout.gates.onUndecided", message: 'must be "fail" or "promote"' }]);
    expect(issues({ slowThreshold: { ms: -1 } })).toEqual([{ path: "rollout.gates.slowThreshold.ms", message: "must be positive" }]);
    expect(issues({ mode: "sequential", slowThreshold: { ms: 800 }, onUndecided: "promote" })).toEqual([]);
    expect(issues({ mode: "thresholds" })).toEqual([
      { path: "rollout.gates.mode", message: 'the per-window "thresholds" mode is retired: remove rollout.gates.mode (the statistical judge is the only one)' },
    ]);
    expect(issues({ maxErrorRate: 0.01 })[0]!.path).toBe("rollout.gates");
  });
});

describe("decisions", () => {
  const s = settingsWith();

  it("fails a ×5 error regression at 10,000 req/min (1% baseline) in the third window of the 5% step: no window alone decides, nor two", () => {
    const [first, middle, second] = run(
      s,
      [0, 1, 2].map((i) => w(i, [500, 25, 25], [9500, 95, 475])),
      step1,
    );
    expect(first!.decision).toBe("continue");
    expect(middle!.decision).toBe("continue");
    // however strong, one window alone cannot reach the boundary, nor two
    expect(middle!.evidence.errors.statistic).toBeLessThan(middle!.evidence.errors.boundary);
    expect(second!.decision).toBe("fail");
    expect(second!.evidence.errors.status).toBe("regression");
    expect(second!.evidence.errors.statistic).toBeGreaterThanOrEqual(second!.evidence.errors.boundary);
    expect(second!.evidence.errors.boundary).toBeCloseTo(600, 6);
    const line = describeVerdict(second!);
    expect(line).toContain("step-1 FAIL 3/5");
    expect(line).toContain("5xx green 75/1500 (5%) blue 285/28500 (1%)");
    expect(line).toMatch(/e=[\d.e+]+ ≥ 600/);
  });

  it("keeps watching until the bake is over, then promotes with what the evidence rules out", () => {
    const windows = Array.from({ length: 5 }, (_, i) => w(i, [5000, 50, 250], [95_000, 950, 4750]));
    const verdicts = run(s, windows, step1);
    expect(verdicts.slice(0, 4).map((v) => v.decision)).toEqual(["continue", "continue", "continue", "continue"]);
    const last = verdicts[4]!;
    expect(last.decision).toBe("promote");
    expect(last.evidence.errors.ruledOut.ratio).toBeLessThanOrEqual(2);
    expect(last.evidence.errors.status).toBe("ruled-out-minimal");
    expect(describeVerdict(last)).toMatch(/rules out ×1\.\d+/);
  });

  it("extends with the evidence carried over when the traffic is too low, then says how much more it needs", () => {
    // 100 req/min at 5%: 5 green requests a minute, 0.1% errors: nothing can be ruled out in 15 minutes
    const windows = Array.from({ length: 15 }, (_, i) => w(i, [5, 0, 0], [95, 0, 5]));
    const verdicts = run(s, windows, step1);
    expect(verdicts[4]!.decision).toBe("extend");
    expect(verdicts[4]!.extensionsUsed).toBe(1);
    expect(verdicts[13]!.decision).toBe("extend");
    const last = verdicts[14]!;
    expect(last.decision).toBe("undecided");
    expect(last.evidence.errors.greenRequests).toBe(75);
    expect(last.reasons[0]).toMatch(/^not enough traffic to decide: about [\d,]+ more green requests needed$/);
    expect(last.evidence.errors.neededGreenRequests).toBeGreaterThan(100);
  });

  it("onUndecided: promote promotes after the extensions, but never without green requests", () => {
    const lenient = settingsWith({ onUndecided: "promote", maxExtensions: 2 });
    const low = run(
      lenient,
      Array.from({ length: 7 }, (_, i) => w(i, [5, 0, 0], [95, 0, 5])),
      step1,
    );
    expect(low.at(-1)!.decision).toBe("promote");
    expect(low.at(-1)!.reasons.join(" ")).toContain('onUndecided is "promote"');
    const none = run(
      lenient,
      Array.from({ length: 7 }, (_, i) => w(i, [0, 0, 0], [100, 0, 5])),
      step1,
    );
    expect(none.at(-1)!.decision).toBe("undecided");
    expect(none.at(-1)!.reasons[0]).toContain("missing data is never a pass");
  });

  it("the hard ceiling needs two windows in a row: one burst is not an outage, a crash is", () => {
    const [tiny] = run(s, [w(0, [10, 1, 0], [190, 0, 10])], step1);
    expect(tiny!.decision).toBe("continue");
    expect(tiny!.ceiling.breached).toBe(false);
    const wide = settingsWith({ minErrorRatio: 1000, largestRegression: 1000 }); // the ratio test cannot fire: the ceiling must
    const [burst, calm] = run(wide, [w(0, [100, 30, 0], [1900, 19, 95]), w(1, [100, 1, 0], [1900, 19, 95])], step1);
    expect(burst!.decision).toBe("continue");
    expect(burst!.ceiling.streak).toMatchObject({ windows: 1, errors: 30 });
    expect(calm!.ceiling.streak).toBeNull();
    const crash = run(wide, [w(0, [100, 12, 0], [1900, 19, 95]), w(1, [100, 14, 0], [1900, 19, 95])], step1);
    expect(crash[0]!.decision).toBe("continue");
    expect(crash[1]!.decision).toBe("fail");
    expect(crash[1]!.ceiling.breached).toBe(true);
    expect(crash[1]!.ceiling.streak).toMatchObject({ windows: 2, errors: 26, requests: 200 });
    expect(crash[1]!.reasons[0]).toContain("over two windows in a row is above the ceiling 10%");
    // both colors failing alike (a dependency is down) is not green's outage
    const shared = run(wide, [w(0, [100, 40, 0], [1900, 760, 95]), w(1, [100, 40, 0], [1900, 760, 95])], step1);
    expect(shared.map((v) => v.ceiling.breached)).toEqual([false, false]);
  });

  it("catches errors green makes and blue does not, where a ratio of rates says nothing (blue at 0%)", () => {
    const verdicts = run(
      s,
      Array.from({ length: 5 }, (_, i) => w(i, [500, 3, 25], [9500, 0, 475])),
      step1,
    );
    expect(verdicts.some((v) => v.decision === "fail")).toBe(true);
    // and promotes a clean green at 0% on green's own bound (+0.5 points ruled out) although no ratio exists
    const clean = run(
      s,
      Array.from({ length: 5 }, (_, i) => w(i, [5000, 0, 250], [95_000, 0, 4750])),
      step1,
    ).at(-1)!;
    expect(clean.decision).toBe("promote");
    expect(clean.evidence.errors.ruledOut.ratio).toBeNull();
    expect(clean.evidence.errors.ruledOut.greenRateBelow).toBeLessThan(0.005);
  });

  it("fewer green errors in the newest window never fail where more did not", () => {
    const windows = [w(0, [500, 5, 25], [9500, 95, 475]), w(1, [500, 12, 25], [9500, 95, 475])];
    const worse = run(s, windows, step1).at(-1)!;
    const better = run(s, [windows[0]!, w(1, [500, 6, 25], [9500, 95, 475])], step1).at(-1)!;
    expect(better.evidence.errors.statistic).toBeLessThanOrEqual(worse.evidence.errors.statistic);
  });

  it("ignores windows already judged (a resume that re-sends them counts nothing twice)", () => {
    const first = judgeStep(s, newJudgeState(), [w(0, [500, 5, 25], [9500, 95, 475])], step1);
    const again = judgeStep(s, first.state, [w(0, [500, 5, 25], [9500, 95, 475])], step1);
    expect(again.windowsJudged).toBe(1);
    expect(again.ignoredWindows).toHaveLength(1);
    expect(again.evidence.errors.greenRequests).toBe(500);
  });

  it("a window without latency data adds no latency evidence, and latency alone never passes without it", () => {
    const verdicts = run(
      s,
      Array.from({ length: 15 }, (_, i) => w(i, [5000, 50, null], [95_000, 950, null])),
      step1,
    );
    expect(verdicts.at(-1)!.evidence.slow.greenRequests).toBe(0);
    expect(verdicts.at(-1)!.evidence.slow.status).toBe("open");
    expect(verdicts.at(-1)!.decision).toBe("undecided");
  });
});

describe("100% of traffic on green: compared with blue's recent level and how much blue moves", () => {
  const s = settingsWith();
  const bake = Array.from({ length: 5 }, (_, i) => w(i, [2500, 25, 125], [7500, 75, 375]));
  const atHundred = (errors: number, i: number) => w(10 + i, [10_000, errors, 500], [0, 0, null]);

  it("takes the reference from the steps before, widened by blue's movement, and judges green against it", () => {
    const baked = run(s, bake, { phaseKey: "step-2", phase: "baking", greenShare: 0.25, windowsRequired: 5 });
    expect(baked.at(-1)!.decision).toBe("promote");
    const verdicts = run(
      s,
      Array.from({ length: 5 }, (_, i) => atHundred(100, i)),
      monitoring,
      baked.at(-1)!.state,
    );
    const last = verdicts.at(-1)!;
    expect(last.decision).toBe("promote");
    expect(last.evidence.errors.comparison).toBe("reference");
    // blue's ten newest windows: five of the hour before (10,000 requests, 1%) and the step's five
    expect(last.evidence.errors.blueRequests).toBe(87_500);
    expect(last.evidence.errors.blueCount).toBe(875);
    const reference = last.state.reference!.errors!;
    expect(reference.source).toBe("cutover");
    // the rate green is held to is above blue's observed 1%: its uncertainty and movement are on green's side
    expect(reference.rate).toBeGreaterThan(0.01);
    expect(describeVerdict(last)).toContain("blue's level 875/87500 (1%)");
    expect(describeVerdict(last)).toMatch(/at 100% this traffic can detect 5xx ×[\d.]+/);
    // a ×5 green at 100% fails in its third window
    const bad = run(
      s,
      [0, 1, 2].map((i) => atHundred(500, i)),
      monitoring,
      baked.at(-1)!.state,
    );
    expect(bad.map((v) => v.decision)).toEqual(["continue", "continue", "fail"]);
  });

  it("uses blue's history before the cutover when the cutover has no earlier windows (all-at-once), and its movement widens the reference", () => {
    const history = (sigma: number) => {
      const rng = seededRandom(3);
      return Array.from({ length: 60 }, (_, i) => {
        const errors = Math.round(600 * Math.exp(sigma * (rng() - 0.5) * 3.4));
        return { end: (i - 60) * MINUTE, requests: 60_000, errors, slow: 3000 };
      });
    };
    const still = withBlueHistory(newJudgeState(), history(0));
    const moving = withBlueHistory(newJudgeState(), history(0.6));
    const [first, , second] = run(
      s,
      [0, 1, 2].map((i) => atHundred(500, i)),
      monitoring,
      still,
    );
    expect(first!.evidence.errors.comparison).toBe("reference");
    expect(first!.state.reference!.errors!.source).toBe("pre-cutover");
    expect(second!.decision).toBe("fail");
    const calmRef = first!.state.reference!.errors!;
    const movingRef = judgeStep(s, moving, [atHundred(100, 0)], monitoring).state.reference!.errors!;
    expect(movingRef.minuteVariance).toBeGreaterThan(calmRef.minuteVariance);
    expect(movingRef.rate).toBeGreaterThan(calmRef.rate);
    expect(movingRef.detectableRatio ?? Infinity).toBeGreaterThan(calmRef.detectableRatio!);
  });

  // Slow requests in bursts, as on a starved machine: most windows none, some a dozen. Blue's
  // log-rate then moves by σ ≈ 1.4 from window to window and its raised level reaches 100%.
  const burstyHistory = (rng: () => number) =>
    Array.from({ length: 20 }, (_, i) => ({
      end: (i - 20) * MINUTE,
      requests: 400 + Math.floor(rng() * 30),
      errors: 0,
      slow: rng() < 0.35 ? Math.round(25 * (0.3 + 1.4 * rng())) : rng() < 0.2 ? 1 : 0,
    }));

  it("a clean green far below a blue that moves in bursts is promoted on its own rate, not left undecided", () => {
    const paired = settingsWith({ minErrorIncrease: 0.01, maxExtensions: 20 }, 1);
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const rng = seededRandom(seed);
      const state = withBlueHistory(newJudgeState(), burstyHistory(rng));
      const windows = Array.from({ length: 23 }, (_, i) => w(i, [409, 0, rng() < 0.1 ? 1 + Math.floor(rng() * 8) : 0], [0, 0, null]));
      const verdicts = run(paired, windows, { ...monitoring, windowsRequired: 3 }, state);
      const last = verdicts.find((v) => v.decision !== "continue" && v.decision !== "extend") ?? verdicts.at(-1)!;
      expect(last.state.reference!.slow!.minuteVariance).toBeGreaterThan(0.5);
      expect(last.decision).toBe("promote");
    }
  });

  it("green's own rate bound at 100% covers its true mean rate at every look in ≥ 95% of runs when green moves as blue did", () => {
    const settings = settingsWith({}, 1);
    const sigma = 0.8;
    const meanRate = 0.01;
    let missed = 0;
    const runs = 200;
    for (let r = 0; r < runs; r++) {
      const rng = seededRandom(100 + r);
      // lognormal minute factors with mean 1, the same law for blue's history and green's windows
      const factor = () => Math.exp(sigma * gaussian(rng) - (sigma * sigma) / 2);
      const poisson = (mean: number) => poissonDraw(rng, mean);
      const history = Array.from({ length: 60 }, (_, i) => ({ end: (i - 60) * MINUTE, requests: 5000, errors: poisson(5000 * meanRate * factor()), slow: 0 }));
      let state = withBlueHistory(newJudgeState(), history);
      for (let i = 0; i < 20; i++) {
        const verdict = judgeStep(settings, state, [w(i, [5000, poisson(5000 * meanRate * factor()), 0], [0, 0, null])], {
          ...monitoring,
          windowsRequired: 20,
        });
        state = verdict.state;
        const bound = verdict.evidence.errors.ruledOut.greenRateBelow;
        if (bound !== null && bound < meanRate) {
          missed += 1;
          break;
        }
      }
    }
    expect(missed / runs).toBeLessThanOrEqual(0.05);
  });

  it("with nothing to compare against, says so and promotes only on green's own bound", () => {
    const verdicts = run(
      s,
      Array.from({ length: 5 }, (_, i) => atHundred(100, i)),
      monitoring,
      newJudgeState(),
    );
    const last = verdicts.at(-1)!;
    expect(last.evidence.errors.comparison).toBe("none");
    expect(describeVerdict(last)).toContain("nothing to compare with");
    // blue's rate counts as 0: green at 1% is below the large regression's absolute size (+2 points), not the smallest (+0.5)
    expect(last.evidence.errors.status).toBe("ruled-out-large");
    expect(last.decision).toBe("extend");
  });
});

describe("state", () => {
  it("round-trips through JSON: a resumed judge decides exactly as one that never stopped", () => {
    const s = settingsWith();
    const rng = seededRandom(11);
    const windows = Array.from({ length: 8 }, (_, i) => {
      const g = 400 + Math.floor(rng() * 200);
      return w(i, [g, Math.floor(rng() * 8), Math.floor(rng() * 30)], [9000, Math.floor(rng() * 100), Math.floor(rng() * 500)]);
    });
    let straight = newJudgeState();
    let resumed = newJudgeState();
    for (const window of windows) {
      const a = judgeStep(s, straight, [window], step1);
      const b = judgeStep(s, parseJudgeState(JSON.parse(JSON.stringify(resumed))), [window], step1);
      expect(JSON.stringify(b.evidence)).toBe(JSON.stringify(a.evidence));
      expect(b.decision).toBe(a.decision);
      straight = a.state;
      resumed = b.state;
    }
    expect(JSON.parse(JSON.stringify(straight))).toEqual(straight);
  });

  it("stays small enough for the journal (SSM parameters hold 8 KB) after a long step at high traffic", () => {
    const s = settingsWith();
    const windows = Array.from({ length: 15 }, (_, i) => w(i, [50_003, 513, 2525], [949_700, 9496, 47_470]));
    const state = run(s, windows, step1).at(-1)!.state;
    expect(JSON.stringify(state).length).toBeLessThan(6000);
  });

  it("refuses a corrupt state, naming the field", () => {
    const bad = JSON.parse(JSON.stringify(newJudgeState()));
    bad.metrics.errors.logLik = [1, 2];
    expect(() => parseJudgeState(bad)).toThrow("metrics.errors.logLik");
    expect(() => parseJudgeState({ ...newJudgeState(), version: 3 })).toThrow("version must be 2");
    // the previous judge's state (version 1) cannot be carried over: the phase starts again
    expect(parseJudgeState({ version: 1 })).toEqual(newJudgeState());
  });

  it("never mutates its input state", () => {
    const s = settingsWith();
    const state = newJudgeState();
    const copy = JSON.stringify(state);
    judgeStep(s, state, [w(0, [500, 5, 25], [9500, 95, 475])], step1);
    expect(JSON.stringify(state)).toBe(copy);
  });
});

describe("properties", () => {
  const s = settingsWith();
  const windowArb = (i: number) =>
    fc
      .record({
        g: fc.integer({ min: 0, max: 2000 }),
        b: fc.integer({ min: 0, max: 20_000 }),
        ge: fc.integer({ min: 0, max: 40 }),
        be: fc.integer({ min: 0, max: 400 }),
        gs: fc.integer({ min: 0, max: 200 }),
        bs: fc.integer({ min: 0, max: 2000 }),
      })
      .map(({ g, b, ge, be, gs, bs }) => w(i, [g, Math.min(ge, g), Math.min(gs, g)], [b, Math.min(be, b), Math.min(bs, b)]));
  const sequenceArb = fc.integer({ min: 1, max: 8 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => windowArb(i))));

  it("adding a window in which green is fine (no errors, no slow requests) never turns a non-failing step into a failing one", () => {
    fc.assert(
      fc.property(
        sequenceArb,
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 0, max: 50_000 }),
        fc.integer({ min: 0, max: 500 }),
        (windows, g, b, be) => {
          const before = run(s, windows, step1).at(-1)!;
          fc.pre(before.decision !== "fail");
          const good = w(windows.length, [g, 0, 0], [b, Math.min(be, b), 0]);
          const after = judgeStep(s, before.state, [good], step1);
          return after.decision !== "fail";
        },
      ),
      { numRuns: 200 },
    );
  });

  it("no data is never a pass: windows without requests, or without any window at all, never promote", () => {
    const lenient = settingsWith({ onUndecided: "promote" });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.boolean(), (n, blueTraffic) => {
        const empty = Array.from({ length: n }, (_, i) => w(i, [0, 0, 0], [blueTraffic ? 1000 : 0, 0, blueTraffic ? 50 : 0]));
        for (const settings of [s, lenient]) {
          const verdicts = n === 0 ? [judgeStep(settings, newJudgeState(), [], step1)] : run(settings, empty, step1);
          if (verdicts.some((v) => v.decision === "promote")) return false;
        }
        return true;
      }),
      { numRuns: 60 },
    );
  });
});

describe("seeded canary simulations (bench/judgeSimulation.ts)", () => {
  const count = (settings: JudgeSettings, n: number, seed: number, sc: ReturnType<typeof scenario>) => {
    const rng = seededRandom(seed);
    const outcomes = { "rolled-back": 0, undecided: 0, succeeded: 0 };
    const results = [];
    for (let i = 0; i < n; i++) {
      const r = simulateCutover(settings, sc, rng);
      outcomes[r.outcome] += 1;
      results.push(r);
    }
    return { outcomes, results };
  };

  it("keeps the false-rollback rate of identical releases within the budget (a loose budget, so a broken test shows)", () => {
    // Budget 20%: 3.3% per metric and phase. An invalid test (peeking without the correction,
    // or the budget not split) would roll back well above 20% here.
    const loose = settingsWith({ falseRollbackBudget: 0.2 });
    for (const [traffic, base, seed] of [
      [10_000, 0.01, 1],
      [10_000, 0.001, 2],
      [1_000, 0.01, 3],
    ] as const) {
      const { outcomes } = count(loose, 300, seed, scenario(traffic, base, release("identical")));
      expect(outcomes["rolled-back"] / 300).toBeLessThanOrEqual(0.2);
    }
    const { outcomes } = count(settingsWith(), 300, 4, scenario(10_000, 0.01, release("identical")));
    expect(outcomes["rolled-back"] / 300).toBeLessThanOrEqual(0.01);
    expect(outcomes.succeeded).toBeGreaterThan(290);
  });

  it("rolls back a ×5 regression at 10,000 req/min with a 1% baseline within the first three judged 1-minute windows of the 5% step", () => {
    const { results } = count(settingsWith(), 200, 5, scenario(10_000, 0.01, release("errors ×5")));
    const early = results.filter((r) => r.outcome === "rolled-back" && r.phase === DEFAULT_PHASES[0]!.key && r.windowInPhase <= 3);
    expect(early.length / results.length).toBeGreaterThanOrEqual(0.99);
  });

  it("catches a ×2 regression and a +50% latency release at 100,000 req/min", () => {
    for (const name of ["errors ×2", "latency +50%"]) {
      const { outcomes } = count(settingsWith(), 100, 6, scenario(100_000, 0.01, release(name)));
      expect(outcomes["rolled-back"]).toBeGreaterThanOrEqual(98);
    }
  });
});

describe("plans journaled before the judge was the only one", () => {
  it("a plan with the old threshold keys is judged by the judge, its missing keys from the defaults", () => {
    const old = { mode: "thresholds", maxErrorRate: 0.01, minRequests: 50, inconclusiveExtensions: 3, maxConsecutiveMetricErrors: 3, minHealthyTargets: 1 };
    const s = resolveJudgeSettings(old as unknown as Parameters<typeof resolveJudgeSettings>[0], { judgedPhases: 3 });
    expect(s.falseRollbackBudget).toBe(0.01);
    expect(s.errors.minRatio).toBe(2);
    expect("thresholds" in s).toBe(false);
  });
});
