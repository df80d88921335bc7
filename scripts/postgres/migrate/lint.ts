// The compatibility lint: our blue/green rules (rules.ts) on PostgreSQL's parse tree, plus
// squawk's locking hazards as warnings. Expand: a rule hit is an error (the file would break the
// running blue). Contract: the same operations are allowed (listed as such); warnings stay.

import { SQUAWK_EXCLUDED, runSquawk, type SquawkResult } from "./squawk.js";
import { checkStatement, createdBy, type LintContext } from "./rules.js";
import { loadParser, parseStatements, SqlSyntaxError, type Statement } from "./statements.js";
import type { MigrationFile, Phase } from "./files.js";

export interface Finding {
  rule: string;
  /** error: refused in this phase; warning: a locking hazard (squawk); allowed: destructive, fine in contract. */
  level: "error" | "warning" | "allowed";
  source: "bluegreen" | "squawk";
  line: number;
  /** The statement, on one line, cut to 200 characters. */
  statement: string;
  message: string;
  /** The expand/contract recipe (our rules) or squawk's help. */
  recipe?: string;
  /** squawk's name for the same rule, when it has one. */
  squawk?: string;
}

export interface FileLint {
  file: string;
  name: string;
  phase: Phase;
  /** Statements PostgreSQL parsed in the file. */
  statements: number;
  findings: Finding[];
}

export interface LintReport {
  kind: "migrate-lint";
  ok: boolean;
  files: FileLint[];
  errors: number;
  warnings: number;
  squawk: Omit<SquawkResult, "findings">;
}

const flat = (text: string) => {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > 200 ? `${one.slice(0, 200)}…` : one;
};

function statementAt(statements: Statement[], line: number): Statement | undefined {
  let best: Statement | undefined;
  for (const s of statements) if (s.line <= line) best = s;
  return best;
}

export async function lintMigrations(files: MigrationFile[], options: { squawk?: boolean } = {}): Promise<LintReport> {
  await loadParser();
  const ctx: LintContext = { createdTables: new Set() };
  const parsed = new Map<string, Statement[]>();
  const results: FileLint[] = files.map((file) => {
    const findings: Finding[] = [];
    let statements: Statement[] = [];
    try {
      statements = parseStatements(file.sql);
    } catch (error) {
      if (!(error instanceof SqlSyntaxError)) throw error;
      findings.push({ rule: "syntax-error", level: "error", source: "bluegreen", line: error.line, statement: "", message: `PostgreSQL cannot parse the file: ${error.message}` });
    }
    parsed.set(file.path, statements);
    for (const s of statements) {
      for (const hit of checkStatement(s, ctx)) {
        findings.push({
          rule: hit.rule,
          level: file.phase === "expand" ? "error" : "allowed",
          source: "bluegreen",
          line: s.line,
          statement: flat(s.text),
          message: hit.message,
          recipe: hit.recipe,
          ...(hit.squawk ? { squawk: hit.squawk } : {}),
        });
      }
      for (const t of createdBy(s)) ctx.createdTables.add(t);
    }
    return { file: file.path, name: file.name, phase: file.phase, statements: statements.length, findings };
  });

  const squawk = options.squawk === false ? { available: false, reason: "not run (--no-squawk)", findings: [] } : await runSquawk(files.map((f) => f.path));
  for (const f of squawk.findings) {
    const target = results.find((r) => r.file === f.file || r.file.endsWith(`/${f.file}`));
    if (!target) continue;
    // The same thing one of our rules already says about that statement: said once.
    const statements = parsed.get(target.file) ?? [];
    const stmt = statementAt(statements, f.line);
    if (target.findings.some((x) => x.squawk === f.rule && x.line === (stmt?.line ?? f.line))) continue;
    if (f.rule === "syntax-error" && target.findings.some((x) => x.rule === "syntax-error")) continue;
    target.findings.push({
      rule: f.rule,
      level: f.rule === "syntax-error" ? "error" : "warning",
      source: "squawk",
      line: stmt?.line ?? f.line,
      statement: stmt ? flat(stmt.text) : "",
      message: f.message,
      ...(f.help ? { recipe: f.help } : {}),
    });
  }
  for (const r of results) r.findings.sort((a, b) => a.line - b.line || (a.level === b.level ? 0 : a.level === "error" ? -1 : 1));
  const count = (level: Finding["level"]) => results.reduce((n, r) => n + r.findings.filter((f) => f.level === level).length, 0);
  const errors = count("error");
  const { findings: _unused, ...squawkInfo } = squawk;
  return { kind: "migrate-lint", ok: errors === 0, files: results, errors, warnings: count("warning"), squawk: squawkInfo };
}

export { SQUAWK_EXCLUDED };
