// OperatorRequestChannel in a sandbox run directory: one JSON file, replaced atomically, so a
// reader sees the old request or the new one, never half of one (as the SSM parameter on AWS).

import { mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import type { OperatorRequest } from "../core/operatorRequest.js";
import type { OperatorRequestChannel } from "../core/ports.js";
import { readTextIfExists, writeFileAtomic } from "../fs/atomicFile.js";

export class FileOperatorRequests implements OperatorRequestChannel {
  constructor(readonly path: string) {}

  async read(): Promise<unknown | null> {
    const text = await readTextIfExists(this.path);
    if (text === null) return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  async write(request: OperatorRequest): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await writeFileAtomic(this.path, `${JSON.stringify(request)}\n`, { mode: 0o600, durable: true });
  }

  async clear(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
