// The JournalStore port on the local filesystem, for the sandbox and tests. Every save replaces
// the journal atomically and durably (files.ts): a reader (or a crash) sees the old journal or
// the new one, never half of one.

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { JournalStore } from "../core/ports.js";
import { readTextIfExists, writeFileAtomic } from "../fs/atomicFile.js";

export class FileJournal implements JournalStore {
  constructor(readonly path: string) {}

  /** The parsed document, null when there is none; text that is not JSON is returned as is (core/journal.ts reports it as corrupt). */
  async load(): Promise<unknown | null> {
    const text = await readTextIfExists(this.path);
    if (text === null) return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  async save(journal: unknown): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await writeFileAtomic(this.path, `${JSON.stringify(journal, null, 2)}\n`, { mode: 0o600, durable: true });
  }
}
