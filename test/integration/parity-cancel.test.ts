// Ctrl-C during parity: the hash queries running on both servers are cancelled (pg_cancel_backend
// on parity's own backends), the run says how many, and pg_stat_activity shows none of parity's
// queries left. The scans are made to outlast any test (every row's hash sleeps on the server, a
// test seam): without the cancellation the run would not end within the test's timeout.

import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type LocalPostgres } from "../../scripts/local/embeddedPostgres.js";
import { ParityInterruptedError, runParity } from "../../scripts/postgres/parity/index.js";
import { createDatabases, execSql, queryRows } from "../support/postgres.js";

const ROOT = resolve(import.meta.dirname, "../..");
/** 200 rows × 0.5 s: a 100 s scan on each side, far beyond the tests' timeouts. */
const SECONDS_PER_ROW = 0.5;

let server: LocalPostgres;

beforeAll(async () => {
  server = await startPostgres({ label: "parity-cancel" });
  await createDatabases(server, "blue_db", "green_db");
  for (const db of ["blue_db", "green_db"]) {
    await execSql(
      server.url(db),
      "CREATE TABLE public.items (id int PRIMARY KEY, v text); INSERT INTO public.items SELECT g, 'v' || g FROM generate_series(1, 200) g",
    );
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
}, 30_000);

interface Backend {
  datname: string;
  state: string | null;
  application_name: string;
  query: string;
}

/** Every backend parity opened (its scans and its cancelling connection), on both databases. */
const parityBackends = () =>
  queryRows<Backend>(
    server.url(),
    "SELECT datname, state, application_name, query FROM pg_stat_activity WHERE application_name LIKE 'bluegreen-parity%' AND pid <> pg_backend_pid()",
  );

/** The sleeping hash scans running now, by database. */
async function runningScans(): Promise<string[]> {
  const rows = await parityBackends();
  return rows
    .filter((r) => r.state === "active" && r.query.includes("pg_sleep"))
    .map((r) => r.datname)
    .sort();
}

/** Polls `check` until it holds: at most `tries` times, `pauseMs` apart. */
async function until(what: string, check: () => Promise<boolean>, tries = 200, pauseMs = 50): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  throw new Error(`${what}: not after ${tries} polls`);
}

describe("parity cancels its queries when interrupted", () => {
  it("aborting the signal cancels the scan on each side, rejects naming the counts, and leaves no parity backend", async () => {
    const controller = new AbortController();
    const run = runParity({
      blueUrl: server.url("blue_db"),
      greenUrl: server.url("green_db"),
      include: ["public.items"],
      parallelism: 1,
      tuning: { secondsPerRow: SECONDS_PER_ROW },
      signal: controller.signal,
    });
    const outcome = run.then(
      () => null,
      (error: unknown) => error,
    );
    await until("a scan running on both sides", async () => (await runningScans()).join() === "blue_db,green_db");
    controller.abort(new Error("Ctrl-C"));
    const error = await outcome;
    expect(error).toBeInstanceOf(ParityInterruptedError);
    expect((error as ParityInterruptedError).cancelled).toEqual({ blue: 1, green: 1 });
    expect((error as ParityInterruptedError).message).toBe("interrupted: cancelled 1 query on blue, 1 on green");
    await until("parity's backends gone", async () => (await parityBackends()).length === 0);
  }, 60_000);

  it("a signal aborted before the run opens no connection", async () => {
    const run = runParity({ blueUrl: server.url("blue_db"), greenUrl: server.url("green_db"), signal: AbortSignal.abort() });
    await expect(run).rejects.toThrow("interrupted: cancelled 0 queries on blue, 0 on green");
    expect(await parityBackends()).toEqual([]);
  });

  it("the command line: SIGINT cancels the scans, says so on stderr and exits 130", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(ROOT, "scripts/parity.ts"), "--blue-env", "T_BLUE_URL", "--green-env", "T_GREEN_URL"].concat([
        "--include",
        "public.items",
        "--parallel",
        "1",
        "--no-save",
        "--seconds-per-row",
        String(SECONDS_PER_ROW),
      ]),
      { cwd: ROOT, env: { ...process.env, NO_COLOR: "1", CI: "true", T_BLUE_URL: server.url("blue_db"), T_GREEN_URL: server.url("green_db") } },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
    try {
      await until("a scan running on both sides", async () => (await runningScans()).join() === "blue_db,green_db");
      child.kill("SIGINT");
      expect(await exited).toBe(130);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    expect(stderr).toContain("interrupted: cancelled 1 query on blue, 1 on green");
    expect(stdout).toBe("");
    expect(stderr).not.toContain(server.password);
    await until("parity's backends gone", async () => (await parityBackends()).length === 0);
  }, 60_000);
});
