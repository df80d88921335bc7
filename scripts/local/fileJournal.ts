// The JournalStore port on the local filesystem, for the sandbox and tests. Every save writes a
// private temp file, fsyncs it and renames it over the journal: a reader (or a crash) sees the
// old journal or the new one, never half of one.

import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { JournalStore } from "../core/ports.js";

export class FileJournal implements JournalStore {
  constructor(readonly path: string) {}

  /** The parsed document, null when there is none; text that is not JSON is returned as is (core/journal.ts reports it as corrupt). */
  async load(): Promise<unknown | null> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  async save(journal: unknown): Promise<void> {
    const directory = dirname(this.path);
    await mkdir(directory, { recursive: true });
    const temp = `${this.path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(journal, null, 2)}\n`, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    // Make the rename itself durable (best effort: not every filesystem allows fsync on a directory).
    try {
      const dir = await open(directory, "r");
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      // ignore
    }
  }
}
