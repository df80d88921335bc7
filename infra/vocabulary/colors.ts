// The two colors of a stack and a traffic split between them: the words the Pulumi program, the
// engine, the adapters and the demo all use. Dependency-free.

/** Stack colors, in the order the forward action lists them. */
export const COLORS = ["blue", "green"] as const;
export type Color = (typeof COLORS)[number];

/**
 * A traffic split. The engine and the config speak percent (integers 0–100 summing to 100); the
 * load balancer's forward action carries raw target-group weights (0–999, see forwardAction.ts).
 */
export interface Weights {
  blue: number;
  green: number;
}
