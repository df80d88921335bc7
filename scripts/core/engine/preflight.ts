// Preflight: every check before anything moves (start weights, green and blue health, alarms;
// paired: replication and a recent passing parity result), the preflight hooks, and the
// snapshot of blue's database. Any failure ends the run in preflight-failed with nothing moved.

import type { PreflightCheckName } from "../events.js";
import { BLUE_ONLY, formatDuration, sameWeights } from "../plan.js";
import { preflightCapacity } from "./capacity.js";
import { runHook } from "./hooks.js";
import { describeHealth } from "./routes.js";
import { messageOf, type Run } from "./run.js";
import { alignDown } from "./windows.js";

type Check = (name: PreflightCheckName, ok: boolean, detail: string) => void;
/** A check's finding: passed or not, and what it saw. */
interface Verdict {
  ok: boolean;
  detail: string;
}
/** One preflight check: reads what it needs and says whether the run may go on. */
type Reader = (run: Run) => Promise<Verdict>;

/**
 * The checks in the order they run (capacity before health: with capacity match it scales green,
 * whose health is judged after it); the metrics only when something will be judged (a bake or a
 * monitoring window); replication and parity only in paired mode.
 */
function checksFor(run: Run): Array<[PreflightCheckName, Reader]> {
  const plan = run.plan;
  const checks: Array<[PreflightCheckName, Reader]> = [
    ["start-weights", startWeights],
    ["capacity", preflightCapacity],
    ["green-health", greenHealth],
    ["blue-health", blueHealth],
    ["alarms", alarms],
  ];
  if (plan.steps.some((step) => step.bakeMs > 0) || plan.monitorMs > 0) checks.push(["metrics", judgeInputs]);
  if (plan.fenced) checks.push(["replication", replication], ["parity", parity]);
  return checks;
}

export async function preflight(run: Run): Promise<void> {
  const j = run.journal;
  const plan = run.plan;
  const failures: string[] = [];
  const check: Check = (name, ok, detail) => {
    run.emit({ type: "preflight-check", check: name, ok, detail });
    if (!ok) failures.push(`${name}: ${detail}`);
  };

  for (const [name, read] of checksFor(run)) {
    run.throwIfAborted(); // between checks: an abort stops preflight, it never fails it
    try {
      const verdict = await read(run);
      check(name, verdict.ok, verdict.detail);
    } catch (error) {
      run.throwIfAborted();
      check(name, false, `error: ${messageOf(error)}`);
    }
  }
  if (failures.length === 0) {
    for (const hook of plan.hooks.filter((h) => h.when === "preflight")) {
      run.throwIfAborted();
      const result = await runHook(run, hook.name, hook.command, hook.timeoutSeconds, "preflight", null);
      check(`hook:${hook.name}`, result.ok, result.detail);
    }
  }
  run.throwIfAborted();
  if (failures.length === 0) await ensureSnapshot(run, check);
  run.throwIfAborted();

  if (failures.length > 0) {
    run.decide("refuse", `preflight failed, nothing moved: ${failures.join("; ")}`);
    j.failure = { reason: `preflight failed: ${failures.join("; ")}`, breachObservedAt: run.now(), phase: "preflight", step: null };
    return run.finish("preflight-failed", j.failure.reason, null);
  }
  run.decide("proceed", "preflight passed");
  if (run.deps.migrator) return run.transition("migrating", null);
  if (plan.fenced) return run.transition("fencing", null);
  return run.transition("writing", 0);
}

/** Every route at the plan's start weights (blue only in paired mode), and all routes agreeing. */
async function startWeights(run: Run): Promise<Verdict> {
  const plan = run.plan;
  const routes = await run.deps.router.readWeights();
  run.lastRoutes = routes;
  if (routes.length === 0) return { ok: false, detail: "the router reports no production routes" };
  const distinct = new Set(routes.map((r) => `${r.weights.blue}/${r.weights.green}`));
  if (distinct.size > 1) {
    return {
      ok: false,
      detail: `the routes disagree (${routes.map((r) => `${r.route}: ${r.weights.blue}/${r.weights.green}`).join(", ")}): run rollback first`,
    };
  }
  const live = routes[0]!.weights;
  if (!sameWeights(live, plan.startWeights)) {
    return {
      ok: false,
      detail: `live weights blue ${live.blue} / green ${live.green} moved since the plan was made (${plan.startWeights.blue}/${plan.startWeights.green})`,
    };
  }
  if (plan.fenced && !sameWeights(live, BLUE_ONLY)) {
    return { ok: false, detail: `paired mode switches from blue 100 / green 0; live is blue ${live.blue} / green ${live.green}: run rollback first` };
  }
  return { ok: true, detail: `blue ${live.blue} / green ${live.green} on ${routes.length} route(s)` };
}

