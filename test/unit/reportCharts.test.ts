// The HTML report's charts, from run reports recorded by the real engine over the fakes
// (test/fixtures/reports/record.ts): a clean cutover (with a throttled metrics call and a window
// whose split the weights do not explain), a rollback at 5%, a paired switch and its rollback, a
// rollout paused at 25%. The specs carry the run's data; they compile without a warning; they name
// no URL; rendered in Node each chart has marks; the page states the outcome and loads nothing.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import type { CutoverReport } from "../../scripts/core/report.js";
import { renderPage } from "../../scripts/report/page.js";
import { renderSvg } from "../../scripts/report/render.js";
import { buildChartSpecs, type ChartSpec } from "../../scripts/report/specs.js";
import { embedChart, readReportInput, renderCharts } from "../../scripts/report/write.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/reports");
const load = (name: string): CutoverReport => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")) as CutoverReport;

/** The inline data of every layer (and panel) of a spec, by the mark type that draws it. */
function layerData(chart: ChartSpec): { mark: string; values: Record<string, unknown>[] }[] {
  const out: { mark: string; values: Record<string, unknown>[] }[] = [];
  const visit = (node: Record<string, unknown>, inherited: Record<string, unknown>[] | null) => {
    const values = ((node.data as { values?: Record<string, unknown>[] } | undefined)?.values ?? inherited) as Record<string, unknown>[] | null;
    if (node.mark) {
      const mark = typeof node.mark === "string" ? node.mark : (node.mark as { type: string }).type;
      out.push({ mark, values: values ?? [] });
    }
    for (const key of ["layer", "vconcat", "hconcat"]) {
      for (const child of (node[key] as Record<string, unknown>[] | undefined) ?? []) visit(child, values);
    }
  };
  visit(chart.spec as unknown as Record<string, unknown>, null);
  return out;
}

const chart = (report: CutoverReport, id: ChartSpec["id"]) => {
  const found = buildChartSpecs(report).find((c) => c.id === id);
  if (!found) throw new Error(`no ${id} chart`);
  return found;
};

/** Marks drawn in a rendered SVG: vega writes each mark group as <g class="mark-TYPE role-mark …"> with its items inside. */
function markItems(svg: string): number {
  const groups = svg.split(/<g class="mark-(?:symbol|rect|rule|line|text|area)\b/).slice(1);
  return groups.filter((g) => /<(path|line|text|rect)\b/.test(g.slice(0, 2000))).length;
}

describe("chart specs from recorded reports", () => {
  test("a clean cutover: weights 5 → 25 → 100 as steps, both colors per window, the dropped windows and why, hooks", () => {
    const report = load("clean-cutover");
    expect(buildChartSpecs(report).map((c) => c.id)).toEqual(["timeline", "rates", "evidence", "hooks"]);

    const weights = layerData(chart(report, "timeline")).find((l) => l.mark === "line")!.values;
    expect(weights.map((w) => w.green)).toEqual([5, 25, 100, 100]);
    expect(weights.at(-1)!.at).toBe(report.endedAt);

    const rates = layerData(chart(report, "rates"));
    const windows = rates.find((l) => l.mark === "point")!.values;
    expect(new Set(windows.map((w) => w.color))).toEqual(new Set(["blue", "green"]));
    // One row per counted window and color, except where a color served nothing (green at monitoring is alone).
    expect(windows.length).toBe(report.series!.windows.reduce((n, w) => n + (w.blue.requests > 0 ? 1 : 0) + (w.green.requests > 0 ? 1 : 0), 0));
    const dropped = rates.find((l) => l.mark === "rect")!.values;
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ start: "2026-01-15T09:07:00.000Z", end: "2026-01-15T09:08:00.000Z", label: "dropped 1" });
    expect(String(dropped[0]!.why)).toMatch(/observed split: green served 17\.4%.*the weights say 5%/);
    // The throttled call has no window: it is listed on the page, not drawn.
    expect(report.series!.dropped.some((d) => d.start === null && /Rate exceeded/.test(d.why))).toBe(true);

    const hooks = layerData(chart(report, "hooks")).find((l) => l.mark === "bar")!.values;
    expect(hooks.map((h) => h.label)).toEqual(["after-step: exit 0 · 1000 ms", "after-step: exit 0 · 1000 ms", "after-step: exit 0 · 1000 ms"]);
  });

  test("a rollback at 5%: green's weight back to 0, the rollback annotated, the 5xx evidence over its boundary", () => {
    const report = load("rollback-at-5");
    expect(report.outcome).toBe("rolled-back");
    const timeline = layerData(chart(report, "timeline"));
    expect(timeline.find((l) => l.mark === "line")!.values.map((w) => w.green)).toEqual([5, 0, 0]);
    expect(timeline.find((l) => l.mark === "rule")!.values.map((d) => d.decision)).toContain("rollback");

    const evidence = layerData(chart(report, "evidence"));
    const errors = evidence.find((l) => l.mark === "line")!.values.filter((p) => p.metric === "errors");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.statistic as number).toBeGreaterThanOrEqual(errors[0]!.boundary as number);
    expect(evidence.find((l) => l.mark === "rule")!.values).toEqual([expect.objectContaining({ phaseKey: "step 1", boundary: errors[0]!.boundary })]);
  });

  test("a paired switch: the fence periods, catch-up, parity and the replication lag on the run's time axis", () => {
    const report = load("paired-switch");
    expect(buildChartSpecs(report).map((c) => c.id)).toEqual(["timeline", "rates", "evidence", "paired"]);
    const paired = layerData(chart(report, "paired"));
    expect(paired.find((l) => l.mark === "rect")!.values.map((p) => p.purpose)).toEqual(["fence (switch)", "fence (rollback)"]);
    const actions = paired.find((l) => l.mark === "rule")!.values.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["fence on", "catch-up", "parity", "copy-sequences", "start", "fence off"]));
    expect(actions.indexOf("catch-up")).toBeLessThan(actions.indexOf("parity"));
    expect(paired.find((l) => l.mark === "line")!.values).toEqual([expect.objectContaining({ bytes: 4096 })]);
  });

  test("a paused rollout: the run ends paused at 25%, unfinished", () => {
    const report = load("paused-rollout");
    expect(report.outcome).toBeNull();
    const timeline = layerData(chart(report, "timeline"));
    expect(timeline.find((l) => l.mark === "line")!.values.map((w) => w.green)).toEqual([5, 25, 25]);
    expect(report.series!.phases.at(-1)).toMatchObject({ phase: "paused", step: 2 });
    expect(timeline.find((l) => l.mark === "rect")!.values.at(-1)).toMatchObject({ phase: "baking", step: 2 });
    expect(timeline.find((l) => l.mark === "rule")!.values.map((d) => d.decision)).toContain("pause");
  });

  test("every chart shares the run's time domain and names no URL", () => {
    for (const name of ["clean-cutover", "rollback-at-5", "paired-switch", "paused-rollout"]) {
      const report = load(name);
      for (const c of buildChartSpecs(report)) {
        const text = JSON.stringify(c.spec);
        expect(text, `${name}/${c.id}`).not.toMatch(/"url"\s*:/);
        expect(text, `${name}/${c.id}`).toContain(`[${Date.parse(report.startedAt)},${Date.parse(report.endedAt)}]`);
      }
    }
  });

  test("a report written before the series existed still draws its hooks and an empty timeline", () => {
    const { series: _series, ...old } = load("clean-cutover");
    expect(buildChartSpecs(old as CutoverReport).map((c) => c.id)).toEqual(["timeline", "hooks"]);
  });
});

