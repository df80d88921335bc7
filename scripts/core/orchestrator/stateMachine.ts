// The state machines' ASL generators live in the shared vocabulary (infra/vocabulary/stateMachines.ts):
// the Pulumi program declares the machines from them, and the engine's side (the local runner,
// the advance handler, the CLI) reads the same definitions and error names from here.
export * from "../../../infra/vocabulary/stateMachines.js";
