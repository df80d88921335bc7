// The cutover state machine: its phases and the transitions allowed between them.
//
//   idle → preflight → [migrating: expand migrations, when a migrator is wired] ─┬─────────────────────────────────────────────────────────────┐
//                     └─ (paired) fencing → catching-up → parity → sequences →       │
//                                 reverse-replication ──────────────────────────────┤
//                                                                                   ▼
//   ┌──────────── for each step: writing → verifying → [unfencing (paired)] → recording → baking → hooks ─┐
//   └─────────────────────────────────────────────────────────────────────────────────────────────────────┘
//   after the last step: post-switch → monitoring → succeeded
//   a step with a pause: baking → paused (the cutover exits 0) → [promote] → baking (evidence kept) → hooks
//
//   preflight → preflight-failed (nothing moved)
//   any non-terminal phase → rolling-back → rolled-back | failed-rollback
//   any phase (terminal too) → rolling-back: `rollback` is safe and idempotent from every state
//   any non-terminal phase → aborted (the lock was broken by `rollback --force`; that rollback owns traffic now)

export const PHASES = [
  "idle",
  "preflight",
  "migrating",
  "fencing",
  "catching-up",
  "parity",
  "sequences",
  "reverse-replication",
  "writing",
  "verifying",
  "unfencing",
  "recording",
  "baking",
  "hooks",
  "paused",
  "post-switch",
  "monitoring",
  "succeeded",
  "preflight-failed",
  "rolling-back",
  "rolled-back",
  "failed-rollback",
  "aborted",
] as const;

export type Phase = (typeof PHASES)[number];

/** Where a run ends; each terminal phase is also the run's outcome (events.ts Outcome). */
export type TerminalPhase = "succeeded" | "preflight-failed" | "rolled-back" | "failed-rollback" | "aborted";

export const TERMINAL_PHASES: readonly TerminalPhase[] = ["succeeded", "preflight-failed", "rolled-back", "failed-rollback", "aborted"];

export function isTerminal(phase: Phase): phase is TerminalPhase {
  return (TERMINAL_PHASES as readonly Phase[]).includes(phase);
}

/** Phases in which traffic may already have moved: a crash here needs `--resume` or `rollback`. */
export function trafficMayHaveMoved(phase: Phase): boolean {
  return !["idle", "preflight", "migrating", "preflight-failed"].includes(phase);
}

const FORWARD: Record<Phase, readonly Phase[]> = {
  idle: ["preflight"],
  preflight: ["migrating", "fencing", "writing", "preflight-failed"],
  // Expand migrations; one that fails ends the run in preflight-failed, traffic untouched.
  migrating: ["fencing", "writing", "preflight-failed"],
  fencing: ["catching-up"],
  "catching-up": ["parity"],
  parity: ["sequences"],
  sequences: ["reverse-replication"],
  "reverse-replication": ["writing"],
  writing: ["verifying"],
  verifying: ["unfencing", "recording"],
  unfencing: ["recording"],
  recording: ["baking"],
  baking: ["hooks", "paused"],
  // A step that pauses (pause: promote | <duration>): the process exits; `promote` goes back to the bake with its evidence.
  paused: ["baking"],
  hooks: ["writing", "post-switch"],
  "post-switch": ["monitoring"],
  monitoring: ["succeeded"],
  succeeded: [],
  "preflight-failed": [],
  "rolling-back": ["rolled-back", "failed-rollback"],
  "rolled-back": [],
  "failed-rollback": [],
  aborted: [],
};

export function canTransition(from: Phase, to: Phase): boolean {
  if (to === "rolling-back") return from !== "rolling-back";
  if (to === "aborted") return !isTerminal(from) && from !== "rolling-back";
  return FORWARD[from].includes(to);
}
