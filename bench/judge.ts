// `npm run bench:judge [-- --cutovers N] [--workers W] [--seed S] [--json]`
// Monte Carlo over the project's real judge (scripts/core/judge) and, side by side, the old
// per-window threshold gates (the judge's `thresholds` mode, which calls scripts/core/gates.ts), on
// the default canary (5 → 25 → 100, 5-minute bakes polled each minute, 5 minutes of monitoring),
// with a virtual clock and binomial noise per window (bench/judgeSimulation.ts). Cells: traffic ×
// baseline 5xx rate × release. Prints the matrix, the cells where ×2 and ×5 are detectable within
// bake + extensions (from the judge's own forecast), and checks the targets of issue 10.

import { Command } from "commander";
import { wholeNumber } from "./benchArgs.js";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stackConfigSchema } from "../infra/config.js";
import { expectedTimeToDecision, requestsToDetectRate, testAlpha } from "../scripts/core/judge/forecast.js";
import { resolveJudgeSettings } from "../scripts/core/judge/settings.js";
import { rateUpperBound } from "../scripts/core/judge/statistics.js";
import type { JudgeSettings } from "../scripts/core/judge/types.js";
import { DEFAULT_PHASES, RELEASES, seededRandom, simulateCutover, slowShare, type Release } from "./judgeSimulation.js";

export const TRAFFIC = [100, 1_000, 10_000, 100_000] as const;
export const BASELINES = [0, 0.001, 0.01] as const;

interface Cell {
  traffic: number;
  baseline: number;
  release: Release;
}

interface Tally {
  n: number;
  rolledBack: number;
  undecided: number;
  succeeded: number;
  /** Minutes from the first shift to the rollback, per rolled-back cutover. */
  detectMinutes: number[];
  /** Rolled back within the first two windows of the 5% step. */
  withinTwoWindows: number;
  /** Cutovers in which some phase promoted only after extensions. */
  extended: number;
  /** Minutes of a successful cutover. */
  successMinutes: number[];
}

interface CellResult {
  traffic: number;
  baseline: number;
  release: string;
  sequential: Tally;
  thresholds: Tally;
  /** The forecast says the release's regression is caught with ~95% probability in some phase within bake + extensions. */
  detectable: boolean | null;
}

function defaultSettings(): { sequential: JudgeSettings; thresholds: JudgeSettings } {
  const gates = stackConfigSchema.shape.rollout.parse({}).gates;
  const sequential = resolveJudgeSettings(gates, { judgedPhases: DEFAULT_PHASES.length });
  return { sequential, thresholds: { ...sequential, mode: "thresholds" } };
}

function tally(settings: JudgeSettings, cell: Cell, cutovers: number, seed: number): Tally {
  const rng = seededRandom(seed);
  const t: Tally = { n: 0, rolledBack: 0, undecided: 0, succeeded: 0, detectMinutes: [], withinTwoWindows: 0, extended: 0, successMinutes: [] };
  const scenario = { trafficPerMinute: cell.traffic, baselineErrorRate: cell.baseline, release: cell.release };
  for (let i = 0; i < cutovers; i++) {
    const r = simulateCutover(settings, scenario, rng);
    t.n += 1;
    if (r.extendedPhases > 0) t.extended += 1;
    if (r.outcome === "rolled-back") {
      t.rolledBack += 1;
      t.detectMinutes.push(r.minutes);
      if (r.phase === DEFAULT_PHASES[0]!.key && r.windowInPhase <= 2) t.withinTwoWindows += 1;
    } else if (r.outcome === "undecided") t.undecided += 1;
    else {
      t.succeeded += 1;
      t.successMinutes.push(r.minutes);
    }
  }
  return t;
}

