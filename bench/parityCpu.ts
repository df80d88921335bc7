// CPU time the benchmark's PostgreSQL servers spend on a piece of work, read from /proc (Linux).
// On a machine shared with other work, a scan's wall time is mostly the scheduler's share of the
// cores at that moment (a backend that needs 0.2 s of CPU takes 0.6 to 0.9 s at a load average of
// 13 on two cores); the CPU time it is charged is the work itself, and varies far less.
//
// A live backend (the bare pass's connections) is read by its process id before and after. A
// backend that has exited (parity's own connections end with its run) is charged to the
// postmaster's "children" times once the postmaster has reaped it, so parity's servers' CPU is
// the growth of those times across the run, read after every backend started during the run has
// been reaped. The servers' own background processes (checkpointer, WAL writer) are not counted;
// autovacuum, whose workers would be, is switched off by the benchmark.

import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

interface ProcStat {
  ppid: number;
  /** utime + stime, in clock ticks. */
  own: number;
  /** cutime + cstime: children this process has reaped, in clock ticks. */
  reaped: number;
}

function ticksPerSecond(): number {
  try {
    const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

const TICKS = ticksPerSecond();
const ticksToMs = (ticks: number) => (ticks * 1000) / TICKS;

/** /proc/PID/stat, or null once the process is gone. The name field may hold spaces: split after its ")". */
function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const field = (i: number) => Number(fields[i]);
  return { ppid: field(1), own: field(11) + field(12), reaped: field(13) + field(14) };
}

/** Process ids whose parent is `ppid` (zombies not yet reaped included), each with its CPU ticks so far. */
function childrenOf(ppid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat?.ppid === ppid) out.set(Number(entry), stat.own);
  }
  return out;
}

/** The postmaster's process id: the parent of one of its backends. */
export function postmasterOf(backendPid: number): number {
  const ppid = readStat(backendPid)?.ppid;
  if (ppid === undefined || ppid <= 1) throw new Error(`cannot read the parent of backend ${backendPid} from /proc`);
  return ppid;
}

/** CPU milliseconds `pids` (live backends) have used so far. */
export function backendCpuMs(pids: number[]): number {
  return ticksToMs(pids.reduce((sum, pid) => sum + (readStat(pid)?.own ?? 0), 0));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls every 20 ms, for at most 5 s, until `done`; throws `what` otherwise. */
async function waitFor(done: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; !done(); attempt++) {
    if (attempt >= 250) throw new Error(what);
    await sleep(20);
  }
}

/**
 * Waits until the postmaster has reaped these backends (after their connections were closed). A
 * backend that exits during the next measurement would otherwise be charged to it.
 */
export function awaitReaped(pids: number[]): Promise<void> {
  // A zombie keeps its /proc entry until its parent has reaped it.
  return waitFor(() => pids.every((pid) => readStat(pid) === null), `backends ${pids.join(", ")} not reaped within 5 s`);
}

export interface CpuCharge<T> {
  value: T;
  /** CPU of the backends started and ended during the work, on all servers. */
  serverMs: number;
  /** This process's CPU during the work (user + system). */
  clientMs: number;
}

/**
 * Runs `work`, which opens and closes its own connections to the servers whose postmasters are
 * `postmasters`, and charges it the CPU of those connections' backends and of this process.
 * Waits (bounded: 5 s) for the postmaster to reap every backend started meanwhile. A backend that
 * was there before and is reaped meanwhile (one closed just before) is not charged: its CPU up to
 * the start is taken off again (only its last moments can remain).
 */
export async function chargeCpu<T>(postmasters: number[], work: () => Promise<T>): Promise<CpuCharge<T>> {
  const before = postmasters.map((pid) => ({ children: childrenOf(pid), reaped: readStat(pid)?.reaped ?? 0 }));
  const client0 = process.cpuUsage();
  const value = await work();
  const client = process.cpuUsage(client0);
  const started = (i: number, children: Map<number, number>) => [...children.keys()].some((child) => !before[i]!.children.has(child));
  await waitFor(
    () => postmasters.every((pid, i) => !started(i, childrenOf(pid))),
    "a backend of the measured work was not reaped within 5 s: its CPU cannot be charged",
  );
  let ticks = 0;
  postmasters.forEach((pid, i) => {
    const now = childrenOf(pid);
    const earlierGone = [...before[i]!.children].filter(([child]) => !now.has(child)).reduce((sum, [, own]) => sum + own, 0);
    ticks += (readStat(pid)?.reaped ?? 0) - before[i]!.reaped - earlierGone;
  });
  return { value, serverMs: ticksToMs(Math.max(0, ticks)), clientMs: (client.user + client.system) / 1000 };
}
