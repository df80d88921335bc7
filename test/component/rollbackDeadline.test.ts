// `rollback --deadline`: a bound on time to an answer, against endpoints that never answer or
// never apply. In process, with the SDK reaching local servers through its own AWS_ENDPOINT_URL
// variables: a black hole (127.0.0.1, accepts TCP, never answers; every socket destroyed in
// afterAll) and the mock AWS of bench/rollbackStartup.ts, which can accept weight writes without
// applying them. The assertions are on exit codes, output and the state left in SSM, never on
// elapsed time: a rollback that hung would fail by the test's own timeout.

import { spawnSync } from "node:child_process";
import { BlackHole } from "../support/blackHole.js";
import { hostname } from "node:os";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { MockAws } from "../../bench/rollbackStartup.js";
import { decodeJournal } from "../../scripts/aws/ssmJournal.js";
import { parseDeadline, rollbackMain } from "../../scripts/cli/rollbackMain.js";
import { cleanupReserveMs } from "../../scripts/app/policies/deadline.js";
import { useCliHarness } from "../support/cliHarness.js";

const LOCK = "/bluegreen/bluegreen/prod/lock";
const JOURNAL = "/bluegreen/bluegreen/prod/journal";
const cli = useCliHarness({ dirPrefix: "bluegreen-deadline-", weights: { blue: 0, green: 100 } });
let mock: MockAws;
let hole: BlackHole;
let listener: string;

const rollback = (argv: string[]) => cli.run(rollbackMain, ["--stack", "prod", "--outputs", "outputs.json", ...argv]);

beforeAll(async () => {
  hole = await new BlackHole().start();
});

afterAll(() => hole.close());

beforeEach(() => {
  mock = cli.mock;
  listener = cli.outputs.listenerArns[0]!;
  process.env.AWS_ENDPOINT_URL = mock.url;
  delete process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2;
});

