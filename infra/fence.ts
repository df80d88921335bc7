// The write fence: an ALB listener rule at priority 1 that answers non-idempotent
// requests with 503 while reads keep flowing. Pure definitions shared by the Pulumi program
// (which declares the rule INERT) and the scripts (which arm and disarm it with ModifyRule).
//
// Inert  = two conditions: the write methods AND a header that clients never send
//          (`x-bluegreen-fence: armed`). A client that sends it only fences its own writes.
// Armed  = the method condition alone (ModifyRule replaces the rule's conditions).
// Full maintenance (`maintenance on`) = a path-pattern "*" condition: every request gets 503.
//
// ALB quota: at most 5 condition values per rule. Inert uses exactly 5 (4 methods + 1 header
// value), so the inert condition cannot grow; armed uses 4.
//
// Pulumi owns the rule's existence, priority and action; the scripts own its conditions. The
// rule therefore carries `ignoreChanges: ["conditions"]` (see loadBalancer.ts). That is safe here
// because the rule holds no weights: the pulumi-aws ignoreChanges bugs that mangle weights
// concern forward actions, which this rule does not have.

export const FENCE_PRIORITY = 1;
export const FENCE_METHODS = ["POST", "PUT", "PATCH", "DELETE"] as const;
export const FENCE_HEADER = "x-bluegreen-fence";
export const FENCE_INERT_VALUE = "armed";
export const FENCE_STATUS_CODE = "503";
export const FENCE_CONTENT_TYPE = "application/json";
export const FENCE_BODY = JSON.stringify({
  error: "write_fence",
  message: "Writes are paused for a few seconds while a deployment switches over. Please retry.",
});

export interface RuleCondition {
  httpRequestMethod?: { values: string[] };
  httpHeader?: { httpHeaderName: string; values: string[] };
  pathPattern?: { values: string[] };
}

export type FenceState = "inert" | "writes" | "all";

/** The rule's conditions in each state; the Pulumi program declares "inert". */
export function fenceConditions(state: FenceState): RuleCondition[] {
  const methods: RuleCondition = { httpRequestMethod: { values: [...FENCE_METHODS] } };
  switch (state) {
    case "inert":
      return [methods, { httpHeader: { httpHeaderName: FENCE_HEADER, values: [FENCE_INERT_VALUE] } }];
    case "writes":
      return [methods];
    case "all":
      return [{ pathPattern: { values: ["*"] } }];
  }
}

export function fenceAction() {
  return {
    type: "fixed-response" as const,
    fixedResponse: { statusCode: FENCE_STATUS_CODE, contentType: FENCE_CONTENT_TYPE, messageBody: FENCE_BODY },
  };
}
