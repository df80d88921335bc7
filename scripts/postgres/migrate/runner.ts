// Applying one phase's migrations to one database through node-pg-migrate: its journal table,
// its advisory lock (two runs at once cannot both apply), one transaction per migration (a
// failure leaves the ones before it applied and journaled: re-running resumes at the failed one).
// Our loader hands it each SQL file as PostgreSQL's parser split it: a file with a statement that
// cannot run in a transaction (CREATE INDEX CONCURRENTLY, ...) runs statement by statement
// without one.

import { runner, type RunnerOption } from "node-pg-migrate";
import { readFile } from "node:fs/promises";
import type pg from "pg";
import { UsageError } from "../../core/errors.js";
import { JOURNAL_SCHEMA } from "./journal.js";
import { loadParser, needsNoTransaction, parseStatements } from "./statements.js";
import type { Phase } from "./files.js";

/** node-pg-migrate's MigrationBuilder, the two calls we use. */
interface Builder {
  sql(text: string): void;
  noTransaction(): void;
}

async function loadUnits(filePaths: string[]) {
  await loadParser();
  return Promise.all(
    filePaths.map(async (path) => {
      const sql = await readFile(path, "utf8");
      const statements = parseStatements(sql);
      const noTransaction = needsNoTransaction(statements);
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
          },
          // Contract is the way forward, not back: no down migrations.
          down: false as const,
        },
      };
    }),
  );
}

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
  const runOptions: RunnerOption = {
    databaseUrl: config,
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
    migrationLoaderStrategies: [{ extensions: [".sql"], loader: loadUnits as never }],
    logger: { debug: () => undefined, info: log, warn: log, error: log },
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
  }
}
