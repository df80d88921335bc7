// The statistical judge (issue 10): what the bake module and the plan import. See ./types.ts for
// the method and the contract, docs/gates.md for the operator's view.

export type * from "./types.js";
export { JUDGE_METRICS } from "./types.js";
export { judgeStep } from "./judge.js";
export { describeVerdict } from "./describe.js";
export { expectedTimeToDecision, requestsToDetect, requestsToDetectRate, requestsToRuleOut } from "./forecast.js";
export { judgedPhasesOf, newJudgeState, parseJudgeState, resolveJudgeSettings, regressionRate, referenceRate, RULE_OUT_ALPHA } from "./settings.js";
