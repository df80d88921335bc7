// Every file a command is told to read (--config, --outputs) or a directory it will write to
// (--reports), checked before anything is locked or written: a FIFO would hang the command,
// /dev/zero would fill memory for half a minute before failing, an unwritable report directory
// would be found only after a cutover had taken the lock. All refusals are UsageError (exit 2).

import { constants } from "node:fs";
import { access, open, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { UsageError } from "../core/errors.js";

/** A stack config or outputs file is kilobytes; this bounds what is read before it is parsed. */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;

function kind(info: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isDirectory(): boolean }): string {
  if (info.isFIFO()) return "a FIFO (named pipe)";
  if (info.isCharacterDevice() || info.isBlockDevice()) return "a device";
  if (info.isSocket()) return "a socket";
  if (info.isDirectory()) return "a directory";
  return "not a regular file";
}

/**
 * Read a small regular file as text. `what` names it for the operator ("--config FILE", "stack
 * outputs"). Refuses, naming the rule, anything that is not a regular, readable file of at most
 * `maxBytes`; the file is opened once and its size checked on that handle (no swap in between).
 */
export async function readInputFile(path: string, what: string, maxBytes = MAX_INPUT_BYTES): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw Object.assign(new UsageError(`${what} ${path} does not exist`), { code: "ENOENT" });
    throw new UsageError(`${what} ${path} cannot be read (${(error as Error).message})`);
  }
  if (!info.isFile()) throw new UsageError(`${what} ${path} is ${kind(info)}: it must be a regular file`);
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: unknown) => {
    throw new UsageError(`${what} ${path} cannot be read (${(error as Error).message})`);
  });
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) throw new UsageError(`${what} ${path} is ${kind(opened)}: it must be a regular file`);
    if (opened.size > maxBytes) throw new UsageError(`${what} ${path} is ${opened.size} bytes: more than ${maxBytes} bytes, it cannot be a stack's file`);
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

/**
 * A file named on the command line that this command does not read itself (its name is what
 * matters): when it exists, the same rules, unread.
 */
export async function checkNamedFile(path: string, what: string, maxBytes = MAX_INPUT_BYTES): Promise<void> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw new UsageError(`${what} ${path} cannot be read (${error.message})`);
  });
  if (info === null) return;
  if (!info.isFile()) throw new UsageError(`${what} ${path} is ${kind(info)}: it must be a regular file`);
  if (info.size > maxBytes) throw new UsageError(`${what} ${path} is ${info.size} bytes: more than ${maxBytes} bytes, it cannot be a stack's file`);
  await access(path, constants.R_OK).catch(() => {
    throw new UsageError(`${what} ${path} cannot be read (permission denied)`);
  });
}

/**
 * The directory reports will be written to: an existing writable directory, or one that can be
 * created (its nearest existing ancestor is a writable directory). Checked before the lock.
 */
export async function checkWritableDirectory(dir: string, flag: string, cwd: string): Promise<void> {
  const absolute = resolve(cwd, dir);
  let current = absolute;
  for (;;) {
    // ENOTDIR: a parent is a file or a device (/dev/null/x): found as the walk goes up.
    const info = await stat(current).catch((error: NodeJS.ErrnoException) => (error.code === "ENOENT" || error.code === "ENOTDIR" ? null : error));
    if (info instanceof Error) throw new UsageError(`${flag} ${dir}: ${current} cannot be examined (${info.message})`);
    if (info !== null) {
      if (!info.isDirectory()) throw new UsageError(`${flag} ${dir}: ${current} is ${kind(info)}, not a directory: reports cannot be written there`);
      try {
        await access(current, constants.W_OK | constants.X_OK);
      } catch {
        throw new UsageError(
          `${flag} ${dir}: ${current === absolute ? "the directory" : `${current}, where it would be created,`} is not writable: reports cannot be written there`,
        );
      }
      return;
    }
    const parent = dirname(current);
    if (parent === current) throw new UsageError(`${flag} ${dir}: no existing directory above it`);
    current = parent;
  }
}
