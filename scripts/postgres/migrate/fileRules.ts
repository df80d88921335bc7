// Rules that read a whole file, not one statement: transaction control (the file is already one
// transaction), a NOT VALID constraint validated in the same transaction (the recipe defeated:
// the ADD's exclusive lock is held through the whole scan), an enum value used in the same
// transaction that adds it (PostgreSQL refuses that at apply time), and DO blocks: procedural
// code whose static statements are linted like the file's own, whose dynamic SQL cannot be.

import { parsePlPgSQLSync } from "libpg-query";
import { checkStatement, type LintContext, type RuleHit } from "./rules.js";
import { parseStatements, needsNoTransaction, SqlSyntaxError, type Node, type Statement } from "./statements.js";

export interface FileHit extends RuleHit {
  line: number;
  statement: string;
}

const RECIPES = {
  transaction:
    "remove BEGIN / COMMIT / ROLLBACK / SAVEPOINT: each file runs in one transaction of its own (or, with CONCURRENTLY, statement by statement); split work that must commit separately into separate files.",
  validate:
    "put ALTER TABLE … VALIDATE CONSTRAINT in a later migration file: the ADD … NOT VALID commits quickly, the validation then takes only a SHARE UPDATE EXCLUSIVE lock.",
  enumValue:
    "add the value in one migration file and use it in a later one (a new enum value can only be used once the transaction that added it has committed).",
  doBlock:
    "write the statements as plain SQL (the lint reads them), batch a backfill in separate migrations or a job; if the block must stay, allow it with its reason: -- bluegreen:allow do-block: <why>",
  dynamicSql:
    "write the statement the EXECUTE builds as plain SQL so the lint can read it; if it must stay dynamic, allow it with its reason: -- bluegreen:allow dynamic-sql: <why>",
} as const;

const hit = (s: Statement, h: RuleHit): FileHit => ({ ...h, line: s.line, statement: s.text });

function cmds(s: Statement): Array<{ subtype?: string; name?: string; def?: Node }> {
  if (s.type !== "AlterTableStmt") return [];
  return ((s.node.cmds as Array<{ AlterTableCmd?: Record<string, unknown> }> | undefined) ?? []).map((c) => (c.AlterTableCmd ?? {}) as never);
}

/** Every string constant in a parse tree. */
function stringConstants(node: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) for (const n of node) stringConstants(n, out);
  else if (node && typeof node === "object") {
    const c = (node as { A_Const?: { sval?: { sval?: string } } }).A_Const;
    if (c?.sval?.sval !== undefined) out.add(c.sval.sval);
    for (const v of Object.values(node)) stringConstants(v, out);
  }
  return out;
}

function transactionRules(statements: Statement[]): FileHit[] {
  const hits: FileHit[] = [];
  for (const s of statements.filter((x) => x.type === "TransactionStmt")) {
    hits.push(
      hit(s, {
        rule: "transaction-control",
        level: "always",
        message: `${s.text.split(/\s+/)[0]!.toUpperCase()} inside a migration file: the file already runs in a transaction of its own; its COMMIT would end that transaction halfway, leave the statements before it applied and nothing journaled`,
        recipe: RECIPES.transaction,
      }),
    );
  }
  if (needsNoTransaction(statements)) return hits; // statement by statement: each commits on its own
  const notValid = new Set<string>();
  const added = new Set<string>();
  for (const s of statements) {
    for (const c of cmds(s)) {
      const con = (c.def?.Constraint ?? {}) as Record<string, unknown>;
      if (c.subtype === "AT_AddConstraint" && con.skip_validation === true && typeof con.conname === "string") notValid.add(con.conname);
      if (c.subtype === "AT_ValidateConstraint" && c.name && notValid.has(c.name)) {
        hits.push(
          hit(s, {
            rule: "validate-in-same-transaction",
            level: "hazard",
            message: `validates ${c.name} in the transaction that added it NOT VALID: the ADD's ACCESS EXCLUSIVE lock is held through the whole validating scan, blocking blue`,
            recipe: RECIPES.validate,
          }),
        );
      }
    }
    if (s.type === "AlterEnumStmt" && typeof s.node.newVal === "string" && s.node.oldVal === undefined) {
      added.add(s.node.newVal);
      continue;
    }
    if (added.size === 0) continue;
    const used = [...stringConstants(s.node)].filter((v) => added.has(v));
    for (const v of used) {
      hits.push(
        hit(s, {
          rule: "enum-value-used-in-same-transaction",
          level: "always",
          message: `uses '${v}', an enum value this file's transaction adds: PostgreSQL refuses it ("unsafe use of new value") and the migration fails`,
          recipe: RECIPES.enumValue,
        }),
      );
    }
  }
  return hits;
}

