// `status --deadline`: a bound on time to an answer. In process, with the SDK reaching local
// servers through its own AWS_ENDPOINT_URL variables: a black hole (127.0.0.1, accepts TCP, never
// answers; every socket destroyed in afterAll) and the mock AWS of bench/rollbackStartup.ts. The
// deadline is the test's AbortSignal (StatusHooks.deadline), aborted on events: once the black
// hole holds every call sent to it and the answering sections have settled. The timer itself is
// checked on virtual time. Nothing asserts on elapsed real time: a status that hung would fail by
// the test's own timeout.

import { writeFile } from "node:fs/promises";
import { BlackHole } from "../support/blackHole.js";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { MockAws } from "../../bench/rollbackStartup.js";
import { abortAfter, parseDeadlineSeconds } from "../../scripts/app/policies/deadline.js";
import { statusMain, type StatusHooks, type StatusReport } from "../../scripts/cli/statusMain.js";
import { useCliHarness } from "../support/cliHarness.js";

const cli = useCliHarness({ dirPrefix: "bluegreen-status-deadline-", weights: { blue: 100, green: 0 }, copyProdConfig: true });
let mock: MockAws;
/** The black hole the sections wait in; hole.onAccept is this test's deadline check. */
let hole: BlackHole;

const status = (argv: string[], hooks: StatusHooks = {}) =>
  cli.run((args, io) => statusMain(args, io, hooks), ["--stack", "prod", "--outputs", "outputs.json", ...argv]);

/**
 * Poll (bounded) until `ready()`; the condition is an event, the loop only waits for it. The bound
 * (5 s) is under the SDK's 10 s request timeout, so a call left to that timeout instead of being
 * aborted fails the wait.
 */
async function until(ready: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !ready(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!ready()) throw new Error(`never happened: ${what}`);
}

/** A deadline aborted once `ready()` holds (checked as each section settles and on each new connection). */
function deadlineWhen(ready: (settled: ReadonlySet<string>) => boolean): { hooks: StatusHooks; settled: Set<string> } {
  const controller = new AbortController();
  const settled = new Set<string>();
  const check = () => {
    if (!controller.signal.aborted && ready(settled)) controller.abort(new Error("the test's deadline"));
  };
  hole.onAccept = () => setImmediate(check);
  return {
    settled,
    hooks: {
      deadline: controller.signal,
      onSection: (name) => {
        settled.add(name);
        check();
      },
    },
  };
}

beforeAll(async () => {
  hole = await new BlackHole().start();
});

afterAll(() => hole.close());

beforeEach(() => {
  mock = cli.mock;
  hole.accepted = 0;
  process.env.AWS_ENDPOINT_URL = mock.url;
  delete process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2;
});

afterEach(() => {
  hole.onAccept = () => undefined;
});

