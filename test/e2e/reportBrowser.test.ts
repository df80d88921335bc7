// The HTML report in a real browser: Debian's Chromium, headless, driven by playwright-core, with
// every request other than the page itself refused and the context offline. For each recorded run
// (test/fixtures/reports) the page is written as `npm run report` writes it, then opened from
// disk at a phone's width: no console error, no request leaves the file, every chart has marks,
// the outcome is stated, nothing is wider than the screen. Screenshots: artifacts/report-*.png.

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readReportInput, writeHtmlReport } from "../../scripts/report/write.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURES = join(ROOT, "test/fixtures/reports");
const ARTIFACTS = join(ROOT, "artifacts");
const CHROMIUM = "/usr/bin/chromium";

let browser: Browser;
let dir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)`);
  dir = mkdtempSync(join(tmpdir(), "bluegreen-report-"));
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
});

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the HTML report in Chromium, offline", () => {
  test.each(["clean-cutover", "rollback-at-5", "paired-switch", "paused-rollout"])(
    "%s: opens from disk, loads nothing, every chart has marks, the outcome is stated",
    async (name) => {
      copyFileSync(join(FIXTURES, `${name}.json`), join(dir, `${name}.json`));
      const input = readReportInput(JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8")));
      const { htmlPath } = await writeHtmlReport(input, join(dir, name));
      const pageUrl = pathToFileURL(htmlPath).href;

      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, offline: true, javaScriptEnabled: true });
      const requests: string[] = [];
      const refused: string[] = [];
      const problems: string[] = [];
      await context.route("**/*", (route) => {
        const url = route.request().url();
        if (url === pageUrl) return route.continue();
        refused.push(url);
        return route.abort("blockedbyclient");
      });
      const page = await context.newPage();
      page.on("request", (request) => requests.push(request.url()));
      page.on("console", (message) => {
        if (message.type() === "error" || message.type() === "warning") problems.push(`${message.type()}: ${message.text()}`);
      });
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      try {
        await page.goto(pageUrl, { waitUntil: "load" });

        expect(problems).toEqual([]);
        expect(refused).toEqual([]);
        expect(requests).toEqual([pageUrl]);

        const outcome = (await page.locator("#outcome").textContent())?.trim() ?? "";
        expect(outcome).toBe(input.report!.decision);

        const charts = await page.locator("figure[data-chart]").evaluateAll((figures) =>
          figures.map((figure) => ({
            id: figure.getAttribute("data-chart"),
            // Drawn items inside vega's mark groups (paths, lines, text), and the chart's width on screen.
            marks: figure.querySelectorAll("g.role-mark path, g.role-mark line, g.role-mark text").length,
            width: figure.querySelector("svg")!.getBoundingClientRect().width,
          })),
        );
        expect(charts.length).toBeGreaterThanOrEqual(3);
        for (const chart of charts) {
          expect(chart.marks, `${name}/${chart.id}`).toBeGreaterThan(0);
          expect(chart.width, `${name}/${chart.id} fits the screen`).toBeLessThanOrEqual(390);
        }
        const overflow = (await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number;
        expect(overflow).toBeLessThanOrEqual(0);

        await page.screenshot({ path: join(ARTIFACTS, `report-${name}.png`), fullPage: false });
      } finally {
        await context.close();
      }
    },
    60_000,
  );
});
