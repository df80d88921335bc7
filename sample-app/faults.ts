// Fault injection for the sample app: a share of requests answered 500, added latency, or both,
// starting at a chosen moment. Parsed from `--fault error-rate=0.2`, `--fault latency=800ms`
// and `--fault-after 5s` (the demo uses the same syntax).

export interface FaultSpec {
  /** Share of requests answered 500, 0..1. */
  errorRate: number;
  /** Added to every request, milliseconds. */
  latencyMs: number;
}

export const NO_FAULT: FaultSpec = { errorRate: 0, latencyMs: 0 };

/** "800ms", "2s", "1.5s", "250" (milliseconds) → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration; use e.g. 800ms, 5s or 1m`);
  const value = Number(match[1]);
  const unit = match[2] ?? "ms";
  return Math.round(value * (unit === "ms" ? 1 : unit === "s" ? 1000 : 60_000));
}

/** Merge one `--fault name=value` into a spec. */
export function parseFault(text: string, into: FaultSpec = { ...NO_FAULT }): FaultSpec {
  const [name, value] = text.split("=", 2) as [string, string | undefined];
  if (value === undefined) throw new Error(`--fault "${text}": expected name=value, e.g. error-rate=0.2 or latency=800ms`);
  switch (name.trim()) {
    case "error-rate": {
      const rate = Number(value.endsWith("%") ? Number(value.slice(0, -1)) / 100 : value);
      if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new Error(`--fault error-rate must be a share between 0 and 1 (or 0%..100%), got "${value}"`);
      return { ...into, errorRate: rate };
    }
    case "latency": {
      const ms = parseDuration(value);
      if (ms > 60_000) throw new Error(`--fault latency must be at most 60s, got "${value}"`);
      return { ...into, latencyMs: ms };
    }
    default:
      throw new Error(`--fault "${name}" is unknown; use error-rate=<share> or latency=<duration>`);
  }
}

export function describeFault(fault: FaultSpec): string {
  const parts: string[] = [];
  if (fault.errorRate > 0) parts.push(`${Math.round(fault.errorRate * 1000) / 10}% of requests answered 500`);
  if (fault.latencyMs > 0) parts.push(`+${fault.latencyMs} ms latency`);
  return parts.length > 0 ? parts.join(", ") : "no fault";
}

export function isFault(fault: FaultSpec): boolean {
  return fault.errorRate > 0 || fault.latencyMs > 0;
}