/** The body of a DO block in PL/pgSQL, as a function PostgreSQL's PL/pgSQL parser reads. */
function plpgsqlBody(s: Statement): string | null {
  const args = (s.node.args as Array<{ DefElem?: { defname?: string; arg?: { String?: { sval?: string } } } }> | undefined) ?? [];
  const language = args.find((a) => a.DefElem?.defname === "language")?.DefElem?.arg?.String?.sval ?? "plpgsql";
  const body = args.find((a) => a.DefElem?.defname === "as")?.DefElem?.arg?.String?.sval;
  return language.toLowerCase() === "plpgsql" && body !== undefined ? body : null;
}

/** Static SQL and dynamic EXECUTEs anywhere in a PL/pgSQL tree. */
function collect(node: unknown, out: { sql: string[]; dynamic: number }): void {
  if (Array.isArray(node)) for (const n of node) collect(n, out);
  else if (node && typeof node === "object") {
    const o = node as Record<string, unknown>;
    const exec = o.PLpgSQL_stmt_execsql as { sqlstmt?: { PLpgSQL_expr?: { query?: string } } } | undefined;
    if (exec?.sqlstmt?.PLpgSQL_expr?.query) out.sql.push(exec.sqlstmt.PLpgSQL_expr.query);
    if (o.PLpgSQL_stmt_dynexecute || o.PLpgSQL_stmt_dynfors || (o.PLpgSQL_stmt_open as { dynquery?: unknown } | undefined)?.dynquery) out.dynamic++;
    for (const v of Object.values(o)) collect(v, out);
  }
}

function doBlockRules(s: Statement, ctx: LintContext): FileHit[] {
  if (s.type !== "DoStmt") return [];
  const hits: FileHit[] = [
    hit(s, { rule: "do-block", message: "a DO block runs procedural code the lint cannot verify (loops, conditions, what it calls)", recipe: RECIPES.doBlock }),
  ];
  const body = plpgsqlBody(s);
  if (body === null) return hits;
  const found = { sql: [] as string[], dynamic: 0 };
  try {
    collect(parsePlPgSQLSync(`CREATE FUNCTION bluegreen_do_block() RETURNS void LANGUAGE plpgsql AS $bluegreen$${body}$bluegreen$`), found);
  } catch {
    return hits;
  }
  if (found.dynamic > 0)
    hits.push(
      hit(s, {
        rule: "dynamic-sql",
        message: `the DO block runs ${found.dynamic} dynamic statement(s) (EXECUTE): what they do is only known when they run`,
        recipe: RECIPES.dynamicSql,
      }),
    );
  for (const text of found.sql) {
    let inner: Statement[];
    try {
      inner = parseStatements(text);
    } catch (error) {
      if (error instanceof SqlSyntaxError) continue;
      throw error;
    }
    for (const i of inner)
      for (const h of checkStatement(i, ctx)) hits.push({ ...h, message: `inside the DO block: ${h.message}`, line: s.line, statement: i.text });
  }
  return hits;
}

/** File-level findings, and per statement the DO-block ones (to keep each at its statement). */
export function fileRules(statements: Statement[], ctx: LintContext): FileHit[] {
  return [...transactionRules(statements), ...statements.flatMap((s) => doBlockRules(s, ctx))];
}

export const FILE_RULE_NAMES = [
  "transaction-control",
  "validate-in-same-transaction",
  "enum-value-used-in-same-transaction",
  "do-block",
  "dynamic-sql",
] as const;