/** Green must hold the gates' healthy targets, none unhealthy. */
async function greenHealth(run: Run): Promise<Verdict> {
  const minimum = run.plan.gates.minHealthyTargets;
  const h = await run.deps.health.health("green");
  return { ok: h.healthy >= minimum && h.unhealthy === 0, detail: `${describeHealth(h)}; needs ≥ ${minimum} healthy and 0 unhealthy` };
}

/** Rollback is only instant while blue is alive. */
async function blueHealth(run: Run): Promise<Verdict> {
  const h = await run.deps.health.health("blue");
  return { ok: h.healthy >= 1 && h.unhealthy === 0, detail: `${describeHealth(h)}; rollback needs a healthy blue (≥ 1 healthy, 0 unhealthy)` };
}

async function alarms(run: Run): Promise<Verdict> {
  const firing = await run.deps.alarms.firing();
  return { ok: firing.length === 0, detail: firing.length === 0 ? "no alarm in ALARM" : `in ALARM: ${firing.join(", ")}` };
}

/** Paired: blue → green replication running. */
async function replication(run: Run): Promise<Verdict> {
  const status = await run.deps.replication!.status("blue-to-green");
  return {
    ok: status.running,
    detail: `blue → green ${status.running ? "running" : "NOT running"}${status.lagBytes !== null ? `, lag ${status.lagBytes} bytes` : ""} (${status.detail})`,
  };
}

/** Paired: a recent parity result that found the databases identical. */
async function parity(run: Run): Promise<Verdict> {
  const plan = run.plan;
  const latest = run.deps.parity ? await run.deps.parity.latest() : null;
  if (latest === null) return { ok: false, detail: "no parity result: run `npm run parity` first" };
  const age = run.now() - latest.checkedAt;
  if (!latest.identical) return { ok: false, detail: `the latest parity run found differences: ${latest.summary}` };
  if (age > plan.parityMaxAgeMs) {
    return {
      ok: false,
      detail: `the latest passing parity result is ${formatDuration(age)} old (max ${formatDuration(plan.parityMaxAgeMs)}): run \`npm run parity\` again`,
    };
  }
  return { ok: true, detail: `identical, ${formatDuration(age)} old: ${latest.summary}` };
}

/** How much published history the judge's inputs are checked over: ten polls, at most 15 minutes (as the bake's reference). */
const INPUT_WINDOWS = 10;
const INPUT_MAX_MS = 15 * 60_000;

/**
 * What the bake will need, read now rather than found missing with green already at its first
 * step: the metrics source answers; blue served requests in the recent published minutes (the
 * judge compares green with them; with no traffic no step can be decided unless the policy
 * promotes undecided steps); and, when the slow bound is derived from blue's latency
 * (slowThreshold from blue-p95 / blue-p99), that latency exists and the source counts requests
 * slower than it.
 */
