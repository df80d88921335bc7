// `npm run demo` sizing flags: one app process per color by default; one flag alone sizes that
// color against a pool of two for the other, so `--green-instances 1` alone shows the capacity
// refusal; bad counts are usage errors.

import { describe, expect, it } from "vitest";
import { demoInstances } from "../../scripts/cli/demoOptions.js";
import { UsageError } from "../../scripts/core/errors.js";

describe("demoInstances", () => {
  it("one each without either flag", () => {
    expect(demoInstances(undefined, undefined)).toEqual({ blue: 1, green: 1 });
  });

  it("--green-instances 1 alone: blue runs two, so green is smaller than blue", () => {
    expect(demoInstances(undefined, "1")).toEqual({ blue: 2, green: 1 });
    expect(demoInstances("3", undefined)).toEqual({ blue: 3, green: 2 });
    expect(demoInstances("2", "1")).toEqual({ blue: 2, green: 1 });
  });

  it("refuses counts outside 1..4 and non-integers, naming the flag", () => {
    for (const bad of ["0", "5", "1.5", "two", ""]) {
      expect(() => demoInstances(undefined, bad)).toThrow(UsageError);
      expect(() => demoInstances(undefined, bad)).toThrow(/--green-instances must be an integer between 1 and 4/);
    }
    expect(() => demoInstances("9", "1")).toThrow(/--blue-instances must be an integer between 1 and 4, got "9"/);
  });
});
