// The output examples in the docs are the printers' output today: every block annotated
// ```text <!-- from: NAME --> equals what generator NAME prints (`npm run docs:examples` rewrites
// them). The plan README.md and docs/operating.md show is such a block; the stale wordings of the
// retired per-window gates are gone from the plan.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { DOCUMENTS, findExamples, generateFor, rewriteExamples, syncExamples } from "../../scripts/cli/docsExamples.js";
import { readTranscript } from "../../scripts/cli/docsTranscripts.js";
import { formatEvent } from "../../scripts/core/events.js";

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

  test("docs/operating.md shows a recorded run through the event printer, the live view and the report, in today's vocabulary", async () => {
    const blocks = findExamples(await readFile(join(ROOT, "docs/operating.md"), "utf8"));
    const body = (name: string) => {
      const block = blocks.find((b) => b.name === name);
      expect(block, name).toBeDefined();
      return block!.body;
    };
    // The events block is every event of the recorded run but the plan and the ticks, one formatEvent line each.
    const { events } = await readTranscript(ROOT, "canary-breach-at-monitoring");
    const lines = events.filter((event) => event.type !== "plan" && event.type !== "tick").map((event) => formatEvent(event));
    expect(body("events cutover breach at monitoring")).toBe(`${lines.join("\n")}\n`);
    expect(body("live view cutover step 2")).toMatch(/^cutover step 2\/3 · blue 75 \/ green 25 · baking/m);
    expect(body("live view cutover step 2")).toMatch(/^judge CONTINUE · 3\/5 windows/m);
    expect(body("report cutover breach at monitoring")).toMatch(
      /^\| Step \| Weights \(blue \/ green\) \| Bake \| Reached \| Verified after \| Windows judged \| Decision/m,
    );
    expect(body("events rollback manual")).toMatch(
      /^\$ npx bluegreen rollback --stack prod --reason "checkout errors reported by support"\n.* lock acquired: rollback by /,
    );
    // No output of the retired per-window gates is left anywhere in the operator's docs.
    for (const document of ["README.md", "docs/operating.md", "docs/demo.md"]) {
      const text = await readFile(join(ROOT, document), "utf8");
      expect(text, document).not.toMatch(/passing poll\(s\)|poll \d+: (PASS|FAIL) \(\d+\/\d+\) |gates PASS|\| Polls \| Pass \|/);
    }
  });

  test("a transcript that no longer matches its printer is found, and rewriting puts the printer's output back", async () => {
    const operating = await readFile(join(ROOT, "docs/operating.md"), "utf8");
    const stale = operating.replace(/baking poll 3: CONTINUE \(3\/5 windows\)[^\n]*/, "baking poll 3: PASS (3/5) green 3951 req 5xx 0.10% p95 197ms");
    expect(stale).not.toBe(operating);
    const outputs = await generateFor(
      findExamples(stale).map((b) => b.name),
      ROOT,
    );
    expect(rewriteExamples(stale, outputs)).toBe(operating);
  });

  test("an unknown generator is an error, never a silent skip", async () => {
    await expect(generateFor(["no-such-printer"], ROOT)).rejects.toThrow(/no example generator named "no-such-printer"/);
  });

  test("the documents it covers exist", async () => {
    for (const document of DOCUMENTS) await expect(readFile(join(ROOT, document), "utf8")).resolves.toBeTruthy();
  });
});
