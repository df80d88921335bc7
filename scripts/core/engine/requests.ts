// Operator requests at a bake's poll (`npm run pause`, `npm run abort` from another terminal;
// core/operatorRequest.ts): the engine reads the channel once per poll, before it reads a window,
// and obeys only a request addressed to this session (run id and lock).
//
// - pause, while baking: the bake stops there and the run enters "paused" at the current step
//   (pause.ts), exactly like a step with `pause: promote`; `promote` continues it, with the step's
//   evidence carried over. While monitoring (all traffic on green) there is no step to hold: the
//   request is declined with a warning and the monitoring goes on.
// - abort: the run stops at once without touching traffic (StopRequested → aborted, as when the
//   lock is broken): the `abort` command's rollback owns traffic now.
//
// A channel that cannot be read never stops a cutover: it is said once, and the bake goes on.

import { describeRequester, parseOperatorRequest, requestIsFor, type OperatorRequest } from "../operatorRequest.js";
import { messageOf, type Run } from "./run.js";

/** `abort` asked this run to stop: it stops without touching traffic; the abort's rollback owns it. */
export class StopRequested extends Error {
  constructor(readonly request: OperatorRequest) {
    super(`aborted by ${describeRequester(request)}`);
  }
}

/** Runs whose channel failed once (said once per run). */
const unreadable = new WeakSet<object>();

/**
 * At a poll: the pause request to honour now (baking only), or null. Throws StopRequested on an
 * abort request for this session.
 */
export async function pendingPause(run: Run, phase: "baking" | "monitoring"): Promise<OperatorRequest | null> {
  const channel = run.deps.requests;
  if (!channel) return null;
  let request: OperatorRequest | null;
  try {
    request = parseOperatorRequest(await channel.read());
  } catch (error) {
    if (!unreadable.has(run)) {
      unreadable.add(run);
      run.emit({ type: "warning", message: `could not read operator requests (${messageOf(error)}): pause and abort are not seen; the cutover goes on` });
    }
    return null;
  }
  if (!request || !requestIsFor(request, run.journal.runId, run.options.holderSince)) return null;
  if (request.kind === "abort") throw new StopRequested(request);
  await channel.clear().catch(() => undefined);
  if (phase === "monitoring") {
    run.emit({
      type: "warning",
      message: `pause requested by ${describeRequester(request)} while monitoring: all traffic is on green already, there is no step to hold; monitoring goes on (\`npm run abort\` sends traffic back)`,
    });
    return null;
  }
  return request;
}
