// The parity benchmark's measurements: parity runs and bare hash passes interleaved (their order
// turned from one repetition to the next), each timed by the wall clock and charged its CPU
// (parityCpu.ts), and the lines that print them side by side with their ratios.

import type { ParityProgress, ParityReport } from "../scripts/postgres/parity/index.js";
import { chargeCpu } from "./parityCpu.js";

/** One timing: wall-clock and CPU milliseconds. */
export interface Timing {
  wall: number;
  cpu: number;
}

/** Where one parity run's wall time went, from its progress phases. */
interface Phases {
  connect: number;
  catalog: number;
  hash: number;
  finish: number;
}

interface ParityRun extends Timing {
  /** Of `cpu`: the servers' backends, the rest is parity's own process. */
  serverCpu: number;
  report: ParityReport;
  peak: number;
  phases: Phases;
}

export interface Measured {
  parity: ParityRun[];
  /** The bare pass on a new connection per server, as parity (a new process) has. */
  bare: Timing[];
  /** The bare pass on connections that have scanned the table before. */
  warm: Timing[];
}

export type RunParity = (onProgress: (p: ParityProgress) => void) => Promise<ParityReport>;

/** One bare pass, on new connections (`fresh`) or on the long-lived ones. */
export type BarePass = (fresh: boolean) => Promise<Timing>;

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
export const sec = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

/** One parity run: RSS sampled every 5 ms, its phases timed, the CPU of its backends and of this process charged. */
async function timedParity(run: RunParity, postmasters: number[]): Promise<ParityRun> {
  global.gc?.();
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  const t0 = performance.now();
  const marks = new Map<string, number>();
  try {
    let end = t0;
    const charge = await chargeCpu(postmasters, async () => {
      const report = await run((p) => {
        if (!marks.has(p.phase)) marks.set(p.phase, performance.now());
      });
      end = performance.now();
      return report;
    });
    const at = (phase: string) => marks.get(phase) ?? end;
    const phases = { connect: at("schema") - t0, catalog: at("hash") - at("schema"), hash: at("sequences") - at("hash"), finish: end - at("sequences") };
    return {
      wall: end - t0,
      cpu: charge.serverMs + charge.clientMs,
      serverCpu: charge.serverMs,
      report: charge.value,
      peak: Math.max(peak, process.memoryUsage.rss()),
      phases,
    };
  } finally {
    clearInterval(sampler);
  }
}

/** `repeat` rounds of warm bare, fresh bare and parity; every other round in the reverse order. */
export async function measure(run: RunParity, bare: BarePass, postmasters: number[], repeat: number): Promise<Measured> {
  const out: Measured = { parity: [], bare: [], warm: [] };
  const steps = [
    async () => out.warm.push(await bare(false)),
    async () => out.bare.push(await bare(true)),
    async () => out.parity.push(await timedParity(run, postmasters)),
  ];
  for (let i = 0; i < repeat; i++) {
    for (const step of i % 2 === 0 ? steps : [...steps].reverse()) await step();
  }
  return out;
}

/** Ratio of the medians, and the per-round ratios (rounds pair runs taken at nearly the same load). */
function ratios(parity: number[], bare: number[]): { ratio: number; perRun: number[] } {
  return { ratio: median(parity) / median(bare), perRun: parity.map((p, i) => p / bare[i]!) };
}

export interface RowSummary {
  id: string;
  wall: number;
  cpu: number;
  peak: number;
}

const indent = " ".repeat(27);

export function printRow(id: string, rows: number, m: Measured): RowSummary {
  const wallOf = (xs: Timing[]) => xs.map((x) => x.wall);
  const cpuOf = (xs: Timing[]) => xs.map((x) => x.cpu);
  const wall = ratios(wallOf(m.parity), wallOf(m.bare));
  const cpu = ratios(cpuOf(m.parity), cpuOf(m.bare));
  const warmWall = ratios(wallOf(m.parity), wallOf(m.warm));
  const warmCpu = ratios(cpuOf(m.parity), cpuOf(m.warm));
  const peak = Math.max(...m.parity.map((p) => p.peak));
  const list = (xs: number[], digits = 3) => xs.map((x) => (digits === 3 ? (x / 1000).toFixed(3) : x.toFixed(2))).join(", ");
  const pWall = median(wallOf(m.parity));
  const pCpu = median(cpuOf(m.parity));
  const phase = (k: keyof Phases) => sec(median(m.parity.map((x) => x.phases[k])));
  console.log(
    `${`(a) ${id} identical`.padEnd(26)} wall: parity ${sec(pWall)}  bare ${sec(median(wallOf(m.bare)))}  ratio ${wall.ratio.toFixed(2)} ` +
      `(per run ${list(wall.perRun, 2)})  ${Math.round(rows / (pWall / 1000)).toLocaleString("en-US")} rows/s per side, peak RSS ${mb(peak)}`,
  );
  console.log(
    `${indent}CPU:  parity ${sec(pCpu)} (servers ${sec(median(m.parity.map((p) => p.serverCpu)))}, the rest parity's process)  ` +
      `bare ${sec(median(cpuOf(m.bare)))}  ratio ${cpu.ratio.toFixed(2)} (per run ${list(cpu.perRun, 2)})`,
  );
  console.log(
    `${indent}bare on warm connections: wall ${sec(median(wallOf(m.warm)))} ratio ${warmWall.ratio.toFixed(2)}; CPU ${sec(median(cpuOf(m.warm)))} ratio ${warmCpu.ratio.toFixed(2)}`,
  );
  console.log(`${indent}wall runs: parity ${list(wallOf(m.parity))}; bare ${list(wallOf(m.bare))}; warm ${list(wallOf(m.warm))}`);
  console.log(`${indent}CPU runs:  parity ${list(cpuOf(m.parity))}; bare ${list(cpuOf(m.bare))}; warm ${list(cpuOf(m.warm))}`);
  console.log(
    `${indent}parity's wall time: connect + snapshot ${phase("connect")}, catalog ${phase("catalog")}, hashing ${phase("hash")}, sequences + report ${phase("finish")}`,
  );
  return { id, wall: wall.ratio, cpu: cpu.ratio, peak };
}

/** The targets: parity within 1.3× the bare pass, in at most 200 MB. True when met by CPU time and memory. */
export function printSummary(rows: RowSummary[]): boolean {
  const limit = 1.3;
  const memory = 200 * 1024 * 1024;
  const cpuMet = rows.every((r) => r.cpu <= limit);
  const memoryMet = rows.every((r) => r.peak <= memory);
  const each = (pick: (r: RowSummary) => number) => rows.map((r) => `${r.id} ${pick(r).toFixed(2)}`).join(", ");
  console.log(`ratio to the bare pass on new connections, CPU:  ${each((r) => r.cpu)}: target ≤ ${limit}× ${cpuMet ? "met" : "NOT met"}`);
  console.log(`ratio to the bare pass on new connections, wall: ${each((r) => r.wall)} (the scheduler's share of a busy machine moves these)`);
  console.log(`peak RSS ${rows.map((r) => `${r.id} ${mb(r.peak)}`).join(", ")}: limit 200 MB ${memoryMet ? "met" : "NOT met"}`);
  return cpuMet && memoryMet;
}
