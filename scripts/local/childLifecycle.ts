// The child side of our sandbox processes (the guard, the cutover): when to stop, and whether a
// process still runs. A child stops on SIGINT/SIGTERM and, with --exit-with-stdin, when its stdin
// closes, which the kernel does when the demo dies however it dies (kill -9 included).

/** A signal that aborts, with the reason, on SIGINT, SIGTERM or (if asked) the end of stdin. */
export function stopSignal(options: { exitWithStdin: boolean }): { signal: AbortSignal; stop: (reason: string) => void } {
  const controller = new AbortController();
  const stop = (reason: string) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  if (options.exitWithStdin) {
    process.stdin.on("end", () => stop("stdin closed: the parent is gone"));
    process.stdin.on("error", () => stop("stdin closed: the parent is gone"));
    process.stdin.resume();
  }
  return { signal: controller.signal, stop };
}

/** Does a process with this pid exist (signal 0 checks without sending anything)? */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
