// Hook commands (rollout.hooks, e.g. a smoke test that books one appointment and reads it back)
// through `sh -c`, bounded by their timeout: SIGTERM to the process group, then SIGKILL. The tail
// of their output is kept for the journal with secret-looking values and the values of the
// environment we passed in redacted.

import { spawn } from "node:child_process";
import type { HookResult, HookRunner } from "../core/ports.js";
import { redact } from "../core/redact.js";

export class ShellHookRunner implements HookRunner {
  constructor(private readonly cwd: string = process.cwd()) {}

  run(command: string, timeoutMs: number, env: Record<string, string>): Promise<HookResult> {
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn("sh", ["-c", command], { cwd: this.cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
      let output = "";
      const collect = (chunk: Buffer) => {
        output = (output + chunk.toString("utf8")).slice(-8000);
      };
      child.stdout.on("data", collect);
      child.stderr.on("data", collect);
      let timedOut = false;
      const kill = (signal: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          child.kill(signal);
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill("SIGTERM");
        setTimeout(() => kill("SIGKILL"), 2_000).unref();
      }, timeoutMs);
      let done = false;
      const finish = (exitCode: number | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ exitCode, timedOut, durationMs: Date.now() - started, outputTail: redact(output, Object.values(env).filter((value) => value.length >= 6)).slice(-2000) });
      };
      child.on("error", (error) => {
        output += `\n${error.message}`;
        finish(null);
      });
      child.on("close", (code) => finish(timedOut ? null : code));
    });
  }
}
