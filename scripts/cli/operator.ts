// Who is operating, and asking them to confirm.

import { hostname, userInfo } from "node:os";
import type { LockHolder } from "../core/ports.js";
import { UsageError } from "./common.js";

/** The lock owner: "user@host pid 1234". */
export function lockOwner(): string {
  let user = process.env.USER ?? "unknown";
  try {
    user = userInfo().username;
  } catch {
    // keep $USER
  }
  return `${user}@${hostname()} pid ${process.pid}`;
}

/** Whether a lock owner ("user@host pid 1234") is a process that no longer runs on this host; null when it cannot be told (another host, no pid). */
export function holderIsDeadHere(owner: string): boolean | null {
  const match = /^[^@\s]*@(\S+) pid (\d+)$/.exec(owner);
  if (!match || match[1] !== hostname()) return null;
  const pid = Number(match[2]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return false;
  } catch (error) {
    // EPERM: it exists and belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** The lock holder in words, saying so when it is a dead process on this host, with the command that takes over. */
export function describeLockHolder(holder: LockHolder, takeOver: string): string {
  const since = holder.since > 0 ? ` since ${new Date(holder.since).toISOString()}` : "";
  const base = `${holder.operation} by ${holder.owner} holds the lock${since}`;
  if (holderIsDeadHere(holder.owner)) {
    return `${base}, and that process is no longer running on this host (it died without releasing the lock): take over with \`${takeOver}\``;
  }
  return `${base}; wait for it to finish, or take over with \`${takeOver}\` if you know it is dead`;
}

/** Before any AWS call: without --yes there must be a terminal to type PROCEED on. */
export function requireConfirmationChannel(yes: boolean, stdin: { isTTY?: boolean }, what: string): void {
  if (!yes && stdin.isTTY !== true) {
    throw new UsageError(`${what} asks the operator to type PROCEED, and stdin is not a terminal: pass --yes to run unattended (or --dry-run to see the plan)`);
  }
}

/** Ask for the word PROCEED on stdin; anything else cancels. */
export async function askProceed(
  stdin: NodeJS.ReadableStream,
  prompt: NodeJS.WritableStream,
  question = "Type PROCEED to start, anything else cancels: ",
): Promise<boolean> {
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: stdin, output: prompt, terminal: false });
  prompt.write(question);
  try {
    const answer = await new Promise<string | null>((resolve) => {
      rl.once("line", (line) => resolve(line));
      rl.once("close", () => resolve(null));
    });
    return answer !== null && answer.trim() === "PROCEED";
  } finally {
    rl.close();
  }
}
