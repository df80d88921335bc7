// Small filesystem helpers, neutral ground for the CLI and the sandbox alike (the file-backed
// lock and journal, the stack-config write-back, the outputs cache): read a file that may not
// exist, and replace a file atomically (temp file beside it, then rename), so a reader or a
// crash sees the old content or the new one, never half of each.

import { randomBytes } from "node:crypto";
import { open, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** The file's text, or null when it does not exist. Other errors are thrown. */
export async function readTextIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

export interface AtomicWriteOptions {
  /** File mode of a new file; an existing file keeps its own. Default 0o644. */
  mode?: number;
  /** fsync the data and the directory entry (the journal needs it; a config file does not). */
  durable?: boolean;
}

export async function writeFileAtomic(path: string, text: string, options: AtomicWriteOptions = {}): Promise<void> {
  const directory = dirname(path);
  const temp = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  let mode = options.mode ?? 0o644;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch {
    // a new file: the requested mode
  }
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(text, "utf8");
    if (options.durable) await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  if (options.durable) {
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
