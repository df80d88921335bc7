// Number rules shared by the config schema's parts (config.ts, rolloutConfig.ts): one message per
// rule, so every error reads the same.

import { z } from "zod";

export const int = (min: number, max: number) => z.number().int(`must be an integer`).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
export const seconds = (min: number, max: number) => int(min, max);
