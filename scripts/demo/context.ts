// What every scenario of the demo gets: the running sandbox, the policy, the engine's ports
// over it, the engine events seen so far, and the way to run an engine operation so that an
// abort waits for it to settle.

import { userInfo, hostname } from "node:os";
import type { CutoverDeps, RunSettings } from "../core/engine.js";
import type { EngineEvent } from "../core/events.js";
import type { DatabaseMode } from "../../infra/config.js";
import type { FaultSpec } from "../../sample-app/faults.js";
import type { DemoPolicy } from "./demoConfig.js";
import type { EngineRuns } from "./engineRun.js";
import type { FaultInjector } from "./faults.js";
import type { Sandbox } from "./sandbox.js";
import type { DemoOptions } from "./types.js";

export interface ScenarioContext {
  options: DemoOptions;
  runId: string;
  database: DatabaseMode;
  policy: DemoPolicy;
  /** The fault with a relative error rate already made absolute; null on the happy path. */
  fault: FaultSpec | null;
  backgroundErrorRate: number;
  sandbox: Sandbox;
  deps: CutoverDeps;
  /** The run settings every engine call of the demo gets: its event sink (printer, fault injector), the live view's tick. */
  settings: RunSettings;
  /** Engine events so far (ticks excluded). */
  events: EngineEvent[];
  engine: EngineRuns;
  injector: FaultInjector | null;
  signal: AbortSignal;
  /** Epoch ms the demo started, and how long start-up took. */
  started: number;
  startupMs: number;
  say: (text: string) => void;
  phase: (name: string) => void;
}

export const demoOwner = (): string => `${userInfo().username}@${hostname()} pid ${process.pid} (demo)`;
