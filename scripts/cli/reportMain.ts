// `npm run report -- reports/x.json [more.json …]`: draw (again) the HTML page and the main chart
// of any past run from its JSON report, the engine's or the demo's, beside it (x.html, x.svg).
// The JSON is read as data only: a file that is not a report is refused (exit 2), nothing written.

import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { parse, processIo, program, type Io } from "./args.js";
import { ExitCode, UsageError } from "./common.js";

/** A report is a few hundred kilobytes; this bounds what is read before it is known to be one. */
const MAX_REPORT_BYTES = 64 * 1024 * 1024;

export async function reportMain(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const command = program("report", "Draw the HTML report (charts, evidence, decisions) of past runs from their JSON reports, beside them.", io)
    .argument("<json...>", "report JSON files (reports/<stack>-<time>.json or reports/demo-<time>.json)")
    .option("--json", "machine output on stdout: one JSON line per page written");
  const parsed = parse<{ json?: boolean }>(command, argv);
  if (!parsed) return ExitCode.ok;
  const files = parsed.args.map((file) => resolve(io.cwd, file));
  const { readReportInput, writeHtmlReport } = await import("../report/write.js");
  // Every file is read and checked before any page is written.
  const inputs = [];
  for (const file of files) {
    if (!file.endsWith(".json")) throw new UsageError(`${file}: a report is a .json file (see --help)`);
    const info = await stat(file).catch(() => null);
    if (!info || !info.isFile()) throw new UsageError(`${file}: not a regular file`);
    if (info.size > MAX_REPORT_BYTES) throw new UsageError(`${file}: ${info.size} bytes is larger than any report (${MAX_REPORT_BYTES} bytes at most)`);
    let value: unknown;
    try {
      value = JSON.parse(await readFile(file, "utf8"));
    } catch (error) {
      throw new UsageError(`${file}: not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    try {
      inputs.push({ file, input: readReportInput(value) });
    } catch (error) {
      throw new UsageError(`${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const { file, input } of inputs) {
    const written = await writeHtmlReport(input, file.slice(0, -".json".length));
    if (parsed.options.json) io.stdout.write(`${JSON.stringify({ type: "report", json: file, html: written.htmlPath, svg: written.svgPath })}\n`);
    else io.stdout.write(`${written.htmlPath}\n`);
  }
  return ExitCode.ok;
}
