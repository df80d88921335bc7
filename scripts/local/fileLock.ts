// The Lock port on the local filesystem, for the sandbox and tests. The lock is a file holding
// the holder as JSON, created atomically and exclusively: the JSON is written to a private temp
// file first and then hard-linked to the lock path (link(2) fails with EEXIST when the lock
// exists, exactly like open(O_CREAT|O_EXCL) / flag "wx", but a reader can never see a
// half-written holder).

import { randomBytes } from "node:crypto";
import { link, mkdir, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { LockHeldError, type Lock, type LockHolder } from "../core/ports.js";
import { readTextIfExists } from "../fs/atomicFile.js";

export class FileLock implements Lock {
  constructor(readonly path: string) {}

  async acquire(holder: LockHolder): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(temp, `${JSON.stringify(holder)}\n`, { flag: "wx", mode: 0o644 });
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          await link(temp, this.path);
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
          const current = await this.current();
          if (current) throw new LockHeldError(current);
          // Released between our link and our read: try again.
        }
      }
      throw new Error(`could not acquire the lock ${this.path}: it keeps appearing and disappearing`);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async release(owner: string): Promise<void> {
    const current = await this.current();
    if (current?.owner === owner) await unlinkIfPresent(this.path);
  }

  async breakLock(): Promise<LockHolder | null> {
    const current = await this.current();
    await unlinkIfPresent(this.path);
    return current;
  }

  async current(): Promise<LockHolder | null> {
    const text = await readTextIfExists(this.path);
    if (text === null) return null;
    try {
      const value = JSON.parse(text) as Partial<LockHolder>;
      if (typeof value.owner === "string" && typeof value.since === "number" && typeof value.operation === "string") {
        return {
          owner: value.owner,
          since: value.since,
          operation: value.operation,
          ...(typeof value.runId === "string" ? { runId: value.runId } : {}),
        };
      }
    } catch {
      // fall through: an unreadable lock is still a held lock
    }
    return { owner: `unknown (unreadable lock file ${this.path})`, since: 0, operation: "unknown" };
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
