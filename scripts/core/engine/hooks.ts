// Operator hooks (preflight, after each step, after the switch) through the HookRunner port, with
// the run's context in BLUEGREEN_* variables. A hook that fails or times out is a breach. The
// run's signal goes to the runner: on abort (Ctrl-C) the hook is stopped and the run is
// interrupted there (Interrupted, resumable), which is not a failed gate and never a rollback.

import type { HookResult } from "../ports.js";
import { Breach, Interrupted, abortReason, messageOf, type Run } from "./run.js";

export type HookWhen = "preflight" | "after-step" | "post-switch";

export async function runHook(
  run: Run,
  name: string,
  command: string,
  timeoutSeconds: number,
  when: HookWhen,
  step: number | null,
): Promise<{ ok: boolean; detail: string }> {
  const plan = run.plan;
  const weights = step !== null ? plan.steps[step]!.weights : when === "post-switch" ? { blue: 0, green: 100 } : plan.startWeights;
  const env: Record<string, string> = {
    ...run.options.hookEnv,
    BLUEGREEN_RUN_ID: run.journal.runId,
    BLUEGREEN_HOOK: name,
    BLUEGREEN_WHEN: when,
    BLUEGREEN_STEP: step === null ? "" : String(step + 1),
    BLUEGREEN_WEIGHT_BLUE: String(weights.blue),
    BLUEGREEN_WEIGHT_GREEN: String(weights.green),
  };
  const started = run.now();
  let result: HookResult;
  try {
    result = await run.deps.hooks.run(command, timeoutSeconds * 1000, env, run.signal);
  } catch (error) {
    // A runner that gave up because of the abort has no verdict either.
    if (run.signal?.aborted) throw new Interrupted(`${abortReason(run.signal)} (hook ${name} (${when}) stopped)`);
    result = { exitCode: null, timedOut: false, durationMs: run.now() - started, outputTail: messageOf(error) };
  }
  if (result.interrupted) throw new Interrupted(`${abortReason(run.signal)} (hook ${name} (${when}) stopped after ${result.durationMs} ms)`);
  const ok = result.exitCode === 0 && !result.timedOut;
  run.emit({ type: "hook-result", name, when, step, ok, result });
  const detail = ok
    ? `exited 0 in ${result.durationMs} ms`
    : result.timedOut
      ? `timed out after ${timeoutSeconds}s`
      : result.exitCode === null
        ? `could not run: ${result.outputTail}`
        : `exited with code ${result.exitCode}`;
  return { ok, detail };
}

/** Every hook for `when`, in order; the first failure is a breach. */
export async function runHooks(run: Run, when: "after-step" | "post-switch", step: number | null): Promise<void> {
  for (const hook of run.plan.hooks.filter((h) => h.when === when)) {
    run.throwIfAborted();
    const result = await runHook(run, hook.name, hook.command, hook.timeoutSeconds, when, step);
    if (!result.ok) throw new Breach(`hook ${hook.name} (${when}) ${result.detail}`, run.now());
  }
}
