// `cutover --dry-run` printed: the plan from the live weights (JSON or lines), nothing changed.

import type { CutoverPreview } from "../app/cutover.js";
import type { Io } from "./args.js";

export function printCutoverPreview(preview: CutoverPreview, json: boolean, io: Pick<Io, "stdout">): void {
  if (json)
    io.stdout.write(`${JSON.stringify({ type: "dry-run", plan: preview.plan, lines: preview.lines, routes: preview.routes, traffic: preview.traffic })}\n`);
  else io.stdout.write(`${preview.lines.join("\n")}\n\ndry run: nothing was changed\n`);
}
