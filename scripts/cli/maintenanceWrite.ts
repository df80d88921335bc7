// `npm run maintenance`'s write: the fence's mode set, then read back until every rule shows it,
// with Ctrl-C handled so an operator is never left not knowing what the fence is.

import type { Io } from "./args.js";
import type { FenceMode } from "../core/ports.js";
import type { AlbFence } from "../aws/albFence.js";

type RuleModes = Awaited<ReturnType<AlbFence["readEach"]>>;

/**
 * Writes the fence's mode, then reads the rules back every second until they all show it or
 * `verifySeconds` have passed. The first Ctrl-C lets the write and the read-back finish; a second
 * exits at once (130), printing the modes last read.
 */
export async function writeFenceVerified(
  fence: AlbFence,
  mode: FenceMode,
  verifySeconds: number,
  io: Io,
  stack: string,
): Promise<{ before: RuleModes; after: RuleModes }> {
  const before = await fence.readEach();
  let after = before;
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts === 1) {
      io.stderr.write("\nfinishing the fence write and its read-back, Ctrl-C again to exit now\n");
      return;
    }
    io.stderr.write(
      `\nexiting now: fence rules last read as ${after.map((r) => `${r.rule}=${r.mode}`).join(", ")}; check with \`npm run status -- --stack ${stack}\`\n`,
    );
    process.exit(130);
  };
  process.on("SIGINT", onSigint);
  try {
    await fence.set(mode);
    const deadline = Date.now() + verifySeconds * 1000;
    after = await fence.readEach();
    while (!after.every((rule) => rule.mode === mode) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      after = await fence.readEach();
    }
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
  return { before, after };
}