describe("rollback --deadline", () => {
  it("parses seconds and keeps a reserve for recording the outcome", () => {
    expect(parseDeadline(undefined)).toBe(60_000);
    expect(parseDeadline("2.5")).toBe(2_500);
    for (const bad of ["0", "-1", "abc", "1e309", "3601"])
      expect(() => parseDeadline(bad)).toThrow(/--deadline .*: must be a number of seconds from 1 to 3600/);
    expect(cleanupReserveMs(60_000)).toBe(5_000);
    expect(cleanupReserveMs(2_000)).toBe(400);
  });

  it("a black-holed endpoint: it stops at the deadline, says it never read the live weights, exit 3", { timeout: 30_000 }, async () => {
    process.env.AWS_ENDPOINT_URL = hole.url;
    hole.accepted = 0;
    const result = await rollback(["--deadline", "2"]);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(
      /PutParameter \/bluegreen\/bluegreen\/prod\/lock: not answered before it was stopped \(the rollback deadline \(--deadline 2 s\) has passed\)/,
    );
    expect(result.stderr).toMatch(/stopped at the deadline: live weights not read \(AWS did not answer\)/);
    expect(hole.accepted).toBeGreaterThan(0); // it did try
  });

  it("ELBv2 black-holed, SSM answering: failed-rollback in the journal, the lock released, exit 3", { timeout: 30_000 }, async () => {
    process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = hole.url;
    const result = await rollback(["--deadline", "3"]);
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expect(result.stdout).toMatch(/ROLLBACK FAILED|rollback .*failed/i);
    expect(result.stderr).toMatch(/rollback failed-rollback/);
    expect(result.stderr).toMatch(/stopped at the deadline \(--deadline 3 s\): live weights not read/);
    // The journal says what happened (not "rolling-back", as if someone were still at it), and the lock is free.
    const stored = decodeJournal(mock.state.parameters.get(JOURNAL)!, (name) => mock.state.parameters.get(name)) as {
      phase: string;
      timeline: Array<{ type: string; message?: string; detail?: string }>;
    };
    expect(stored.phase, result.stdout + result.stderr).toBe("failed-rollback");
    expect(mock.state.parameters.has(LOCK)).toBe(false);
    // No weight write reached the real endpoint: traffic is where it was.
    expect(mock.state.listeners.get(listener)!.weights).toEqual({ blue: 0, green: 100 });
  });

  it(
    "an endpoint that accepts writes but never applies them: failed rollback within the deadline, with the live weights, exit 1",
    { timeout: 30_000 },
    async () => {
      mock.state.neverApply = true;
      const result = await rollback(["--deadline", "2.5", "--verify-timeout", "1"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/rollback failed-rollback: .*blue 0 \/ green 100/);
      expect(result.stderr).toMatch(/stopped at the deadline \(--deadline 2.5 s\): .*blue 0 \/ green 100/);
      const writes = mock.calls.filter((c) => c.action === "ModifyListener").length;
      const reads = mock.calls.filter((c) => c.action === "DescribeListeners").length;
      // A write that succeeded is re-read, not rewritten: more reads than writes, and at most 3 writes.
      expect(writes).toBeGreaterThanOrEqual(1);
      expect(writes).toBeLessThanOrEqual(3);
      expect(reads).toBeGreaterThan(writes);
      const journal = decodeJournal(mock.state.parameters.get(JOURNAL)!, (name) => mock.state.parameters.get(name)) as {
        phase: string;
        rollback: { detail: string };
      };
      expect(journal.phase).toBe("failed-rollback");
      expect(journal.rollback.detail).toMatch(/NOT verified on blue/);
      expect(mock.state.parameters.has(LOCK)).toBe(false);
    },
  );

  it(
    "a write accepted but not applied (lost once): written again and verified within the deadline, without --verify-timeout, exit 0",
    { timeout: 30_000 },
    async () => {
      mock.state.dropWrites.set(listener, 1);
      const result = await rollback(["--deadline", "8"]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(mock.calls.filter((c) => c.action === "ModifyListener")).toHaveLength(2);
      expect(mock.state.listeners.get(listener)!.weights).toEqual({ blue: 100, green: 0 });
      const journal = decodeJournal(mock.state.parameters.get(JOURNAL)!, (name) => mock.state.parameters.get(name)) as {
        phase: string;
        rollback: { attempts: number };
      };
      expect(journal.phase).toBe("rolled-back");
      expect(journal.rollback.attempts).toBe(2);
    },
  );

  it("an endpoint that applies: verified well inside the deadline, exit 0, no rewrite", { timeout: 30_000 }, async () => {
    const result = await rollback(["--deadline", "5"]);
    expect(result.code).toBe(0);
    expect(mock.calls.filter((c) => c.action === "ModifyListener")).toHaveLength(1);
    expect(mock.state.listeners.get(listener)!.weights).toEqual({ blue: 100, green: 0 });
    expect(result.stdout).toMatch(/verified 0? ?blue 100 \/ green 0|verified blue 100 \/ green 0/);
    expect(result.stdout).toMatch(/ms after the rollback was requested/);
    expect(result.stdout).not.toMatch(/after the breach/);
  });
});

describe("a lock held by a process that died on this host", () => {
  it("is taken over without --force (an emergency needs no second command), and the journal says so", async () => {
    const child = spawnSync(process.execPath, ["-e", "0"]);
    const deadPid = child.pid!;
    mock.state.parameters.set(LOCK, JSON.stringify({ owner: `ana@${hostname()} pid ${deadPid}`, since: 1, operation: "rollback", runId: "a-run-that-died" }));
    const result = await rollback([]);
    expect(result.code, result.stderr).toBe(0);
    expect(mock.calls.filter((c) => c.action === "ModifyListener")).toHaveLength(1);
    expect(mock.state.listeners.get(listener)!.weights).toEqual({ blue: 100, green: 0 });
    const journal = decodeJournal(mock.state.parameters.get(JOURNAL)!, (name) => mock.state.parameters.get(name)) as {
      timeline: Array<{ type: string; action?: string; detail?: string }>;
    };
    const takenOver = journal.timeline.find((e) => e.type === "lock" && e.action === "taken-over");
    expect(takenOver?.detail).toBe(
      `took over the lock of ana@${hostname()} pid ${deadPid} (rollback, run a-run-that-died): that process is no longer running on this host`,
    );
    expect(mock.state.parameters.has(LOCK)).toBe(false);
  });

  it("a live holder is not called dead", async () => {
    mock.state.parameters.set(LOCK, JSON.stringify({ owner: `ana@${hostname()} pid ${process.ppid}`, since: 1, operation: "cutover", runId: "running" }));
    const result = await rollback([]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/wait for it to finish, or take over with `.*--force` if you know it is dead/);
    expect(result.stderr).not.toMatch(/no longer running/);
  });
});

describe("Ctrl-C in rollback", () => {
  /** Emit SIGINT once `ready()` holds (polled, bounded); only the first Ctrl-C: a second exits the process. */
  async function interruptWhen(ready: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !ready(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    process.emit("SIGINT", "SIGINT");
  }

  it("before anything is written: it stops, exit 130, nothing written", { timeout: 30_000 }, async () => {
    process.env.AWS_ENDPOINT_URL = hole.url;
    const before = hole.accepted;
    const [result] = await Promise.all([rollback(["--deadline", "20"]), interruptWhen(() => hole.accepted > before)]);
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/interrupted before anything was written: stopping/);
    expect(result.stderr).toMatch(/interrupted: nothing was written/);
  });

  it("once it writes: the first Ctrl-C lets the write and the read-back finish", { timeout: 30_000 }, async () => {
    mock.state.neverApply = true;
    const [result] = await Promise.all([
      rollback(["--deadline", "2.5", "--verify-timeout", "1"]),
      interruptWhen(() => mock.calls.some((c) => c.action === "ModifyListener")),
    ]);
    expect(result.stderr).toMatch(/finishing the rollback \(write and read-back\), Ctrl-C again to exit now/);
    // It went on to its own end (here: not verified, the endpoint never applies), not 130.
    expect(result.code).toBe(1);
    expect(mock.calls.filter((c) => c.action === "DescribeListeners").length).toBeGreaterThan(1);
    expect(mock.state.parameters.has(LOCK)).toBe(false);
  });
});
