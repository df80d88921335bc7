// The compatibility lint: our blue/green rules (rules.ts) on PostgreSQL's parse tree, plus
// squawk's locking hazards as warnings. Expand: a rule hit is an error (the file would break the
// running blue). Contract: the same operations are allowed (listed as such); warnings stay.

import { SQUAWK_EXCLUDED, runSquawk, type SquawkResult } from "./squawk.js";
import { checkStatement, newLintContext, track, type LintContext, type RuleHit } from "./rules.js";
import { loadParser, parseStatements, SqlSyntaxError, type Statement } from "./statements.js";
import { fileRules } from "./fileRules.js";
import { ALLOWABLE, allowancesOf, type Allowance } from "./allowances.js";
import type { ColumnType } from "./columnTypes.js";
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
  /** Allowed by a `-- bluegreen:allow RULE: reason` comment in the file: the reason. */
  allowedBecause?: string;
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

export interface LintOptions {
  squawk?: boolean;
  /** Current column types ("table.column") from the live database, so type widenings can be proved. */
  columnTypes?: Map<string, ColumnType>;
}

/** error / warning / allowed for a rule hit in a phase, and what an allowance in the file does to it. */
function levelOf(hit: RuleHit, phase: Phase, allowances: Allowance[]): { level: Finding["level"]; allowedBecause?: string } {
  if (hit.level === "hazard") return { level: "warning" };
  if (hit.level === "always") return { level: "error" };
  if (phase === "contract") return { level: "allowed" };
  const allowed = (ALLOWABLE as readonly string[]).includes(hit.rule) ? allowances.find((a) => a.rule === hit.rule && a.reason !== "") : undefined;
  return allowed ? { level: "allowed", allowedBecause: allowed.reason } : { level: "error" };
}

function lintFile(file: MigrationFile, ctx: LintContext, parsed: Map<string, Statement[]>): FileLint {
  const findings: Finding[] = [];
  let statements: Statement[] = [];
  try {
    statements = parseStatements(file.sql);
  } catch (error) {
    if (!(error instanceof SqlSyntaxError)) throw error;
    findings.push({
      rule: "syntax-error",
      level: "error",
      source: "bluegreen",
      line: error.line,
      statement: "",
      message: `PostgreSQL cannot parse the file: ${error.message}`,
    });
  }
  parsed.set(file.path, statements);
  const allowances = allowancesOf(file.sql);
  for (const a of allowances) {
    if (!(ALLOWABLE as readonly string[]).includes(a.rule) || a.reason === "") {
      findings.push({
        rule: "allow-directive",
        level: "error",
        source: "bluegreen",
        line: a.line,
        statement: "",
        message:
          a.reason === ""
            ? `bluegreen:allow ${a.rule} without a reason: the reason is what the journal records`
            : `bluegreen:allow ${a.rule}: only ${ALLOWABLE.join(" and ")} can be allowed (the others name what breaks blue; use the recipe)`,
      });
    }
  }
  const push = (hit: RuleHit, line: number, text: string) =>
    findings.push({
      rule: hit.rule,
      ...levelOf(hit, file.phase, allowances),
      source: "bluegreen",
      line,
      statement: flat(text),
      message: hit.message,
      recipe: hit.recipe,
      ...(hit.squawk ? { squawk: hit.squawk } : {}),
    });
  for (const h of fileRules(statements, ctx)) push(h, h.line, h.statement);
  for (const s of statements) {
    for (const hit of checkStatement(s, ctx)) push(hit, s.line, s.text);
    track(s, ctx);
  }
  return { file: file.path, name: file.name, phase: file.phase, statements: statements.length, findings };
}

export async function lintMigrations(files: MigrationFile[], options: LintOptions = {}): Promise<LintReport> {
  await loadParser();
  const ctx = newLintContext(options.columnTypes);
  const parsed = new Map<string, Statement[]>();
  const results: FileLint[] = files.map((file) => lintFile(file, ctx, parsed));

  const squawk = options.squawk === false ? { available: false, reason: "not run (--no-squawk)", findings: [] } : await runSquawk(files.map((f) => f.path));
  for (const f of squawk.findings) {
    const target = results.find((r) => r.file === f.file || r.file.endsWith(`/${f.file}`));
    if (!target) continue;
    // The same thing one of our rules already says about that statement: said once.
    const statements = parsed.get(target.file) ?? [];
    const stmt = statementAt(statements, f.line);
    const line = stmt?.line ?? f.line;
    // A hazard both we and squawk see (so it is warned without squawk too): squawk's words when it ran.
    const ours = target.findings.findIndex((x) => x.source === "bluegreen" && x.level === "warning" && x.rule === f.rule && x.line === line);
    if (ours >= 0) target.findings.splice(ours, 1);
    else if (target.findings.some((x) => x.squawk === f.rule && x.line === line)) continue;
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
