// Applying one phase's migrations to one database through node-pg-migrate: its journal table,
// its advisory lock (two runs at once cannot both apply), one transaction per migration (a
// failure leaves the ones before it applied and journaled: re-running resumes at the failed one).
// Our loader hands it each SQL file as PostgreSQL's parser split it: a file with a statement that
// cannot run in a transaction (CREATE INDEX CONCURRENTLY, ...) runs statement by statement
// without one. A file with its own transaction control (BEGIN, COMMIT, SAVEPOINT …) is refused
// here too, before anything runs (the lint refuses it first): its COMMIT would end our
// transaction halfway and leave the file applied in part and unjournaled. node-pg-migrate's own
// banners are not printed: the caller prints one line per file.

import { runner, type RunnerOption } from "node-pg-migrate";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type pg from "pg";
import { UsageError } from "../../core/errors.js";
import { connectClient } from "../../net/pgConnection.js";
import { JOURNAL_SCHEMA } from "./journal.js";
import { loadParser, needsNoTransaction, parseStatements } from "./statements.js";
import type { Phase } from "./files.js";
import { ALLOWABLE, allowancesOf, recordAllowancesSql } from "./allowances.js";

/** node-pg-migrate's MigrationBuilder, the two calls we use. */
interface Builder {
  sql(text: string): void;
  noTransaction(): void;
}

const loadUnitsOf = (phase: Phase) => async (filePaths: string[]) => {
  await loadParser();
  return Promise.all(
    filePaths.map(async (path) => {
      const sql = await readFile(path, "utf8");
      const statements = parseStatements(sql);
      const control = statements.find((s) => s.type === "TransactionStmt");
      if (control)
        throw new UsageError(
          `${path}: line ${control.line}: ${control.text.split(/\s+/)[0]!.toUpperCase()}: a migration file must not control transactions (each file runs in one transaction of its own); remove BEGIN/COMMIT/SAVEPOINT`,
        );
      const noTransaction = needsNoTransaction(statements);
      const allowances = allowancesOf(sql).filter((a) => (ALLOWABLE as readonly string[]).includes(a.rule) && a.reason !== "");
      const record = recordAllowancesSql(phase, basename(path).replace(/\.sql$/i, ""), allowances);
      return {
        id: path,
        filePaths: [path],
        actions: {
          up: (pgm: Builder) => {
            if (noTransaction) {
              pgm.noTransaction();
              for (const s of statements) pgm.sql(s.text);
            } else {
              pgm.sql(sql);
            }
            for (const r of record) pgm.sql(r);
          },
          // Contract is the way forward, not back: no down migrations.
          down: false as const,
        },
      };
    }),
  );
};

const NOISE = /not wrapped in a transaction/i;

export interface ApplyOneOptions {
  /** The phase's folder (dir/expand or dir/contract). */
  folder: string;
  phase: Phase;
  /** Only this migration (by name); default every pending one. */
  only?: string;
  log?: (line: string) => void;
}

/** Apply pending migrations of one phase on one database; returns the names applied. */
export async function applyOnDatabase(config: pg.ClientConfig, options: ApplyOneOptions): Promise<string[]> {
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    options.log?.(line);
  };
  // Our connection (net/pgConnection.ts: bounded connect, application name), not one of node-pg-migrate's own.
  const client = await connectClient(config, { applicationName: "bluegreen-migrate" });
  const runOptions: RunnerOption = {
    dbClient: client,
    dir: options.folder,
    direction: "up",
    migrationsSchema: JOURNAL_SCHEMA,
    createMigrationsSchema: true,
    migrationsTable: options.phase,
    singleTransaction: false,
    checkOrder: true,
    advisoryLockMode: "wait",
    ...(options.only ? { file: options.only } : {}),
    ignorePattern: "(?:\\..*|.*(?<!\\.sql))",
    migrationLoaderStrategies: [{ extensions: [".sql"], loader: loadUnitsOf(options.phase) as never }],
    // Banners ("### MIGRATION …", "> Migrating files:") and the SQL itself are info; the one
    // warning it prints for every file without a transaction is the expected path for CONCURRENTLY.
    logger: { debug: () => undefined, info: () => undefined, warn: (line: string) => (NOISE.test(line) ? undefined : log(line)), error: log },
  };
  try {
    const done = await runner(runOptions);
    return done.map((m) => m.name);
  } catch (error) {
    const message = (error as Error).message;
    if (/is preceding already run migration/.test(message)) {
      throw new UsageError(`${options.phase}: ${message}: a new migration must sort after those already applied (rename it with a later prefix)`);
    }
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
