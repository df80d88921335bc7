// One way to print a percentage for operators, so a share reads the same in the plan, the
// traffic plan, the demo's summary and the reports.

export interface PercentOptions {
  /** Decimals at most (default 3). */
  decimals?: number;
  /** Keep trailing zeros ("1.50%", for columns that line up); default false ("1.5%"). */
  fixed?: boolean;
  /** The value is a fraction (0.015 → "1.5%", the default) or already a percentage (1.5 → "1.5%"). */
  scale?: "fraction" | "percent";
  /** Significant digits instead of decimals (0.0123 with 3 → "1.23%", 0.5 → "50%"): for rates that span magnitudes. */
  significant?: number;
}

/** A share as "1.5%"; null (nothing measured) as "n/a". */
export function formatPercent(value: number | null, options: PercentOptions = {}): string {
  if (value === null) return "n/a";
  const percent = options.scale === "percent" ? value : value * 100;
  if (options.significant !== undefined) return `${Number(percent.toPrecision(options.significant))}%`;
  const text = percent.toFixed(options.decimals ?? 3);
  return `${options.fixed ? text : Number(text)}%`;
}