/** Is the release's regression (errors or slow share) caught with probability ≥ power in some phase, per the judge's forecast? null: not a regression. */
export function detectable(settings: JudgeSettings, cell: Cell, power: number): boolean | null {
  const errorsWorse = cell.release.errorFactor > 1 && cell.baseline > 0;
  const slowWorse = cell.release.latencyFactor > 1;
  if (!errorsWorse && !slowWorse) return null;
  const metric = errorsWorse ? "errors" : "slow";
  const blueRate = metric === "errors" ? cell.baseline : 0.05;
  const greenRate = metric === "errors" ? cell.baseline * cell.release.errorFactor : slowShare(cell.release.latencyFactor);
  let blueSoFar = 0;
  for (const phase of DEFAULT_PHASES) {
    const windows = phase.windowsRequired + settings.maxExtensions;
    const comparison = phase.share >= 1 ? "reference" : "concurrent";
    // At 100% green is compared with the upper bound of blue's rate over the earlier steps.
    const reference = comparison === "reference" ? rateUpperBound(blueRate * blueSoFar, blueSoFar, settings.alphaPerTest / 2) : blueRate;
    const needed = requestsToDetectRate(
      { effect: settings[metric], blueRate: reference, share: phase.share, comparison },
      greenRate,
      testAlpha(settings, comparison),
      power,
    );
    if (needed !== null && needed <= cell.traffic * phase.share * windows) return true;
    blueSoFar += cell.traffic * (1 - phase.share) * phase.windowsRequired;
  }
  return false;
}

function cells(): Cell[] {
  const out: Cell[] = [];
  for (const traffic of TRAFFIC) for (const baseline of BASELINES) for (const release of RELEASES) out.push({ traffic, baseline, release });
  return out;
}

