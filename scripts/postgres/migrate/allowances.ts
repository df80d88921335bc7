// What a team explicitly allows in a migration file that the lint cannot verify: a DO block or
// dynamic SQL, each with the reason, written as a comment the parser hands us as a token:
//
//   -- bluegreen:allow do-block: backfills in batches of 10 000 inside one DO loop
//
// The reason is recorded in the database's journal (bluegreen_migrations.allowed) with the file
// and the phase when the file is applied, in the file's own transaction.

import { scanSync } from "libpg-query";
import { JOURNAL_SCHEMA } from "./journal.js";
import type { Phase } from "./files.js";

/** The rules an allowance may lift: the ones about what cannot be read, not about what breaks. */
export const ALLOWABLE = ["do-block", "dynamic-sql"] as const;

export interface Allowance {
  rule: string;
  reason: string;
  line: number;
}

const DIRECTIVE = /^(?:--|\/\*)\s*bluegreen:allow\s+([a-z-]+)\s*:?\s*(.*?)\s*(?:\*\/)?$/s;

/** Allowances in a file's comments (call loadParser() first); a directive without a reason has reason "". */
export function allowancesOf(sql: string): Allowance[] {
  let tokens: Array<{ start: number; text: string; tokenName: string }>;
  try {
    tokens = (scanSync(sql) as { tokens: typeof tokens }).tokens;
  } catch {
    return [];
  }
  const bytes = Buffer.from(sql, "utf8");
  const out: Allowance[] = [];
  for (const t of tokens) {
    if (t.tokenName !== "SQL_COMMENT" && t.tokenName !== "C_COMMENT") continue;
    const m = DIRECTIVE.exec(t.text.trim());
    if (!m) continue;
    const line = bytes.subarray(0, t.start).toString("utf8").split("\n").length;
    out.push({ rule: m[1]!, reason: m[2]!.trim(), line });
  }
  return out;
}

/** SQL that records a file's allowances in its database's journal (run inside the file's transaction). */
export function recordAllowancesSql(phase: Phase, name: string, allowances: Allowance[]): string[] {
  if (allowances.length === 0) return [];
  const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;
  return [
    `CREATE TABLE IF NOT EXISTS "${JOURNAL_SCHEMA}".allowed (phase text NOT NULL, name text NOT NULL, rule text NOT NULL, reason text NOT NULL, run_on timestamptz NOT NULL DEFAULT now())`,
    `INSERT INTO "${JOURNAL_SCHEMA}".allowed (phase, name, rule, reason) VALUES ${allowances.map((a) => `(${lit(phase)}, ${lit(name)}, ${lit(a.rule)}, ${lit(a.reason)})`).join(", ")}`,
  ];
}
