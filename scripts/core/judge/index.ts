// The statistical judge: what the bake module and the plan import. See ./types.ts for the method
// and the contract, docs/gates.md for the operator's view.

export type * from "./types.js";
export { JUDGE_METRICS } from "./types.js";
export { judgeStep, withBlueHistory } from "./judge.js";
export { describeDetectable, describeVerdict } from "./describe.js";
export { fmt } from "./format.js";
export { expectedTimeToDecision, undecidedChance, windowsToDetect, windowsToRuleOut, type PlanDispersion } from "./forecast.js";
export { measuredDispersion, type MeasuredDispersion } from "./reference.js";
export { judgedPhasesOf, newJudgeState, parseJudgeState, resolveJudgeSettings, regressionRate, referenceRate, RULE_OUT_ALPHA } from "./settings.js";
