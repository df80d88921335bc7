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

export async function preflight(run: Run): Promise<void> {
  const j = run.journal;
  const plan = run.plan;
  const gates = plan.gates;
  const failures: string[] = [];
  const check: Check = (name, ok, detail) => {
    run.emit({ type: "preflight-check", check: name, ok, detail });
    if (!ok) failures.push(`${name}: ${detail}`);
  };
  const attempt = async (name: PreflightCheckName, body: () => Promise<void>) => {
    run.throwIfAborted(); // between checks: an abort stops preflight, it never fails it
    try {
      await body();
    } catch (error) {
      run.throwIfAborted();
      check(name, false, `error: ${messageOf(error)}`);
    }
  };

  await attempt("start-weights", async () => {
    const routes = await run.deps.router.readWeights();
    run.lastRoutes = routes;
    if (routes.length === 0) return check("start-weights", false, "the router reports no production routes");
    const distinct = new Set(routes.map((r) => `${r.weights.blue}/${r.weights.green}`));
    if (distinct.size > 1) {
      return check(
        "start-weights",
        false,
        `the routes disagree (${routes.map((r) => `${r.route}: ${r.weights.blue}/${r.weights.green}`).join(", ")}): run rollback first`,
      );
    }
    const live = routes[0]!.weights;
    if (!sameWeights(live, plan.startWeights)) {
      return check(
        "start-weights",
        false,
        `live weights blue ${live.blue} / green ${live.green} moved since the plan was made (${plan.startWeights.blue}/${plan.startWeights.green})`,
      );
    }
    if (plan.fenced && !sameWeights(live, BLUE_ONLY)) {
      return check("start-weights", false, `paired mode switches from blue 100 / green 0; live is blue ${live.blue} / green ${live.green}: run rollback first`);
    }
    check("start-weights", true, `blue ${live.blue} / green ${live.green} on ${routes.length} route(s)`);
  });
  // Before the health checks: with capacity match this scales green, and green's health is judged after it.
  await attempt("capacity", async () => {
    const verdict = await preflightCapacity(run);
    check("capacity", verdict.ok, verdict.detail);
  });
  await attempt("green-health", async () => {
    const h = await run.deps.health.health("green");
    check(
      "green-health",
      h.healthy >= gates.minHealthyTargets && h.unhealthy === 0,
      `${describeHealth(h)}; needs ≥ ${gates.minHealthyTargets} healthy and 0 unhealthy`,
    );
  });
  await attempt("blue-health", async () => {
    const h = await run.deps.health.health("blue");
    check("blue-health", h.healthy >= 1 && h.unhealthy === 0, `${describeHealth(h)}; rollback needs a healthy blue (≥ 1 healthy, 0 unhealthy)`);
  });
  await attempt("alarms", async () => {
    const firing = await run.deps.alarms.firing();
    check("alarms", firing.length === 0, firing.length === 0 ? "no alarm in ALARM" : `in ALARM: ${firing.join(", ")}`);
  });
  // Only when something will be judged (a bake or a monitoring window).
  if (plan.steps.some((step) => step.bakeMs > 0) || plan.monitorMs > 0) {
    await attempt("metrics", async () => {
      const verdict = await judgeInputs(run);
      check("metrics", verdict.ok, verdict.detail);
    });
  }
  if (plan.fenced) {
    await attempt("replication", async () => {
      const status = await run.deps.replication!.status("blue-to-green");
      check(
        "replication",
        status.running,
        `blue → green ${status.running ? "running" : "NOT running"}${status.lagBytes !== null ? `, lag ${status.lagBytes} bytes` : ""} (${status.detail})`,
      );
    });
    await attempt("parity", async () => {
      const latest = run.deps.parity ? await run.deps.parity.latest() : null;
      if (latest === null) return check("parity", false, "no parity result: run `npm run parity` first");
      const age = run.now() - latest.checkedAt;
      if (!latest.identical) return check("parity", false, `the latest parity run found differences: ${latest.summary}`);
      if (age > plan.parityMaxAgeMs) {
        return check(
          "parity",
          false,
          `the latest passing parity result is ${formatDuration(age)} old (max ${formatDuration(plan.parityMaxAgeMs)}): run \`npm run parity\` again`,
        );
      }
      check("parity", true, `identical, ${formatDuration(age)} old: ${latest.summary}`);
    });
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
async function judgeInputs(run: Run): Promise<{ ok: boolean; detail: string }> {
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