async function judgeInputs(run: Run): Promise<Verdict> {
  const plan = run.plan;
  const source = run.deps.metrics;
  const resolution = Math.max(1, source.resolutionMs);
  const end = alignDown(run.now() - Math.max(0, source.publicationDelayMs ?? 0), resolution);
  const length = Math.max(plan.pollMs, alignDown(Math.min(INPUT_WINDOWS * plan.pollMs, INPUT_MAX_MS), resolution));
  const window = { start: end - length, end };
  const span = `the last ${formatDuration(length)} published (to ${new Date(end).toISOString()})`;
  const sample = await source.sample(window);
  const blue = sample.blue;
  const problems: string[] = [];
  if (blue.requests <= 0 && plan.gates.onUndecided !== "promote") {
    problems.push(`blue served no request in ${span}: the judge has no traffic to compare green with, and every step would end undecided`);
  }
  const threshold = plan.gates.slowThreshold as { from?: "blue-p95" | "blue-p99"; ms?: number } | undefined;
  let bound: number | null = threshold?.ms ?? null;
  if (threshold?.from !== undefined && blue.requests > 0) {
    const latency = threshold.from === "blue-p99" ? blue.p99Ms : blue.p95Ms;
    if (latency === null || !(latency > 0)) {
      problems.push(
        `no latency data for blue in ${span}: the slow-request bound (${threshold.from}) cannot be derived; set rollout.gates.slowThreshold to a fixed number of milliseconds`,
      );
    } else bound = latency;
  }
  if (problems.length === 0 && bound !== null && blue.requests > 0) {
    const slow = await source.sample(window, { slowThresholdMs: bound });
    if (slow.blue.slow === undefined)
      problems.push(`the metrics source does not count requests slower than ${Math.round(bound)} ms: the judge cannot compare slow requests`);
  }
  if (problems.length > 0) return { ok: false, detail: problems.join("; ") };
  const latencyNote =
    bound !== null
      ? `; slow means slower than ${Math.round(bound * 10) / 10} ms${threshold?.from ? ` (blue's ${threshold.from === "blue-p99" ? "p99" : "p95"})` : ""}`
      : "";
  return { ok: true, detail: `blue served ${blue.requests} request(s) in ${span}${latencyNote}` };
}

/** Snapshot blue's database once per run (or record why not), waited on until available. */
async function ensureSnapshot(run: Run, check: Check): Promise<void> {
  const j = run.journal;
  const plan = run.plan;
  // A snapshot this run started but did not see become available (a crash during the wait) is
  // asked for again: the snapshotter adopts it by its label instead of failing on "already exists".
  const pending = j.snapshot?.taken === true && j.snapshot.availableAt === null ? j.snapshot.id : null;
  if (j.snapshot !== null && pending === null) {
    const detail = j.snapshot.taken ? `already taken in this run: ${j.snapshot.id}` : `skipped: ${j.snapshot.reason}`;
    check("snapshot", true, detail);
    return;
  }
  const skip =
    run.skipSnapshotReason !== undefined
      ? run.skipSnapshotReason || "skipped with an explicit flag"
      : !plan.snapshot.enabled
        ? "disabled by rollout.snapshot.enabled: false"
        : null;
  if (skip !== null) {
    j.snapshot = { taken: false, reason: skip };
    run.emit({ type: "snapshot", ok: true, skipped: true, snapshotId: null, detail: skip });
    run.emit({ type: "warning", message: `no snapshot of blue's database before the cutover: ${skip}` });
    check("snapshot", true, `SKIPPED: ${skip}`);
    await run.persist();
    return;
  }
  const started = run.now();
  try {
    if (pending !== null)
      run.emit({ type: "warning", message: `snapshot ${pending} was started before the run stopped: waiting for it instead of taking another` });
    // The id is in the journal before the wait: a crash while RDS works leaves it there for --resume.
    const journalId = async (id: string) => {
      j.snapshot = { taken: true, id, availableAt: null, durationMs: null };
      await run.persist();
    };
    const snapshot = await run.deps.snapshotter.snapshot(`bluegreen-${j.runId}`, plan.snapshot.timeoutMs, run.signal, journalId);
    j.snapshot = { taken: true, id: snapshot.id, availableAt: snapshot.availableAt, durationMs: run.now() - started };
    run.emit({ type: "snapshot", ok: true, skipped: false, snapshotId: snapshot.id, detail: `available after ${formatDuration(run.now() - started)}` });
    check("snapshot", true, `${snapshot.id} available`);
    await run.persist();
  } catch (error) {
    run.throwIfAborted(); // the wait was abandoned, not failed: resume takes the snapshot again
    run.emit({ type: "snapshot", ok: false, skipped: false, snapshotId: null, detail: messageOf(error) });
    check("snapshot", false, `snapshot of blue's database failed: ${messageOf(error)}`);
  }
}
