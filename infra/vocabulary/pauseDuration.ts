// A step's timed pause is written as a duration ("90s", "45m", "36h", "2d", at most 30 days).
// Dependency-free: the config schema (infra/config.ts) and the plan (core/plan.ts, on the
// rollback start-up path, where zod is not loaded) share it.

export const PAUSE_DURATION = /^([1-9]\d{0,5})(s|m|h|d)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
export const MAX_PAUSE_SECONDS = 30 * 86400;

/** Seconds of a pause duration such as "36h"; null for anything else. */
export function pauseSeconds(text: string): number | null {
  const match = PAUSE_DURATION.exec(text);
  return match ? Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS] : null;
}
