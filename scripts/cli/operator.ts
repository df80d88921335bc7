// Who is operating, and asking them to confirm.

import { hostname, userInfo } from "node:os";
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

/** Before any AWS call: without --yes there must be a terminal to type PROCEED on. */
export function requireConfirmationChannel(yes: boolean, stdin: { isTTY?: boolean }, what: string): void {
  if (!yes && stdin.isTTY !== true) {
    throw new UsageError(`${what} asks the operator to type PROCEED, and stdin is not a terminal: pass --yes to run unattended (or --dry-run to see the plan)`);
  }
}

/** Ask for the word PROCEED on stdin; anything else cancels. */
export async function askProceed(stdin: NodeJS.ReadableStream, prompt: NodeJS.WritableStream, question = "Type PROCEED to start, anything else cancels: "): Promise<boolean> {
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
