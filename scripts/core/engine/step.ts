// One traffic step: write the weights (lock checked before and after), verify them by reading
// back until they match, record them in the stack config.

import { BLUE_ONLY, formatDuration, sameWeights } from "../plan.js";
import type { RouteWeights, Weights } from "../ports.js";
import { describeRoutes } from "./routes.js";
import { Breach, LockLost, messageOf, type Run } from "./run.js";
import type { RollbackDeps } from "./types.js";

/** Phase "writing": write the current step's weights. */
export async function writeStep(run: Run): Promise<void> {
  const step = run.currentStep();
  await writeStepWeights(run, step.index, step.weights, 1);
}

/** Phase "verifying": read the current step's weights back (after writing them again on resume). */
export async function verifyStep(run: Run): Promise<void> {
  const step = run.currentStep();
  const plan = run.plan;
  if (run.rewriteBeforeVerify) {
    run.rewriteBeforeVerify = false;
    await writeStepWeights(run, step.index, step.weights, 2);
  }
  const verified = await verifyWeights(run, step.weights, plan.verifyTimeoutMs, plan.verifyIntervalMs, step.index);
  if (!verified.ok) {
    throw new Breach(
      `weights blue ${step.weights.blue} / green ${step.weights.green} did not read back within ${formatDuration(plan.verifyTimeoutMs)}` +
        (verified.error ? ` (${verified.error})` : ""),
      run.now(),
    );
  }
}

/** Read the weights back until every route shows them, bounded by timeoutMs. */
export async function verifyWeights(
  run: Run,
  weights: Weights,
  timeoutMs: number,
  intervalMs: number,
  step: number | null,
): Promise<{ ok: boolean; routes: RouteWeights[]; error: string | null }> {
  const started = run.now();
  const deadline = started + timeoutMs;
  let routes: RouteWeights[] = [];
  let error: string | null = null;
  for (;;) {
    try {
      routes = await run.deps.router.readWeights();
      error = null;
    } catch (e) {
      error = messageOf(e);
    }
    const ok = error === null && routes.length > 0 && routes.every((r) => sameWeights(r.weights, weights));
    if (ok || run.now() >= deadline) {
      run.lastRoutes = routes;
      run.emit({ type: "weights-verified", step, weights, ok, routes, waitedMs: run.now() - started });
      return { ok, routes, error: ok ? null : (error ?? (routes.length === 0 ? "no routes" : describeRoutes(routes))) };
    }
    await run.sleep(Math.max(1, Math.min(intervalMs, deadline - run.now())));
  }
}

/**
 * Write a step's weights, checking the lock right before and right after: a `rollback --force`
 * that broke our lock in between must not be overridden by this write.
 */
async function writeStepWeights(run: Run, step: number, weights: Weights, attempt: number): Promise<void> {
  const checkLock = run.options.checkLock;
  if (checkLock) await run.checkLock();
  run.throwIfAborted(); // the last safe point before traffic moves; a write once sent is awaited
  await run.deps.router.writeWeights(weights);
  run.emit({ type: "weights-written", step, weights, attempt }); // "wrote": only once the API accepted it
  if (!checkLock) return;
  try {
    await run.checkLock();
  } catch (error) {
    if (error instanceof LockLost) {
      // We raced a forced rollback: put back what it wrote (blue 100), then stop.
      await run.deps.router.writeWeights(BLUE_ONLY).catch(() => undefined);
      run.emit({ type: "warning", message: "the lock was broken while this run wrote weights: blue 100 / green 0 written again for that rollback" });
    }
    throw error;
  }
}

/** Record the weights reached as the stack's live weights (on AWS: its SSM weights parameter, what `pulumi up` reads); a failure is a warning (status shows the drift), not a breach. */
export async function recordWeights(run: Run<RollbackDeps>, weights: Weights, step: number | null): Promise<void> {
  try {
    await run.deps.recorder.record(weights);
    run.emit({ type: "weights-recorded", step, weights, ok: true, detail: "live weights recorded" });
  } catch (error) {
    // Not a traffic problem: warn, so `status` shows the drift, and go on.
    run.emit({ type: "weights-recorded", step, weights, ok: false, detail: messageOf(error) });
    run.emit({
      type: "warning",
      message: `could not record blue ${weights.blue} / green ${weights.green} as the stack's live weights: ${messageOf(error)}; \`status\` will show drift, and a \`pulumi up\` would move traffic until they are recorded`,
    });
  }
}