function runCells(indices: number[], cutovers: number, seed: number): CellResult[] {
  const settings = defaultSettings();
  const all = cells();
  return indices.map((i) => {
    const cell = all[i]!;
    // the same seed for both judges: they see the same simulated traffic
    const cellSeed = (seed * 1_000_003 + i * 7919) >>> 0;
    return {
      traffic: cell.traffic,
      baseline: cell.baseline,
      release: cell.release.name,
      sequential: tally(settings.sequential, cell, cutovers, cellSeed),
      thresholds: tally(settings.thresholds, cell, cutovers, cellSeed),
      // detectable with the power the issue's target asks for: 99% for ×5, 95% otherwise
      detectable: detectable(settings.sequential, cell, cell.release.errorFactor >= 5 ? 0.99 : 0.95),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// reporting

const median = (xs: number[]) => (xs.length === 0 ? null : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
const pct = (k: number, n: number) => (n === 0 ? "-" : `${((100 * k) / n).toFixed(1)}%`);

/** "identical" for the false-rollback targets: no regression at all (×k of a zero baseline is zero). */
const isIdentical = (r: CellResult) => r.release === "identical" || (r.release.startsWith("errors") && r.baseline === 0);

function cellText(t: Tally, identical: boolean): string {
  const m = median(t.detectMinutes);
  if (identical) return `${pct(t.rolledBack, t.n)} rb, ${pct(t.undecided, t.n)} und`;
  return `${pct(t.rolledBack, t.n)} caught${m !== null ? ` ${m}m` : ""}, ${pct(t.undecided, t.n)} und, ${pct(t.succeeded, t.n)} miss`;
}

function printMatrix(results: CellResult[], which: "sequential" | "thresholds"): void {
  const header = ["traffic/min", "5xx base", ...RELEASES.map((r) => r.name)];
  const rows: string[][] = [];
  for (const traffic of TRAFFIC)
    for (const baseline of BASELINES) {
      const row = [traffic.toLocaleString("en-US"), `${baseline * 100}%`];
      for (const release of RELEASES) {
        const r = results.find((x) => x.traffic === traffic && x.baseline === baseline && x.release === release.name)!;
        const mark = r.detectable ? "*" : "";
        row.push(cellText(r[which], isIdentical(r)) + mark);
      }
      rows.push(row);
    }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cols: string[]) => `| ${cols.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
}

interface TargetCheck {
  name: string;
  ok: boolean;
  detail: string;
}

function checkTargets(results: CellResult[], budget: number): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const identical = results.filter(isIdentical);
  const worstFalse = identical.reduce((a, b) => (b.sequential.rolledBack / b.sequential.n > a.sequential.rolledBack / a.sequential.n ? b : a));
  checks.push({
    name: `identical releases rolled back (regression found) ≤ ${budget * 100}% in every cell`,
    ok: identical.every((r) => r.sequential.rolledBack / r.sequential.n <= budget),
    detail: `worst ${pct(worstFalse.sequential.rolledBack, worstFalse.sequential.n)} at ${worstFalse.traffic}/min, ${worstFalse.baseline * 100}%, ${worstFalse.release}`,
  });
  for (const [release, target] of [
    ["errors ×2", 0.95],
    ["errors ×5", 0.99],
  ] as const) {
    const cellsDetectable = results.filter((r) => r.release === release && r.detectable === true);
    // Caught = stopped before green reached 100% for good: rolled back on evidence, or undecided at a
    // step (which rolls back: the traffic could not tell it from blue). Both figures are printed.
    const caught = (r: CellResult) => (r.sequential.rolledBack + r.sequential.undecided) / r.sequential.n;
    const worst = cellsDetectable.length > 0 ? cellsDetectable.reduce((a, b) => (caught(b) < caught(a) ? b : a)) : null;
    checks.push({
      name: `${release} caught ≥ ${target * 100}% wherever detectable (${cellsDetectable.length} cells: ${cellsDetectable.map((r) => `${r.traffic}/${r.baseline * 100}%`).join(", ")})`,
      ok: cellsDetectable.every((r) => caught(r) >= target),
      detail: worst
        ? `worst ${pct(worst.sequential.rolledBack + worst.sequential.undecided, worst.sequential.n)} at ${worst.traffic}/min, ${worst.baseline * 100}% ` +
          `(${pct(worst.sequential.rolledBack, worst.sequential.n)} on evidence, ${pct(worst.sequential.undecided, worst.sequential.n)} undecided)`
        : "no detectable cell",
    });
  }
  const x5 = results.find((r) => r.traffic === 10_000 && r.baseline === 0.01 && r.release === "errors ×5")!;
  checks.push({
    name: "10,000 req/min, 1% baseline, ×5: rolled back within the first two windows of the 5% step in ≥ 99%",
    ok: x5.sequential.withinTwoWindows / x5.sequential.n >= 0.99,
    detail: `${pct(x5.sequential.withinTwoWindows, x5.sequential.n)} (median ${median(x5.sequential.detectMinutes)} min)`,
  });
  return checks;
}

function printSuccessTimes(results: CellResult[]): void {
  console.log("\nIdentical release, sequential judge: median minutes of a successful cutover (default canary: 15 without extensions)");
  for (const traffic of TRAFFIC) {
    const parts = BASELINES.map((baseline) => {
      const r = results.find((x) => x.traffic === traffic && x.baseline === baseline && x.release === "identical")!;
      const m = median(r.sequential.successMinutes);
      return `${baseline * 100}%: ${m === null ? "never" : `${m} min`} (${pct(r.sequential.extended, r.sequential.n)} extended)`;
    });
    console.log(`  ${traffic.toLocaleString("en-US").padStart(7)}/min  ${parts.join("   ")}`);
  }
}

/** The step-time table of docs/gates.md, from the judge's forecast (no simulation). */
export function stepTimeTable(settings: JudgeSettings): string[] {
  const lines: string[] = [];
  const minutes = (m: number | null, cap: number) => (m === null || m > cap ? `> ${cap}` : m < 1 ? "< 1" : String(Math.ceil(m)));
  const cap = 5 + settings.maxExtensions;
  lines.push("| traffic/min | 5xx base | share | promote identical | catch 5xx ×2 | catch 5xx ×5 | catch slow ×2 |");
  lines.push("|---|---|---|---|---|---|---|");
  for (const traffic of [1_000, 10_000, 100_000])
    for (const baseline of [0.001, 0.01])
      for (const share of [0.05, 0.25, 1]) {
        const comparison = share >= 1 ? "reference" : "concurrent";
        const alpha = testAlpha(settings, comparison);
        const green = traffic * share;
        const detect = (metric: "errors" | "slow", blue: number, k: number, power: number) => {
          const n = requestsToDetectRate({ effect: settings[metric], blueRate: blue, share, comparison }, blue * k, alpha, power);
          return n === null ? null : n / green;
        };
        const t = expectedTimeToDecision(settings, traffic, share, baseline);
        // An identical release promotes when the bake (5 min) is over and the smallest regression is ruled
        // out; else after the extensions if the large one is; else it is undecided.
        const promote =
          t.ruleOutMinimalMinutes !== null && t.ruleOutMinimalMinutes <= cap
            ? String(Math.ceil(Math.max(5, t.ruleOutMinimalMinutes)))
            : t.ruleOutLargeMinutes !== null && t.ruleOutLargeMinutes <= cap
              ? `${cap} (rules out ×${settings.largestRegression} only)`
              : "undecided";
        lines.push(
          `| ${traffic.toLocaleString("en-US")} | ${baseline * 100}% | ${share * 100}% | ${promote} | ${minutes(detect("errors", baseline, 2, 0.95), cap)} | ` +
            `${minutes(detect("errors", baseline, 5, 0.99), cap)} | ${minutes(detect("slow", 0.05, 2, 0.95), cap)} |`,
        );
      }
  return lines;
}

async function main(): Promise<void> {
  const program = new Command("bench:judge")
    .option("--cutovers <n>", "simulated cutovers per cell and judge", wholeNumber(1, 10_000_000), 1000)
    .option("--workers <n>", "worker threads (the cells are split between them)", wholeNumber(1, 64), 2)
    .option("--seed <n>", "seed of the simulation", Number, 1)
    .option("--json", "print the results as JSON")
    .option("--table", "print only the forecast step-time table of docs/gates.md (no simulation)")
    .parse();
  const opts = program.opts<{ cutovers: number; workers: number; seed: number; json?: boolean; table?: boolean }>();
  if (opts.table) {
    for (const line of stepTimeTable(defaultSettings().sequential)) console.log(line);
    return;
  }
  if (!Number.isInteger(opts.cutovers) || opts.cutovers < 1) throw new Error("--cutovers must be a positive integer");
  const all = cells();
  const workers = Math.max(1, Math.min(opts.workers, all.length));
  const started = performance.now();
  // Cells interleaved over the workers so each gets a share of the slow low-traffic cells.
  const chunks = Array.from({ length: workers }, (_, w) => all.map((_, i) => i).filter((i) => i % workers === w));
  const results = (
    await Promise.all(
      chunks.map(
        (indices) =>
          new Promise<CellResult[]>((resolve, reject) => {
            const file = fileURLToPath(import.meta.url);
            const workerOptions = { workerData: { benchJudge: true, indices, cutovers: opts.cutovers, seed: opts.seed } };
            // Compiled (npm run bench:judge) the worker runs this file; from source (npx tsx bench/judge.ts)
            // it imports it through tsx, which a worker's entry point does not go through otherwise.
            const worker = file.endsWith(".ts")
              ? new Worker(`import("tsx/esm/api").then((api) => api.tsImport(${JSON.stringify(import.meta.url)}, ${JSON.stringify(import.meta.url)}))`, {
                  ...workerOptions,
                  eval: true,
                })
              : new Worker(file, workerOptions);
            worker.once("message", resolve);
            worker.once("error", reject);
            worker.once("exit", (code) => (code !== 0 ? reject(new Error(`worker exited with ${code}`)) : undefined));
          }),
      ),
    )
  ).flat();
  const seconds = (performance.now() - started) / 1000;
  const settings = defaultSettings().sequential;
  const checks = checkTargets(results, settings.falseRollbackBudget);
  if (opts.json) {
    console.log(JSON.stringify({ cutovers: opts.cutovers, seconds, results, checks }, null, 2));
  } else {
    console.log(
      `bench:judge — ${opts.cutovers} cutovers per cell and judge, default canary 5 → 25 → 100 (5 × 1-min windows per step, 5 of monitoring), ` +
        `falseRollbackBudget ${settings.falseRollbackBudget}, maxExtensions ${settings.maxExtensions}, ${seconds.toFixed(1)} s\n`,
    );
    console.log("Cells: identical → 'rb' rolled back for a regression, 'und' undecided (not enough traffic: fails by default);");
    console.log("regressions → 'caught' rolled back for a regression (median minutes from the first shift), 'und' undecided (also rolled back by default),");
    console.log("'miss' promoted to 100% and through monitoring. * = detectable within bake + extensions by the judge's forecast (×5: with 99% power, else 95%).\n");
    console.log("Sequential judge (mode: sequential, the default):");
    printMatrix(results, "sequential");
    console.log("\nThreshold gates (mode: thresholds, per window; 'und' = inconclusive after its extensions):");
    printMatrix(results, "thresholds");
    printSuccessTimes(results);
    console.log("\nTargets (issue 10):");
    for (const check of checks) console.log(`  ${check.ok ? "MET    " : "MISSED "} ${check.name}: ${check.detail}`);
  }
  process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
}

const isEntry = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMainThread && isEntry) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 2;
  });
} else if (!isMainThread && (workerData as { benchJudge?: boolean } | null)?.benchJudge) {
  const data = workerData as { indices: number[]; cutovers: number; seed: number };
  parentPort!.postMessage(runCells(data.indices, data.cutovers, data.seed));
}
