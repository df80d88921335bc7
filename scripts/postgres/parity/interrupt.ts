// Ctrl-C during a parity run: when the run's signal aborts, both pools stop handing out
// connections and cancel the queries they have running on their server (a full-table hash scan
// would otherwise go on after the process is gone). The run then ends as interrupted, naming how
// many queries were cancelled on each side.

import { ParityInterruptedError } from "./errors.js";
import type { SnapshotPool } from "./snapshotPool.js";

export interface Interruption {
  /** The interruption, once the signal aborted (waits for the cancellations to finish); null otherwise. */
  settle(): Promise<ParityInterruptedError | null>;
  dispose(): void;
}

export function cancelOnAbort(signal: AbortSignal | undefined, pools: { blue: SnapshotPool; green: SnapshotPool }): Interruption {
  let cancelling: Promise<ParityInterruptedError> | null = null;
  const cancel = async (): Promise<ParityInterruptedError> => {
    const [blue, green] = await Promise.allSettled([pools.blue.cancelRunning(), pools.green.cancelRunning()]);
    const count = (r: PromiseSettledResult<number>) => (r.status === "fulfilled" ? r.value : 0);
    const failures = (
      [
        ["blue", blue],
        ["green", green],
      ] as const
    ).flatMap(([side, r]) => (r.status === "rejected" ? [`could not cancel on ${side}: ${(r.reason as Error).message}`] : []));
    return new ParityInterruptedError({ blue: count(blue), green: count(green) }, failures);
  };
  const onAbort = () => {
    cancelling ??= cancel();
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  return {
    settle: () => cancelling ?? Promise.resolve(null),
    dispose: () => signal?.removeEventListener("abort", onAbort),
  };
}
