// Hook commands (rollout.hooks, e.g. a smoke test that books one appointment and reads it back)
// through `sh -c`, in a process group of their own, bounded by their timeout and by the engine's
// signal. Either one stops the whole group: SIGTERM, then SIGKILL after a short grace for a hook
// that ignores it. The result is given only once the hook's processes have gone (its output
// pipes closed), so nothing of an interrupted hook outlives the run that started it. A timeout is
// the hook's failure; an abort (the operator's Ctrl-C) is `interrupted`, no verdict at all. The
// tail of the output is kept for the journal, with secret-looking values and the values of the
// environment we passed in redacted.

import { spawn } from "node:child_process";
import type { HookResult, HookRunner } from "../core/ports.js";
import { redact } from "../core/redact.js";

/** How long a hook gets to exit after SIGTERM before its process group gets SIGKILL. */
const KILL_GRACE_MS = 2_000;

export interface ShellHookRunnerOptions {
  /** SIGTERM → SIGKILL grace; default KILL_GRACE_MS. */
  killGraceMs?: number;
}

export class ShellHookRunner implements HookRunner {
  private readonly killGraceMs: number;

  constructor(
    private readonly cwd: string = process.cwd(),
    options: ShellHookRunnerOptions = {},
  ) {
    this.killGraceMs = options.killGraceMs ?? KILL_GRACE_MS;
  }

  run(command: string, timeoutMs: number, env: Record<string, string>, signal?: AbortSignal): Promise<HookResult> {
    const started = Date.now();
    const secrets = Object.values(env).filter((value) => value.length >= 6);
    if (signal?.aborted) {
      return Promise.resolve({ exitCode: null, timedOut: false, interrupted: true, durationMs: 0, outputTail: "not started: the run was interrupted" });
    }
    return new Promise((resolve) => {
      // detached: the hook leads its own process group, so one kill reaches everything it started.
      const child = spawn("sh", ["-c", command], { cwd: this.cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
      let output = "";
      const collect = (chunk: Buffer) => {
        output = (output + chunk.toString("utf8")).slice(-8000);
      };
      child.stdout.on("data", collect);
      child.stderr.on("data", collect);
      let done = false;
      let timedOut = false;
      let interrupted = false;
      let escalation: NodeJS.Timeout | undefined;
      const kill = (sig: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, sig);
        } catch {
          child.kill(sig);
        }
      };
      const stop = () => {
        if (escalation !== undefined) return;
        kill("SIGTERM");
        escalation = setTimeout(() => kill("SIGKILL"), this.killGraceMs);
        escalation.unref();
      };
      const timer = setTimeout(() => {
        timedOut = true;
        stop();
      }, timeoutMs);
      const onAbort = () => {
        if (done) return;
        interrupted = !timedOut;
        stop();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const finish = (exitCode: number | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearTimeout(escalation);
        signal?.removeEventListener("abort", onAbort);
        const note = interrupted ? `${output.endsWith("\n") || output === "" ? "" : "\n"}(stopped: the run was interrupted)` : "";
        resolve({
          exitCode: timedOut || interrupted ? null : exitCode,
          timedOut,
          ...(interrupted ? { interrupted: true } : {}),
          durationMs: Date.now() - started,
          outputTail: redact(output + note, secrets).slice(-2000),
        });
      };
      child.on("error", (error) => {
        output += `\n${error.message}`;
        finish(null);
      });
      // "close": the process has exited and every holder of its output pipes (the group) is gone.
      child.on("close", (code) => finish(code));
    });
  }
}
