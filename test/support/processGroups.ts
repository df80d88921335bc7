// Whether a process group still runs, for tests that stop a hook's (or any child's) whole group.

import { readdir, readFile } from "node:fs/promises";

/**
 * Whether any process of group `pgid` still runs. From /proc (Linux): a killed process whose
 * parent has not reaped it yet is a zombie (state Z), which `kill(-pgid, 0)` would still count.
 */
export async function groupAlive(pgid: number): Promise<boolean> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") return true;
  }
  return false;
}
