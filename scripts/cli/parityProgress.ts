// `npm run parity`'s progress on stderr: redrawn on a terminal (at most ten times a second, and on
// every phase change), plain lines otherwise (at most one a second, and on every phase change).

import { createLogUpdate } from "log-update";
import { outputMode } from "./common.js";
import type { ParityProgress } from "../postgres/parity/index.js";

export function progressLine(p: ParityProgress): string {
  const rows = p.rowsHashed.toLocaleString("en-US");
  switch (p.phase) {
    case "connect":
      return "parity: connecting to blue and green";
    case "schema":
      return "parity: reading schemas";
    case "hash":
    case "diff":
      return `parity: tables ${p.tablesDone}/${p.tablesTotal}, rows hashed ${rows}${p.table ? `, last ${p.table}` : ""}`;
    case "sequences":
      return `parity: tables ${p.tablesDone}/${p.tablesTotal}, rows hashed ${rows}; checking sequences`;
    case "done":
      return `parity: done, rows hashed ${rows}`;
  }
}

export interface ProgressPrinter {
  onProgress(p: ParityProgress): void;
  /** Clears the live view (nothing for plain lines); once is enough, more are harmless. */
  close(): void;
}

export function progressPrinter(stderr: NodeJS.WriteStream = process.stderr): ProgressPrinter {
  let live = outputMode({ json: false }, stderr).live ? createLogUpdate(stderr) : null;
  let lastAt = 0;
  let lastPhase = "";
  return {
    onProgress(p) {
      const line = progressLine(p);
      const now = Date.now();
      if (live) {
        if (p.phase !== lastPhase || now - lastAt >= 100) {
          live(line);
          lastAt = now;
          lastPhase = p.phase;
        }
        return;
      }
      if (p.phase !== lastPhase || now - lastAt >= 1000 || (p.phase === "hash" && p.tablesDone === p.tablesTotal)) {
        if (p.phase === "done") return;
        stderr.write(`${line}\n`);
        lastAt = now;
        lastPhase = p.phase;
      }
    },
    close() {
      live?.clear();
      live?.done();
      live = null;
    },
  };
}
