// The output examples in the docs are the printers' output today: every block annotated
// ```text <!-- from: NAME --> equals what generator NAME prints (`npm run docs:examples` rewrites
// them). The plan README.md and docs/operating.md show is such a block; the stale wordings of the
// retired per-window gates are gone from the plan.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { DOCUMENTS, findExamples, generateFor, rewriteExamples, syncExamples } from "../../scripts/cli/docsExamples.js";

const ROOT = join(import.meta.dirname, "../..");

describe("documented output examples", () => {
  test("every annotated block matches its printer (else: npm run docs:examples)", { timeout: 30_000 }, async () => {
    expect(await syncExamples(ROOT, { check: true })).toEqual([]);
  });

  test("README.md and docs/operating.md show the plan through the printer", async () => {
    for (const document of ["README.md", "docs/operating.md"]) {
      const blocks = findExamples(await readFile(join(ROOT, document), "utf8"));
      const plan = blocks.find((b) => b.name === "cutover-offline prod");
      expect(plan, document).toBeDefined();
      expect(plan!.body).toMatch(/^\$ npx bluegreen cutover --stack prod --dry-run --offline\nPlan: canary/);
      expect(plan!.body).not.toMatch(/passing poll\(s\)|Polls 0|gates PASS/);
    }
  });

  test("a block that no longer matches is found, and rewriting puts the printer's output back", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    const stale = readme.replace(/bake 5m after 2m of warm-up/, "bake 5m: 5 passing poll(s), one every 1m");
    expect(stale).not.toBe(readme);
    const outputs = await generateFor(
      findExamples(stale).map((b) => b.name),
      ROOT,
    );
    expect(rewriteExamples(stale, outputs)).toBe(readme);
  });

  test("an unknown generator is an error, never a silent skip", async () => {
    await expect(generateFor(["no-such-printer"], ROOT)).rejects.toThrow(/no example generator named "no-such-printer"/);
  });

  test("the documents it covers exist", async () => {
    for (const document of DOCUMENTS) await expect(readFile(join(ROOT, document), "utf8")).resolves.toBeTruthy();
  });
});
