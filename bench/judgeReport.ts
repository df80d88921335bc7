// bench:judge's tables and targets.

import type { JudgeSettings } from "../scripts/core/judge/types.js";
import { BENCH_RELEASES, NOISES } from "./judgeTraffic.js";

export interface Tally {
  n: number;
  rolledBack: number;
  undecided: number;
  succeeded: number;
  /** Minutes from the first shift to the decision, per cutover that did not succeed. */
  decisionMinutes: number[];
}

export interface CellResult {
  noise: number;
  traffic: number;
  baseline: number;
  release: number;
  byJudge: Record<string, Tally>;
  /** The ideal test's power for a regression (bench/judgeOracle.ts); null for an identical release. */
  idealPower: number | null;
}

export interface TargetCheck {
  name: string;
  ok: boolean;
  detail: string;
}

const JUDGES = ["current", "previous", "mann-whitney"] as const;
const median = (xs: readonly number[]) => (xs.length === 0 ? null : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
const pct = (k: number, n: number) => (n === 0 ? "-" : `${((100 * k) / n).toFixed(1)}`);
const caught = (t: Tally) => (t.rolledBack + t.undecided) / t.n;
const trafficLabel = (r: Pick<CellResult, "traffic" | "baseline">) => `${r.traffic >= 1000 ? `${r.traffic / 1000}k` : r.traffic}·${r.baseline * 100}%`;
export const DETECTABLE_POWER = 0.99;

/** Noises the false-rollback target covers (sticky failing clients are reported, not targeted; bursts from 10k req/min). */
function targetedIdentical(r: CellResult): boolean {
  const noise = NOISES[r.noise]!.name;
  if (noise === "sticky failing clients") return false;
  if (noise.startsWith("bursts") && r.traffic < 10_000) return false;
  return true;
}

function cellText(r: CellResult, identical: boolean): string {
  const parts = JUDGES.map((j) => {
    const t = r.byJudge[j]!;
    if (identical) return `${pct(t.rolledBack, t.n)}`;
    const m = median(t.decisionMinutes);
    return `${pct(t.rolledBack + t.undecided, t.n)}${m !== null ? `@${m}` : ""}`;
  });
  const mark = !identical && r.idealPower !== null && r.idealPower >= DETECTABLE_POWER ? "*" : "";
  const undecided = identical ? ` (und ${pct(r.byJudge.current!.undecided, r.byJudge.current!.n)})` : "";
  return `${parts.join(" / ")}${undecided}${mark}`;
}

export function printTables(results: readonly CellResult[]): void {
  const cells = [...new Set(results.map((r) => trafficLabel(r)))];
  BENCH_RELEASES.forEach((release, ri) => {
    const identical = release.name === "identical";
    console.log(
      identical
        ? `\n${release.name}: % rolled back for a regression that is not there — current / previous / mann-whitney (current's undecided %)`
        : `\n${release.name}: % caught (rolled back on evidence or undecided) @ median minutes — current / previous / mann-whitney; * = an ideal test has ≥ ${DETECTABLE_POWER * 100}% power`,
    );
    const header = ["noise", ...cells];
    const rows = NOISES.map((noise, ni) => [
      noise.name,
      ...cells.map((label) => {
        const r = results.find((x) => x.noise === ni && x.release === ri && trafficLabel(x) === label);
        return r ? cellText(r, identical) : "";
      }),
    ]).filter((row) => row.slice(1).some((c) => c !== ""));
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cols: string[]) => `| ${cols.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
    console.log(line(header));
    console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
    for (const row of rows) console.log(line(row));
  });
}

function worstOf(cells: readonly CellResult[], score: (r: CellResult) => number, lowIsBad: boolean): CellResult | null {
  if (cells.length === 0) return null;
  return cells.reduce((a, b) => ((lowIsBad ? score(b) < score(a) : score(b) > score(a)) ? b : a));
}

const where = (r: CellResult) => `${NOISES[r.noise]!.name} at ${trafficLabel(r)}`;

export function checkTargets(results: readonly CellResult[], settings: JudgeSettings): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const release = (name: string) => BENCH_RELEASES.findIndex((r) => r.name === name);
  const current = (r: CellResult) => r.byJudge.current!;
  const identical = results.filter((r) => r.release === release("identical") && targetedIdentical(r));
  const falseRate = (r: CellResult) => current(r).rolledBack / current(r).n;
  const worstFalse = worstOf(identical, falseRate, false);
  checks.push({
    name: `identical releases rolled back ≤ ${settings.falseRollbackBudget * 100}% per cutover in every targeted cell (${identical.length} cells)`,
    ok: identical.every((r) => falseRate(r) <= settings.falseRollbackBudget),
    detail: worstFalse ? `worst ${pct(current(worstFalse).rolledBack, current(worstFalse).n)}% (${where(worstFalse)})` : "no cell",
  });
  const regressionCheck = (name: string, target: number, filter: (r: CellResult) => boolean, label: string) => {
    const cells = results.filter((r) => r.release === release(name) && filter(r));
    const worst = worstOf(cells, (r) => caught(current(r)), true);
    checks.push({
      name: `${name} caught ≥ ${target * 100}% ${label} (${cells.length} cells)`,
      ok: cells.every((r) => caught(current(r)) >= target),
      detail: worst
        ? `worst ${pct(current(worst).rolledBack + current(worst).undecided, current(worst).n)}% (${where(worst)}; ideal test ${((worst.idealPower ?? 0) * 100).toFixed(1)}%)`
        : "no cell",
    });
  };
  const detectable = (r: CellResult) => r.idealPower !== null && r.idealPower >= DETECTABLE_POWER;
  // A release ×f is a regression the config asks to catch when green's rate reaches blue's +
  // (minRatio − 1)·max(blue's, r*): at a 0.1% baseline ×2 and ×5 are +0.1 and +0.4 points, below the
  // default +0.5, and the judge may rightly promote them once it rules +0.5 out.
  const worthCatching = (r: CellResult) => {
    const factor = BENCH_RELEASES[r.release]!.errorFactor;
    const effect = settings.errors;
    return (factor - 1) * r.baseline >= (effect.minRatio - 1) * Math.max(r.baseline, effect.minIncrease / (effect.minRatio - 1)) - 1e-12;
  };
  regressionCheck(
    "errors ×2",
    0.95,
    (r) => detectable(r) && worthCatching(r),
    "wherever an ideal test has ≥ 99% power under that noise and it is worth catching",
  );
  regressionCheck(
    "errors ×5",
    0.99,
    (r) => r.traffic >= 10_000 && detectable(r) && worthCatching(r),
    "at ≥ 10k req/min wherever detectable and worth catching",
  );
  regressionCheck("latency +50%", 0.99, (r) => r.traffic >= 1_000, "at ≥ 1k req/min");
  const x5 = results.filter((r) => r.release === release("errors ×5") && r.traffic === 10_000 && detectable(r) && worthCatching(r));
  const slowest = worstOf(x5, (r) => median(current(r).decisionMinutes) ?? Infinity, false);
  checks.push({
    name: `errors ×5 at 10k req/min: median minutes to the rollback ≤ 10 (${x5.length} cells)`,
    ok: x5.every((r) => (median(current(r).decisionMinutes) ?? Infinity) <= 10),
    detail: slowest ? `slowest ${median(current(slowest).decisionMinutes)} min (${where(slowest)})` : "no cell",
  });
  return checks;
}
