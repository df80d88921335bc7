// Kept only while scripts/core/judge/settings.ts imports the gate defaults by this path: they
// live in the rollout defaults (infra/vocabulary/rolloutDefaults.ts). Retarget that import, then delete this file.
export { GATE_DEFAULTS } from "./vocabulary/rolloutDefaults.js";
