// `npm run bench:judge [-- --cutovers N] [--workers W] [--seed S] [--noise NAME] [--json]`
// Monte Carlo over the product's judge and, on the same simulated traffic, the judge it replaced and
// a Kayenta-style Mann–Whitney baseline (bench/judgeContenders.ts), on the default canary (5 → 25 →
// 100, 5 one-minute windows per step, 5 of monitoring), an hour of blue before the first shift, and
// the noises of bench/judgeTraffic.ts. Prints the matrix per release and checks the targets.

import { Command } from "commander";
import { wholeNumber } from "./benchArgs.js";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { GATE_DEFAULTS } from "../infra/vocabulary/rolloutDefaults.js";
import { resolveJudgeSettings } from "../scripts/core/judge/settings.js";
import type { JudgeSettings } from "../scripts/core/judge/types.js";
import { idealPower } from "./judgeOracle.js";
import { checkTargets, printTables, type CellResult, type Tally } from "./judgeReport.js";
import { currentJudge, mannWhitney, previousJudge, type Contender } from "./judgeContenders.js";
import { DEFAULT_PHASES, seededRandom, simulateCutover } from "./judgeSimulation.js";
import { BENCH_RELEASES, NOISES } from "./judgeTraffic.js";

/** Traffic (requests/min, both colors) × blue's 5xx rate. */
export const TRAFFIC_CELLS = [
  { traffic: 1_000, baseline: 0.01 },
  { traffic: 10_000, baseline: 0.001 },
  { traffic: 10_000, baseline: 0.01 },
  { traffic: 100_000, baseline: 0.001 },
  { traffic: 100_000, baseline: 0.01 },
] as const;

export interface Cell {
  noise: number;
  traffic: number;
  baseline: number;
  release: number;
}

export function allCells(noiseFilter?: string): Cell[] {
  const cells: Cell[] = [];
  NOISES.forEach((noise, n) => {
    if (noiseFilter && noise.name !== noiseFilter) return;
    for (const t of TRAFFIC_CELLS)
      for (let r = 0; r < BENCH_RELEASES.length; r++) cells.push({ noise: n, traffic: t.traffic, baseline: t.baseline, release: r });
  });
  return cells;
}

export function benchSettings(): JudgeSettings {
  return resolveJudgeSettings(GATE_DEFAULTS, { judgedPhases: DEFAULT_PHASES.length });
}

function contenders(settings: JudgeSettings): Contender[] {
  return [currentJudge(settings), previousJudge(DEFAULT_PHASES.length), mannWhitney(settings.falseRollbackBudget, DEFAULT_PHASES.length)];
}

function tally(contender: Contender, cell: Cell, cutovers: number, seed: number): Tally {
  const rng = seededRandom(seed);
  const t: Tally = { n: 0, rolledBack: 0, undecided: 0, succeeded: 0, decisionMinutes: [] };
  const scenario = { trafficPerMinute: cell.traffic, baselineErrorRate: cell.baseline, release: BENCH_RELEASES[cell.release]!, noise: NOISES[cell.noise]! };
  for (let i = 0; i < cutovers; i++) {
    const r = simulateCutover(contender, scenario, rng);
    t.n += 1;
    if (r.outcome === "rolled-back") t.rolledBack += 1;
    else if (r.outcome === "undecided") t.undecided += 1;
    else t.succeeded += 1;
    if (r.outcome !== "succeeded") t.decisionMinutes.push(r.minutes);
  }
  return t;
}

function runCell(cell: Cell, cutovers: number, seed: number): CellResult {
  const settings = benchSettings();
  // the same seed for every judge: they see the same simulated traffic
  const cellSeed = (seed * 1_000_003 + cell.noise * 7919 + cell.traffic * 31 + Math.round(cell.baseline * 1e4) * 131 + cell.release * 17) >>> 0;
  const byJudge = Object.fromEntries(contenders(settings).map((c) => [c.name, tally(c, cell, cutovers, cellSeed)]));
  const release = BENCH_RELEASES[cell.release]!;
  const power =
    release.name === "identical"
      ? null
      : idealPower(
          settings,
          { trafficPerMinute: cell.traffic, baselineErrorRate: cell.baseline, release, noise: NOISES[cell.noise]! },
          seededRandom(cellSeed ^ 0x5bd1e995),
        );
  return { ...cell, byJudge, idealPower: power };
}

async function runWorkers(cells: Cell[], cutovers: number, seed: number, workers: number): Promise<CellResult[]> {
  const chunks = Array.from({ length: workers }, (_, w) => cells.filter((_, i) => i % workers === w));
  const parts = await Promise.all(
    chunks.map(
      (chunk) =>
        new Promise<CellResult[]>((resolvePart, reject) => {
          const file = fileURLToPath(import.meta.url);
          const options = { workerData: { benchJudge: true, cells: chunk, cutovers, seed } };
          // Compiled (npm run bench:judge) the worker runs this file; from source (npx tsx) it imports it through tsx.
          const worker = file.endsWith(".ts")
            ? new Worker(`import("tsx/esm/api").then((api) => api.tsImport(${JSON.stringify(import.meta.url)}, ${JSON.stringify(import.meta.url)}))`, {
                ...options,
                eval: true,
              })
            : new Worker(file, options);
          worker.once("message", resolvePart);
          worker.once("error", reject);
          worker.once("exit", (code) => (code !== 0 ? reject(new Error(`worker exited with ${code}`)) : undefined));
        }),
    ),
  );
  return parts.flat();
}

async function main(): Promise<void> {
  const program = new Command("bench:judge")
    .description("false rollbacks, catches and time to decision of the judge under realistic noise, beside the previous judge and Mann–Whitney")
    .option("--cutovers <n>", "simulated cutovers per cell and judge", wholeNumber(1, 10_000_000), 1000)
    .option("--workers <n>", "worker threads (the cells are split between them)", wholeNumber(1, 64), 2)
    .option("--seed <n>", "seed of the simulation", wholeNumber(1, 2 ** 31), 1)
    .option("--noise <name>", `only this noise (${NOISES.map((n) => n.name).join(", ")})`)
    .option("--json", "print the results as JSON")
    .parse();
  const opts = program.opts<{ cutovers: number; workers: number; seed: number; noise?: string; json?: boolean }>();
  if (opts.noise && !NOISES.some((n) => n.name === opts.noise))
    program.error(`--noise must be one of: ${NOISES.map((n) => n.name).join(", ")}`, { exitCode: 2 });
  const cells = allCells(opts.noise);
  const started = performance.now();
  const results = await runWorkers(cells, opts.cutovers, opts.seed, Math.min(opts.workers, cells.length));
  const seconds = (performance.now() - started) / 1000;
  const settings = benchSettings();
  const checks = checkTargets(results, settings);
  if (opts.json) {
    console.log(JSON.stringify({ cutovers: opts.cutovers, seconds, results, checks }, null, 2));
  } else {
    console.log(
      `bench:judge — ${opts.cutovers} cutovers per cell and judge; default canary 5 → 25 → 100 (5 one-minute windows per step, 5 of monitoring), ` +
        `60 minutes of blue before the first shift; falseRollbackBudget ${settings.falseRollbackBudget}, warm-up ${settings.warmupMs / 1000} s; ${seconds.toFixed(0)} s\n`,
    );
    printTables(results);
    console.log("\nTargets:");
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
  const data = workerData as { cells: Cell[]; cutovers: number; seed: number };
  parentPort!.postMessage(data.cells.map((cell) => runCell(cell, data.cutovers, data.seed)));
}
