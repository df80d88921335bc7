// Fault injection for the sample app: a share of requests answered 500, added latency, or both,
// starting at a chosen moment. Parsed from `--fault error-rate=0.2`, `--fault latency=800ms`
// and `--fault-after 5s` (the demo uses the same syntax, plus two forms only the demo can
// carry out: `error-rate=10x`, ten times the background error rate, and `crash`, green's
// process killed outright).

export interface FaultSpec {
  /** Share of requests answered 500 while the fault is on, 0..1 (green's whole error rate then, background included). */
  errorRate: number;
  /** Added to every request, milliseconds. */
  latencyMs: number;
  /** Relative form (`error-rate=10x`): the error rate is this many times the background rate; resolved by the demo. */
  errorRateFactor?: number;
  /** The process dies at the fault's onset (the demo kills it with SIGKILL, like an out-of-memory kill). */
  crash?: boolean;
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

/** A share 0..1 written as 0.005 or 0.5%. */
export function parseShare(value: string, what: string): number {
  const rate = Number(value.trim().endsWith("%") ? Number(value.trim().slice(0, -1)) / 100 : value);
  if (value.trim() === "" || !Number.isFinite(rate) || rate < 0 || rate > 1)
    throw new Error(`${what} must be a share between 0 and 1 (or 0%..100%), got "${value}"`);
  return rate;
}

/** Merge one `--fault name=value` (or `--fault crash`) into a spec. */
export function parseFault(text: string, into: FaultSpec = { ...NO_FAULT }): FaultSpec {
  if (text.trim() === "crash") return { ...into, crash: true };
  const [name, value] = text.split("=", 2) as [string, string | undefined];
  if (value === undefined) throw new Error(`--fault "${text}": expected name=value, e.g. error-rate=0.2, error-rate=10x or latency=800ms, or crash`);
  switch (name.trim()) {
    case "error-rate": {
      const relative = /^(\d+(?:\.\d+)?)x$/i.exec(value.trim());
      if (relative) {
        const factor = Number(relative[1]);
        if (!(factor > 1) || factor > 1000) throw new Error(`--fault error-rate=<n>x must be more than 1x and at most 1000x, got "${value}"`);
        const { errorRate: _absolute, ...rest } = into;
        return { ...rest, errorRate: 0, errorRateFactor: factor };
      }
      const rate = Number(value.endsWith("%") ? Number(value.slice(0, -1)) / 100 : value);
      if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new Error(`--fault error-rate must be a share between 0 and 1 (or 0%..100%), got "${value}"`);
      const { errorRateFactor: _relative, ...rest } = into;
      return { ...rest, errorRate: rate };
    }
    case "latency": {
      const ms = parseDuration(value);
      if (ms > 60_000) throw new Error(`--fault latency must be at most 60s, got "${value}"`);
      return { ...into, latencyMs: ms };
    }
    default:
      throw new Error(`--fault "${name}" is unknown; use error-rate=<share>, error-rate=<n>x, latency=<duration> or crash`);
  }
}

/** The relative error rate made absolute against the background rate (a factor of 0 background stays 0). */
export function resolveFault(fault: FaultSpec, backgroundErrorRate: number): FaultSpec {
  if (fault.errorRateFactor === undefined) return fault;
  return { ...fault, errorRate: Math.min(1, fault.errorRateFactor * backgroundErrorRate) };
}

const percent = (share: number) => `${Math.round(share * 10_000) / 100}%`;

export function describeFault(fault: FaultSpec): string {
  const parts: string[] = [];
  if (fault.crash) parts.push("green's process killed (SIGKILL)");
  if (fault.errorRateFactor !== undefined)
    parts.push(`${fault.errorRateFactor}× the background error rate${fault.errorRate > 0 ? ` (${percent(fault.errorRate)} of requests answered 500)` : ""}`);
  else if (fault.errorRate > 0) parts.push(`${percent(fault.errorRate)} of requests answered 500`);
  if (fault.latencyMs > 0) parts.push(`+${fault.latencyMs} ms latency`);
  return parts.length > 0 ? parts.join(", ") : "no fault";
}

export function isFault(fault: FaultSpec): boolean {
  return fault.errorRate > 0 || fault.latencyMs > 0 || (fault.errorRateFactor ?? 0) > 0 || fault.crash === true;
}
