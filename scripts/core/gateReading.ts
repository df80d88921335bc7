// The per-window gate readings that journals written by earlier versions hold ("gate-reading"
// events, from the retired thresholds mode). Nothing produces them now; the report and the
// printers still read them in an old journal. Types only.

import type { Color } from "./ports.js";

export type GateStatus = "pass" | "fail" | "inconclusive";

export interface ColorReading {
  requests: number;
  errors5xx: number;
  /** errors5xx / requests; null when there were no requests. */
  errorRate: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** Target health at the time of the poll, when probed. */
  healthy: number | null;
  unhealthy: number | null;
}

export interface GateCheck {
  name: "green-error-rate" | "green-error-rate-vs-blue" | "green-p95" | "green-p95-vs-blue" | "green-unhealthy" | "green-min-requests";
  status: GateStatus | "skipped";
  /** The measured value and the limit it was compared with; null when not applicable. */
  value: number | null;
  limit: number | null;
  detail: string;
}

export interface GateVerdict {
  status: GateStatus;
  readings: Record<Color, ColorReading>;
  /** Share of all requests in the window that green served (the observed split), null without requests. */
  observedGreenShare: number | null;
  checks: GateCheck[];
  /** Why it failed or was inconclusive; empty on a pass. */
  reasons: string[];
}
