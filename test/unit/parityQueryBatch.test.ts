// QueryBatch inlines the parameters of the queries it sends together: only whole numbers (OIDs)
// and arrays of them, so nothing an inlined parameter holds can become SQL.

import { describe, expect, it } from "vitest";
import { inlineParams } from "../../scripts/postgres/parity/queryBatch.js";

describe("QueryBatch parameters", () => {
  it("inlines OID arrays and whole numbers in place of $n", () => {
    expect(inlineParams("SELECT 1 WHERE a = ANY($1::oid[]) AND b = $2 AND c = ANY($1::oid[])", [["16384", "16390"], 7])).toBe(
      "SELECT 1 WHERE a = ANY('{16384,16390}'::oid[]) AND b = 7 AND c = ANY('{16384,16390}'::oid[])",
    );
    expect(inlineParams("SELECT $1::oid[]", [[]])).toBe("SELECT '{}'::oid[]");
    expect(inlineParams("SELECT 1", [])).toBe("SELECT 1");
  });

  it("refuses anything that is not a whole number, and a $n without its parameter", () => {
    expect(() => inlineParams("SELECT $1", ["1; DROP TABLE t"])).toThrow(/only whole numbers/);
    expect(() => inlineParams("SELECT $1::oid[]", [["1", "2') OR ('1"]])).toThrow(/only whole numbers/);
    expect(() => inlineParams("SELECT $1", [1.5])).toThrow(/only whole numbers/);
    expect(() => inlineParams("SELECT $1", [null])).toThrow(/only whole numbers/);
    expect(() => inlineParams("SELECT $2", [1])).toThrow(/\$2 has no parameter/);
  });
});
