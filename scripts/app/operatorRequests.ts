// `pause` and `abort` between their flags and the stack: read the journal and the lock, decide
// whom a request is for (core/operatorRequest.ts), and write it to the stack's request channel.
// Nothing here moves traffic: a pause is carried out by the running cutover at its next poll; the
// abort's rollback is `rollback`'s own path (scripts/cli/abortMain.ts).

import { parseJournal, type Journal } from "../core/journal.js";
import { answerPause, runningCutover, type OperatorRequest, type PauseAnswer, type RunningCutover } from "../core/operatorRequest.js";
import type { JournalStore, Lock, OperatorRequestChannel } from "../core/ports.js";

export interface RequestPorts {
  lock: Lock;
  journal: JournalStore;
  requests: OperatorRequestChannel;
}

export interface Requester {
  /** "user@host pid 1234" */
  by: string;
  reason: string | null;
  /** epoch ms */
  now: number;
}

async function readState(ports: RequestPorts): Promise<{ journal: Journal | null; holder: Awaited<ReturnType<Lock["current"]>> }> {
  const [stored, holder] = await Promise.all([ports.journal.load(), ports.lock.current()]);
  return { journal: stored === null || stored === undefined ? null : parseJournal(stored), holder };
}

function requestFor(kind: OperatorRequest["kind"], target: RunningCutover, requester: Requester): OperatorRequest {
  return { kind, runId: target.runId, holderSince: target.holderSince, by: requester.by, at: requester.now, reason: requester.reason };
}

/** `pause`: write the request when a cutover is running and can hold; otherwise say why not (nothing written). */
export async function requestPause(ports: RequestPorts, requester: Requester): Promise<PauseAnswer> {
  const { journal, holder } = await readState(ports);
  const answer = answerPause(journal, holder);
  if (answer.kind === "request") await ports.requests.write(requestFor("pause", answer.target, requester));
  return answer;
}

/** `abort`, before its rollback: tell the running cutover (if a process runs one) to stop at its next poll. */
export async function requestAbort(ports: RequestPorts, requester: Requester): Promise<RunningCutover | null> {
  const { journal, holder } = await readState(ports);
  const target = runningCutover(journal, holder);
  if (target) await ports.requests.write(requestFor("abort", target, requester));
  return target;
}
