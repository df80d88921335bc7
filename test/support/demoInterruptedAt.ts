#!/usr/bin/env node
// The real demo command line (scripts/demo.ts), which sends itself a Ctrl-C when it first enters
// a named phase (told through demoMain's onPhase seam):
//   node --import tsx test/support/demoInterruptedAt.ts <phase> [demo flags…]
// e.g. startup:postgres or engine:baking. Flags, printer, signals and exit codes are the product's.

import { readFileSync } from "node:fs";
import { runDemoWithSeams } from "./demoHarness.js";

/** Ctrl-C as a terminal sends it: to our whole process group when we lead one, else to us. */
function interruptOurselves(): void {
  let group: number | null = null;
  try {
    // /proc/self/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces, so split after ")".
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
    group = Number(fields[2]);
  } catch {
    // not Linux
  }
  process.kill(group === process.pid ? -process.pid : process.pid, "SIGINT");
}

/** An onPhase seam that Ctrl-Cs ourselves, once, when the demo first enters `wanted`. */
function interruptAt(wanted: string): (phase: string) => void {
  let sent = false;
  return (phase) => {
    if (sent || phase !== wanted) return;
    sent = true;
    interruptOurselves();
  };
}

const [phase = "", ...argv] = process.argv.slice(2);
if (!/^[a-z-]+(:[a-z-]+)?$/.test(phase)) {
  process.stderr.write(`usage: demoInterruptedAt.ts <phase> [demo flags…] (a phase such as engine:baking, got "${phase}")\n`);
  process.exit(2);
}
runDemoWithSeams(argv, { onPhase: interruptAt(phase) });
