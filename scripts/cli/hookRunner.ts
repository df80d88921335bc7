// The hook runner lives in scripts/hooks/shellHookRunner.ts (an adapter the CLI and the sandbox
// both use); re-exported here for the CLI's existing importers.
export { ShellHookRunner } from "../hooks/shellHookRunner.js";
