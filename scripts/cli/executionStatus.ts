// status's section for a stack whose rollouts run on Step Functions: the execution of the
// journal's run (its newest attempt), its state, the state machine state it is in, what the last
// `Advance` said (the step, what it waits for), and the console link. Read-only; absent (null) on
// a stack with the local orchestrator, and no call is made there.

import type { StackOutputs } from "../../infra/vocabulary/stackOutputs.js";
import type { ExecutionDescription, ExecutionEvent, Executions } from "../app/executions/port.js";
import type { Palette } from "./plainPrinter.js";

export interface ExecutionView {
  runId: string;
  /** Executions of the run (the first and each `--resume` attempt). */
  attempts: number;
  name: string;
  executionArn: string;
  status: ExecutionDescription["status"];
  startedAt: string | null;
  stoppedAt: string | null;
  error: string | null;
  cause: string | null;
  /** The state machine state last entered (Advance, Wait, AwaitApproval, …). */
  state: string | null;
  /** What the last Advance answered: the step (1-based) and what it waits for. */
  step: number | null;
  waiting: string | null;
  consoleUrl: string;
}

export type ExecutionSection = { ok: true; value: ExecutionView | null } | { ok: false; error: string };

/** How many history events are read: enough to find the last Advance of a poll loop. */
const EVENTS = 25;

/** null when the stack is not orchestrated; otherwise the run's newest execution (value null: the run has none). */
export async function readExecutionSection(
  outputs: Pick<StackOutputs, "region" | "rolloutStateMachineArn">,
  runId: string | null,
  signal: AbortSignal,
): Promise<ExecutionSection | null> {
  if (outputs.rolloutStateMachineArn === null) return null;
  try {
    const { awsExecutions } = await import("../app/wiring/aws.js");
    const executions = await awsExecutions(outputs.rolloutStateMachineArn, () => signal);
    return { ok: true, value: runId === null ? null : await executionView(executions, runId) };
  } catch (error) {
    return { ok: false, error: (error as Error).message.split("\n")[0] ?? String(error) };
  }
}

export async function executionView(executions: Executions, runId: string): Promise<ExecutionView | null> {
  const { runExecutions } = await import("../app/executions/rollout.js");
  const all = await runExecutions(executions, runId);
  const newest = all.at(-1);
  if (!newest) return null;
  const events = await executions.lastEvents(newest.executionArn, EVENTS);
  const answer = lastAdvanceAnswer(events);
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    runId,
    attempts: all.length,
    name: newest.name,
    executionArn: newest.executionArn,
    status: newest.status,
    startedAt: iso(newest.startedAt),
    stoppedAt: iso(newest.stoppedAt),
    error: newest.error,
    cause: newest.cause,
    state: events.find((e) => e.type.endsWith("StateEntered"))?.state ?? null,
    step: answer?.step ?? null,
    waiting: answer?.waiting ?? null,
    consoleUrl: executions.consoleUrl(newest.executionArn),
  };
}

/** The newest Advance outcome in the history (newest first): its step and what it waits for. */
function lastAdvanceAnswer(events: ExecutionEvent[]): { step: number | null; waiting: string } | null {
  for (const event of events) {
    if (event.type !== "TaskStateExited" || event.state !== "Advance") continue;
    const outcome = (event.data as { advance?: { outcome?: Record<string, unknown> } } | null)?.advance?.outcome;
    if (!outcome) continue;
    const step = typeof outcome.step === "number" ? outcome.step + 1 : null;
    if (outcome.wait === "seconds") return { step, waiting: `${String(outcome.seconds)} s: ${String(outcome.reason ?? "")}` };
    if (outcome.wait === "approval") return { step, waiting: "an operator's `npm run promote`" };
    if (typeof outcome.end === "string") return { step, waiting: `nothing: the rollout ${outcome.end}` };
  }
  return null;
}

export function renderExecutionSection(section: ExecutionSection, p: Palette): string[] {
  const out = ["", p.bold("orchestrator (Step Functions)")];
  if (!section.ok) return [...out, `  ${p.red(`error: ${section.error}`)}`];
  const v = section.value;
  if (v === null) return [...out, "  no execution of the last run (it ran with the local orchestrator, or was never started)"];
  const status = v.status === "RUNNING" ? p.green(v.status) : v.status === "SUCCEEDED" ? v.status : p.yellow(v.status);
  out.push(
    `  execution ${v.name}: ${status}${v.attempts > 1 ? ` (attempt ${v.attempts})` : ""} since ${v.startedAt ?? "?"}${v.stoppedAt ? `, stopped ${v.stoppedAt}` : ""}`,
  );
  if (v.state) out.push(`  state: ${v.state}${v.step !== null ? ` · step ${v.step}` : ""}${v.waiting ? ` · waits for ${v.waiting}` : ""}`);
  if (v.error) out.push(`  ${p.yellow(`${v.error}${v.cause ? `: ${v.cause}` : ""}`)}`);
  out.push(`  console: ${v.consoleUrl}`);
  return out;
}
