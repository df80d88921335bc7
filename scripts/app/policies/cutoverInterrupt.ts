// Ctrl-C during `npm run cutover`: the operator's policy. The engine itself only stops (its
// signal, see CutoverRequest.signal); what happens to traffic is decided here:
//
//   first Ctrl-C   stop the cutover at its next safe point and wait for it to settle, then send
//                  all traffic back to blue (runRollback, which also lifts a write fence this run
//                  raised), saying so on stderr line by line
//   second Ctrl-C  exit at once (130), printing where traffic and the fence were left (the last
//                  weights and fence mode this process saw) and the command that fixes it
//
// Factored out of cutoverMain so it is tested with the fakes: the Ctrl-C source, stderr and the
// exit are injected.

import type { CutoverResult, RollbackResult } from "../../core/engine.js";
import type { EngineEvent } from "../../core/events.js";
import type { FenceMode, Weights } from "../../core/ports.js";

/** Where Ctrl-C comes from: process SIGINT in the CLI, a button in tests. Returns an unsubscribe. */
export interface InterruptSource {
  subscribe(listener: () => void): () => void;
}

export const processSigint: InterruptSource = {
  subscribe(listener) {
    process.on("SIGINT", listener);
    return () => process.removeListener("SIGINT", listener);
  },
};

const w = (weights: Weights) => `blue ${weights.blue} / green ${weights.green}`;

/** The last traffic and fence state this process saw, from the engine's events. */
export class LastKnownState {
  /** Weights this process read back; null until it read any (a resumed run has not yet). */
  private weights: Weights | null = null;
  private planStart: Weights | null = null;
  private unverifiedWrite: Weights | null = null;
  private fence: FenceMode | null = null;

  /** An EventSink: feed it every engine event (cutover and rollback). */
  readonly observe = (event: EngineEvent): void => {
    switch (event.type) {
      case "plan":
        this.planStart = { ...event.plan.startWeights };
        break;
      case "preflight-check":
        // Preflight read the live weights and found them where the plan starts.
        if (event.check === "start-weights" && event.ok && this.planStart) this.weights = { ...this.planStart };
        break;
      case "weights-written":
        this.unverifiedWrite = { ...event.weights };
        break;
      case "weights-verified":
        if (event.ok) {
          this.weights = { ...event.weights };
          this.unverifiedWrite = null;
        } else if (event.routes[0]) {
          this.weights = { ...event.routes[0].weights };
        }
        break;
      case "fence":
        if (event.ok) this.fence = event.mode;
        break;
      default:
        break;
    }
  };

  /** Whether a write fence was up when last seen. */
  get fenceUp(): boolean {
    return this.fence !== null && this.fence !== "off";
  }

  get fenceMode(): FenceMode | null {
    return this.fence;
  }

  describe(): string[] {
    const traffic =
      this.weights !== null
        ? `traffic: ${w(this.weights)} (the last weights this process read back)`
        : `traffic: not read back by this process yet${this.planStart ? ` (the run's plan started from ${w(this.planStart)})` : ""}`;
    const pending = this.unverifiedWrite ? [`  ${w(this.unverifiedWrite)} was being written and is NOT verified`] : [];
    const fence =
      this.fence === null
        ? "write fence: not raised by this process"
        : this.fence === "off"
          ? "write fence: off"
          : `write fence: "${this.fence}" (${this.fence === "writes" ? "writes are answered 503" : "every request is answered 503"})`;
    return [traffic, ...pending, fence];
  }
}

/**
 * A confirmation prompt that a Ctrl-C answers with "no" (nothing has moved yet): the answer is
 * false as soon as the signal aborts, and stdin is paused so the pending prompt does not keep
 * the process alive.
 */
export function answerNoOnAbort<A extends unknown[]>(
  ask: (...args: A) => Promise<boolean>,
  signal: AbortSignal,
  stdin: { pause(): unknown },
): (...args: A) => Promise<boolean> {
  return (...args) =>
    new Promise<boolean>((resolve, reject) => {
      const onAbort = () => {
        stdin.pause();
        resolve(false);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      ask(...args).then(
        (answer) => {
          signal.removeEventListener("abort", onAbort);
          resolve(answer);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
}

export interface OperatorPolicyInput {
  interrupts: InterruptSource;
  stderr: { write(text: string): unknown };
  /** Exit the process now with this code (second Ctrl-C); the CLI passes process.exit. */
  exitNow: (code: number) => void;
  /**
   * The exact command that sends traffic back to blue, for the second Ctrl-C's message. This
   * process exits holding the lock, so it takes the lock over (`--force`).
   */
  rollbackCommand: string;
  state: LastKnownState;
  /** Run the cutover with this signal. */
  cutover: (signal: AbortSignal) => Promise<CutoverResult>;
  /** Send all traffic back to blue (same deps), after the interrupted cutover settled. */
  rollback: () => Promise<RollbackResult>;
}

export interface OperatorPolicyResult {
  cutover: CutoverResult;
  /** The rollback the first Ctrl-C started; null when there was none. */
  rollback: RollbackResult | null;
  /** Ctrl-C was pressed. */
  interrupted: boolean;
}

export async function runWithOperatorPolicy(input: OperatorPolicyInput): Promise<OperatorPolicyResult> {
  const say = (line: string) => input.stderr.write(`${line}\n`);
  const controller = new AbortController();
  let presses = 0;
  const unsubscribe = input.interrupts.subscribe(() => {
    presses += 1;
    if (presses === 1) {
      say("");
      say("Ctrl-C: stopping the cutover at its next safe point (a write already sent completes first)");
      say("then all traffic goes back to blue and a write fence this run raised is lifted; Ctrl-C again to exit at once");
      controller.abort("operator pressed Ctrl-C");
      return;
    }
    say("");
    say("second Ctrl-C: exiting now, without waiting. Left as last seen:");
    for (const line of input.state.describe()) say(`  ${line}`);
    say(`fix it with: ${input.rollbackCommand}`);
    say("  (this process exits without releasing the lock; --force takes it over)");
    if (input.state.fenceUp) say("  if the write fence is still up after that: npm run maintenance -- off");
    input.exitNow(130);
  });
  try {
    const cutover = await input.cutover(controller.signal);
    if (cutover.outcome !== "interrupted" || cutover.journal === null) return { cutover, rollback: null, interrupted: presses > 0 };
    const j = cutover.journal;
    say(`cutover stopped in phase "${j.phase}"${j.step !== null ? ` at step ${j.step + 1}` : ""}; the journal is saved`);
    say(`rolling back: all traffic to blue${input.state.fenceUp ? ", then lifting the write fence" : ""} (Ctrl-C again to exit at once)`);
    const fenceWasUp = input.state.fenceUp;
    const rollback = await input.rollback();
    if (rollback.outcome === "rolled-back") say("rollback done: blue 100 / green 0 verified");
    else say(`ROLLBACK ${rollback.outcome === "interrupted" ? "INTERRUPTED" : "FAILED"}: ${rollback.reason}; run \`${input.rollbackCommand}\``);
    if (fenceWasUp) {
      say(
        input.state.fenceUp
          ? `write fence still "${input.state.fenceMode}": lift it with \`npm run maintenance -- off\``
          : "write fence lifted: writes flow again",
      );
    }
    return { cutover, rollback, interrupted: true };
  } finally {
    unsubscribe();
  }
}
