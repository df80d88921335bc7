// The one percentage formatter every report, event line and verdict uses.

import { describe, expect, test } from "vitest";
import { formatPercent } from "../../scripts/core/format.js";

describe("formatPercent", () => {
  test("a fraction as a percentage, trailing zeros dropped unless fixed; null is n/a", () => {
    expect(formatPercent(0.015)).toBe("1.5%");
    expect(formatPercent(0.015, { decimals: 2, fixed: true })).toBe("1.50%");
    expect(formatPercent(0.12345, { decimals: 1 })).toBe("12.3%");
    expect(formatPercent(null)).toBe("n/a");
    expect(formatPercent(1.5, { scale: "percent" })).toBe("1.5%");
  });

  test("significant digits for rates that span magnitudes", () => {
    expect(formatPercent(0.012345, { significant: 3 })).toBe("1.23%");
    expect(formatPercent(0.5, { significant: 3 })).toBe("50%");
    expect(formatPercent(0.000012345, { significant: 3 })).toBe("0.00123%");
  });
});
