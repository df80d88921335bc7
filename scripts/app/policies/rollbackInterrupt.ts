// Ctrl-C during a rollback. Before the rollback starts writing, the first Ctrl-C stops it (exit
// 130, nothing written); once it writes, the first Ctrl-C lets it finish the write and the
// read-back ("Ctrl-C again to exit now"), the second exits at once (130) saying the state it last
// read and how to finish.

import type { RouteWeights } from "../../core/ports.js";
import { processSigint, type InterruptSource } from "./cutoverInterrupt.js";

/** The live weights last read, in words, for a rollback that ends early. */
export function describeLive(routes: readonly RouteWeights[] | null): string {
  if (routes === null) return "live weights not read (AWS did not answer)";
  if (routes.length === 0) return "no routes read back";
  return routes.map((r) => `${r.route.split("/").slice(-2).join("/")} blue ${r.weights.blue} / green ${r.weights.green}`).join(", ");
}

export interface RollbackInterruptInput {
  stderr: NodeJS.WritableStream;
  /** Whether the rollback has begun writing (the `rollback-started` event). */
  writing: () => boolean;
  lastRoutes: () => RouteWeights[] | null;
  /** The command that finishes the rollback, for the message on a second Ctrl-C. */
  retry: string;
  /** Stops the rollback before it writes: the engine's interrupt, the work's deadline signal. */
  stop: (reason: Error) => void;
  /** Exit the process at once (closing the live view first). */
  exitNow: (code: number) => never;
  interrupts?: InterruptSource;
}

/** Listen for Ctrl-C until `dispose()`; `count()` says how many came. */
export function onRollbackInterrupt(input: RollbackInterruptInput): { count(): number; dispose(): void } {
  let interrupts = 0;
  const unsubscribe = (input.interrupts ?? processSigint).subscribe(() => {
    interrupts += 1;
    if (interrupts === 1 && input.writing()) {
      input.stderr.write("\nfinishing the rollback (write and read-back), Ctrl-C again to exit now\n");
      return;
    }
    if (interrupts === 1) {
      input.stderr.write("\ninterrupted before anything was written: stopping\n");
      input.stop(new Error("interrupted (Ctrl-C) before the rollback wrote anything"));
      return;
    }
    input.stderr.write(
      `\nexiting now: ${describeLive(input.lastRoutes())}${input.writing() ? "; the rollback may have written blue 100 / green 0 without verifying it" : ""}. ` +
        `Finish it with \`${input.retry}\` (the lock this process holds is taken over as a dead process's)\n`,
    );
    input.exitNow(130);
  });
  return { count: () => interrupts, dispose: unsubscribe };
}
