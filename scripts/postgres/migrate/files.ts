// Migrations are plain SQL files in the user's repository, marked by folder:
//   migrations/expand/*.sql    additive; applied before the first weight moves (blue keeps working)
//   migrations/contract/*.sql  destructive; applied only after a verified cutover, closing the rollback path
// Files apply in name order within a phase (a timestamp or number prefix keeps that order stable).

import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { UsageError } from "../../core/errors.js";

export type Phase = "expand" | "contract";
export const PHASES: readonly Phase[] = ["expand", "contract"];

export interface MigrationFile {
  /** File name without ".sql": the name the journal records. */
  name: string;
  phase: Phase;
  path: string;
  sql: string;
}

/** Journal names are written into SQL by the library: keep them to a safe alphabet. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

export async function readMigrationFile(path: string, phase: Phase): Promise<MigrationFile> {
  const name = basename(path).replace(/\.sql$/i, "");
  if (!NAME.test(name)) {
    throw new UsageError(`${path}: migration names may hold letters, digits, "_", "-" and "." only (and start with a letter or digit)`);
  }
  let sql: string;
  try {
    sql = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`${path}: cannot be read: ${(error as Error).message}`);
  }
  return { name, phase, path, sql };
}

/** Every migration of one phase in `dir/<phase>/`, in name order; none when the folder is absent. */
export async function loadPhase(dir: string, phase: Phase): Promise<MigrationFile[]> {
  const folder = resolve(dir, phase);
  if (!(await isDirectory(folder))) return [];
  const entries = (await readdir(folder)).filter((f) => f.toLowerCase().endsWith(".sql") && !f.startsWith(".")).sort();
  return Promise.all(entries.map((f) => readMigrationFile(join(folder, f), phase)));
}

export async function loadMigrations(dir: string): Promise<Record<Phase, MigrationFile[]>> {
  if (!(await isDirectory(dir))) {
    throw new UsageError(`migrations directory ${dir} does not exist (expected ${dir}/expand/*.sql and ${dir}/contract/*.sql; --dir DIR)`);
  }
  const [expand, contract] = await Promise.all([loadPhase(dir, "expand"), loadPhase(dir, "contract")]);
  const clash = expand.filter((e) => contract.some((c) => c.name === e.name)).map((e) => e.name);
  if (clash.length > 0) throw new UsageError(`${dir}: ${clash.join(", ")} exist in both expand/ and contract/: give each migration one name`);
  return { expand, contract };
}

/** The phase a file belongs to by its folder (…/expand/x.sql), or null. */
export function phaseOfPath(path: string): Phase | null {
  const parts = resolve(path).split(/[\\/]/);
  const folder = parts[parts.length - 2];
  return folder === "expand" || folder === "contract" ? folder : null;
}
