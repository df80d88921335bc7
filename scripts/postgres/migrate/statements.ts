// SQL split into statements by PostgreSQL's own parser (libpg-query: the server's grammar
// compiled to WebAssembly), each with its text, line and parse tree. No regexes over SQL.

import { loadModule, parseSync } from "libpg-query";

/** One parse-tree node: { NodeType: { ...fields } }. */
export type Node = Record<string, unknown>;

export interface Statement {
  /** 1-based line of the statement's first character in the file. */
  line: number;
  /** The statement text, trimmed, without its semicolon. */
  text: string;
  /** The node type, e.g. "AlterTableStmt", "IndexStmt". */
  type: string;
  /** That node's fields. */
  node: Node;
}

export class SqlSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = "SqlSyntaxError";
  }
}

let loaded: Promise<void> | null = null;
/** The WebAssembly module loads once per process. */
export function loadParser(): Promise<void> {
  loaded ??= loadModule().then(() => undefined);
  return loaded;
}

function lineAt(sql: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < sql.length; i++) if (sql.charCodeAt(i) === 10) line++;
  return line;
}

/** Byte offsets from the parser → string indexes (they differ past non-ASCII text). */
function byteToIndex(sql: string): (byte: number) => number {
  const bytes = Buffer.from(sql, "utf8");
  if (bytes.length === sql.length) return (b) => b;
  return (b) => bytes.subarray(0, b).toString("utf8").length;
}

/** Parse a whole file. Call loadParser() once first. */
export function parseStatements(sql: string): Statement[] {
  let tree: { stmts?: Array<{ stmt: Node; stmt_location?: number; stmt_len?: number }> };
  try {
    tree = parseSync(sql) as typeof tree;
  } catch (error) {
    const e = error as { message?: string; sqlDetails?: { cursorPosition?: number } };
    const at = e.sqlDetails?.cursorPosition;
    const line = typeof at === "number" ? lineAt(sql, at) : 1;
    throw new SqlSyntaxError(line, e.message ?? String(error));
  }
  const toIndex = byteToIndex(sql);
  const bytes = Buffer.byteLength(sql, "utf8");
  return (tree.stmts ?? []).map((s) => {
    const startByte = s.stmt_location ?? 0;
    const endByte = s.stmt_len ? startByte + s.stmt_len : bytes;
    const start = toIndex(startByte);
    const raw = sql.slice(start, toIndex(endByte));
    const lead = raw.length - raw.trimStart().length;
    const [type, node] = Object.entries(s.stmt)[0] as [string, Node];
    return { line: lineAt(sql, start + lead), text: raw.trim().replace(/;$/, ""), type, node };
  });
}

/** Statements PostgreSQL refuses inside a transaction block: the migration then runs statement by statement. */
export function needsNoTransaction(statements: Statement[]): boolean {
  return statements.some(
    (s) =>
      (s.type === "IndexStmt" && s.node.concurrent === true) ||
      (s.type === "DropStmt" && s.node.concurrent === true) ||
      (s.type === "ReindexStmt" && JSON.stringify(s.node.params ?? []).includes('"concurrently"')) ||
      s.type === "VacuumStmt" ||
      s.type === "CreatedbStmt" ||
      s.type === "DropdbStmt" ||
      s.type === "AlterSubscriptionStmt" ||
      s.type === "CreateSubscriptionStmt",
  );
}

/** "schema.name" or "name" of a RangeVar node. */
export function relationName(rangeVar: unknown): string {
  const r = (rangeVar ?? {}) as { schemaname?: string; relname?: string };
  return r.schemaname ? `${r.schemaname}.${r.relname ?? "?"}` : (r.relname ?? "?");
}

/** Dotted name from a list of String nodes (DROP objects, type names). */
export function dottedName(list: unknown): string {
  if (!Array.isArray(list)) return "?";
  return list
    .map((n) => (n as { String?: { sval?: string } }).String?.sval ?? "")
    .filter((s) => s !== "")
    .join(".");
}
