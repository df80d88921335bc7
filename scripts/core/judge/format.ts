// How the judge writes numbers in its verdict lines.

import { formatPercent } from "../format.js";

/** Compact numbers: 0.42, 17, 1.2e5. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 0.01)) return x.toExponential(1);
  return String(Number(x.toPrecision(3)));
}

/** A rate as a percentage with three significant digits: 0.0123 → "1.23%". */
export const pct = (x: number): string => formatPercent(x, { significant: 3 });

/** A ratio: 2 → "×2". */
export const times = (x: number): string => `×${Number(x.toPrecision(3))}`;

/** count/requests as a percentage, "n/a" without requests. */
export const rate = (count: number, requests: number): string => (requests > 0 ? pct(count / requests) : "n/a");
