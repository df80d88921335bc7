// The statistical judge (issue 10): what the bake module imports. See ./types.ts for the method
// and the contract, docs/gates.md for the operator's view.

export type * from "./types.js";
export { JUDGE_METRICS } from "./types.js";
