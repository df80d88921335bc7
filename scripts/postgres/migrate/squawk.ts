// squawk (https://squawkhq.com), the PostgreSQL migration linter, for locking hazards: an index
// built without CONCURRENTLY, a table rewrite, a lock taken without lock_timeout. The npm package
// squawk-cli ships the binary in a per-platform optional dependency; it runs offline.

import { execFile } from "node:child_process";
import { createRequire } from "node:module";

export interface SquawkFinding {
  file: string;
  /** 1-based. */
  line: number;
  rule: string;
  message: string;
  help: string | null;
}

export interface SquawkResult {
  available: boolean;
  /** Why squawk did not run, when it did not. */
  reason?: string;
  version?: string;
  findings: SquawkFinding[];
}

/**
 * Style rules that say nothing about blue/green safety or locking; left out so the warnings that
 * matter stand out. Everything else squawk reports is shown.
 */
export const SQUAWK_EXCLUDED = [
  "prefer-bigint-over-int",
  "prefer-bigint-over-smallint",
  "prefer-identity",
  "prefer-text-field",
  "prefer-timestamptz",
  "ban-char-field",
  "prefer-robust-stmts",
  "require-statement-timeout",
];

function binaryPath(): string {
  const require = createRequire(import.meta.url);
  const name = process.platform === "win32" ? "squawk.exe" : "squawk";
  return require.resolve(`@squawk-cli/${process.platform}-${process.arch}/bin/${name}`);
}

function run(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : -1) : 0;
      if (error && code === -1) reject(error);
      else resolve({ code, stdout, stderr });
    });
  });
}

export async function runSquawk(files: string[]): Promise<SquawkResult> {
  if (files.length === 0) return { available: true, findings: [] };
  let bin: string;
  try {
    bin = binaryPath();
  } catch {
    return {
      available: false,
      reason: `the squawk binary for ${process.platform}-${process.arch} is not installed (npm install --include=optional squawk-cli)`,
      findings: [],
    };
  }
  try {
    const [version, result] = await Promise.all([
      run(bin, ["--version"]),
      run(bin, ["--reporter", "json", `--exclude=${SQUAWK_EXCLUDED.join(",")}`, ...files]),
    ]);
    // Exit 1 means "found something"; anything else without JSON is a failure of squawk itself.
    let parsed: Array<{ file: string; line: number; rule_name: string; message: string; help: string | null }>;
    try {
      parsed = JSON.parse(result.stdout || "[]") as typeof parsed;
    } catch {
      return { available: false, reason: `squawk failed (exit ${result.code}): ${result.stderr.trim().slice(0, 300)}`, findings: [] };
    }
    return {
      available: true,
      version: version.stdout.trim().replace(/^squawk\s+/, ""),
      findings: parsed.map((f) => ({ file: f.file, line: f.line + 1, rule: f.rule_name, message: f.message, help: f.help })),
    };
  } catch (error) {
    return { available: false, reason: `squawk could not run: ${(error as Error).message}`, findings: [] };
  }
}