describe("rendering", () => {
  test.each(["clean-cutover", "rollback-at-5", "paired-switch", "paused-rollout"])(
    "%s: every chart compiles without a warning and renders marks",
    async (name) => {
      const report = load(name);
      for (const c of buildChartSpecs(report)) {
        const warnings: string[] = [];
        const svg = await renderSvg(c.spec, warnings);
        expect(warnings, `${name}/${c.id}`).toEqual([]);
        expect(svg.startsWith("<svg")).toBe(true);
        expect(markItems(svg), `${name}/${c.id}`).toBeGreaterThan(0);
      }
    },
    30_000,
  );

  test("a spec that names a URL is refused, not fetched", async () => {
    const spec = { data: { url: "https://example.invalid/data.json" }, mark: "point" } as unknown as ChartSpec["spec"];
    const warnings: string[] = [];
    await renderSvg(spec, warnings);
    expect(warnings.join("\n")).toMatch(/refusing to load https:\/\/example\.invalid/);
  });

  test("the page: outcome stated, charts inline, nothing to load, text escaped", async () => {
    const report = load("rollback-at-5");
    report.warnings = [...report.warnings, "<script>alert(1)</script>"];
    const html = renderPage(report, await renderCharts(report));
    expect(html).toContain('id="outcome"');
    expect(html).toContain("Rolled back to blue: regression at step 1");
    expect(html).toContain('class="outcome bad"');
    expect(html).not.toMatch(/<script|<link|<img|src=|@import|url\(/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("default-src 'none'");
    expect(html.match(/<figure data-chart=/g)).toHaveLength(3);
  }, 30_000);

  test("a demo report wraps the engine's; anything else is refused with the reason", () => {
    const cutover = load("clean-cutover");
    const input = readReportInput({
      format: "bluegreen-demo-report",
      demo: { runId: "d1", outcome: "succeeded", asExpected: true },
      summary: ["line"],
      cutover,
    });
    expect(input.demo).toEqual({ runId: "d1", outcome: "as expected", summary: ["line"] });
    expect(input.report?.runId).toBe(cutover.runId);
    expect(() => readReportInput({ format: "something-else" })).toThrow(/not a bluegreen cutover report/);
    expect(() => readReportInput({ ...cutover, hooks: "x" })).toThrow(/"hooks" must be an array/);
  });

  test("the Markdown embeds the main chart under its decision line", () => {
    expect(embedChart("# Cutover report: r\n\n**Cutover succeeded.**\n\n| | |", "/x/reports/prod-2026.svg")).toBe(
      "# Cutover report: r\n\n**Cutover succeeded.**\n\n![Weights and phases](prod-2026.svg)\n\n| | |",
    );
  });
});
