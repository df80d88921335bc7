// `work`, or a rejection the moment a signal aborts, whichever comes first: for waits that the
// thing waited on cannot cut short itself (a pg connect, a section of `status`, a sandbox
// start-up step). The work goes on unobserved; its own later failure is swallowed.

export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, abandoned: (signal: AbortSignal) => Error): Promise<T> {
  if (!signal) return work;
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(abandoned(signal));
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abandoned(signal));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}