describe("status --deadline", () => {
  it("is parsed before any AWS call: a bad value is exit 2", async () => {
    for (const bad of ["0", "soon", "3601"]) {
      const result = await status(["--deadline", bad]);
      expect(result.code, result.out).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`--deadline ${bad}: must be a number of seconds from 1 to 3600`));
    }
    expect(mock.calls).toEqual([]);
    expect(parseDeadlineSeconds(undefined, 20)).toBe(20_000);
    expect(parseDeadlineSeconds("2.5", 20)).toBe(2_500);
  });

  it("an endpoint that answers: everything read, exit 0; the default deadline is 20 s and did not pass", async () => {
    const result = await status(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as StatusReport;
    expect(report.deadline).toEqual({ seconds: 20, passed: false, unanswered: [] });
    expect(report.routes.ok).toBe(true);
  });

  it(
    "ELBv2 black-holed: at the deadline it prints what SSM and CloudWatch answered, the rest as not answered, exit 3; the calls are cut",
    { timeout: 30_000 },
    async () => {
      process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = hole.url;
      // DescribeListeners, DescribeTargetHealth × 2 and DescribeRules wait in the hole; the SSM and CloudWatch sections have answered.
      const { hooks, settled } = deadlineWhen(
        (done) => hole.accepted >= 4 && ["weights parameter", "lock", "last run", "alarms"].every((name) => done.has(name)),
      );
      const result = await status([], hooks);
      expect(result.code, result.out).toBe(3);
      expect(result.stdout).toMatch(/live: error: not answered before the deadline \(--deadline 20 s\)/);
      expect(result.stdout).toMatch(/blue: error: not answered before the deadline/);
      expect(result.stdout).toMatch(/parameter \/bluegreen\/bluegreen\/prod\/weights: /); // read
      expect(result.stdout).toMatch(/lock\n {2}free/);
      expect(result.stdout).toMatch(/last run\n {2}none/);
      expect(result.stderr).toMatch(
        /status stopped at the deadline \(--deadline 20 s\): live weights, blue target health, green target health, write fence not answered by AWS in time; what was read is shown above/,
      );
      expect([...settled].sort()).toEqual([
        "alarms",
        "blue target health",
        "green target health",
        "last run",
        "live weights",
        "lock",
        "weights parameter",
        "write fence",
      ]);
      // The calls in the hole were aborted with the deadline (their sockets closed by the client), not left to the SDK's timeouts.
      await until(() => hole.held.size === 0, "the black-holed calls to be aborted");
    },
  );

  it("everything black-holed, --json: only the config was read; the report names every AWS section unanswered, exit 3", { timeout: 30_000 }, async () => {
    process.env.AWS_ENDPOINT_URL = hole.url;
    // 3 GetParameter, DescribeAlarms, DescribeListeners, DescribeTargetHealth × 2, DescribeRules.
    const { hooks } = deadlineWhen(() => hole.accepted >= 8);
    const result = await status(["--json", "--deadline", "5"], hooks);
    expect(result.code, result.stderr).toBe(3);
    const report = JSON.parse(result.stdout) as StatusReport;
    expect(report.deadline).toEqual({
      seconds: 5,
      passed: true,
      unanswered: ["live weights", "weights parameter", "blue target health", "green target health", "alarms", "write fence", "lock", "last run"],
    });
    expect(report.configWeights).toEqual({ ok: true, value: { blue: 100, green: 0 } });
    expect(report.lock).toEqual({ ok: false, error: "not answered before the deadline (--deadline 5 s)", unreachable: true, late: true });
    await until(() => hole.held.size === 0, "the black-holed calls to be aborted");
  });

  it(
    "paired, Secrets Manager black-holed: the replication section says it missed the deadline, the secret reads are cut; AWS sections read, exit 0",
    { timeout: 30_000 },
    async () => {
      process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = hole.url;
      try {
        const outputs = {
          ...cli.outputs,
          databaseMode: "paired",
          databaseEndpoints: { blue: "blue.abc.eu-west-1.rds.amazonaws.com:5432", green: "green.abc.eu-west-1.rds.amazonaws.com:5432" },
        };
        await writeFile(join(cli.dir, "outputs.json"), JSON.stringify(outputs));
        const aws = ["weights parameter", "lock", "last run", "alarms", "live weights", "blue target health", "green target health", "write fence"];
        // Both colors' GetSecretValue wait in the hole; every AWS section has answered.
        const { hooks } = deadlineWhen((done) => hole.accepted >= 2 && aws.every((name) => done.has(name)));
        const result = await status([], hooks);
        expect(result.code, result.out).toBe(0); // replication never changes the exit code
        expect(result.stdout).toMatch(/blue → green: unreachable: not answered before the deadline \(--deadline 20 s\)/);
        expect(result.stdout).toMatch(/green → blue: unreachable: not answered before the deadline/);
        expect(result.stderr).not.toMatch(/stopped at the deadline/);
        await until(() => hole.held.size === 0, "the black-holed secret reads to be aborted");
      } finally {
        delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
      }
    },
  );

  it("the real timer: --deadline 1 against a black hole ends with exit 3 and the deadline's message", { timeout: 30_000 }, async () => {
    process.env.AWS_ENDPOINT_URL = hole.url;
    const result = await status(["--deadline", "1"]);
    expect(result.code, result.out).toBe(3);
    expect(result.stderr).toMatch(/status stopped at the deadline \(--deadline 1 s\): live weights, .*last run not answered/);
    expect(hole.accepted).toBeGreaterThan(0);
    await until(() => hole.held.size === 0, "the black-holed calls to be aborted");
  });
});

describe("abortAfter (the deadline's timer, shared with rollback)", () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] }));
  afterEach(() => void vi.useRealTimers());

  it("aborts with its reason once the time since the start has passed; the time already spent counts; cancel stops it", () => {
    const reason = new Error("the status deadline (--deadline 20 s) has passed");
    const started = performance.now();
    vi.advanceTimersByTime(5_000);
    const late = new AbortController();
    abortAfter(late, 20_000, reason, started); // 5 s of start-up already spent: 15 s left
    const fresh = new AbortController();
    abortAfter(fresh, 20_000, reason); // counted from now: 20 s left
    const cancelled = new AbortController();
    const cancel = abortAfter(cancelled, 1_000, reason);
    cancel();
    vi.advanceTimersByTime(14_999);
    expect(late.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(late.signal.reason).toBe(reason);
    expect(fresh.signal.aborted).toBe(false);
    vi.advanceTimersByTime(5_000);
    expect(fresh.signal.reason).toBe(reason);
    expect(cancelled.signal.aborted).toBe(false);
  });
});
