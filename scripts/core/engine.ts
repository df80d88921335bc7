// The cutover engine: moves traffic blue → green in verified, gated steps and rolls back by
// itself on any failure. It talks to the world only through the ports (core/ports.ts), so the
// engine that runs in `npm run demo` is the engine that runs in production. No AWS SDK, no pg,
// no child processes (hooks run through the HookRunner port), no zod on this path.
//
// This file is the public face; the engine lives in core/engine/ by phase (docs/architecture.md):
//   session.ts      lock, stale lock, start / resume / rollback entry points, results
//   driver.ts       the loop over the persisted state machine (core/phases.ts)
//   run.ts          a run's state: emit, persist (lock checked), transition, finish
//   preflight.ts    checks and the snapshot      step.ts   write → verify → record
//   bake.ts         bake and monitoring          hooks.ts  operator hooks
//   pairedSwitch.ts fence, catch-up, parity, sequences, reverse replication
//   rollback.ts     all traffic back to blue, from any state
// The journal format and the resume semantics are in core/journal.ts.

export { previewCutover, runCutover, runRollback } from "./engine/session.js";
export { runScaleDownBlue, type ScaleDownBlueRequest, type ScaleDownBlueResult } from "./engine/capacity.js";
export { currentPause, pausesOf, type PauseRecord } from "./engine/pause.js";
export {
  EngineInputError,
  outcomeExitCode,
  type CutoverDeps,
  type CutoverRequest,
  type CutoverResult,
  type EngineDeps,
  type GuardDeps,
  type RollbackDeps,
  type RollbackRequest,
  type RollbackResult,
  type RunSettings,
} from "./engine/types.js";
export { JournalCorruptError } from "./journal.js";
export { PlanError } from "./plan.js";
