import { currentJudge } from "./judgeContenders.js";
import { simulateCutover, seededRandom } from "./judgeSimulation.js";
import { NOISES, BENCH_RELEASES } from "./judgeTraffic.js";
import { benchSettings } from "./judge.js";
const cells: [string, number, number, string][] = [
  ["per-color 5xx σ0.6", 10000, 0.01, "identical"],
  ["per-color 5xx σ0.6", 100000, 0.01, "identical"],
  ["bursts 20 in 5%", 10000, 0.001, "identical"],
  ["retries ×3", 1000, 0.01, "identical"],
  ["per-color latency σ0.1", 10000, 0.01, "identical"],
  ["shared 5xx σ0.6", 10000, 0.01, "errors ×2"],
  ["per-color 5xx σ0.3", 10000, 0.01, "errors ×2"],
  ["shared 5xx σ0.6", 10000, 0.01, "errors ×5"],
];
const N = Number(process.argv[2] ?? 300);
for (const [n, t, b, r] of cells) {
  const rng = seededRandom(99);
  const c: Record<string, number> = {};
  const mins: number[] = [];
  for (let i = 0; i < N; i++) {
    const res = simulateCutover(
      currentJudge(benchSettings()),
      { trafficPerMinute: t, baselineErrorRate: b, release: BENCH_RELEASES.find((x) => x.name === r)!, noise: NOISES.find((x) => x.name === n)! },
      rng,
    );
    c[res.outcome] = (c[res.outcome] ?? 0) + 1;
    if (res.outcome !== "succeeded") mins.push(res.minutes);
  }
  mins.sort((a, b) => a - b);
  console.log(
    `${n} ${t} ${b} ${r}: rb ${(((c["rolled-back"] ?? 0) / N) * 100).toFixed(1)}% und ${(((c.undecided ?? 0) / N) * 100).toFixed(1)}% med ${mins[Math.floor(mins.length / 2)]}`,
  );
}
